//! procd's reliability suite: hostile clients, resource exhaustion and load, each scenario run against
//! procd and, where it makes sense, against supervisord 4.3.0 side by side.
//!
//! Every scenario prints a figure line (`reliability <scenario>: ...`, also appended to
//! `target/reliability-figures.txt`); figures are reported, never asserted. What is asserted are
//! procd's promises (docs/reliability.md): no operator lockout, prompt recovery from descriptor
//! exhaustion, an exact count of lost log bytes, no panic and no HTTP 500 on bad input, bounded memory
//! per request, a bounded shutdown. Latency bounds are generous correctness conditions (a call that
//! takes 2 s on a shared machine is an outage), not performance targets.
//!
//! `cargo nextest run -p procd-tests --test reliability --no-capture` shows the figures.
//! `PROCD_RELIABILITY_FULL=1` uses the large sizes (a 128 MiB body, 10 s load runs).

mod attacks;
mod exhaustion;
mod load;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use procd_tests::{Daemon, Endpoint, Fixture, Kind};

pub const USER: (&str, &str) = ("user", "pass");

/// Whether the large sizes were asked for.
pub fn full() -> bool {
    std::env::var_os("PROCD_RELIABILITY_FULL").is_some()
}

/// Prints a figure line and appends it to `target/reliability-figures.txt`.
pub fn figure(scenario: &str, text: &str) {
    let line = format!("reliability {scenario}: {text}");
    println!("{line}");
    let path = procd_tests::env::workspace_root()
        .join("target")
        .join("reliability-figures.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// A `/proc/<pid>/status` field in kB (`VmHWM`, `VmRSS`).
pub fn status_kb(pid: i32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) of a process, in clock ticks.
pub fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// Lines of the daemon's main log containing `needle`.
pub fn log_count(d: &Daemon, needle: &str) -> usize {
    std::fs::read_to_string(d.path().join("supervisord.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// A fixture with both servers behind `user`/`pass`.
pub fn guarded() -> Fixture {
    Fixture::new()
        .unix_server_with_auth(USER.0, USER.1)
        .inet_server_with_auth(USER.0, USER.1)
}

pub fn start(kind: Kind, fixture: &Fixture) -> Daemon {
    Daemon::start(kind, fixture)
}

/// A raw connection to either server.
pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    pub fn open(ep: &Endpoint) -> std::io::Result<Conn> {
        Ok(match ep {
            Endpoint::Unix(p) => Conn::Unix(UnixStream::connect(p)?),
            Endpoint::Tcp(port) => Conn::Tcp(TcpStream::connect(("127.0.0.1", *port))?),
        })
    }

    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Unix(s) => s.write_all(data),
            Conn::Tcp(s) => s.write_all(data),
        }
    }

    /// Whether the server has closed the connection (checked without blocking).
    pub fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 512];
        let r = match self {
            Conn::Unix(s) => s.set_nonblocking(true).and_then(|()| s.read(&mut buf)),
            Conn::Tcp(s) => s.set_nonblocking(true).and_then(|()| s.read(&mut buf)),
        };
        match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        }
    }
}

/// Half a request head: a slowloris client, or the start of the lockout attack.
pub const HALF_SENT: &[u8] = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Ty";

/// One authenticated `getState` on `ep`: (success, time taken), giving up after 10 s.
pub fn timed_call(ep: &Endpoint) -> (bool, Duration) {
    timed_call_within(ep, Duration::from_secs(10))
}

/// The same with another time limit.
pub fn timed_call_within(ep: &Endpoint, limit: Duration) -> (bool, Duration) {
    let body = procd_protocol::encode_call(&procd_tests::MethodCall {
        method: "supervisor.getState".into(),
        params: vec![],
    });
    let req = procd_tests::build_request("POST", "/RPC2", Some(USER), &body);
    let t = Instant::now();
    let ok = procd_tests::http_request(ep, &req, limit)
        .filter(|r| r.status == 200)
        .and_then(|r| procd_protocol::decode_response(&r.body).ok())
        .is_some_and(|r| r.is_ok());
    (ok, t.elapsed())
}

/// Waits until `cond` holds or `timeout` passes; the time it took, `None` on timeout.
pub fn time_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A small tmpfs for disk-full scenarios, unmounted on drop; `None` without root.
pub struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    pub fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}
