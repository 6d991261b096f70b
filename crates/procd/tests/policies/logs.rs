//! `*_log_timestamp` and `*_log_format=json`: what the log file holds, and that read/tail return it.

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, wait_until};

const LONG: Duration = Duration::from_secs(20);

/// A program that writes a line in two pieces (two reads apart), then whole lines, on both streams.
fn program(f: &Fixture, keys: &str) {
    f.write_conf(
        "",
        &format!(
            "[program:app]\ncommand=sh -c 'printf \"one\\ntw\"; sleep 0.3; printf \"o\\nthree\\n\"; \
             echo \"err \\\"quoted\\\"\" >&2; exec sleep 1000'\nstartsecs=0\n\
             stdout_logfile={d}/out.log\nstderr_logfile={d}/err.log\n{keys}\n",
            d = f.dir.path().display()
        ),
    );
}

fn wait_file(f: &Fixture, name: &str, lines: usize) -> String {
    wait_until(LONG, &format!("{lines} lines in {name}"), || {
        let text = std::fs::read_to_string(f.path(name)).ok()?;
        (text.lines().count() >= lines).then_some(text)
    })
}

fn rpc_log(f: &Fixture, method: &str) -> String {
    let v = f
        .rpc(
            method,
            vec![
                Value::String("app".into()),
                Value::Int(0),
                Value::Int(100_000),
            ],
        )
        .expect(method);
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn each_line_gets_one_rfc3339_stamp() {
    let f = Fixture::new();
    program(
        &f,
        "stdout_log_timestamp=rfc3339\nstderr_log_timestamp=epoch",
    );
    let _d = f.start();
    let out = wait_file(&f, "out.log", 3);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, text) in lines.iter().zip(["one", "two", "three"]) {
        let (stamp, rest) = line.split_once(' ').expect("stamp and text");
        assert_eq!(rest, text, "{out}");
        // 2026-12-03T14:32:55.123Z
        let b = stamp.as_bytes();
        assert!(
            stamp.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z',
            "not an RFC 3339 UTC stamp: {stamp:?}"
        );
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
    }
    let err = wait_file(&f, "err.log", 1);
    let (stamp, rest) = err.trim_end().split_once(' ').unwrap();
    assert_eq!(rest, "err \"quoted\"");
    let secs: f64 = stamp.parse().expect("epoch seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - secs).abs() < 60.0, "{stamp} vs {now}");
    // The read and tail calls return exactly what the file holds.
    assert_eq!(rpc_log(&f, "supervisor.readProcessStdoutLog"), out);
    assert_eq!(rpc_log(&f, "supervisor.readProcessStderrLog"), err);
}

#[test]
fn json_lines_hold_time_program_stream_and_line() {
    let f = Fixture::new();
    program(
        &f,
        "stdout_log_format=json\nstderr_log_format=json\nstderr_log_timestamp=iso8601",
    );
    let _d = f.start();
    let out = wait_file(&f, "out.log", 3);
    let objs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let texts: Vec<&str> = objs.iter().map(|o| o["line"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    for o in &objs {
        assert_eq!(o["program"], "app");
        assert_eq!(o["stream"], "stdout");
        let t = o["time"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{t}");
    }
    let err = wait_file(&f, "err.log", 1);
    let o: serde_json::Value = serde_json::from_str(err.trim_end()).unwrap();
    assert_eq!(o["line"], "err \"quoted\"");
    assert_eq!(o["stream"], "stderr");
    assert!(chrono::DateTime::parse_from_rfc3339(o["time"].as_str().unwrap()).is_ok());
    let tail = f
        .rpc(
            "supervisor.tailProcessStdoutLog",
            vec![
                Value::String("app".into()),
                Value::Int(0),
                Value::Int(100_000),
            ],
        )
        .expect("tail");
    let Value::Array(parts) = tail else {
        panic!("tail: {tail:?}")
    };
    assert_eq!(parts[0].as_str(), Some(out.as_str()));
}
