//! Security: basic auth on every endpoint of both servers (unix and TCP) with the same answers as
//! supervisord, socket file modes, and abusive requests (huge body, malformed XML) refused while a
//! well-behaved client keeps being served.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use procd_testkit::e2e::{Daemon, Fixture, Kind};
use procd_testkit::rpc::{Endpoint, build_request, http_request};

use crate::common::{both, on_both};

const PATHS: &[(&str, &str)] = &[
    ("POST", "/RPC2"),
    ("GET", "/logtail/web"),
    ("GET", "/logtail/web/stderr"),
    ("GET", "/mainlogtail"),
    ("GET", "/ok.html"),
    ("GET", "/"),
    ("GET", "/index.html"),
    ("GET", "/tail.html?processname=web"),
    ("GET", "/stylesheets/supervisor.css"),
    ("GET", "/nosuchpath"),
];

const GET_STATE: &[u8] =
    b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n";

/// Status code of one request (reads at most ~1 s, enough for the status line of a streaming reply).
fn status(ep: &Endpoint, method: &str, path: &str, auth: Option<(&str, &str)>) -> u16 {
    let body = if method == "POST" { GET_STATE } else { b"" };
    let req = build_request(method, path, auth, body);
    http_request(ep, &req, Duration::from_secs(1)).map_or(0, |r| r.status)
}

/// For each path: (no credentials, wrong password, right credentials).
fn auth_matrix(d: &Daemon, ep: &Endpoint) -> Vec<(String, u16, u16, u16)> {
    PATHS
        .iter()
        .map(|(m, p)| {
            (
                format!("{m} {p}"),
                status(ep, m, p, None),
                status(ep, m, p, Some(("user", "wrong"))),
                // Streaming endpoints are checked with credentials by ctl::tail_follow_*: supervisord
                // does not flush their headers to an HTTP/1.0 client until data arrives.
                if p.contains("logtail") {
                    200
                } else {
                    status(ep, m, p, Some(("user", "s3cret")))
                },
            )
        })
        .inspect(|row| {
            assert!(
                row.1 != 0 && row.3 != 0,
                "{:?}: no answer for {row:?}",
                d.kind
            );
        })
        .collect()
}

fn fixture() -> Fixture {
    Fixture::new().program(
        "web",
        "command=sh -c \"echo hi;exec sleep 1000\"\nstartsecs=0",
    )
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn every_endpoint_needs_credentials_over_tcp_like_supervisord() {
    let (p, r) = both(&fixture().inet_server_with_auth("user", "s3cret"));
    on_both(&p, &r, |d| d.wait_state(&["web"], "RUNNING"));
    let (a, b) = on_both(&p, &r, |d| auth_matrix(d, &Endpoint::Tcp(d.port)));
    for row in &b {
        assert_eq!((row.1, row.2), (401, 401), "supervisord: {row:?}");
    }
    assert_same_ignoring_web_ui(&a, &b);
    // The refusal carries the challenge header.
    let reply = http_request(
        &Endpoint::Tcp(p.port),
        &build_request("POST", "/RPC2", None, GET_STATE),
        Duration::from_secs(2),
    )
    .expect("reply");
    assert!(
        reply
            .headers
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"default\""),
        "{}",
        reply.headers
    );
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn every_endpoint_needs_credentials_over_unix_socket_like_supervisord() {
    let (p, r) = both(&fixture().unix_server_with_auth("user", "s3cret"));
    on_both(&p, &r, |d| d.wait_state(&["web"], "RUNNING"));
    let (a, b) = on_both(&p, &r, |d| auth_matrix(d, &Endpoint::Unix(d.socket())));
    for row in &b {
        assert_eq!((row.1, row.2), (401, 401), "supervisord: {row:?}");
    }
    assert_same_ignoring_web_ui(&a, &b);
}

/// The web UI pages are not served by procd yet (404): compare their refusals only.
const WEB_UI: &[&str] = &[
    "GET /",
    "GET /index.html",
    "GET /tail.html?processname=web",
    "GET /stylesheets/supervisor.css",
];

#[track_caller]
fn assert_same_ignoring_web_ui(a: &[(String, u16, u16, u16)], b: &[(String, u16, u16, u16)]) {
    let strip = |v: &[(String, u16, u16, u16)]| {
        v.iter()
            .map(|(p, x, y, z)| {
                (
                    p.clone(),
                    *x,
                    *y,
                    if WEB_UI.contains(&p.as_str()) { 0 } else { *z },
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(a),
        strip(b),
        "procd vs supervisord (path, no auth, wrong password, right password)"
    );
}

/// The status pages answer like supervisord's on every server, with and without credentials. procd's
/// page is self-contained, so supervisord's static files (`/stylesheets/...`, `/images/...`) are the one
/// expected difference (see docs/compatibility.md).
#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn web_ui_pages_are_served_like_supervisord() {
    let (p, r) = both(&fixture().inet_server_with_auth("user", "s3cret"));
    on_both(&p, &r, |d| d.wait_state(&["web"], "RUNNING"));
    let (a, b) = on_both(&p, &r, |d| auth_matrix(d, &Endpoint::Tcp(d.port)));
    let pages = |rows: Vec<(String, u16, u16, u16)>| -> Vec<(String, u16, u16, u16)> {
        rows.into_iter()
            .filter(|r| !r.0.contains("/stylesheets/"))
            .collect()
    };
    assert_eq!(pages(a.clone()), pages(b.clone()));
    let css = |rows: &[(String, u16, u16, u16)]| {
        rows.iter()
            .find(|r| r.0.contains("/stylesheets/"))
            .map(|r| r.3)
    };
    assert_eq!((css(&a), css(&b)), (Some(404), Some(200)), "static files");
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn socket_mode_follows_chmod() {
    for (fixture, want) in [
        (fixture().unix_server(), 0o700),
        (fixture().unix_server_chmod("0770"), 0o770),
    ] {
        let (p, r) = both(&fixture);
        let (a, b) = on_both(&p, &r, |d| {
            std::fs::metadata(d.socket())
                .expect("socket")
                .permissions()
                .mode()
                & 0o777
        });
        assert_eq!((a, b), (want, want), "socket modes (procd, supervisord)");
    }
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn malformed_requests_get_the_same_status_as_supervisord() {
    let (p, r) = both(&fixture().unix_server());
    let bad: &[(&str, &str, &[u8])] = &[
        (
            "POST",
            "/RPC2",
            b"<methodCall><methodName>supervisor.getState",
        ),
        ("POST", "/RPC2", b"not xml at all"),
        (
            "POST",
            "/RPC2",
            b"<?xml version='1.0'?><methodCall><params></params></methodCall>",
        ),
        ("GET", "/RPC2", b""),
    ];
    let (a, b) = on_both(&p, &r, |d| {
        bad.iter()
            .map(|(m, path, body)| {
                http_request(
                    &d.endpoint(),
                    &build_request(m, path, None, body),
                    Duration::from_secs(5),
                )
                .map_or(0, |r| r.status)
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(b, vec![400, 400, 400, 400], "supervisord");
    assert_eq!(a, b);
    assert_eq!(p.state_of("web"), "RUNNING", "procd still answers");
}

#[test]
fn oversized_body_is_refused_while_other_clients_are_served() {
    let d = Daemon::start(Kind::Procd, &fixture().unix_server());
    d.wait_state(&["web"], "RUNNING");
    let ep = d.endpoint();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let good = s.spawn(|| {
            let mut served = 0;
            let mut worst = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t0 = Instant::now();
                let reply = http_request(
                    &ep,
                    &build_request("POST", "/RPC2", None, GET_STATE),
                    Duration::from_secs(5),
                );
                assert_eq!(reply.map(|r| r.status), Some(200), "good client refused");
                worst = worst.max(t0.elapsed());
                served += 1;
            }
            (served, worst)
        });
        let mut body = b"<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params><param><value><string>".to_vec();
        body.resize(8 * 1024 * 1024, b'x');
        body.extend_from_slice(b"</string></value></param></params></methodCall>");
        for _ in 0..3 {
            let reply = http_request(
                &ep,
                &build_request("POST", "/RPC2", None, &body),
                Duration::from_secs(10),
            );
            // Either a 413 or the connection closed on us; never a 200.
            assert_ne!(
                reply.as_ref().map(|r| r.status),
                Some(200),
                "8 MiB body accepted"
            );
            let garbage = http_request(
                &ep,
                &build_request("POST", "/RPC2", None, b"<<<>>>"),
                Duration::from_secs(5),
            );
            assert_eq!(garbage.map(|r| r.status), Some(400));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (served, worst) = good.join().expect("good client");
        assert!(served > 0);
        assert!(
            worst < Duration::from_secs(2),
            "a good request waited {worst:?}"
        );
    });
}
