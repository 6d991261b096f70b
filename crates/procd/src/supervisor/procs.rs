//! Groups and processes as the actor holds them, and how a process is spawned from its config.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use procd_config::{GroupConfig, GroupKind, LogConfig, LogTarget, ProcessConfig};
use procd_core::{AutoRestart, Level, Policy};

use super::Supervisor;
use super::output::{self, Channel, Pump, Route};
use super::stdin::StdinWriter;
use crate::events::{Event, OutputRouter, PoolConfig, ProcessRef, RouterConfig};
use crate::listeners::BUILTIN_STDOUT_LISTENER_FLAG;
use crate::logger::Logger;
use crate::sys;

/// Stable identity of a process for the actor's lifetime (survives group removal of others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcId(pub u64);

/// An active process group.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub priority: i32,
    pub config: GroupConfig,
    /// Processes in config order.
    pub ids: Vec<ProcId>,
    /// `[fcgi-program:x]`: the shared listening socket, created on first spawn and closed when the last
    /// process using it has been reaped.
    pub fcgi: Option<FcgiSocket>,
    /// Which configuration read the group was created from (see `Supervisor::read_generation`).
    pub generation: u64,
}

/// A FastCGI group's socket and how many of its processes hold it.
#[derive(Debug)]
pub struct FcgiSocket {
    pub config: procd_config::FcgiSocketConfig,
    pub fd: Option<OwnedFd>,
    pub users: usize,
}

/// One supervised process.
pub struct Proc {
    pub config: Arc<ProcessConfig>,
    pub sm: procd_core::Process,
    /// Resolved log paths (AUTO replaced by the file created when the group was added).
    pub stdout_path: Option<PathBuf>,
    pub stderr_path: Option<PathBuf>,
    pub stdout_log: Option<Arc<Channel>>,
    pub stderr_log: Option<Arc<Channel>>,
    pub stdin: Option<StdinWriter>,
    /// An `[eventlistener:x]` process: its stdout is the event protocol.
    pub is_listener: bool,
    /// Holds a reference on its group's FastCGI socket while a child runs.
    pub holds_fcgi: bool,
    /// The `supervisor-stdout` package's listener (`command = supervisor_stdout` in a pool with its
    /// result handler): procd runs its built-in equivalent, `procd --supervisor-stdout-listener`.
    pub builtin_stdout_listener: bool,
    /// `depends_on=` and ready-check state (procd extensions).
    pub ready: super::readiness::ProcReadiness,
}

impl Proc {
    pub fn namespec(&self) -> String {
        self.config.namespec()
    }

    /// Forgets the child's stdin once it has exited (its output pumps end on their own at EOF).
    pub fn child_gone(&mut self) {
        self.stdin = None;
    }

    /// SIGUSR2: reopens this process's log files.
    pub fn reopen_logs(&self, logger: &Logger) {
        for ch in [&self.stdout_log, &self.stderr_log].into_iter().flatten() {
            if let Err(e) = ch.reopen() {
                logger.log(
                    Level::Error,
                    &format!("could not reopen {}: {e}", ch.describe()),
                );
            }
        }
    }

    /// `clearProcessLogs`: empties the log files (supervisord only acts on open logs; procd also clears
    /// the files of a process that is not running, see docs/compatibility.md).
    pub fn clear_logs(&self) -> std::io::Result<()> {
        for ch in [&self.stdout_log, &self.stderr_log].into_iter().flatten() {
            ch.clear()?;
        }
        for path in [&self.stdout_path, &self.stderr_path].into_iter().flatten() {
            let open = [&self.stdout_log, &self.stderr_log]
                .into_iter()
                .flatten()
                .any(|c| c.path().as_deref() == Some(path.as_path()));
            if !open && path.exists() {
                std::fs::File::create(path)?;
            }
        }
        Ok(())
    }
}

fn policy(cfg: &ProcessConfig) -> Policy {
    Policy {
        autostart: cfg.autostart,
        startsecs: cfg.startsecs,
        startretries: cfg.startretries,
        autorestart: match cfg.autorestart {
            procd_config::AutoRestart::Always => AutoRestart::Always,
            procd_config::AutoRestart::Never => AutoRestart::Never,
            procd_config::AutoRestart::Unexpected => AutoRestart::Unexpected,
        },
        exitcodes: cfg.exitcodes.clone(),
        stopsignal: cfg.stopsignal,
        stopwaitsecs: cfg.stopwaitsecs,
        stopasgroup: cfg.stopasgroup,
        killasgroup: cfg.killasgroup,
        backoff: procd_core::Backoff {
            delay: cfg.restart.delay,
            max_delay: cfg.restart.max_delay,
            steps: cfg.restart.steps,
            reset: cfg.restart.reset_after,
            forever: cfg.restart.forever,
        },
        ready: cfg.ready_check.as_ref().map(|c| procd_core::Readiness {
            label: c.label(),
            timeout: cfg.ready_timeout,
        }),
    }
}

/// Creates the AUTO log file `<name>-<channel>---<identifier>-<random>.log` in `childlogdir`.
fn auto_log_path(
    dir: &Path,
    name: &str,
    channel: &str,
    identifier: &str,
) -> std::io::Result<PathBuf> {
    let prefix = format!("{name}-{channel}---{identifier}-");
    let file = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".log")
        .rand_bytes(8)
        .tempfile_in(dir)?;
    let (_, path) = file.keep().map_err(|e| e.error)?;
    Ok(path)
}

impl Supervisor {
    /// Adds a group from its config (startup, `addProcessGroup`, reload). Returns false if it exists.
    pub(super) fn add_group(&mut self, gconf: &GroupConfig) -> bool {
        if self.groups.iter().any(|g| g.name == gconf.name) {
            return false;
        }
        let mut ids = Vec::with_capacity(gconf.processes.len());
        for pconf in &gconf.processes {
            let id = super::ProcId(self.next_id);
            self.next_id += 1;
            let stdout_path = self.resolve_log_path(pconf, &pconf.stdout, "stdout");
            let stderr_path = if pconf.redirect_stderr {
                None
            } else {
                self.resolve_log_path(pconf, &pconf.stderr, "stderr")
            };
            let proc = Proc {
                config: pconf.clone(),
                sm: procd_core::Process::new(pconf.name.clone(), policy(pconf)),
                stdout_path,
                stderr_path,
                stdout_log: None,
                stderr_log: None,
                stdin: None,
                is_listener: matches!(gconf.kind, GroupKind::EventListener(_)),
                holds_fcgi: false,
                builtin_stdout_listener: matches!(&gconf.kind, GroupKind::EventListener(pool)
                    if pool.handler() == procd_config::ResultHandler::SupervisorStdout
                        && procd_config::is_supervisor_stdout_command(&pconf.argv)),
                ready: super::readiness::ProcReadiness::default(),
            };
            self.procs.insert(id, proc);
            ids.push(id);
        }
        let fcgi = match &gconf.kind {
            GroupKind::Fcgi(sock) => Some(FcgiSocket {
                config: sock.clone(),
                fd: None,
                users: 0,
            }),
            _ => None,
        };
        if let GroupKind::EventListener(pool) = &gconf.kind {
            self.bus.add_pool(PoolConfig {
                name: gconf.name.clone(),
                buffer_size: pool.buffer_size,
                events: pool.events.clone(),
                processes: gconf.processes.iter().map(|p| p.name.clone()).collect(),
                handler: pool.handler(),
            });
        }
        self.groups.push(Group {
            name: gconf.name.clone(),
            priority: gconf.priority,
            config: gconf.clone(),
            ids,
            fcgi,
            generation: self.read_generation,
        });
        if let Some(group) = self.groups.last() {
            self.index_logs(&group.ids, true);
        }
        self.readiness.graph_changed();
        self.publish(Event::ProcessGroupAdded {
            group: gconf.name.clone(),
        });
        true
    }

    /// Removes a group whose processes are all stopped. Returns false if one is still running.
    pub(super) fn remove_group(&mut self, name: &str) -> bool {
        let Some(pos) = self.groups.iter().position(|g| g.name == name) else {
            return false;
        };
        if self.groups[pos]
            .ids
            .iter()
            .any(|id| !self.procs[id].sm.state().is_stopped())
        {
            return false;
        }
        let group = self.groups.remove(pos);
        self.index_logs(&group.ids, false);
        for id in group.ids {
            self.procs.remove(&id);
        }
        self.bus.remove_pool(name);
        self.readiness.graph_changed();
        self.publish(Event::ProcessGroupRemoved {
            group: name.to_owned(),
        });
        true
    }

    fn resolve_log_path(
        &self,
        pconf: &ProcessConfig,
        log: &LogConfig,
        channel: &str,
    ) -> Option<PathBuf> {
        match &log.file {
            LogTarget::Path(p) => Some(p.clone()),
            LogTarget::None | LogTarget::Syslog => None,
            LogTarget::Auto => {
                let opts = &self.config.supervisord;
                match auto_log_path(&opts.childlogdir, &pconf.name, channel, &opts.identifier) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.log(
                            Level::Error,
                            format!(
                                "could not create AUTO {channel} log for '{}' in {}: {e}",
                                pconf.name,
                                opts.childlogdir.display()
                            ),
                        );
                        None
                    }
                }
            }
        }
    }

    /// Finds a process by namespec (`name`, `group:name`).
    pub(super) fn find(&self, group: &str, name: &str) -> Option<super::ProcId> {
        let g = self.groups.iter().find(|g| g.name == group)?;
        g.ids
            .iter()
            .copied()
            .find(|id| self.procs[id].config.name == name)
    }

    /// The child's environment, layered as supervisord does: procd's own environment, then the
    /// `SUPERVISOR_*` variables, then `[supervisord] environment`, then the program's `environment`.
    /// `environment_file=` assignments (`from_files`) go in right before the program's `environment`.
    pub(super) fn child_env(
        &self,
        cfg: &ProcessConfig,
        from_files: &[(String, String)],
    ) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = self.base_env.clone();
        let mut set = |k: &str, v: &str| {
            let k = OsString::from(k);
            match env.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = OsString::from(v),
                None => env.push((k, OsString::from(v))),
            }
        };
        set("SUPERVISOR_ENABLED", "1");
        if let Some(url) = &cfg.serverurl {
            set("SUPERVISOR_SERVER_URL", url);
        }
        set("SUPERVISOR_PROCESS_NAME", &cfg.name);
        set("SUPERVISOR_GROUP_NAME", &cfg.group);
        for (k, v) in &self.config.supervisord.environment {
            set(k, v);
        }
        for (k, v) in from_files {
            set(k, v);
        }
        for (k, v) in &cfg.environment {
            set(k, v);
        }
        env
    }

    /// The file to execute for a process's `command=` (supervisord's `get_execv_args`); the error is
    /// the `spawnerr` text. Searches the program's own `PATH`, else procd's.
    pub(super) fn resolve_program(&self, id: super::ProcId) -> Result<PathBuf, String> {
        let cfg = &self.procs[&id].config;
        if let Some(err) = &cfg.command_error {
            return Err(err.clone());
        }
        if self.procs[&id].builtin_stdout_listener {
            // procd's own executable, as the child sees it: still there when the file was replaced.
            return Ok(PathBuf::from("/proc/self/exe"));
        }
        let Some(argv0) = cfg.argv.first() else {
            return Err("command is empty".to_owned());
        };
        let program_path = cfg
            .environment
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .or_else(|| {
                // A PATH from an environment file counts too; a file that cannot be read is reported
                // by the spawn itself.
                procd_config::envfile::read_all(&cfg.environment_files)
                    .ok()?
                    .into_iter()
                    .find(|(k, _)| k == "PATH")
                    .map(|(_, v)| v)
            });
        let daemon_path = std::env::var("PATH").ok();
        sys::resolve_command(argv0, program_path.as_deref(), daemon_path.as_deref())
    }

    /// Carries out `Effect::Spawn`: resolves the command, opens the logs, forks. The error is the
    /// `spawnerr` text supervisord would record.
    pub(super) fn spawn(&mut self, id: super::ProcId) -> Result<i32, String> {
        let (spec, name) = {
            // Environment files are read at every spawn, so a restart picks up their changes; one that
            // cannot be read fails the spawn like a missing command.
            let from_files =
                procd_config::envfile::read_all(&self.procs[&id].config.environment_files)?;
            let program = match self.prechecked.take() {
                Some((checked, program)) if checked == id => program,
                _ => self.resolve_program(id)?,
            };
            let proc = &self.procs[&id];
            let cfg = &proc.config;
            let user = cfg.user.as_ref().map(|u| sys::SpawnUser {
                uid: u.uid,
                gid: u.gid,
                groups: sys::users::supplementary_groups(&u.name, u.gid),
            });
            let argv = if proc.builtin_stdout_listener {
                vec![cfg.argv[0].clone(), BUILTIN_STDOUT_LISTENER_FLAG.to_owned()]
            } else {
                cfg.argv.clone()
            };
            let spec = sys::SpawnSpec {
                program,
                argv,
                env: self.child_env(cfg, &from_files),
                directory: cfg.directory.clone(),
                umask: cfg.umask,
                user,
                redirect_stderr: cfg.redirect_stderr,
                stdin: sys::StdinMode::Pipe,
                minfds: self.config.supervisord.minfds,
                cgroup_procs: None,
            };
            (spec, cfg.name.clone())
        };
        let mut spec = spec;
        if let Some(path) = self.notify_socket(id)? {
            spec.env.retain(|(k, _)| k != "NOTIFY_SOCKET");
            spec.env.push((OsString::from("NOTIFY_SOCKET"), path));
        }
        spec.cgroup_procs = self.cgroup_for_spawn(id)?;
        if let Some(fd) = self.acquire_fcgi(id)? {
            spec.stdin = sys::StdinMode::Fd(fd);
        }
        self.open_logs(id);
        let spawned = match sys::spawn(spec) {
            Ok(s) => s,
            Err(e) => {
                self.release_fcgi(id);
                return Err(spawn_error_text(&e, &name));
            }
        };
        self.pids.insert(spawned.pid, id);
        self.attach(
            id,
            spawned.pid,
            spawned.stdin,
            spawned.stdout,
            spawned.stderr,
        );
        self.arm_ready_check(id, spawned.pid);
        if self.procs[&id].is_listener {
            let group = self.procs[&id].config.group.clone();
            let effects = self.bus.listener_spawned(&group, &name);
            self.bus_effects(effects);
        }
        Ok(spawned.pid)
    }

    /// A FastCGI process takes a reference on its group's socket, creating it on first use.
    fn acquire_fcgi(&mut self, id: super::ProcId) -> Result<Option<OwnedFd>, String> {
        let group_name = self.procs[&id].config.group.clone();
        let Some(group) = self.groups.iter_mut().find(|g| g.name == group_name) else {
            return Ok(None);
        };
        let Some(sock) = group.fcgi.as_mut() else {
            return Ok(None);
        };
        let already = self.procs.get(&id).is_some_and(|p| p.holds_fcgi);
        if sock.fd.is_none() {
            self.logger
                .log(Level::Info, &format!("Creating socket {}", sock.config.url));
            sock.fd = Some(sys::fcgi::create(&sock.config).map_err(|e| e.to_string())?);
        }
        let fd = match sock.fd.as_ref().map(OwnedFd::try_clone) {
            Some(Ok(fd)) => fd,
            Some(Err(e)) => {
                return Err(format!(
                    "Could not create FastCGI socket {}: {e}",
                    sock.config.url
                ));
            }
            None => return Ok(None),
        };
        if !already {
            sock.users += 1;
        }
        if let Some(proc) = self.procs.get_mut(&id) {
            proc.holds_fcgi = true;
        }
        Ok(Some(fd))
    }

    /// Drops a process's reference on its group's FastCGI socket; the last one closes it.
    fn release_fcgi(&mut self, id: super::ProcId) {
        let Some(proc) = self.procs.get_mut(&id) else {
            return;
        };
        if !std::mem::take(&mut proc.holds_fcgi) {
            return;
        }
        let group_name = proc.config.group.clone();
        let Some(sock) = self
            .groups
            .iter_mut()
            .find(|g| g.name == group_name)
            .and_then(|g| g.fcgi.as_mut())
        else {
            return;
        };
        sock.users = sock.users.saturating_sub(1);
        if sock.users == 0 && sock.fd.take().is_some() {
            if let procd_config::FcgiSocketKind::Unix { path } = &sock.config.kind {
                let _ = std::fs::remove_file(path);
            }
            self.logger
                .log(Level::Info, &format!("Closing socket {}", sock.config.url));
        }
    }

    /// Bookkeeping after a child was reaped: listener protocol state and FastCGI socket references.
    pub(super) fn child_reaped(&mut self, id: super::ProcId) {
        self.release_fcgi(id);
        self.kill_cgroup(id, "after it exited");
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        if proc.is_listener {
            let (pool, name) = (proc.config.group.clone(), proc.config.name.clone());
            let effects = self.bus.listener_exited(&pool, &name);
            self.bus_effects(effects);
        }
    }

    /// Opens the process's log channels if they are not open yet (they stay open across restarts).
    fn open_logs(&mut self, id: super::ProcId) {
        let strip_ansi = self.config.supervisord.strip_ansi;
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let mut opened = [None, None];
        for (i, (path, log, slot)) in [
            (&proc.stdout_path, &proc.config.stdout, &proc.stdout_log),
            (&proc.stderr_path, &proc.config.stderr, &proc.stderr_log),
        ]
        .into_iter()
        .enumerate()
        {
            let channel = if i == 0 { "stdout" } else { "stderr" };
            if let Some(open) = slot {
                // Still open from an earlier run: follow the path if the file was removed or replaced
                // meanwhile, as supervisord (which opens its logs at every spawn) would.
                if let Err(e) = open.reopen_if_replaced() {
                    self.logger.log(
                        Level::Error,
                        &format!("could not reopen {}: {e}", open.describe()),
                    );
                }
                continue;
            }
            if path.is_none() && !log.syslog {
                continue;
            }
            match Channel::open(
                &proc.config.name,
                channel,
                path.as_deref(),
                log,
                strip_ansi,
                self.logger.clone(),
            ) {
                Ok(ch) => opened[i] = Some(Arc::new(ch)),
                Err(e) => self.log(
                    Level::Error,
                    format!(
                        "could not open {channel} log for '{}': {e}",
                        proc.config.name
                    ),
                ),
            }
        }
        let [out, err] = opened;
        if let Some(proc) = self.procs.get_mut(&id) {
            if out.is_some() {
                proc.stdout_log = out;
            }
            if err.is_some() {
                proc.stderr_log = err;
            }
        }
    }

    /// Starts the output pumps and keeps the stdin pipe of a freshly spawned child.
    fn attach(
        &mut self,
        id: super::ProcId,
        pid: i32,
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: Option<OwnedFd>,
    ) {
        let stdout_route = self.route(id, pid, crate::events::Channel::Stdout);
        let stderr_route = self.route(id, pid, crate::events::Channel::Stderr);
        let watch = self.log_watch(id, pid);
        let Some(proc) = self.procs.get_mut(&id) else {
            return;
        };
        let name = proc.config.name.clone();
        output::pump(Pump {
            fd: stdout,
            channel: proc.stdout_log.clone(),
            name: name.clone(),
            stream: "stdout",
            pid,
            route: stdout_route,
            logger: self.logger.clone(),
            internal: self.internal_tx.clone(),
            watch: watch.clone(),
        });
        if let Some(fd) = stderr {
            output::pump(Pump {
                fd,
                channel: proc.stderr_log.clone(),
                name,
                stream: "stderr",
                pid,
                route: stderr_route,
                logger: self.logger.clone(),
                internal: self.internal_tx.clone(),
                watch,
            });
        }
        proc.stdin = stdin.map(StdinWriter::new);
    }

    /// Chooses how a channel's output is handled: the cheapest route that still does all that is needed.
    fn route(&self, id: super::ProcId, pid: i32, channel: crate::events::Channel) -> Route {
        let debug = self.logger.enabled(Level::Debug);
        let proc = &self.procs[&id];
        let stdout = channel == crate::events::Channel::Stdout;
        if proc.is_listener && stdout {
            return Route::Listener { id };
        }
        let log = if stdout {
            &proc.config.stdout
        } else {
            &proc.config.stderr
        };
        let event_name = if stdout {
            "PROCESS_LOG_STDOUT"
        } else {
            "PROCESS_LOG_STDERR"
        };
        let events = log.events_enabled && self.bus.wants(event_name);
        if log.capture_maxbytes == 0 && !events {
            return Route::Plain { debug };
        }
        let filter: Option<crate::events::capture::Filter> = if self.config.supervisord.strip_ansi {
            Some(output::strip_ansi)
        } else {
            None
        };
        Route::Routed(Box::new(OutputRouter::new(RouterConfig {
            process: ProcessRef::new(proc.config.name.clone(), proc.config.group.clone()),
            pid,
            channel,
            capture_maxbytes: usize::try_from(log.capture_maxbytes).unwrap_or(usize::MAX),
            events_enabled: log.events_enabled,
            debug_output: debug,
            filter,
        })))
    }
}

fn spawn_error_text(e: &sys::SpawnError, name: &str) -> String {
    let errno = e.raw_os_error();
    match e {
        sys::SpawnError::Pipes(_) if matches!(errno, Some(libc::EMFILE | libc::ENFILE)) => {
            format!("too many open files to spawn '{name}'")
        }
        sys::SpawnError::Pipes(_) => format!(
            "unknown error making dispatchers for '{name}': {}",
            errno.map_or_else(|| e.to_string(), |n| sys::errno_name(n).to_string())
        ),
        sys::SpawnError::Fork(_) if errno == Some(libc::EAGAIN) => {
            format!("Too many processes in process table to spawn '{name}'")
        }
        sys::SpawnError::Fork(_) => format!(
            "unknown error during fork for '{name}': {}",
            errno.map_or_else(|| e.to_string(), |n| sys::errno_name(n).to_string())
        ),
        sys::SpawnError::Invalid(msg) => format!("can't parse command '{name}': {msg}"),
    }
}
