//! Replies captured from a real supervisord 4.3.0 (`tests/fixtures/`): each decodes into the typed API
//! structures, and re-encoding those reproduces the captured bytes exactly.

use super::*;
use crate::codec::{decode_response, encode_fault, encode_response};
use crate::fault::{Fault, FaultCode};
use crate::states::{ProcessState, SupervisorState};
use crate::value::Value;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            "../../tests/fixtures/supervisord-4.3.0-",
            $name,
            ".xml"
        ))
        .as_slice()
    };
}

const ALL: &[(&str, &[u8])] = &[
    ("getAllProcessInfo", fixture!("getAllProcessInfo")),
    ("getAllConfigInfo", fixture!("getAllConfigInfo")),
    ("getState", fixture!("getState")),
    ("fault-bad-name", fixture!("fault-bad-name")),
    ("fault-unknown-method", fixture!("fault-unknown-method")),
    ("startProcessGroup", fixture!("startProcessGroup")),
    ("multicall", fixture!("multicall")),
    ("tailProcessStdoutLog", fixture!("tailProcessStdoutLog")),
    ("reloadConfig", fixture!("reloadConfig")),
    ("signalProcessGroup", fixture!("signalProcessGroup")),
];

fn ok_value(bytes: &[u8]) -> Value {
    match decode_response(bytes) {
        Ok(Ok(v)) => v,
        other => panic!("expected a value, got {other:?}"),
    }
}

fn array_of<T>(bytes: &[u8], read: impl Fn(&Value) -> Result<T, FromValueError>) -> Vec<T> {
    ok_value(bytes)
        .as_array()
        .expect("array reply")
        .iter()
        .map(|v| read(v).expect("typed struct"))
        .collect()
}

#[test]
fn every_capture_re_encodes_byte_for_byte() {
    for (name, bytes) in ALL {
        let reencoded = match decode_response(bytes) {
            Ok(Ok(v)) => encode_response(&v),
            Ok(Err(fault)) => encode_fault(&fault),
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(
            String::from_utf8_lossy(&reencoded),
            String::from_utf8_lossy(bytes),
            "{name}"
        );
    }
}

#[test]
fn process_infos() {
    let infos = array_of(fixture!("getAllProcessInfo"), ProcessInfo::from_value);
    let states: Vec<_> = infos
        .iter()
        .map(|i| (make_namespec(&i.group, &i.name), i.state))
        .collect();
    assert_eq!(
        states,
        [
            ("bad".to_owned(), ProcessState::Fatal),
            ("cat".to_owned(), ProcessState::Running),
            ("idle".to_owned(), ProcessState::Stopped),
            ("w:w_0".to_owned(), ProcessState::Running),
            ("w:w_1".to_owned(), ProcessState::Running),
        ]
    );
    assert_eq!(infos[0].spawnerr, "can't find command '/nonexistent/xyz'");
    assert_eq!(infos[2].description, "Not started");
    let typed = Value::array(infos.iter().map(ProcessInfo::to_value));
    assert_eq!(encode_response(&typed), fixture!("getAllProcessInfo"));
    // The moving variant (what getAllProcessInfo sends) writes the same bytes.
    let moved = Value::array(infos.into_iter().map(ProcessInfo::into_value));
    assert_eq!(moved, typed);
    assert_eq!(encode_response(&moved), fixture!("getAllProcessInfo"));
}

#[test]
fn config_infos() {
    let infos = array_of(fixture!("getAllConfigInfo"), ConfigInfo::from_value);
    let idle = infos.iter().find(|c| c.name == "idle").expect("idle");
    assert_eq!(idle.directory.as_deref(), Some("/tmp"));
    assert_eq!(idle.exitcodes, [0, 2]);
    assert_eq!(idle.stopsignal, crate::Signal::INT);
    assert!(!idle.autostart);
    assert_eq!(idle.uid, None);
    let typed = Value::array(infos.iter().map(ConfigInfo::to_value));
    assert_eq!(encode_response(&typed), fixture!("getAllConfigInfo"));
}

#[test]
fn small_replies() {
    let state = StateInfo::from_value(&ok_value(fixture!("getState"))).unwrap();
    assert_eq!(state, StateInfo(SupervisorState::Running));
    assert_eq!(encode_response(&state.to_value()), fixture!("getState"));

    let fault = decode_response(fixture!("fault-bad-name"))
        .unwrap()
        .unwrap_err();
    assert_eq!(fault, Fault::new(FaultCode::BadName, Some("nope")));
    let fault = decode_response(fixture!("fault-unknown-method"))
        .unwrap()
        .unwrap_err();
    assert_eq!(fault, Fault::from(FaultCode::UnknownMethod));
    assert_eq!(encode_fault(&fault), fixture!("fault-unknown-method"));

    let results = array_of(fixture!("signalProcessGroup"), ResultStruct::from_value);
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.status == FaultCode::BadSignal.code()
        && r.description == "BAD_SIGNAL: USR9"));
    assert!(array_of(fixture!("startProcessGroup"), ResultStruct::from_value).is_empty());

    let reload = ReloadResult::from_value(&ok_value(fixture!("reloadConfig"))).unwrap();
    assert_eq!(reload.added, ["newone"]);
    assert_eq!(reload.changed, ["cat"]);
    assert!(reload.removed.is_empty());
    assert_eq!(
        encode_response(&reload.to_value()),
        fixture!("reloadConfig")
    );

    let tail = TailChunk::from_value(&ok_value(fixture!("tailProcessStdoutLog"))).unwrap();
    assert_eq!(
        encode_response(&tail.to_value()),
        fixture!("tailProcessStdoutLog")
    );

    let multi = ok_value(fixture!("multicall"));
    let items = multi.as_array().unwrap();
    assert!(items[0].as_int().is_some());
    assert_eq!(
        Fault::from_value(&items[1]),
        Some(Fault::new(FaultCode::BadName, Some("nope")))
    );
    assert_eq!(items[2].as_str(), Some(API_VERSION));
}
