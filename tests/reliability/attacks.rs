//! Hostile clients: the connection-cap lockout, slowloris, oversized bodies, XML bombs and deep
//! nesting, wrongly typed parameters, missing or bad credentials on every path of both servers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use procd_tests::{Daemon, Endpoint, Kind, build_request, http_request};

use crate::{
    Conn, HALF_SENT, USER, figure, guarded, log_count, ms, start, status_kb, time_until, timed_call,
};

/// Keeps `n` half-sent requests open on `ep` for `duration`, re-opening every connection the server
/// closes; sets `filled` once the first `n` are open and sent. Returns how many connections it opened
/// in all.
fn hold_half_sent(
    ep: &Endpoint,
    n: usize,
    duration: Duration,
    stop: &AtomicBool,
    filled: &AtomicBool,
) -> usize {
    let open = || {
        Conn::open(ep).ok().and_then(|mut c| {
            c.send(HALF_SENT).ok()?;
            Some(c)
        })
    };
    let mut conns: Vec<Option<Conn>> = (0..n).map(|_| open()).collect();
    filled.store(true, Ordering::SeqCst);
    let mut opened = n;
    let end = Instant::now() + duration;
    while Instant::now() < end && !stop.load(Ordering::SeqCst) {
        for slot in &mut conns {
            let closed = slot.as_mut().is_none_or(Conn::closed_by_server);
            if closed {
                *slot = open();
                opened += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    opened
}

/// The lockout reproduction of issue 15: 256 half-sent requests on TCP, kept up by an attacker who
/// re-opens every connection the server closes, while an operator calls over both transports with
/// Python's xmlrpc client, the real supervisorctl, and procctl.
fn lockout(kind: Kind) -> (String, Option<serde_json::Value>, i32, i32) {
    let fixture = guarded().program("p", "command=sleep 100000\nstartsecs=0");
    let d = start(kind, &fixture);
    let tcp = Endpoint::Tcp(d.port);
    let seconds = 6;
    let stop = AtomicBool::new(false);
    let filled = AtomicBool::new(false);
    let (opened, client, ctl, procctl) = std::thread::scope(|s| {
        let attacker =
            s.spawn(|| hold_half_sent(&tcp, 256, Duration::from_secs(seconds + 2), &stop, &filled));
        // The attacker fills the budget first.
        assert!(
            time_until(Duration::from_secs(30), || filled.load(Ordering::SeqCst)).is_some(),
            "the attacker did not open its connections"
        );
        let client = procd_tests::python(
            &procd_tests::env::py_script("reliability_client.py"),
            &[
                &seconds.to_string(),
                &format!("unix://{}", d.socket().display()),
                &format!("http://127.0.0.1:{}", d.port),
                USER.0,
                USER.1,
            ],
        );
        let ctl = d.ctl(&["status"]);
        let procctl = procctl_status(&d);
        stop.store(true, Ordering::SeqCst);
        let opened = attacker.join().unwrap_or(0);
        (opened, client, ctl, procctl)
    });
    let stats: Option<serde_json::Value> = serde_json::from_str(client.stdout.trim()).ok();
    let summary = format!(
        "{kind:?}: attacker opened {opened} connections; operator calls {}; supervisorctl status \
         exit {}; procctl status exit {}",
        stats
            .as_ref()
            .map_or_else(|| client.stderr.clone(), ToString::to_string),
        ctl.code,
        procctl.code
    );
    (summary, stats, ctl.code, procctl.code)
}

fn procctl_status(d: &Daemon) -> procd_tests::CtlOutput {
    let bin = procd_tests::env::procd_bin().with_file_name("procctl");
    let mut cmd = std::process::Command::new(bin);
    cmd.args([
        "-s",
        &format!("http://127.0.0.1:{}", d.port),
        "-u",
        USER.0,
        "-p",
        USER.1,
        "status",
    ]);
    procd_tests::run_with_timeout(cmd, Duration::from_secs(30))
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn connection_cap_attack_does_not_lock_the_operator_out() {
    let (summary, stats, ctl, procctl) = lockout(Kind::Procd);
    figure("connection-cap attack", &summary);
    let (reference, _, _, _) = lockout(Kind::Supervisord);
    figure("connection-cap attack", &reference);
    let stats = stats.expect("client output");
    for transport in ["unix", "tcp"] {
        let s = &stats[transport];
        assert!(s["calls"].as_u64().unwrap_or(0) > 10, "{summary}");
        assert_eq!(s["failed"].as_u64(), Some(0), "{transport}: {summary}");
        assert!(
            s["max_ms"].as_f64().unwrap_or(f64::MAX) < 2000.0,
            "{transport}: every call answers within 2 s: {summary}"
        );
    }
    assert_eq!(ctl, 0, "{summary}");
    assert_eq!(procctl, 0, "{summary}");
}

/// Slowloris on the unix socket: 300 connections that never finish their headers.
fn slowloris(kind: Kind) -> (String, bool, Option<Duration>) {
    let d = start(kind, &guarded());
    let unix = Endpoint::Unix(d.socket());
    let pid = d.pid().expect("pid");
    let fds = || std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    let before = fds();
    let mut conns: Vec<Conn> = (0..300)
        .filter_map(|_| {
            let mut c = Conn::open(&unix).ok()?;
            c.send(HALF_SENT).ok()?;
            Some(c)
        })
        .collect();
    // The attack is on once the daemon holds a full budget of them (256 connections; supervisord, with
    // no budget, takes all 300).
    assert!(
        time_until(Duration::from_secs(30), || fds() >= before + 256).is_some(),
        "{kind:?}: the daemon holds {} descriptors, {before} before the attack",
        fds()
    );
    let (ok, took) = timed_call(&unix);
    let all_closed = time_until(Duration::from_secs(8), || {
        conns.iter_mut().all(Conn::closed_by_server)
    });
    let summary = format!(
        "{kind:?}: call during the attack {} in {}; 300 stalled connections {}",
        if ok { "answered" } else { "FAILED" },
        ms(took),
        all_closed.map_or_else(
            || "still open after 8 s".to_owned(),
            |t| format!("all closed after {}", ms(t))
        )
    );
    (summary, ok && took < Duration::from_secs(2), all_closed)
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn slowloris_is_cut_off_while_calls_are_answered() {
    let (summary, served, closed) = slowloris(Kind::Procd);
    figure("slowloris", &summary);
    figure("slowloris", &slowloris(Kind::Supervisord).0);
    assert!(served, "{summary}");
    assert!(closed.is_some(), "{summary}");
}

/// An authenticated request with a body far over procd's 4 MiB limit.
fn oversized(kind: Kind, size: usize) -> (String, u16, u64) {
    let d = start(kind, &guarded());
    let pid = d.pid().expect("pid");
    let before = status_kb(pid, "VmHWM");
    let body = {
        let mut b = b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params><param><value><string>".to_vec();
        b.resize(size - 64, b'a');
        b.extend_from_slice(b"</string></value></param></params></methodCall>");
        b
    };
    let req = build_request("POST", "/RPC2", Some(USER), &body);
    let t = Instant::now();
    let status = send_tolerant(&d.socket(), &req);
    let took = t.elapsed();
    let growth = status_kb(pid, "VmHWM").saturating_sub(before);
    (
        format!(
            "{kind:?}: {} MiB body answered {status} in {}; peak RSS grew by {} MiB",
            size >> 20,
            ms(took),
            growth / 1024
        ),
        status,
        growth,
    )
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn oversized_body_is_refused_without_growing() {
    let size = if crate::full() { 128 << 20 } else { 16 << 20 };
    let (summary, status, growth) = oversized(Kind::Procd, size);
    figure("oversized body", &summary);
    figure("oversized body", &oversized(Kind::Supervisord, size).0);
    assert_eq!(status, 413, "{summary}");
    assert!(
        growth < 16 * 1024,
        "bounded memory per connection: {summary}"
    );
}

/// Sends a request whose body the server may refuse before reading it all: a failed write is not the
/// end, the answer is read anyway. Returns the status (0 when none came).
fn send_tolerant(socket: &std::path::Path, req: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(60)));
    for chunk in req.chunks(64 * 1024) {
        if s.write_all(chunk).is_err() {
            break;
        }
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn rpc_body(method: &str, params_xml: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params_xml}</params></methodCall>"
    )
    .into_bytes()
}

/// XML attacks: billion laughs, quadratic blowup, an external entity, 50,000-deep nesting.
fn xml_attacks(kind: Kind) -> (String, Vec<(String, u16)>) {
    let d = start(kind, &guarded());
    let pid = d.pid().expect("pid");
    let before = status_kb(pid, "VmHWM");
    let mut laughs = String::from("<?xml version='1.0'?><!DOCTYPE l [<!ENTITY l0 \"ha\">");
    for i in 1..10 {
        let refs: String = (0..10).map(|_| format!("&l{};", i - 1)).collect();
        laughs.push_str(&format!("<!ENTITY l{i} \"{refs}\">"));
    }
    laughs.push_str("]><methodCall><methodName>&l9;</methodName></methodCall>");
    let big = "x".repeat(100_000);
    let quadratic = format!(
        "<?xml version='1.0'?><!DOCTYPE q [<!ENTITY b \"{big}\">]><methodCall><methodName>{}</methodName></methodCall>",
        "&b;".repeat(10_000)
    );
    let external = "<?xml version='1.0'?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><methodCall><methodName>&x;</methodName></methodCall>".to_owned();
    let depth = 50_000;
    let deep = format!(
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params><param>{}{}</param></params></methodCall>",
        "<value><array><data>".repeat(depth),
        "</data></array></value>".repeat(depth)
    );
    let mut results = Vec::new();
    let mut slowest = Duration::ZERO;
    for (name, body) in [
        ("billion laughs", laughs.into_bytes()),
        ("quadratic blowup", quadratic.into_bytes()),
        ("external entity", external.into_bytes()),
        ("50,000-deep nesting", deep.into_bytes()),
    ] {
        let req = build_request("POST", "/RPC2", Some(USER), &body);
        let t = Instant::now();
        let reply = http_request(&Endpoint::Unix(d.socket()), &req, Duration::from_secs(30));
        slowest = slowest.max(t.elapsed());
        let status = reply.as_ref().map_or(0, |r| r.status);
        let fault = reply
            .as_ref()
            .filter(|r| r.status == 200)
            .and_then(|r| procd_protocol::decode_response(&r.body).ok())
            .and_then(|r| r.err().map(|f| f.code));
        results.push((
            format!(
                "{name}: {status}{}",
                fault.map_or(String::new(), |c| format!(" fault {c}"))
            ),
            status,
        ));
    }
    let alive = matches!(d.call("supervisor.getState", vec![]), Ok(Ok(_)));
    let summary = format!(
        "{kind:?}: {}; slowest {}; peak RSS grew by {} MiB; {}",
        results
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        ms(slowest),
        status_kb(pid, "VmHWM").saturating_sub(before) / 1024,
        if alive {
            "still serving"
        } else {
            "NOT SERVING"
        }
    );
    (summary, results)
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn xml_bombs_and_deep_nesting_are_refused() {
    let (summary, results) = xml_attacks(Kind::Procd);
    figure("xml attacks", &summary);
    figure("xml attacks", &xml_attacks(Kind::Supervisord).0);
    assert!(summary.contains("still serving"), "{summary}");
    for (what, status) in results {
        assert!(
            status == 400 || status == 200,
            "a proper answer (400 or a fault), never 500 or a dropped connection: {what}"
        );
    }
}

/// Wrongly typed or counted parameters, sent as raw XML.
fn wrong_types(kind: Kind) -> (String, Vec<String>) {
    let d = start(
        kind,
        &guarded().program("p", "command=sleep 100000\nstartsecs=0"),
    );
    let int5 = "<param><value><int>5</int></value></param>";
    let yes = "<param><value><boolean>1</boolean></value></param>";
    let s = |v: &str| format!("<param><value><string>{v}</string></value></param>");
    let arr = "<param><value><array><data></data></array></value></param>";
    let cases = [
        ("supervisor.getProcessInfo", int5.to_owned()),
        ("supervisor.startProcess", yes.to_owned()),
        ("supervisor.readLog", format!("{}{}", s("a"), s("b"))),
        ("supervisor.signalProcess", format!("{}{arr}", s("p"))),
        ("supervisor.getState", s("extra")),
        ("supervisor.stopProcess", String::new()),
        (
            "supervisor.tailProcessStdoutLog",
            format!("{}{int5}", s("p")),
        ),
        ("system.multicall", int5.to_owned()),
        ("supervisor.sendProcessStdin", format!("{int5}{int5}")),
    ];
    let mut answers = Vec::new();
    let mut http_errors = 0;
    for (method, params) in cases {
        let req = build_request("POST", "/RPC2", Some(USER), &rpc_body(method, &params));
        let reply = http_request(&Endpoint::Unix(d.socket()), &req, Duration::from_secs(10));
        let answer = match &reply {
            Some(r) if r.status == 200 => match procd_protocol::decode_response(&r.body) {
                Ok(Err(f)) => format!("fault {}", f.code),
                Ok(Ok(_)) => "result".to_owned(),
                Err(_) => "unreadable".to_owned(),
            },
            Some(r) => {
                http_errors += 1;
                format!("HTTP {}", r.status)
            }
            None => {
                http_errors += 1;
                "no answer".to_owned()
            }
        };
        answers.push(format!("{method}: {answer}"));
    }
    (
        format!(
            "{kind:?}: {http_errors} of {} calls without an XML-RPC answer ({})",
            answers.len(),
            answers.join("; ")
        ),
        answers,
    )
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn wrong_parameter_types_get_faults_never_http_errors() {
    let (summary, answers) = wrong_types(Kind::Procd);
    figure("wrong types", &summary);
    figure("wrong types", &wrong_types(Kind::Supervisord).0);
    for a in answers {
        assert!(a.contains("fault 2") || a.contains("fault 3"), "{a}");
    }
}

const PATHS: &[(&str, &str)] = &[
    ("POST", "/RPC2"),
    ("GET", "/logtail/p"),
    ("GET", "/logtail/p/stderr"),
    ("GET", "/mainlogtail"),
    ("GET", "/ok.html"),
    ("GET", "/"),
    ("GET", "/index.html"),
    ("GET", "/tail.html?processname=p"),
    ("GET", "/stylesheets/supervisor.css"),
    ("GET", "/index.html?action=stopall"),
    ("GET", "/nosuchpath"),
];

/// Every path of both servers with no, wrong and malformed credentials.
fn auth_matrix(kind: Kind) -> (String, Vec<String>) {
    let d = start(
        kind,
        &guarded().program("p", "command=sleep 100000\nstartsecs=0"),
    );
    let creds: [(&str, Option<&str>); 5] = [
        ("none", None),
        ("wrong password", Some("Basic dXNlcjp3cm9uZw==")),
        ("wrong user", Some("Basic bm9ib2R5OnBhc3M=")),
        ("malformed base64", Some("Basic !!!notbase64")),
        ("empty Basic", Some("Basic ")),
    ];
    let mut let_in = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut cells = 0;
    for ep in [Endpoint::Unix(d.socket()), Endpoint::Tcp(d.port)] {
        for (method, path) in PATHS {
            for (what, header) in creds {
                let body: &[u8] = if *method == "POST" {
                    b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName></methodCall>"
                } else {
                    b""
                };
                let mut req = build_request(method, path, None, body);
                if let Some(h) = header {
                    let at = req.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
                    let line = format!("Authorization: {h}\r\n");
                    req.splice(at..at, line.into_bytes());
                }
                let status =
                    http_request(&ep, &req, Duration::from_secs(2)).map_or(0, |r| r.status);
                cells += 1;
                *statuses.entry(status).or_default() += 1;
                if (200..400).contains(&status) {
                    let_in.push(format!("{ep:?} {method} {path} with {what}: {status}"));
                }
            }
        }
    }
    // The programs are untouched (the stopall link was not followed).
    let running = d.state_of("p") == "RUNNING";
    (
        format!(
            "{kind:?}: {cells} requests without valid credentials, {} let in, statuses {statuses:?}, program {}",
            let_in.len(),
            if running { "still running" } else { "STOPPED" }
        ),
        let_in,
    )
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn no_path_of_either_server_is_open_without_valid_credentials() {
    let (summary, let_in) = auth_matrix(Kind::Procd);
    figure("auth matrix", &summary);
    figure("auth matrix", &auth_matrix(Kind::Supervisord).0);
    assert!(let_in.is_empty(), "{summary}\n{}", let_in.join("\n"));
    assert!(summary.contains("still running"), "{summary}");
}

/// Counts lines of a log to show it is rate-limited (used by the lockout scenario's log check).
#[test]
fn refusals_and_timeouts_are_logged_at_a_bounded_rate() {
    let d = start(Kind::Procd, &guarded());
    let tcp = Endpoint::Tcp(d.port);
    let stop = AtomicBool::new(false);
    let opened = AtomicUsize::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            opened.store(
                hold_half_sent(
                    &tcp,
                    300,
                    Duration::from_secs(4),
                    &stop,
                    &AtomicBool::new(false),
                ),
                Ordering::SeqCst,
            );
        });
    });
    let lines = log_count(&d, "inet_http_server: ");
    let summary = format!(
        "Procd: {} connections opened against a budget of 256 over 4 s; {lines} log lines about them",
        opened.load(Ordering::SeqCst)
    );
    figure("log rate", &summary);
    assert!(lines <= 6, "{summary}");
}
