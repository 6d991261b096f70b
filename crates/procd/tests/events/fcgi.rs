//! `[fcgi-program:x]`: procd binds the socket, hands it to every process as fd 0, keeps it open while
//! any process holds it (across the restart of one) and closes it when all have stopped.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, port, wait_until};
use crate::support::python;

const LONG: Duration = Duration::from_secs(20);

/// Accepts on fd 0, answers each connection with its pid and holds it until the client closes, so a
/// process serves one client at a time.
const APP: &str = r#"
import os, socket, sys
family = socket.AF_UNIX if sys.argv[1] == 'unix' else socket.AF_INET
s = socket.fromfd(0, family, socket.SOCK_STREAM)
while True:
    c, _ = s.accept()
    c.sendall(b'%d\n' % os.getpid())
    while c.recv(100):
        pass
    c.close()
"#;

trait Conn: std::io::Read + Send {}
impl<T: std::io::Read + Send> Conn for T {}

fn connect(addr: &str) -> std::io::Result<Box<dyn Conn>> {
    match addr.strip_prefix("unix://") {
        Some(path) => Ok(Box::new(std::os::unix::net::UnixStream::connect(path)?)),
        None => {
            let s = std::net::TcpStream::connect(addr.trim_start_matches("tcp://"))?;
            s.set_read_timeout(Some(LONG))?;
            Ok(Box::new(s))
        }
    }
}

/// Opens `n` connections at once and returns the pid each one was answered by.
fn pids(addr: &str, n: usize) -> Vec<i32> {
    let conns: Vec<Box<dyn Conn>> = (0..n).map(|_| connect(addr).expect("connect")).collect();
    // Keep every connection open until all have answered: a process serves one client at a time.
    let mut readers: Vec<BufReader<Box<dyn Conn>>> =
        conns.into_iter().map(BufReader::new).collect();
    readers
        .iter_mut()
        .map(|r| {
            let mut line = String::new();
            r.read_line(&mut line).expect("read pid");
            line.trim().parse().expect("pid")
        })
        .collect()
}

/// The port of a `tcp://127.0.0.1:<port>` socket URL.
fn tcp_port(url: &str) -> Option<u16> {
    url.strip_prefix("tcp://127.0.0.1:")?.parse().ok()
}

/// A `tcp://` socket URL on a reserved port (procd binds it; the config must name the port, as
/// supervisord's does), and the reservation, to be held for the whole test.
fn tcp_url() -> (port::Port, String) {
    let reserved = port::reserve();
    let url = format!("tcp://127.0.0.1:{}", reserved.get());
    (reserved, url)
}

fn run(kind: &str, url: &str) {
    let py = python();
    let f = Fixture::new();
    std::fs::write(f.path("app.py"), APP).expect("app.py");
    f.write_conf(
        "",
        &format!(
            "[fcgi-program:fc]\ncommand={py} -u {} {kind}\nsocket={url}\nnumprocs=3\n\
             process_name=%(program_name)s_%(process_num)d\nstartsecs=0\n",
            f.path("app.py").display()
        ),
    );
    let d = f.start();
    for i in 0..3 {
        f.wait_state(&format!("fc:fc_{i}"), "RUNNING", LONG);
    }
    if let Some(port) = tcp_port(url) {
        d.wait_listening(port, LONG);
    }
    let running: HashSet<i32> = (0..3).map(|i| f.pid_of(&format!("fc:fc_{i}"))).collect();
    // Three simultaneous clients are served by three different processes.
    let seen: HashSet<i32> = pids(url, 3).into_iter().collect();
    assert_eq!(seen, running);
    let created = format!("Creating socket {url}");
    assert_eq!(
        f.log()
            .iter()
            .filter(|(l, m)| l == "INFO" && *m == created)
            .count(),
        1
    );

    // Restarting one process keeps the socket: clients are served throughout.
    f.rpc(
        "supervisor.stopProcess",
        vec![Value::String("fc:fc_0".into())],
    )
    .expect("stop");
    assert_eq!(pids(url, 2).len(), 2);
    f.rpc(
        "supervisor.startProcess",
        vec![Value::String("fc:fc_0".into())],
    )
    .expect("start");
    let new0 = f.pid_of("fc:fc_0");
    let seen: HashSet<i32> = pids(url, 3).into_iter().collect();
    assert!(
        seen.contains(&new0),
        "the restarted process serves: {seen:?} {new0}"
    );
    let closing = format!("Closing socket {url}");
    assert!(f.log().iter().all(|(_, m)| *m != closing));

    // Stopping every process closes it.
    f.rpc(
        "supervisor.stopProcessGroup",
        vec![Value::String("fc".into())],
    )
    .expect("stop all");
    f.wait_log(LONG, "Closing socket", |m| m == closing);
    wait_until(LONG, "refused connections", || {
        connect(url).is_err().then_some(())
    });
    // Starting again creates it again.
    f.rpc(
        "supervisor.startProcessGroup",
        vec![Value::String("fc".into())],
    )
    .expect("start all");
    assert_eq!(pids(url, 1).len(), 1);
    assert_eq!(f.log().iter().filter(|(_, m)| *m == created).count(), 2);
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn tcp_socket_is_shared_by_the_group() {
    let (_reserved, url) = tcp_url();
    run("tcp", &url);
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn unix_socket_is_shared_by_the_group() {
    let dir = tempfile::Builder::new()
        .prefix("fc")
        .tempdir_in("/tmp")
        .expect("dir");
    run("unix", &format!("unix://{}/fc.sock", dir.path().display()));
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn crash_and_autorestart_keep_the_socket_refcount_right() {
    let py = python();
    let f = Fixture::new();
    let (_reserved, url) = tcp_url();
    // fc_0 crashes on its first run (marker file) and is restarted at once (startsecs=0).
    let crash = format!(
        "import os, sys\nif not os.path.exists('{m}'):\n    open('{m}', 'w').close()\n    sys.exit(3)\n",
        m = f.path("crashed").display()
    );
    std::fs::write(f.path("app.py"), format!("{crash}{APP}")).expect("app.py");
    f.write_conf(
        "",
        &format!(
            "[fcgi-program:fc]\ncommand={py} -u {} tcp\nsocket={url}\nnumprocs=1\n\
             process_name=%(program_name)s_%(process_num)d\nstartsecs=0\n",
            f.path("app.py").display()
        ),
    );
    let d = f.start();
    f.wait_log(LONG, "the crash", |m| {
        m.starts_with("exited: fc_0 (exit status 3")
    });
    f.wait_state("fc:fc_0", "RUNNING", LONG);
    d.wait_listening(tcp_port(&url).expect("a tcp url"), LONG);
    assert_eq!(pids(&url, 1), [f.pid_of("fc:fc_0")]);
    // The crash dropped the only reference (closed) and the respawn created the socket again; it
    // is open now, and the stop closes it.
    let count = |what: &str| {
        let line = format!("{what} socket {url}");
        f.log().iter().filter(|(_, m)| *m == line).count()
    };
    assert_eq!((count("Creating"), count("Closing")), (2, 1));
    f.rpc(
        "supervisor.stopProcess",
        vec![Value::String("fc:fc_0".into())],
    )
    .expect("stop");
    wait_until(LONG, "the socket closed", || {
        (count("Closing") == 2).then_some(())
    });
    assert_eq!(count("Creating"), 2);
    wait_until(LONG, "refused connections", || {
        connect(&url).is_err().then_some(())
    });
}
