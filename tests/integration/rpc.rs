//! XML-RPC compatibility: tests/py/rpc_methods.py calls every `supervisor.*` and `system.*` method and
//! provokes every reachable fault, against procd and supervisord with the same config, over the unix
//! socket and over TCP with basic auth; the JSON transcripts must be identical after masking.

use procd_testkit::e2e::{Daemon, Fixture, py_script, python};
use procd_testkit::mask::mask;

use crate::common::{assert_same_lines, assert_same_transcript, both, on_both};

/// Transcript lines where procd knowingly differs from supervisord 4.3.0.
/// Labels of transcript sections where procd may legitimately differ from supervisord (none left).
const KNOWN: &[(&str, &str)] = &[];

/// The programs rpc_methods.py expects.
pub(crate) fn rpc_fixture() -> Fixture {
    Fixture::new()
        .program(
            "web",
            "command=sleep 1000\nstartsecs=0\nredirect_stderr=true",
        )
        .program(
            "echo",
            "command=sh -c \"echo out1;echo err1 1>&2;exec sleep 1000\"\nstartsecs=0",
        )
        .program("cat", "command=cat\nstartsecs=0")
        .program(
            "manual",
            "command=sleep 1000\nautostart=false\nstartsecs=0\nstartretries=3",
        )
        .program(
            "quick",
            "command=sh -c \"sleep 0.3;exit 3\"\nautostart=false\nstartsecs=1\nstartretries=0",
        )
        .program("slow", "command=sleep 1000\nautostart=false\nstartsecs=3")
        .program("nofile", "command=/nonexistent/prog\nautostart=false")
        .program("noexec", "command={dir}/noexec.sh\nautostart=false")
        .program("isdir", "command={dir}\nautostart=false")
        .program(
            "nolog",
            "command=sleep 1000\nautostart=false\nstdout_logfile=NONE",
        )
        .program(
            "stubborn",
            "command=sh -c \"trap '' TERM;exec sleep 1000\"\nstartsecs=0\nstopwaitsecs=2",
        )
        .program("a", "command=sleep 1000\nstartsecs=0")
        .program("b", "command=sleep 1000\nstartsecs=0\npriority=10")
        .group("grp", "a,b", "priority=50")
        .file("noexec.sh", "#!/bin/sh\necho hi\n", 0o644)
}

/// Runs rpc_methods.py (`quick` skips the sections that take supervisord many ticks).
fn transcript(d: &Daemon, url: &str, auth: Option<(&str, &str)>, quick: bool) -> String {
    let dir = d.path().display().to_string();
    let mut args = vec![dir.as_str(), url];
    if let Some((u, p)) = auth {
        args.extend([u, p]);
    }
    if quick {
        args.push("--quick");
    }
    let out = python(&py_script("rpc_methods.py"), &args);
    assert_eq!(
        out.code,
        0,
        "{:?}: rpc_methods.py failed:\n{}\n{}\n{}",
        d.kind,
        out.stdout,
        out.stderr,
        d.output()
    );
    eprintln!("{:?} rpc_methods.py stderr:\n{}", d.kind, out.stderr);
    mask(&out.stdout, d.path())
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn every_method_and_fault_matches_over_unix_socket() {
    let (p, r) = both(&rpc_fixture().unix_server());
    let (a, b) = on_both(&p, &r, |d| {
        let url = format!("unix://{}", d.socket().display());
        transcript(d, &url, None, false)
    });
    check_coverage(&b);
    assert_same_transcript("rpc_methods.py over unix socket", &a, &b, KNOWN);
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn whole_rpc_transcript_matches_including_config_info_after_reread() {
    let (p, r) = both(&rpc_fixture().unix_server());
    let (a, b) = on_both(&p, &r, |d| {
        transcript(d, &format!("unix://{}", d.socket().display()), None, false)
    });
    assert_same_lines("rpc_methods.py, all lines", &a, &b);
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn every_method_and_fault_matches_over_tcp_with_auth() {
    let (p, r) = both(&rpc_fixture().inet_server_with_auth("user", "s3cret"));
    let (a, b) = on_both(&p, &r, |d| {
        transcript(
            d,
            &format!("http://127.0.0.1:{}", d.port),
            Some(("user", "s3cret")),
            true,
        )
    });
    assert_same_transcript("rpc_methods.py over TCP", &a, &b, KNOWN);
}

/// The reference transcript must actually contain every fault code the script means to provoke, so a
/// change in the fixture cannot silently turn the comparison into a comparison of nothing.
fn check_coverage(reference: &str) {
    for (code, name) in [
        (1, "UNKNOWN_METHOD"),
        (2, "INCORRECT_PARAMETERS"),
        (3, "BAD_ARGUMENTS"),
        (4, "SIGNATURE_UNSUPPORTED"),
        (6, "SHUTDOWN_STATE"),
        (10, "BAD_NAME"),
        (11, "BAD_SIGNAL"),
        (20, "NO_FILE"),
        (21, "NOT_EXECUTABLE"),
        (40, "ABNORMAL_TERMINATION"),
        (50, "SPAWN_ERROR"),
        (60, "ALREADY_STARTED"),
        (70, "NOT_RUNNING"),
        (90, "ALREADY_ADDED"),
        (91, "STILL_RUNNING"),
    ] {
        assert!(
            reference.contains(&format!("[{code}, \"{name}")),
            "reference transcript never produced fault {code} {name}:\n{reference}"
        );
    }
    assert!(
        reference.contains(r#"{"label": "reloadConfig bad code", "value": 92}"#),
        "no CANT_REREAD:\n{reference}"
    );
}
