//! The shell after its kept-alive connection was closed by the server while it waited for input.
//!
//! procd closes a kept-alive connection after 10 s without a request. A tiny in-test server that closes
//! idle connections after 100 ms makes the same situation quick and certain: the test only sends the
//! second command once the server reports that it closed the first connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::fixture::procctl_bin;

/// Answers XML-RPC POSTs with keep-alive and closes a connection that stays idle for 100 ms, reporting
/// each close on `closed`.
fn serve(listener: UnixListener, closed: mpsc::Sender<()>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let closed = closed.clone();
        std::thread::spawn(move || serve_connection(stream, &closed));
    }
}

fn serve_connection(stream: UnixStream, closed: &mpsc::Sender<()>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut first = true;
    loop {
        // The first request may take its time; later ones must come within the idle time.
        let idle = if first {
            None
        } else {
            Some(Duration::from_millis(100))
        };
        first = false;
        reader.get_ref().set_read_timeout(idle).expect("timeout");
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            _ => {
                drop(writer);
                let _ = closed.send(());
                return;
            }
        }
        reader.get_ref().set_read_timeout(None).expect("timeout");
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).expect("header");
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let body = String::from_utf8_lossy(&body);
        let value = if body.contains("getAllProcessInfo") {
            "<array><data></data></array>"
        } else if body.contains("supervisor.getVersion") || body.contains("getAPIVersion") {
            "<string>3.0</string>"
        } else {
            "<string>4.3.0</string>"
        };
        let reply = format!(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value>{value}</value></param></params></methodResponse>"
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        writer.write_all(head.as_bytes()).expect("write");
        writer.write_all(reply.as_bytes()).expect("write");
    }
}

#[test]
fn shell_survives_a_server_closing_its_idle_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("idle.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    let (closed_tx, closed) = mpsc::channel();
    std::thread::spawn(move || serve(listener, closed_tx));

    let url = format!("unix://{}", sock.display());
    let mut child = Command::new(procctl_bin())
        .args(["-s", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn procctl");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"version\n").expect("first command");
    // The first connection answered `status` and `version`, then sat idle until the server closed it.
    closed
        .recv_timeout(Duration::from_secs(30))
        .expect("the server closes the idle connection");
    stdin.write_all(b"version\n").expect("second command");
    drop(stdin);
    let out = child.wait_with_output().expect("procctl output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("error"), "{stdout}");
    assert_eq!(stdout.matches("4.3.0").count(), 2, "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}
