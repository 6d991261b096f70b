//! Test fixture: a temp dir with a supervisord config, a daemon running it (the real supervisord 4.3.0 or
//! procd, killed on drop), and helpers to run the real supervisorctl and procctl against it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Directory holding the reference `supervisord` / `supervisorctl`.
pub fn python_bin_dir() -> PathBuf {
    let dir = std::env::var_os("PROCD_TEST_PYTHON_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.venv/bin")));
    for tool in ["supervisord", "supervisorctl"] {
        assert!(
            dir.join(tool).is_file(),
            "reference {tool} not found in {} (set PROCD_TEST_PYTHON_BIN_DIR to the bin dir of a Python venv \
             with supervisor 4.3.0 installed)",
            dir.display()
        );
    }
    dir
}

/// The daemon a test runs against: both must answer every client the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Supervisord,
    Procd,
}

impl Server {
    pub fn binary(self) -> PathBuf {
        match self {
            Server::Supervisord => python_bin_dir().join("supervisord"),
            Server::Procd => procd_bin(),
        }
    }
}

/// procd's daemon: `$PROCD_BIN`, else `<workspace>/target/debug/procd`, built with cargo when missing.
pub fn procd_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PROCD_BIN") {
            return PathBuf::from(bin);
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        // Next to procctl's own binary (same target dir, also when CARGO_TARGET_DIR is set).
        let bin = procctl_bin().with_file_name("procd");
        if !bin.is_file() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "procd", "--bin", "procd"])
                .current_dir(&workspace)
                .status()
                .expect("run cargo build -p procd");
            assert!(status.success(), "cargo build -p procd failed");
        }
        assert!(bin.is_file(), "procd binary not found at {}", bin.display());
        bin
    })
    .clone()
}

pub fn procctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_procctl"))
}

pub const PROGRAMS: &str = r#"
[program:good]
command=/bin/sh -c 'echo hello; echo oops >&2; exec sleep 1000'
startsecs=1

[program:manual]
command=/bin/sleep 1000
autostart=false

[program:quick]
command=/bin/sh -c 'exit 3'
startsecs=1
startretries=0

[program:ticker]
command=/bin/sh -c 'while :; do echo tick; sleep 0.05; done'
startsecs=0

[group:grp]
programs=a,b

[program:a]
command=/bin/sleep 1000
startsecs=0

[program:b]
command=/bin/cat
startsecs=0
"#;

/// Declares each listed `fn name(server: Server)` as two tests, `supervisord::name` and `procd::name`.
/// Attributes before a name (e.g. `#[ignore = "procd bug: ..."]`) apply to the procd test only.
macro_rules! against_both {
    ($($(#[$procd_attr:meta])* $name:ident),* $(,)?) => {
        mod supervisord {
            $(
                #[test]
                fn $name() {
                    super::$name(crate::fixture::Server::Supervisord)
                }
            )*
        }
        mod procd {
            $(
                #[test]
                $(#[$procd_attr])*
                fn $name() {
                    super::$name(crate::fixture::Server::Procd)
                }
            )*
        }
    };
}

/// A running daemon and its files.
pub struct Daemon {
    _dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub url: String,
    child: Option<Child>,
}

impl Daemon {
    /// Starts `server` on a unix socket with `programs` (config sections, `extra` going into the
    /// `[supervisorctl]` section) and waits until it answers.
    pub fn start_on(server: Server, programs: &str, extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("s.sock");
        let conf = dir.path().join("supervisord.conf");
        let text = format!(
            "[unix_http_server]\nfile={sock}\n\n[supervisord]\nlogfile={d}/main.log\npidfile={d}/sd.pid\n\
             childlogdir={d}\n\n[rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{sock}\n{extra}\n{programs}",
            sock = sock.display(),
            d = dir.path().display(),
        );
        std::fs::write(&conf, text).expect("write config");
        let child = Command::new(server.binary())
            .args(["-n", "-c"])
            .arg(&conf)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {server:?}: {e}"));
        let url = format!("unix://{}", sock.display());
        let daemon = Daemon {
            _dir: dir,
            conf,
            url,
            child: Some(child),
        };
        // `pid` names the daemon that answers: it must be the one just started.
        let pid = daemon.pid().map(|p| p.to_string());
        daemon.wait_for("the daemon to answer", |d| {
            let out = d.ctl(&["pid"]);
            out.status.success()
                && pid.as_deref() == Some(String::from_utf8_lossy(&out.stdout).trim())
        });
        daemon
    }

    /// Runs procctl with this config.
    pub fn ctl(&self, args: &[&str]) -> Output {
        run(&procctl_bin(), &self.conf, args, None)
    }

    /// Polls `cond` every 50 ms for up to 30 s.
    #[track_caller]
    pub fn wait_for(&self, what: &str, cond: impl Fn(&Daemon) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    }

    /// Waits until `procctl status` shows every `name STATE` pair.
    #[track_caller]
    pub fn wait_states(&self, pairs: &[(&str, &str)]) {
        self.wait_for(&format!("states {pairs:?}"), |d| {
            let out = String::from_utf8_lossy(&d.ctl(&["status"]).stdout).into_owned();
            pairs.iter().all(|(name, state)| {
                out.lines().any(|l| {
                    let mut w = l.split_whitespace();
                    w.next() == Some(*name) && w.next() == Some(*state)
                })
            })
        });
    }

    /// [`PROGRAMS`] on `server`, once every autostarted program has settled (quick FATAL, the others
    /// RUNNING).
    pub fn settled(server: Server) -> Daemon {
        let d = Daemon::start_on(server, PROGRAMS, "");
        d.wait_states(&[
            ("good", "RUNNING"),
            ("quick", "FATAL"),
            ("grp:a", "RUNNING"),
            ("grp:b", "RUNNING"),
            ("ticker", "RUNNING"),
        ]);
        d
    }

    /// [`PROGRAMS`] on `server` with an inet server on `127.0.0.1:<port>` requiring `user`/`secret`;
    /// returns the daemon and the server URL once that server answers.
    pub fn with_auth(server: Server) -> (Daemon, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let d = Daemon::start_on(
            server,
            &format!(
                "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=secret\n\n{PROGRAMS}"
            ),
            "",
        );
        let url = format!("http://127.0.0.1:{port}");
        d.wait_for("the inet server", |_| {
            run(
                &procctl_bin(),
                Path::new(""),
                &["-s", &url, "-u", "user", "-p", "secret", "version"],
                None,
            )
            .status
            .success()
        });
        (d, url)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // A daemon that hangs in shutdown: kill it and the programs it still runs.
        let programs = child_pids(child.id());
        let _ = child.kill();
        let _ = child.wait();
        for pid in programs {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The direct children of `pid` (Linux `/proc/<pid>/task/*/children`).
fn child_pids(pid: u32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// Runs a client binary with `-c conf` (if given) and optional stdin text.
pub fn run(bin: &Path, conf: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    if !conf.as_os_str().is_empty() {
        cmd.arg("-c").arg(conf);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn client");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("client output");
    let _ = writer.join();
    out
}

/// Replaces run-dependent parts of client output: pids, uptimes, stop times, the program name in usage
/// lines, and the source location of `error:` lines.
pub fn mask(text: &str, bin: &Path) -> String {
    let bin = bin.display().to_string();
    text.lines()
        .map(|line| {
            let mut l = line.replace(&bin, "<prog>");
            if let Some(pos) = l.find(": file: ")
                && l.contains("error: <class ")
            {
                l.truncate(pos);
                l.push_str(": file: <f> line: <n>");
            }
            mask_help(&mask_tokens(&l))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Help texts are procctl's own words; only the command syntax before the tabs must match.
fn mask_help(line: &str) -> String {
    if line.starts_with("Note: ") {
        return "Note: <desc>".to_string();
    }
    match line.rfind('\t') {
        Some(p) => format!("{}<desc>", &line[..=p]),
        None => line.to_string(),
    }
}

fn mask_tokens(line: &str) -> String {
    // "pid 123, uptime 0:00:01" -> "pid <pid>, uptime <up>"; a bare number line -> "<n>";
    // "Nov 26 10:29 AM" -> "<time>".
    if !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) {
        return "<n>".to_string();
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(p) = rest.find("pid ") {
        out.push_str(&rest[..p]);
        let after = &rest[p + 4..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            out.push_str("pid ");
            rest = after;
            continue;
        }
        out.push_str("pid <pid>");
        rest = &after[digits..];
        if let Some(r) = rest.strip_prefix(", uptime ") {
            let n = r
                .chars()
                .take_while(|c| {
                    c.is_ascii_digit()
                        || *c == ':'
                        || *c == ','
                        || *c == ' '
                        || c.is_ascii_alphabetic()
                })
                .count();
            out.push_str(", uptime <up>");
            rest = &r[n..];
        }
    }
    out.push_str(rest);
    mask_stop_time(&out)
}

fn mask_stop_time(line: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for m in MONTHS {
        if let Some(p) = line.find(&format!("{m} ")) {
            let tail = &line[p..];
            if tail.len() >= 15 && (tail.ends_with("AM") || tail.ends_with("PM")) {
                return format!("{}<time>", &line[..p]);
            }
        }
    }
    line.to_string()
}

/// One client run, masked.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

pub fn outcome(bin: &Path, conf: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let out = run(bin, conf, args, stdin);
    Outcome {
        stdout: mask(&String::from_utf8_lossy(&out.stdout), bin),
        stderr: mask(&String::from_utf8_lossy(&out.stderr), bin),
        code: out.status.code(),
    }
}

/// Runs the same command with supervisorctl then procctl and asserts identical masked results.
#[track_caller]
pub fn same(conf: &Path, args: &[&str]) -> Outcome {
    same_with_stdin(conf, args, None)
}

#[track_caller]
pub fn same_with_stdin(conf: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let reference = outcome(&python_bin_dir().join("supervisorctl"), conf, args, stdin);
    let ours = outcome(&procctl_bin(), conf, args, stdin);
    assert_eq!(
        ours, reference,
        "procctl differs from supervisorctl for {args:?}"
    );
    ours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_volatile_parts() {
        let p = Path::new("/x/procctl");
        assert_eq!(
            mask(
                "good                             RUNNING   pid 12, uptime 1 day, 0:00:01",
                p
            ),
            "good                             RUNNING   pid <pid>, uptime <up>"
        );
        assert_eq!(
            mask("manual     STOPPED   Nov 26 10:29 AM", p),
            "manual     STOPPED   <time>"
        );
        assert_eq!(mask("4242", p), "<n>");
        assert_eq!(
            mask("start <name>\t\tStart it", p),
            "start <name>\t\t<desc>"
        );
        assert_eq!(
            mask("For help, use /x/procctl -h", p),
            "For help, use <prog> -h"
        );
        assert_eq!(
            mask("error: <class 'X'>, y: file: /a.py line: 3", p),
            "error: <class 'X'>, y: file: <f> line: <n>"
        );
    }
}
