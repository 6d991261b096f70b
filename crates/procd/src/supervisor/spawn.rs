//! Spawning a process from its config: the command lookup, the child's environment, its log channels,
//! the fork itself (through the [`Os`](super::os::Os) seam), then the output pumps and stdin writer of
//! the new child.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use procd_config::ProcessConfig;
use procd_core::Level;

use super::Supervisor;
use super::output::{self, Channel, Pump, Route};
use super::stdin::StdinWriter;
use super::types::ProcId;
use crate::events::{OutputRouter, ProcessRef, RouterConfig};
use crate::listeners::BUILTIN_STDOUT_LISTENER_FLAG;
use crate::sys;

impl Supervisor {
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
    pub(super) fn resolve_program(&self, id: ProcId) -> Result<PathBuf, String> {
        let Some(proc) = self.procs.get(&id) else {
            return Err("no such process".to_owned());
        };
        let cfg = &proc.config;
        if let Some(err) = &cfg.command_error {
            return Err(err.clone());
        }
        if proc.builtin_stdout_listener {
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
        self.os
            .resolve_command(argv0, program_path.as_deref(), daemon_path.as_deref())
    }

    /// Carries out `Effect::Spawn`: resolves the command (unless `startProcess` has just found it:
    /// `program`), opens the logs, forks. The error is the `spawnerr` text supervisord would record.
    pub(super) fn spawn(&mut self, id: ProcId, program: Option<PathBuf>) -> Result<i32, String> {
        let (spec, name) = {
            // Environment files are read at every spawn, so a restart picks up their changes; one that
            // cannot be read fails the spawn like a missing command.
            let from_files = match self.procs.get(&id) {
                Some(p) => procd_config::envfile::read_all(&p.config.environment_files)?,
                None => return Err("no such process".to_owned()),
            };
            let program = match program {
                Some(program) => program,
                None => self.resolve_program(id)?,
            };
            let Some(proc) = self.procs.get(&id) else {
                return Err("no such process".to_owned());
            };
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
                // Decided below, once the logs are open.
                stdout_pipe: true,
                stderr_pipe: true,
                stdin: sys::StdinMode::Pipe,
                // Decided below with the pipes.
                shared_stdio: false,
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
        spec.stdout_pipe = self.output_read(id, crate::events::Channel::Stdout);
        spec.stderr_pipe = self.output_read(id, crate::events::Channel::Stderr);
        // Under a tight descriptor limit stdin and stdout share one socket; never for an event listener,
        // whose protocol runs over them.
        spec.shared_stdio =
            self.fd_plan.shared_stdio && !self.procs.get(&id).is_some_and(|p| p.is_listener);
        let spawned = match self.os.spawn(spec) {
            Ok(s) => s,
            Err(e) => {
                self.release_fcgi(id);
                return Err(spawn_error_text(&e, &name));
            }
        };
        self.pids.insert(spawned.pid, id);
        self.child_started(spawned.pid, id);
        let pid = spawned.pid;
        self.attach(id, spawned);
        self.arm_ready_check(id, pid);
        if let Some(group) = self
            .procs
            .get(&id)
            .filter(|p| p.is_listener)
            .map(|p| p.config.group.clone())
        {
            let effects = self.bus.listener_spawned(&group, &name);
            self.bus_effects(effects);
        }
        Ok(pid)
    }

    /// Bookkeeping after a child was reaped: listener protocol state and FastCGI socket references.
    pub(super) fn child_reaped(&mut self, id: ProcId) {
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
    fn open_logs(&mut self, id: ProcId) {
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
                Arc::clone(if i == 0 {
                    &proc.stats.stdout
                } else {
                    &proc.stats.stderr
                }),
                self.open_logs.as_ref(),
            ) {
                Ok(ch) => opened[i] = Some(ch),
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
    fn attach(&mut self, id: ProcId, spawned: sys::Spawned) {
        let sys::Spawned {
            pid,
            stdin,
            stdout,
            stderr,
            duplex,
        } = spawned;
        // A socket that is both stdin and stdout is registered with the reactor once, here, and
        // shared by the pump and the stdin writer.
        let (stdout, stdin) = match stdout {
            Some(fd) if duplex => match crate::sys::pipeio::PipeReader::duplex(fd) {
                Ok((reader, writer)) => (
                    Some(output::Source::Reader(reader)),
                    Some(StdinWriter::duplex(writer)),
                ),
                Err(e) => {
                    self.log(
                        Level::Error,
                        format!("cannot read stdout of pid {pid}: {e}; its stdin is unusable"),
                    );
                    (None, None)
                }
            },
            fd => (fd.map(output::Source::Pipe), stdin.map(StdinWriter::new)),
        };
        let stdout_route = self.route(id, pid, crate::events::Channel::Stdout);
        let stderr_route = self.route(id, pid, crate::events::Channel::Stderr);
        let watch = self.log_watch(id, pid);
        let Some(proc) = self.procs.get_mut(&id) else {
            return;
        };
        let name = proc.config.name.clone();
        if let Some(fd) = stdout {
            output::pump(Pump {
                fd,
                channel: proc.stdout_log.clone(),
                name: name.clone(),
                stream: "stdout",
                pid,
                route: stdout_route,
                logger: self.logger.clone(),
                internal: self.internal_tx.clone(),
                watch: watch.clone(),
            });
        }
        if let Some(fd) = stderr {
            output::pump(Pump {
                fd: output::Source::Pipe(fd),
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
        proc.stdin = stdin;
    }

    /// Whether anything reads a channel's output (the same conditions as [`Self::route`], plus an open
    /// log or syslog and a `log:` ready check). When nothing does, the child gets `/dev/null` instead
    /// of a pipe, so procd holds no descriptor for it (docs/compatibility.md, "Child logs").
    fn output_read(&self, id: ProcId, channel: crate::events::Channel) -> bool {
        let Some(proc) = self.procs.get(&id) else {
            return true;
        };
        let stdout = channel == crate::events::Channel::Stdout;
        let (log, open) = if stdout {
            (&proc.config.stdout, &proc.stdout_log)
        } else {
            (&proc.config.stderr, &proc.stderr_log)
        };
        open.is_some()
            || (proc.is_listener && stdout)
            || log.capture_maxbytes > 0
            || (log.events_enabled && self.bus.wants(log_event_name(stdout)))
            || self.logger.enabled(Level::Debug)
            || matches!(
                proc.config.ready_check,
                Some(procd_config::ReadyCheck::Log { .. })
            )
    }

    /// Chooses how a channel's output is handled: the cheapest route that still does all that is needed.
    fn route(&self, id: ProcId, pid: i32, channel: crate::events::Channel) -> Route {
        let debug = self.logger.enabled(Level::Debug);
        let Some(proc) = self.procs.get(&id) else {
            return Route::Plain { debug };
        };
        let stdout = channel == crate::events::Channel::Stdout;
        if proc.is_listener && stdout {
            return Route::Listener { id };
        }
        let log = if stdout {
            &proc.config.stdout
        } else {
            &proc.config.stderr
        };
        let events = log.events_enabled && self.bus.wants(log_event_name(stdout));
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

fn log_event_name(stdout: bool) -> &'static str {
    if stdout {
        "PROCESS_LOG_STDOUT"
    } else {
        "PROCESS_LOG_STDERR"
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
            errno.map_or_else(|| e.to_string(), |n| sys::errno_name(n).clone())
        ),
        sys::SpawnError::Fork(_) if errno == Some(libc::EAGAIN) => {
            format!("Too many processes in process table to spawn '{name}'")
        }
        sys::SpawnError::Fork(_) => format!(
            "unknown error during fork for '{name}': {}",
            errno.map_or_else(|| e.to_string(), |n| sys::errno_name(n).clone())
        ),
        sys::SpawnError::Invalid(msg) => format!("can't parse command '{name}': {msg}"),
    }
}
