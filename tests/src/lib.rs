//! End-to-end test harness for procd: a config fixture builder that reads like the spec, a daemon guard
//! that runs either procd or the reference supervisord 4.3.0 on that config in its own temp dir (and kills
//! it and its children on drop), a tiny blocking XML-RPC/HTTP client, runners for the real `supervisorctl`
//! and Python scripts, and output masking for differential comparisons.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use procd_protocol::{Fault, MethodCall, Value};

pub mod fuzz;
pub mod mask;
pub use mask::mask;

/// Which daemon a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Procd,
    Supervisord,
}

impl Kind {
    pub const BOTH: [Kind; 2] = [Kind::Procd, Kind::Supervisord];
}

/// A supervisord.conf under construction. `{dir}` in any program body is replaced by the daemon's
/// temp dir, so fixtures can point at scripts written there.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    sections: Vec<(String, String)>,
    unix: Option<Option<String>>,
    unix_auth: Option<(String, String)>,
    inet: Option<Option<(String, String)>>,
    supervisord_extra: String,
    /// Extra lines for both server sections (`health_auth=false`, ...).
    server_extra: String,
    files: Vec<(String, String, u32)>,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture::default()
    }

    /// `[program:NAME]` with the given body lines.
    pub fn program(self, name: &str, body: &str) -> Self {
        self.section(&format!("program:{name}"), body)
    }

    /// `[group:NAME]` with `programs=...` and optional extra lines.
    pub fn group(self, name: &str, programs: &str, extra: &str) -> Self {
        self.section(
            &format!("group:{name}"),
            &format!("programs={programs}\n{extra}"),
        )
    }

    /// Any raw section.
    pub fn section(mut self, header: &str, body: &str) -> Self {
        self.sections.push((header.to_owned(), body.to_owned()));
        self
    }

    /// Removes a section added earlier (for reread/update scenarios).
    pub fn without(mut self, header: &str) -> Self {
        self.sections.retain(|(h, _)| h != header);
        self
    }

    /// Extra `[supervisord]` lines.
    pub fn supervisord(mut self, lines: &str) -> Self {
        self.supervisord_extra.push_str(lines);
        self.supervisord_extra.push('\n');
        self
    }

    /// `[unix_http_server]` with the default mode.
    pub fn unix_server(mut self) -> Self {
        self.unix = Some(None);
        self
    }

    /// `[unix_http_server]` with `chmod=MODE`.
    pub fn unix_server_chmod(mut self, mode: &str) -> Self {
        self.unix = Some(Some(mode.to_owned()));
        self
    }

    /// `[unix_http_server]` with basic auth.
    pub fn unix_server_with_auth(mut self, user: &str, pass: &str) -> Self {
        self.unix = Some(None);
        self.unix_auth = Some((user.to_owned(), pass.to_owned()));
        self
    }

    /// `[inet_http_server]` on a free localhost port, without auth.
    pub fn inet_server(mut self) -> Self {
        self.inet = Some(None);
        self
    }

    /// `[inet_http_server]` on a free localhost port with `username`/`password`.
    pub fn inet_server_with_auth(mut self, user: &str, pass: &str) -> Self {
        self.inet = Some(Some((user.to_owned(), pass.to_owned())));
        self
    }

    /// Extra lines in `[unix_http_server]` and `[inet_http_server]`.
    pub fn server_lines(mut self, lines: &str) -> Self {
        self.server_extra.push_str(lines);
        self.server_extra.push('\n');
        self
    }

    /// A file written into the daemon's dir before start (`{dir}` expanded), with a mode.
    pub fn file(mut self, name: &str, contents: &str, mode: u32) -> Self {
        self.files
            .push((name.to_owned(), contents.to_owned(), mode));
        self
    }

    /// The config text for a daemon living in `dir` with TCP `port`.
    pub fn render(&self, dir: &Path, port: u16) -> String {
        let d = dir.display();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "[supervisord]\nnodaemon=true\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
             childlogdir={d}\nidentifier=testsup\n{}",
            self.supervisord_extra
        );
        if let Some(chmod) = &self.unix {
            let _ = writeln!(s, "[unix_http_server]\nfile={d}/supervisor.sock");
            if let Some(mode) = chmod {
                let _ = writeln!(s, "chmod={mode}");
            }
            if let Some((u, p)) = &self.unix_auth {
                let _ = writeln!(s, "username={u}\npassword={p}");
            }
            s.push_str(&self.server_extra);
            s.push('\n');
        }
        if let Some(auth) = &self.inet {
            let _ = writeln!(s, "[inet_http_server]\nport=127.0.0.1:{port}");
            if let Some((u, p)) = auth {
                let _ = writeln!(s, "username={u}\npassword={p}");
            }
            s.push_str(&self.server_extra);
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        );
        let url = if self.unix.is_some() {
            format!("unix://{d}/supervisor.sock")
        } else {
            format!("http://127.0.0.1:{port}")
        };
        let _ = writeln!(s, "[supervisorctl]\nserverurl={url}");
        let auth = if self.unix.is_some() {
            self.unix_auth.as_ref()
        } else {
            self.inet.as_ref().and_then(Option::as_ref)
        };
        if let Some((u, p)) = auth {
            let _ = writeln!(s, "username={u}\npassword={p}");
        }
        s.push('\n');
        for (header, body) in &self.sections {
            let _ = writeln!(s, "[{header}]\n{}\n", body.replace("{dir}", &d.to_string()));
        }
        s
    }
}

/// Where things are: binaries, Python.
pub mod env {
    use std::path::PathBuf;

    /// The workspace root (parent of this package's dir).
    pub fn workspace_root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
    }

    /// The procd binary: `$PROCD_BIN`, else target/debug/procd (built with `cargo build -p procd`
    /// if missing).
    pub fn procd_bin() -> PathBuf {
        if let Ok(p) = std::env::var("PROCD_BIN") {
            return PathBuf::from(p);
        }
        let target = std::env::var("CARGO_TARGET_DIR")
            .map_or_else(|_| workspace_root().join("target"), PathBuf::from);
        let bin = target.join("debug").join("procd");
        if !bin.exists() {
            let status = std::process::Command::new(
                std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            )
            .args(["build", "-p", "procd"])
            .current_dir(workspace_root())
            .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "could not build procd (cargo build -p procd): {status:?}"
            );
        }
        bin
    }

    /// The Python interpreter that has supervisor 4.3.0 installed.
    pub fn python() -> PathBuf {
        let p = std::env::var("PROCD_TEST_PYTHON")
            .map_or_else(|_| workspace_root().join(".venv/bin/python"), PathBuf::from);
        assert!(
            p.exists(),
            "Python with supervisor 4.3.0 not found at {} (set PROCD_TEST_PYTHON, or run tests/run-all.sh which installs it)",
            p.display()
        );
        p
    }

    /// The directory holding `supervisord` and `supervisorctl` 4.3.0.
    pub fn python_bin_dir() -> PathBuf {
        let d = std::env::var("PROCD_TEST_PYTHON_BIN_DIR")
            .map_or_else(|_| workspace_root().join(".venv/bin"), PathBuf::from);
        assert!(
            d.join("supervisorctl").exists() && d.join("supervisord").exists(),
            "supervisord/supervisorctl 4.3.0 not found in {} (set PROCD_TEST_PYTHON_BIN_DIR, or run tests/run-all.sh)",
            d.display()
        );
        d
    }

    /// A helper script in tests/py.
    pub fn py_script(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("py")
            .join(name)
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Polls `cond` every 20 ms until it is true or `timeout` passes (then panics at the caller).
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP reply read by [`http_request`].
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

/// Where a daemon listens.
#[derive(Debug, Clone)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(u16),
}

/// Sends one raw HTTP/1.0 request (`Connection: close`) and reads the whole reply. `None` on I/O error.
pub fn http_request(ep: &Endpoint, request: &[u8], timeout: Duration) -> Option<HttpReply> {
    fn go<S: Read + Write>(mut s: S, request: &[u8]) -> Option<Vec<u8>> {
        s.write_all(request).ok()?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        Some(out)
    }
    let raw = match ep {
        Endpoint::Unix(p) => {
            let s = UnixStream::connect(p).ok()?;
            s.set_read_timeout(Some(timeout)).ok()?;
            s.set_write_timeout(Some(timeout)).ok()?;
            go(s, request)?
        }
        Endpoint::Tcp(port) => {
            let s = TcpStream::connect(("127.0.0.1", *port)).ok()?;
            s.set_read_timeout(Some(timeout)).ok()?;
            s.set_write_timeout(Some(timeout)).ok()?;
            go(s, request)?
        }
    };
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(HttpReply {
        status,
        headers: head,
        body: raw[split + 4..].to_vec(),
    })
}

/// Builds an HTTP request with an optional basic-auth header.
pub fn build_request(method: &str, path: &str, auth: Option<(&str, &str)>, body: &[u8]) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some((u, p)) = auth {
        let _ = write!(
            req,
            "Authorization: Basic {}\r\n",
            base64(&format!("{u}:{p}"))
        );
    }
    if method == "POST" {
        let _ = write!(
            req,
            "Content-Type: text/xml\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Standard base64 (for basic auth headers).
pub fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (u32::from(c) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One XML-RPC call over `ep`. `Err(status)` when the HTTP status is not 200 or the reply is unreadable
/// (status 0).
pub fn xmlrpc(
    ep: &Endpoint,
    auth: Option<(&str, &str)>,
    method: &str,
    params: Vec<Value>,
) -> Result<Result<Value, Fault>, u16> {
    let body = procd_protocol::encode_call(&MethodCall {
        method: method.to_owned(),
        params,
    });
    let req = build_request("POST", "/RPC2", auth, &body);
    let reply = http_request(ep, &req, Duration::from_secs(30)).ok_or(0u16)?;
    if reply.status != 200 {
        return Err(reply.status);
    }
    procd_protocol::decode_response(&reply.body).map_err(|_| 0u16)
}

/// A running daemon (procd or supervisord) on a fixture, in its own temp dir. Dropping it stops the
/// daemon and kills any child it left behind.
pub struct Daemon {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub port: u16,
    fixture: Fixture,
    child: Option<Child>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Daemon({:?}, {})", self.kind, self.dir.path().display())
    }
}

impl Daemon {
    /// Starts the daemon and waits (up to 15 s) until `getState` answers RUNNING.
    #[track_caller]
    pub fn start(kind: Kind, fixture: &Fixture) -> Daemon {
        Self::start_with_env(kind, fixture, &[])
    }

    /// [`Daemon::start`] with extra environment variables for the daemon.
    #[track_caller]
    pub fn start_with_env(kind: Kind, fixture: &Fixture, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("procd-test-")
            .tempdir()
            .expect("tempdir");
        let port = free_port();
        let conf = dir.path().join("supervisord.conf");
        let mut d = Daemon {
            kind,
            dir,
            conf,
            port,
            fixture: fixture.clone(),
            child: None,
        };
        d.write_config(fixture);
        for (name, contents, mode) in &fixture.files {
            let p = d.dir.path().join(name);
            std::fs::write(
                &p,
                contents.replace("{dir}", &d.dir.path().display().to_string()),
            )
            .expect("write fixture file");
            let mut perm = std::fs::metadata(&p).expect("stat").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, *mode);
            std::fs::set_permissions(&p, perm).expect("chmod fixture file");
        }
        let bin = match kind {
            Kind::Procd => env::procd_bin(),
            Kind::Supervisord => env::python_bin_dir().join("supervisord"),
        };
        let out =
            std::fs::File::create(d.dir.path().join("daemon.out")).expect("create daemon.out");
        let err = out.try_clone().expect("dup");
        let child = Command::new(&bin)
            .arg("-n")
            .arg("-c")
            .arg(&d.conf)
            .current_dir(d.dir.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        d.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Ok(v)) = d.call("supervisor.getState", vec![])
                && v.get("statecode").and_then(Value::as_int) == Some(1)
            {
                break;
            }
            if let Some(Ok(Some(status))) = d.child.as_mut().map(Child::try_wait) {
                panic!("{kind:?} exited early ({status}); output:\n{}", d.output());
            }
            assert!(
                Instant::now() < deadline,
                "{kind:?} did not answer getState in time; output:\n{}",
                d.output()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        d
    }

    /// Rewrites the config file (for reread/update/reload).
    pub fn write_config(&mut self, fixture: &Fixture) {
        std::fs::write(&self.conf, fixture.render(self.dir.path(), self.port))
            .expect("write config");
        self.fixture = fixture.clone();
    }

    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    /// The daemon's temp dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("supervisor.sock")
    }

    /// The endpoint clients use by default: the unix socket if configured, else TCP.
    pub fn endpoint(&self) -> Endpoint {
        if self.fixture.unix.is_some() {
            Endpoint::Unix(self.socket())
        } else {
            Endpoint::Tcp(self.port)
        }
    }

    fn default_auth(&self) -> Option<(&str, &str)> {
        let a = if self.fixture.unix.is_some() {
            self.fixture.unix_auth.as_ref()
        } else {
            self.fixture.inet.as_ref().and_then(Option::as_ref)
        };
        a.map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// An XML-RPC call on the default endpoint with the configured credentials.
    pub fn call(&self, method: &str, params: Vec<Value>) -> Result<Result<Value, Fault>, u16> {
        xmlrpc(&self.endpoint(), self.default_auth(), method, params)
    }

    /// A call that must succeed.
    #[track_caller]
    pub fn ok(&self, method: &str, params: Vec<Value>) -> Value {
        match self.call(method, params) {
            Ok(Ok(v)) => v,
            other => panic!("{:?}: {method} failed: {other:?}", self.kind),
        }
    }

    /// State name of a process.
    pub fn state_of(&self, namespec: &str) -> String {
        match self.call("supervisor.getProcessInfo", vec![Value::from(namespec)]) {
            Ok(Ok(v)) => v
                .get("statename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            other => format!("{other:?}"),
        }
    }

    /// Waits until every named process is in `state`.
    #[track_caller]
    pub fn wait_state(&self, names: &[&str], state: &str) {
        wait_until(
            Duration::from_secs(20),
            &format!("{names:?} to be {state} on {:?}", self.kind),
            || names.iter().all(|n| self.state_of(n) == state),
        );
    }

    /// Stdout+stderr the daemon wrote so far (plus its main log).
    pub fn output(&self) -> String {
        let out = std::fs::read_to_string(self.dir.path().join("daemon.out")).unwrap_or_default();
        let log =
            std::fs::read_to_string(self.dir.path().join("supervisord.log")).unwrap_or_default();
        format!("--- stdout/stderr ---\n{out}\n--- main log ---\n{log}")
    }

    /// Runs the real supervisorctl against this daemon's config with extra args.
    pub fn ctl(&self, args: &[&str]) -> CtlOutput {
        run_supervisorctl(&self.conf, args)
    }

    /// Same, masked for comparison with the other daemon.
    pub fn ctl_masked(&self, args: &[&str]) -> CtlOutput {
        let o = self.ctl(args);
        CtlOutput {
            stdout: mask(&o.stdout, self.path()),
            stderr: mask(&o.stderr, self.path()),
            code: o.code,
        }
    }

    /// Waits for the daemon process to exit by itself (after `shutdown`).
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("daemon child");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit in {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Pids of the daemon's running children, as reported by getAllProcessInfo.
    pub fn child_pids(&self) -> Vec<i32> {
        match self.call("supervisor.getAllProcessInfo", vec![]) {
            Ok(Ok(Value::Array(items))) => items
                .iter()
                .filter_map(|i| i.get("pid").and_then(Value::as_int))
                .filter(|&p| p > 0)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The daemon's own pid.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let mut pids = self.child_pids();
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut exited = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !exited && let Ok(pid) = i32::try_from(child.id()) {
            // Still shutting down (a daemon in SHUTDOWN answers getAllProcessInfo with a fault, so
            // `pids` may be empty): freeze it so it cannot start another child, then take its
            // children from /proc before killing it; they would otherwise outlive the test.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGSTOP,
            );
            pids.extend(direct_children(pid));
        }
        let _ = child.kill();
        let _ = child.wait();
        for p in pids {
            // The children run in their own process groups; kill the group if it is still there.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The children of every thread of `pid` (`/proc/<pid>/task/<tid>/children`).
fn direct_children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// What a command printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlOutput {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

fn to_ctl(o: &Output) -> CtlOutput {
    CtlOutput {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    }
}

/// Runs the real supervisorctl 4.3.0 with `-c CONF ARGS...` (60 s limit).
pub fn run_supervisorctl(conf: &Path, args: &[&str]) -> CtlOutput {
    let mut cmd = Command::new(env::python_bin_dir().join("supervisorctl"));
    cmd.arg("-c").arg(conf).args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Runs a Python script (from tests/py, or a path) with args under the reference interpreter.
pub fn python(script: &Path, args: &[&str]) -> CtlOutput {
    let mut cmd = Command::new(env::python());
    cmd.arg(script).args(args);
    run_with_timeout(cmd, Duration::from_secs(120))
}

/// Runs a command with stdin closed, killing it if it runs past `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> CtlOutput {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(o)) => to_ctl(&o),
        Ok(Err(e)) => panic!("{cmd:?}: {e}"),
        Err(_) => {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
    }
}
