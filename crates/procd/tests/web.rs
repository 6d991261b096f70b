//! End-to-end test of the status web UI: the real daemon with two programs, served on a unix socket
//! and a TCP port; the page, a stop action through its 301 redirect, the tail page and a 404 are
//! fetched with raw HTTP/1.1 requests over TCP.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Fixture, port, wait_until};

const LONG: Duration = Duration::from_secs(20);

/// A parsed HTTP response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `<tr …>` line of the table row naming `namespec`.
    fn row(&self, namespec: &str) -> Option<&str> {
        let anchor = format!(">{namespec}</a>");
        self.body
            .lines()
            .find(|l| l.starts_with("<tr") && l.contains(&anchor))
    }
}

/// `GET target` with `Host: host` and `Connection: close`; reads to EOF (non-chunked answers only).
fn get(port: u16, host: &str, target: &str) -> Reply {
    send(
        port,
        &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n"),
        "",
    )
}

/// `POST target` of a form `body` with extra header lines (each ending in CRLF).
fn post(port: u16, host: &str, target: &str, headers: &str, body: &str) -> Reply {
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {host}\r\n{headers}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
        body.len()
    );
    send(port, &head, body)
}

/// Sends `head` (request line and headers, without the blank line) plus `Connection: close` and `body`.
fn send(port: u16, head: &str, body: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(LONG)).expect("timeout");
    let request = format!("{head}Connection: close\r\n\r\n{body}");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[test]
fn status_page_actions_and_tail_over_tcp() {
    let f = Fixture::new();
    // A config file must name its port (supervisord rejects port 0): a reserved one, held until the
    // end of the test, and the daemon's own listening socket is checked before it is used.
    let reserved = port::reserve();
    let port = reserved.get();
    f.write_conf(
        "",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [program:alpha]\ncommand=sh -c 'echo hello-from-alpha; exec sleep 1000'\nstartsecs=0\n\n\
             [program:beta]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [group:grp]\nprograms=beta\n"
        ),
    );
    let daemon = f.start();
    daemon.wait_listening(port, LONG);
    f.wait_state("alpha", "RUNNING", LONG);
    f.wait_state("grp:beta", "RUNNING", LONG);
    let host = format!("127.0.0.1:{port}");

    let page = get(port, &host, "/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("Content-Type"), Some("text/html;charset=utf-8"));
    assert_eq!(page.header("Pragma"), Some("no-cache"));
    assert_eq!(page.header("Cache-Control"), Some("no-cache"));
    assert_eq!(
        page.header("Expires"),
        Some("Thu, 01 Jan 1970 00:00:00 GMT")
    );
    let alpha = page.row("alpha").expect("alpha row");
    let beta = page.row("grp:beta").expect("grp:beta row");
    assert!(
        page.body.find(alpha) < page.body.find(beta),
        "rows sorted by group"
    );
    for row in [alpha, beta] {
        assert!(row.contains("statusrunning\">running<"), "{row}");
        assert!(
            row.contains("value=\"stop\"") && !row.contains("value=\"start\""),
            "{row}"
        );
    }
    assert!(
        beta.contains("href=\"tail.html?processname=grp%3Abeta\""),
        "{beta}"
    );
    assert!(
        beta.contains("href=\"logtail/grp%3Abeta/stderr\""),
        "{beta}"
    );

    let stop = get(
        port,
        &host,
        "/index.html?processname=grp%3Abeta&action=stop",
    );
    assert_eq!(stop.status, 301, "{}", stop.body);
    let location = stop.header("Location").expect("Location").to_owned();
    let want = format!("http://{host}/?message=Process%20grp%3Abeta%20stopped");
    assert_eq!(location, want);
    // The redirect is sent once the stop is done (supervisord's deferred answer).
    assert_eq!(
        common::str_field(&f.info("grp:beta"), "statename"),
        "STOPPED"
    );

    let target = location
        .strip_prefix(&format!("http://{host}"))
        .expect("same server");
    let after = get(port, &host, target);
    assert_eq!(after.status, 200);
    assert!(
        after.body.contains("Process grp:beta stopped"),
        "{}",
        after.body
    );
    let beta = after.row("grp:beta").expect("grp:beta row");
    assert!(beta.contains("statusnominal\">stopped<"), "{beta}");
    assert!(
        beta.contains("name=\"processname\" value=\"grp:beta\"")
            && beta.contains("value=\"start\""),
        "{beta}"
    );
    assert!(after.row("alpha").expect("alpha row").contains(">running<"));

    let missing = get(port, "example.org", "/?processname=nosuch&action=start");
    assert_eq!(missing.status, 301);
    assert_eq!(
        missing.header("Location"),
        Some("http://example.org/?message=No%20such%20process%20named%20nosuch")
    );

    let tail = wait_until(LONG, "alpha's output on tail.html", || {
        let t = get(port, &host, "/tail.html?processname=alpha&limit=2048");
        t.body
            .contains("<pre>hello-from-alpha\n</pre>")
            .then_some(t)
    });
    assert_eq!(tail.status, 200);
    assert!(
        tail.body
            .contains("tail.html?processname=alpha&amp;limit=2048")
    );

    assert_eq!(get(port, &host, "/no-such-page.html").status, 404);
}

/// The value of the form token in a status page.
fn token_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf_token\" value=\"")
        .expect("a token field")
        + "name=\"csrf_token\" value=\"".len();
    page[at..].chars().take_while(|c| *c != '"').collect()
}

#[test]
fn cross_site_actions_are_refused_and_page_forms_work() {
    let f = Fixture::new();
    let reserved = port::reserve();
    let port = reserved.get();
    f.write_conf(
        "",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [program:alpha]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    );
    let daemon = f.start();
    daemon.wait_listening(port, LONG);
    f.wait_state("alpha", "RUNNING", LONG);
    let host = format!("127.0.0.1:{port}");

    // What a page on another local origin can make a browser send: refused, nothing stops.
    let img = send(
        port,
        &format!(
            "GET /index.html?processname=alpha&action=stop HTTP/1.1\r\nHost: {host}\r\n\
             Sec-Fetch-Site: same-site\r\n"
        ),
        "",
    );
    assert_eq!(img.status, 403, "{}", img.body);
    let form = post(
        port,
        &host,
        "/index.html",
        "Origin: http://127.0.0.1:1\r\nSec-Fetch-Site: same-site\r\n",
        "processname=alpha&action=stop",
    );
    assert_eq!(form.status, 403, "{}", form.body);
    assert!(
        form.body.contains("cross-site request refused"),
        "{}",
        form.body
    );
    assert_eq!(f.state("alpha"), "RUNNING");

    // The page's own form: same origin, with the token.
    let token = token_of(&get(port, &host, "/").body);
    assert_eq!(token.len(), 64, "{token}");
    let own = format!("Origin: http://{host}\r\nSec-Fetch-Site: same-origin\r\n");
    let stale = post(
        port,
        &host,
        "/index.html",
        &own,
        &format!("csrf_token={}0&processname=alpha&action=stop", &token[1..]),
    );
    assert_eq!(stale.status, 403);
    assert_eq!(f.state("alpha"), "RUNNING");
    // The page's form through a reverse proxy that rewrites Host: refused, and the page says why.
    let proxied = post(
        port,
        &host,
        "/index.html",
        "Origin: https://ops.example.com\r\nSec-Fetch-Site: same-origin\r\n",
        &format!("csrf_token={token}&processname=alpha&action=stop"),
    );
    assert_eq!(proxied.status, 403, "{}", proxied.body);
    assert!(
        proxied.body.contains(&format!(
            "Origin https://ops.example.com is not this server, Host {host}; behind a reverse \
             proxy, pass the client&#39;s Host header"
        )),
        "{}",
        proxied.body
    );
    assert_eq!(f.state("alpha"), "RUNNING");
    let stop = post(
        port,
        &host,
        "/index.html",
        &own,
        &format!("csrf_token={token}&processname=alpha&action=stop"),
    );
    assert_eq!(stop.status, 301, "{}", stop.body);
    assert_eq!(f.state("alpha"), "STOPPED");
    // The token is the daemon's: the next page carries the same one.
    assert_eq!(token_of(&get(port, &host, "/").body), token);
}

#[test]
fn events_stream_reports_state_changes() {
    let f = Fixture::new();
    let reserved = port::reserve();
    let port = reserved.get();
    f.write_conf(
        "",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [program:alpha]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    );
    let daemon = f.start();
    daemon.wait_listening(port, LONG);
    f.wait_state("alpha", "RUNNING", LONG);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(LONG)).expect("timeout");
    let request = format!("GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut seen = String::new();
    let mut next_value = |seen: &mut String| -> u64 {
        loop {
            if let Some(at) = seen.find("data: ") {
                let rest = &seen[at + 6..];
                if let Some(end) = rest.find('\n') {
                    let value = rest[..end].parse().expect("a number");
                    *seen = rest[end..].to_owned();
                    return value;
                }
            }
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).expect("read");
            assert!(n > 0, "stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    let first = next_value(&mut seen);
    assert!(
        seen.is_empty() || !seen.contains("data: "),
        "one event at first"
    );
    f.rpc("supervisor.stopProcess", vec!["alpha".into()])
        .expect("stopped");
    let second = next_value(&mut seen);
    assert!(second > first, "{first} then {second}");
}
