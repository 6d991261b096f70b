//! The end-to-end fixture: a config builder that reads like the spec, and a daemon guard that runs
//! either procd or the reference supervisord 4.3.0 on that config in its own temp dir (stopping it and
//! its children on drop), with XML-RPC calls and runners for the real `supervisorctl` and Python.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use procd_protocol::{Fault, Value};

use crate::bins;
use crate::daemon::{DaemonProcess, Teardown};
use crate::mask::mask;
use crate::port::{self, Port};
use crate::procs::tcp_listen_ports;
use crate::rpc::{Endpoint, xmlrpc};
use crate::wait::wait_until;

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

/// A helper script in `tests/py`.
pub fn py_script(name: &str) -> PathBuf {
    bins::workspace_root().join("tests/py").join(name)
}

/// A running daemon (procd or supervisord) on a fixture, in its own temp dir. Dropping it stops the
/// daemon and kills any child it left behind.
pub struct Daemon {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    /// The `[inet_http_server]` port (0 without one).
    pub port: u16,
    _port: Option<Port>,
    fixture: Fixture,
    process: Option<DaemonProcess>,
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
        let reserved = fixture.inet.is_some().then(port::reserve);
        let port = reserved.as_ref().map_or(0, Port::get);
        let conf = dir.path().join("supervisord.conf");
        let mut d = Daemon {
            kind,
            dir,
            conf,
            port,
            _port: reserved,
            fixture: fixture.clone(),
            process: None,
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
            Kind::Procd => bins::procd_bin(),
            Kind::Supervisord => bins::supervisord(),
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
        d.process = Some(DaemonProcess::new(
            child,
            Teardown::Graceful(Duration::from_secs(10)),
        ));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            // Over TCP, talk to the daemon only once the kernel says that it is the one listening.
            let listening = d.port == 0
                || d.pid()
                    .is_some_and(|pid| tcp_listen_ports(pid).contains(&d.port));
            if listening
                && let Ok(Ok(v)) = d.call("supervisor.getState", vec![])
                && v.get("statecode").and_then(Value::as_int) == Some(1)
            {
                break;
            }
            if let Some(status) = d.process.as_mut().and_then(DaemonProcess::try_wait) {
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
        let process = self.process.as_mut().expect("daemon process");
        process.wait_exit(timeout).expect("the daemon is our child")
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

    /// The daemon's own pid, while it runs.
    pub fn pid(&self) -> Option<i32> {
        self.process
            .as_ref()
            .map(DaemonProcess::pid)
            .filter(|&p| p > 0)
    }
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
    let mut cmd = Command::new(bins::supervisorctl());
    cmd.arg("-c").arg(conf).args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Runs a Python script (from tests/py, or a path) with args under the reference interpreter.
pub fn python(script: &Path, args: &[&str]) -> CtlOutput {
    let mut cmd = Command::new(bins::reference_python());
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
