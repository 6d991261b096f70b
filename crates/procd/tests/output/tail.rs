//! `/logtail/<name>` over a raw HTTP/1.1 connection on the unix socket follows the file across rotations.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::{DEADLINE, start, wait_file};

/// Line numbers of the complete `line-N` lines in the text.
fn numbers(text: &str) -> Vec<u64> {
    text.split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n')?.strip_prefix("line-")?.parse().ok())
        .collect()
}

/// The payload of a chunked body received so far (an incomplete last chunk is kept as far as it goes).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = raw.windows(2).position(|w| w == b"\r\n") {
        let Ok(size) = usize::from_str_radix(String::from_utf8_lossy(&raw[..pos]).trim(), 16)
        else {
            break;
        };
        let start = pos + 2;
        let end = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        if size == 0 || end < start + size {
            break;
        }
        raw = raw.get(end + 2..).unwrap_or(&[]);
    }
    out
}

/// Headers and decoded body of what has arrived.
fn split_response(raw: &[u8]) -> Option<(String, String)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let body = &raw[end + 4..];
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Some((head, String::from_utf8_lossy(&body).into_owned()))
}

/// Sends `GET <path>` on a new unix-socket connection and reads until the server closes it or `done`
/// (given all bytes so far) says to stop; returns the raw bytes.
fn follow(fx: &super::Fixture, path: &str, mut done: impl FnMut(&[u8]) -> bool) -> Vec<u8> {
    let mut conn = UnixStream::connect(fx.sock()).expect("connect");
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .expect("request");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let start = Instant::now();
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return raw,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("read: {e}"),
        }
        if done(&raw) {
            return raw;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "stream stalled after {} bytes",
            raw.len()
        );
    }
}

#[test]
fn logtail_follows_the_file_across_rotation() {
    let (fx, _d) = start(&super::program(
        "r",
        "sh -c 'i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.005; done'",
        "stdout_logfile=%(here)s/r.log\nstdout_logfile_maxbytes=2KB\nstdout_logfile_backups=2",
    ));
    wait_file(&fx.path("r.log"), "first lines", |d| !d.is_empty());
    let target_rotations = 4;
    let raw = follow(&fx, "/logtail/r", |raw| {
        let text = split_response(raw).map(|(_, b)| b).unwrap_or_default();
        // 2 KB holds ~250 lines: seeing a line 4 files further on means rotations were followed.
        let nums = numbers(&text);
        matches!((nums.first(), nums.last()), (Some(first), Some(last)) if last - first > 250 * target_rotations)
    });
    let (head, body) = split_response(&raw).expect("headers");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let nums = numbers(&body);
    assert!(
        nums.windows(2).all(|w| w[0] < w[1]),
        "lines arrive in order, never repeated"
    );
    assert!(
        super::backup(&fx.path("r.log"), 2).exists(),
        "rotated meanwhile"
    );
}

#[test]
fn logtail_followers_end_when_a_reload_replaces_the_logs() {
    let (fx, d) = start(&super::program(
        "r",
        "sh -c 'while :; do echo tick; sleep 0.05; done'",
        "",
    ));
    let mut reloaded = false;
    let raw = follow(&fx, "/logtail/r", |raw| {
        let body = split_response(raw).map(|(_, b)| b).unwrap_or_default();
        if !reloaded && body.contains("tick") {
            // The AUTO log being followed belongs to the process the reload stops; supervisord drops
            // such connections, procd ends the response.
            d.signal(nix::sys::signal::Signal::SIGHUP);
            reloaded = true;
        }
        raw.ends_with(b"\r\n0\r\n\r\n")
    });
    assert!(reloaded, "followed some output first");
    let (head, _) = split_response(&raw).expect("headers");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

/// The status line of `GET <path>`, once the body shows `showing` (`""`: as soon as the headers are in).
fn status_line(fx: &super::Fixture, path: &str, showing: &str) -> String {
    let raw = follow(fx, path, |raw| {
        split_response(raw).is_some_and(|(_, body)| body.contains(showing))
    });
    let (head, _) = split_response(&raw).expect("headers");
    head.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn logtail_knows_groups_added_and_removed_at_runtime() {
    let a = super::program("a", "sh -c 'echo from-a; exec sleep 100'", "");
    let (fx, _d) = start(&a);
    let b = super::program("b", "sh -c 'echo from-b; exec sleep 100'", "");
    assert!(status_line(&fx, "/logtail/b", "").starts_with("HTTP/1.1 404"));

    fx.write_conf("", &format!("{a}\n{b}"));
    fx.rpc("supervisor.reloadConfig", vec![])
        .expect("reloadConfig");
    fx.rpc("supervisor.addProcessGroup", vec![super::s("b")])
        .expect("addProcessGroup");
    assert!(status_line(&fx, "/logtail/b", "from-b").starts_with("HTTP/1.1 200"));
    // The group that was there before is still indexed.
    assert!(status_line(&fx, "/logtail/a", "from-a").starts_with("HTTP/1.1 200"));

    fx.rpc("supervisor.stopProcessGroup", vec![super::s("b")])
        .expect("stopProcessGroup");
    fx.rpc("supervisor.removeProcessGroup", vec![super::s("b")])
        .expect("removeProcessGroup");
    assert!(status_line(&fx, "/logtail/b", "").starts_with("HTTP/1.1 404"));
    assert!(status_line(&fx, "/logtail/a", "").starts_with("HTTP/1.1 200"));
}
