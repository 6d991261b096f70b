//! The engine tests' fixture on top of `procd-testkit`: a temp dir with the standard config shape
//! (unix socket, main log at debug level, pidfile, child logs), a daemon guard that kills the daemon and
//! every descendant on drop, and readers for the main log and process info.
//!
//! The same fixture runs procd or the reference supervisord 4.3.0 (for differential tests).

#![allow(
    dead_code,
    unused_imports,
    reason = "compiled into several test binaries, each using a part"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use procd_protocol::{Fault, Value};
pub(crate) use procd_testkit::bins::{reference, supervisord};
pub(crate) use procd_testkit::mainlog::{parse_main_log, read_main_log, read_main_log_timed};
pub(crate) use procd_testkit::port::{self, Port};
pub(crate) use procd_testkit::procs::{
    alive, ctx_switches, descendants, proc_status, stat_ids, tcp_listen_ports,
};
pub(crate) use procd_testkit::rpc::rpc;
pub(crate) use procd_testkit::wait_until;
use procd_testkit::{DaemonProcess, Teardown};

/// The procd binary under test.
pub(crate) const PROCD: &str = env!("CARGO_BIN_EXE_procd");

/// A temp dir holding a config file, the socket, the main log, the pidfile and child logs.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("pe")
            .tempdir_in("/tmp")
            .expect("tempdir");
        Fixture { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn sock(&self) -> PathBuf {
        self.path("s.sock")
    }

    pub(crate) fn main_log(&self) -> PathBuf {
        self.path("main.log")
    }

    pub(crate) fn pidfile(&self) -> PathBuf {
        self.path("d.pid")
    }

    /// Writes `supervisord.conf` with the standard sections plus `supervisord_extra` lines in
    /// `[supervisord]` and the `rest` sections; `%(here)s`-free absolute paths.
    pub(crate) fn write_conf(&self, supervisord_extra: &str, rest: &str) -> PathBuf {
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
    pub(crate) fn start(&self) -> Daemon {
        self.start_with(Path::new(PROCD), &["-n"])
    }

    /// Starts `bin -c <conf> <args>` (procd or supervisord) and waits until it answers.
    pub(crate) fn start_with(&self, bin: &Path, args: &[&str]) -> Daemon {
        let d = self.spawn_daemon(bin, args, None);
        let _ = wait_until(Duration::from_secs(10), "the daemon's socket", || {
            rpc(&self.sock(), "supervisor.getPID", vec![]).ok()
        });
        d
    }

    /// Starts the daemon without waiting; `wrapper` runs it under another program (e.g. `unshare`).
    pub(crate) fn spawn_daemon(
        &self,
        bin: &Path,
        args: &[&str],
        wrapper: Option<&[&str]>,
    ) -> Daemon {
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
            process: DaemonProcess::new(child, Teardown::Kill),
            _sock: RemoveOnDrop(self.sock()),
        }
    }

    pub(crate) fn rpc(&self, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        rpc(&self.sock(), method, params).expect("rpc transport")
    }

    /// A parameterless call, `None` while the daemon does not answer.
    pub(crate) fn rpc_opt(&self, method: &str) -> Option<Value> {
        rpc(&self.sock(), method, vec![]).ok().and_then(Result::ok)
    }

    /// The main log as `(level, message)` pairs, timestamps dropped, continuation lines joined.
    pub(crate) fn log(&self) -> Vec<(String, String)> {
        read_main_log(&self.main_log())
    }

    /// Waits until a main-log message satisfies `pred`; returns it.
    #[track_caller]
    pub(crate) fn wait_log(
        &self,
        deadline: Duration,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        wait_until(deadline, what, || {
            self.log().into_iter().map(|(_, m)| m).find(|m| pred(m))
        })
    }

    /// `getProcessInfo(name)` as a struct value.
    pub(crate) fn info(&self, name: &str) -> Value {
        self.rpc(
            "supervisor.getProcessInfo",
            vec![Value::String(name.into())],
        )
        .expect("getProcessInfo")
    }

    pub(crate) fn state(&self, name: &str) -> String {
        str_field(&self.info(name), "statename")
    }

    pub(crate) fn pid_of(&self, name: &str) -> i32 {
        int_field(&self.info(name), "pid")
    }

    /// Waits until `name` is in `state`; returns its info.
    #[track_caller]
    pub(crate) fn wait_state(&self, name: &str, state: &str, deadline: Duration) -> Value {
        wait_until(deadline, &format!("{name} in {state}"), || {
            let info = self.info(name);
            (str_field(&info, "statename") == state).then_some(info)
        })
    }
}

pub(crate) fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn int_field(v: &Value, key: &str) -> i32 {
    v.get(key).and_then(Value::as_int).unwrap_or(-1)
}

/// A running daemon; dropping it kills the daemon and every descendant (children, grandchildren).
pub(crate) struct Daemon {
    // Dropped in this order: the daemon is dead before its socket file goes.
    process: DaemonProcess,
    _sock: RemoveOnDrop,
}

impl Daemon {
    /// An already daemonized process (not our child), killed on drop.
    pub(crate) fn adopt(pid: i32, sock: PathBuf) -> Self {
        Daemon {
            process: DaemonProcess::adopt(pid, Teardown::Kill),
            _sock: RemoveOnDrop(sock),
        }
    }

    pub(crate) fn pid(&self) -> i32 {
        self.process.pid()
    }

    pub(crate) fn signal(&self, sig: nix::sys::signal::Signal) {
        self.process.signal(sig);
    }

    /// Waits until the daemon itself listens on TCP `port` (read back from the kernel's socket
    /// tables), so a test never talks to another process that happens to hold the port.
    #[track_caller]
    pub(crate) fn wait_listening(&self, port: u16, deadline: Duration) {
        let pid = self.pid();
        wait_until(
            deadline,
            &format!("the daemon listening on port {port}"),
            || tcp_listen_ports(pid).contains(&port),
        );
    }

    /// Waits for the daemon to exit; returns its exit code (`None` for an adopted daemon).
    #[track_caller]
    pub(crate) fn wait_exit(&mut self, deadline: Duration) -> Option<i32> {
        self.process.wait_exit(deadline).and_then(|s| s.code())
    }
}

/// Removes a path when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
