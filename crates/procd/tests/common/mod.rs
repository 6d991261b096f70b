//! A small harness for the engine tests: a config fixture in a temp dir, a daemon guard that kills the
//! daemon and every descendant on drop, `wait_until` with deadlines, an XML-RPC client over the unix
//! socket, and readers for the main log and `/proc/<pid>/status`.
//!
//! The same fixture runs procd or the reference supervisord 4.3.0 (for differential tests).

#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procd_protocol::{Fault, MethodCall, Value, decode_response, encode_call};

/// The procd binary under test.
pub const PROCD: &str = env!("CARGO_BIN_EXE_procd");

/// The directory with the reference supervisor 4.3.0 (`PROCD_TEST_PYTHON_BIN_DIR`, else the project's
/// `.venv/bin`, which `tests/run-all.sh` installs).
pub fn reference_bin_dir() -> PathBuf {
    std::env::var_os("PROCD_TEST_PYTHON_BIN_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin"),
        PathBuf::from,
    )
}

/// A program of the reference installation; a missing reference fails the test (run tests/run-all.sh).
#[track_caller]
pub fn reference(name: &str) -> PathBuf {
    let p = reference_bin_dir().join(name);
    assert!(
        p.exists(),
        "{} not found: install the reference supervisor 4.3.0 (tests/run-all.sh does) or set PROCD_TEST_PYTHON_BIN_DIR",
        p.display()
    );
    p
}

/// The reference supervisord 4.3.0.
#[track_caller]
pub fn supervisord() -> PathBuf {
    reference("supervisord")
}

/// Polls `f` every 10 ms until it returns `Some`, or panics with `what` after `deadline`.
#[track_caller]
pub fn wait_until<T>(deadline: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A temp dir holding a config file, the socket, the main log, the pidfile and child logs.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("pe")
            .tempdir_in("/tmp")
            .expect("tempdir");
        Fixture { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn sock(&self) -> PathBuf {
        self.path("s.sock")
    }

    pub fn main_log(&self) -> PathBuf {
        self.path("main.log")
    }

    pub fn pidfile(&self) -> PathBuf {
        self.path("d.pid")
    }

    /// Writes `supervisord.conf` with the standard sections plus `supervisord_extra` lines in
    /// `[supervisord]` and the `rest` sections; `%(here)s`-free absolute paths.
    pub fn write_conf(&self, supervisord_extra: &str, rest: &str) -> PathBuf {
        let d = self.dir.path().display();
        let text = format!(
            "[unix_http_server]\nfile={d}/s.sock\n\n\
             [supervisord]\nlogfile={d}/main.log\npidfile={d}/d.pid\nchildlogdir={d}\nloglevel=debug\n\
             {supervisord_extra}\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             {rest}\n"
        );
        let path = self.path("supervisord.conf");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// Starts `procd -n -c <conf>` and waits until it answers over XML-RPC.
    pub fn start(&self) -> Daemon {
        self.start_with(Path::new(PROCD), &["-n"])
    }

    /// Starts `bin -c <conf> <args>` (procd or supervisord) and waits until it answers.
    pub fn start_with(&self, bin: &Path, args: &[&str]) -> Daemon {
        let d = self.spawn_daemon(bin, args, None);
        let _ = wait_until(Duration::from_secs(10), "the daemon's socket", || {
            rpc(&self.sock(), "supervisor.getPID", vec![]).ok()
        });
        d
    }

    /// Starts the daemon without waiting; `wrapper` runs it under another program (e.g. `unshare`).
    pub fn spawn_daemon(&self, bin: &Path, args: &[&str], wrapper: Option<&[&str]>) -> Daemon {
        let conf = self.path("supervisord.conf");
        let mut argv: Vec<String> = Vec::new();
        if let Some(w) = wrapper {
            argv.extend(w.iter().map(|s| (*s).to_owned()));
        }
        argv.push(bin.display().to_string());
        argv.push("-c".into());
        argv.push(conf.display().to_string());
        argv.extend(args.iter().map(|s| (*s).to_owned()));
        let out = std::fs::File::create(self.path("daemon.out")).expect("daemon.out");
        let err = out.try_clone().expect("clone");
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start daemon");
        Daemon {
            child: Some(child),
            pid: 0,
            sock: self.sock(),
        }
    }

    pub fn rpc(&self, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        rpc(&self.sock(), method, params).expect("rpc transport")
    }

    /// A parameterless call, `None` while the daemon does not answer.
    pub fn rpc_opt(&self, method: &str) -> Option<Value> {
        rpc(&self.sock(), method, vec![]).ok().and_then(Result::ok)
    }

    /// The main log as `(level, message)` pairs, timestamps dropped, continuation lines joined.
    pub fn log(&self) -> Vec<(String, String)> {
        read_main_log(&self.main_log())
    }

    /// Waits until a main-log message satisfies `pred`; returns it.
    #[track_caller]
    pub fn wait_log(&self, deadline: Duration, what: &str, pred: impl Fn(&str) -> bool) -> String {
        wait_until(deadline, what, || {
            self.log().into_iter().map(|(_, m)| m).find(|m| pred(m))
        })
    }

    /// `getProcessInfo(name)` as a struct value.
    pub fn info(&self, name: &str) -> Value {
        self.rpc(
            "supervisor.getProcessInfo",
            vec![Value::String(name.into())],
        )
        .expect("getProcessInfo")
    }

    pub fn state(&self, name: &str) -> String {
        str_field(&self.info(name), "statename")
    }

    pub fn pid_of(&self, name: &str) -> i32 {
        int_field(&self.info(name), "pid")
    }

    /// Waits until `name` is in `state`; returns its info.
    #[track_caller]
    pub fn wait_state(&self, name: &str, state: &str, deadline: Duration) -> Value {
        wait_until(deadline, &format!("{name} in {state}"), || {
            let info = self.info(name);
            (str_field(&info, "statename") == state).then_some(info)
        })
    }
}

pub fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub fn int_field(v: &Value, key: &str) -> i32 {
    v.get(key).and_then(Value::as_int).unwrap_or(-1)
}

/// A running daemon; dropping it kills the daemon and every descendant (children, grandchildren).
pub struct Daemon {
    child: Option<std::process::Child>,
    /// The daemon's pid when it is not our child (daemonized).
    pub pid: i32,
    sock: PathBuf,
}

impl Daemon {
    /// An already daemonized process (not our child), killed on drop.
    pub fn adopt(pid: i32, sock: PathBuf) -> Self {
        Daemon {
            child: None,
            pid,
            sock,
        }
    }

    pub fn pid(&self) -> i32 {
        match &self.child {
            Some(c) => i32::try_from(c.id()).unwrap_or(-1),
            None => self.pid,
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig);
    }

    /// Waits for the daemon to exit; returns its exit code.
    #[track_caller]
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        if let Some(child) = self.child.as_mut() {
            let status = wait_until(deadline, "the daemon to exit", || {
                child.try_wait().ok().flatten()
            });
            self.child = None;
            return status.code();
        }
        let pid = self.pid;
        wait_until(deadline, "the daemon to exit", || {
            (!alive(pid)).then_some(())
        });
        self.pid = 0;
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.pid();
        if pid > 0 {
            // Freeze the daemon first: a daemon that is restarting a program could otherwise spawn a
            // child after the snapshot below, and that child would outlive the test.
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGSTOP);
            let mut all = descendants(pid);
            all.push(pid);
            for p in &all {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*p),
                    nix::sys::signal::SIGKILL,
                );
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.sock);
    }
}

/// Whether a pid exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// `(ppid, pgid)` of a pid from `/proc/<pid>/stat`.
pub fn stat_ids(pid: i32) -> Option<(i32, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(") ")?;
    let mut it = rest.split_whitespace();
    let _state = it.next()?;
    let ppid = it.next()?.parse().ok()?;
    let pgid = it.next()?.parse().ok()?;
    Some((ppid, pgid))
}

/// Every live descendant of `root` (by parent links in /proc).
pub fn descendants(root: i32) -> Vec<i32> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                && let Some((ppid, _)) = stat_ids(pid)
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found: HashSet<i32> = HashSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid) in &parents {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found.into_iter().collect()
}

/// A field of `/proc/<pid>/status` (e.g. `Uid`, `SigIgn`), value trimmed.
pub fn proc_status(pid: i32, field: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

/// Parses a main log: `YYYY-MM-DD HH:MM:SS,mmm LEVL message`, continuation lines appended with `\n`.
pub fn read_main_log(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_main_log(&text)
}

/// Like [`read_main_log`] with the time of day of each line in seconds.
pub fn read_main_log_timed(path: &Path) -> Vec<(f64, String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out: Vec<(f64, String, String)> = Vec::new();
    for line in text.lines() {
        match stamp(line) {
            Some(t) => out.push((
                t,
                line[24..28].to_owned(),
                line.get(29..).unwrap_or("").to_owned(),
            )),
            None => {
                if let Some(last) = out.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(line);
                }
            }
        }
    }
    out
}

/// Seconds since midnight of a stamped main-log line.
fn stamp(line: &str) -> Option<f64> {
    let b = line.as_bytes();
    if !(b.len() > 29 && b[4] == b'-' && b[10] == b' ' && b[19] == b',' && b[23] == b' ') {
        return None;
    }
    let h: f64 = line.get(11..13)?.parse().ok()?;
    let m: f64 = line.get(14..16)?.parse().ok()?;
    let s: f64 = line.get(17..19)?.parse().ok()?;
    let ms: f64 = line.get(20..23)?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s + ms / 1000.0)
}

pub fn parse_main_log(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let b = line.as_bytes();
        let stamped =
            b.len() > 29 && b[4] == b'-' && b[10] == b' ' && b[19] == b',' && b[23] == b' ';
        if stamped {
            let level = line[24..28].to_owned();
            let msg = line.get(29..).unwrap_or("").to_owned();
            out.push((level, msg));
        } else if let Some(last) = out.last_mut() {
            last.1.push('\n');
            last.1.push_str(line);
        }
    }
    out
}

/// One XML-RPC call over a unix socket with a minimal HTTP/1.1 client.
pub fn rpc(sock: &Path, method: &str, params: Vec<Value>) -> std::io::Result<Result<Value, Fault>> {
    let body = encode_call(&MethodCall::new(method, params));
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(&body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let header = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let mut payload = resp[split + 4..].to_vec();
    if header.contains("transfer-encoding: chunked") {
        payload = dechunk(&payload);
    }
    decode_response(&payload).map_err(|e| std::io::Error::other(format!("decode: {e}")))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or(&[]);
    }
    out
}

/// Sum of voluntary and involuntary context switches of every thread of `pid` (how often it woke up).
pub fn ctx_switches(pid: i32) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in rd.flatten() {
            let text = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for l in text.lines() {
                if let Some(v) = l
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    total += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    total
}
