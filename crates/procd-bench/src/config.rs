//! Generation of the supervisord-style configuration both daemons run with.
//!
//! Pure: the caller picks the directory, socket path and port; this module only renders text. Every
//! path is absolute and `%` is escaped, so supervisord's `%(name)s` expansion leaves values intact.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One `[program:x]` section.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Program {
    pub name: String,
    pub command: String,
    pub autostart: bool,
    pub autorestart: bool,
    pub startsecs: u32,
    pub stdout_logfile: PathBuf,
    /// `stdout_logfile_maxbytes` as written in the file (e.g. `0`, `1MB`).
    pub maxbytes: String,
    pub backups: u32,
    /// Extra `key=value` lines for the section (procd extension keys; supervisord ignores them).
    pub extra: Vec<String>,
}

impl Program {
    /// A program with the benchmark's defaults: not autostarted, never restarted, RUNNING at once
    /// (`startsecs=0`), stderr merged into stdout, log in `<log_dir>/<name>.log` without rotation.
    pub(crate) fn new(name: &str, command: &str, log_dir: &Path) -> Self {
        Program {
            name: name.to_owned(),
            command: command.to_owned(),
            autostart: false,
            autorestart: false,
            startsecs: 0,
            stdout_logfile: log_dir.join(format!("{name}.log")),
            maxbytes: "0".to_owned(),
            backups: 0,
            extra: Vec::new(),
        }
    }
}

/// Everything one daemon instance needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DaemonConfig {
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub port: u16,
    pub programs: Vec<Program>,
}

impl DaemonConfig {
    /// A config rooted at `dir` (socket `dir/sock`, logs under `dir/logs`).
    pub(crate) fn new(dir: &Path, port: u16) -> Self {
        DaemonConfig {
            dir: dir.to_owned(),
            socket: dir.join("sock"),
            port,
            programs: Vec::new(),
        }
    }

    pub(crate) fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    pub(crate) fn main_log(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    /// The configuration file text.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        let dir = &self.dir;
        let _ = write!(
            s,
            "[unix_http_server]\nfile={sock}\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [supervisord]\nnodaemon=true\nlogfile={log}\npidfile={pid}\nchildlogdir={logs}\n\
             loglevel=info\nminfds=4096\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{sock}\n",
            sock = esc(&self.socket),
            port = self.port,
            log = esc(&self.main_log()),
            pid = esc(&dir.join("daemon.pid")),
            logs = esc(&self.log_dir()),
        );
        for p in &self.programs {
            let _ = write!(
                s,
                "\n[program:{name}]\ncommand={cmd}\nautostart={auto}\nautorestart={restart}\n\
                 startsecs={secs}\nredirect_stderr=true\nstdout_logfile={log}\n\
                 stdout_logfile_maxbytes={max}\nstdout_logfile_backups={backups}\n",
                name = p.name,
                cmd = p.command.replace('%', "%%"),
                auto = p.autostart,
                restart = p.autorestart,
                secs = p.startsecs,
                log = esc(&p.stdout_logfile),
                max = p.maxbytes,
                backups = p.backups,
            );
            for line in &p.extra {
                let _ = writeln!(s, "{line}");
            }
        }
        s
    }
}

fn esc(path: &Path) -> String {
    path.display().to_string().replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DaemonConfig {
        let mut c = DaemonConfig::new(Path::new("/tmp/b1"), 40001);
        let mut p = Program::new("w", "/bin/bench child-write --bytes 100", &c.log_dir());
        p.maxbytes = "1MB".into();
        p.backups = 20;
        c.programs.push(p);
        let mut s = Program::new("s%1", "printf 50%", &c.log_dir());
        s.autostart = true;
        s.autorestart = true;
        c.programs.push(s);
        c
    }

    #[test]
    fn renders_server_sections() {
        let text = sample().render();
        for line in [
            "[unix_http_server]\nfile=/tmp/b1/sock\n",
            "[inet_http_server]\nport=127.0.0.1:40001\n",
            "nodaemon=true\n",
            "logfile=/tmp/b1/daemon.log\n",
            "childlogdir=/tmp/b1/logs\n",
            "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
            "serverurl=unix:///tmp/b1/sock\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn renders_programs_in_order_with_options() {
        let text = sample().render();
        let w = text.find("[program:w]").expect("w section");
        let s = text.find("[program:s%1]").expect("s section");
        assert!(w < s);
        let w_sec = &text[w..s];
        for line in [
            "command=/bin/bench child-write --bytes 100\n",
            "autostart=false\n",
            "autorestart=false\n",
            "startsecs=0\n",
            "redirect_stderr=true\n",
            "stdout_logfile=/tmp/b1/logs/w.log\n",
            "stdout_logfile_maxbytes=1MB\n",
            "stdout_logfile_backups=20\n",
        ] {
            assert!(w_sec.contains(line), "missing {line:?} in\n{w_sec}");
        }
        let s_sec = &text[s..];
        assert!(
            s_sec.contains("command=printf 50%%\n"),
            "percent escaped:\n{s_sec}"
        );
        assert!(s_sec.contains("autostart=true\nautorestart=true\n"));
        assert!(s_sec.contains("stdout_logfile_maxbytes=0\n"));
    }
}
