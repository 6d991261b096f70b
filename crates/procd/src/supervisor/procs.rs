//! Groups and processes as the actor holds them: adding and removing groups, finding a process by name,
//! AUTO log files. Spawning is in [`spawn`](super::spawn), FastCGI sockets in [`fcgi`](super::fcgi).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use procd_config::{GroupConfig, GroupKind, LogConfig, LogTarget, ProcessConfig};
use procd_core::{AutoRestart, GroupLike, Level, Named, Policy, Ranked};

use super::Supervisor;
use super::fcgi::FcgiSocket;
use super::output::Channel;
use super::stdin::StdinWriter;
use super::types::ProcId;
use crate::events::{Event, PoolConfig};
use crate::logger::Logger;

/// An active process group.
#[derive(Debug)]
pub(super) struct Group {
    pub name: String,
    pub priority: i32,
    pub config: GroupConfig,
    /// Processes in config order.
    pub members: Vec<Member>,
    /// `[fcgi-program:x]`: the shared listening socket, created on first spawn and closed when the last
    /// process using it has been reaped.
    pub fcgi: Option<FcgiSocket>,
    /// Which configuration read the group was created from (see `Supervisor::read_generation`).
    pub generation: u64,
}

impl Group {
    /// The group's processes in config order.
    pub(super) fn ids(&self) -> impl Iterator<Item = ProcId> + '_ {
        self.members.iter().map(|m| m.id)
    }
}

/// A process as its group lists it: its identity and the (immutable) config that names and ranks it,
/// so ordering and lookups by name need not consult the process table.
#[derive(Debug)]
pub(super) struct Member {
    pub id: ProcId,
    pub config: Arc<ProcessConfig>,
}

impl Named for Member {
    fn name(&self) -> &str {
        &self.config.name
    }
}

impl Ranked for Member {
    fn priority(&self) -> i32 {
        self.config.priority
    }
}

impl Named for Group {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Ranked for Group {
    fn priority(&self) -> i32 {
        self.priority
    }
}

impl GroupLike for Group {
    type Proc = Member;
    fn processes(&self) -> &[Member] {
        &self.members
    }
}

/// One supervised process.
pub(super) struct Proc {
    pub config: Arc<ProcessConfig>,
    /// Its position in its group's `members` (config order), fixed for the group's lifetime: with the
    /// group's position it orders due processes as the groups list them.
    pub slot: usize,
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
    /// Its state and counters as `/metrics` and `/readyz` see them.
    pub stats: Arc<crate::telemetry::ProcStats>,
}

impl Proc {
    pub(super) fn namespec(&self) -> String {
        self.config.namespec()
    }

    /// Forgets the child's stdin once it has exited (its output pumps end on their own at EOF).
    pub(super) fn child_gone(&mut self) {
        self.stdin = None;
    }

    /// SIGUSR2: reopens this process's log files.
    pub(super) fn reopen_logs(&self, logger: &Logger) {
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
    pub(super) fn clear_logs(&self) -> std::io::Result<()> {
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

/// The ids of `group`'s processes (none for no group).
fn members_ids(group: Option<&Group>) -> Vec<ProcId> {
    group.map(|g| g.ids().collect()).unwrap_or_default()
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
        if self.group_pos(&gconf.name).is_some() {
            return false;
        }
        let mut members = Vec::with_capacity(gconf.processes.len());
        for (slot, pconf) in gconf.processes.iter().enumerate() {
            let id = ProcId(self.next_id);
            self.next_id += 1;
            let stdout_path = self.resolve_log_path(pconf, &pconf.stdout, "stdout");
            let stderr_path = if pconf.redirect_stderr {
                None
            } else {
                self.resolve_log_path(pconf, &pconf.stderr, "stderr")
            };
            let proc = Proc {
                config: pconf.clone(),
                slot,
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
                stats: self
                    .telemetry
                    .add(&pconf.group, &pconf.name, pconf.autostart),
            };
            self.procs.insert(id, proc);
            members.push(Member {
                id,
                config: Arc::clone(pconf),
            });
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
        self.fd_need += crate::fdbudget::group_total(gconf, crate::fdbudget::debug(&self.config));
        self.group_pos.insert(gconf.name.clone(), self.groups.len());
        self.groups.push(Group {
            name: gconf.name.clone(),
            priority: gconf.priority,
            config: gconf.clone(),
            members,
            fcgi,
            generation: self.read_generation,
        });
        if let Some(group) = self.groups.last() {
            self.index_logs(group.ids(), true);
        }
        for id in members_ids(self.groups.last()) {
            self.refresh_deadline(id);
        }
        self.readiness.graph_changed();
        self.publish(Event::ProcessGroupAdded {
            group: gconf.name.clone(),
        });
        true
    }

    /// Removes a group whose processes are all stopped. Returns false if one is still running.
    pub(super) fn remove_group(&mut self, name: &str) -> bool {
        let Some(pos) = self.group_pos(name) else {
            return false;
        };
        if self.groups[pos].ids().any(|id| {
            self.procs
                .get(&id)
                .is_some_and(|p| !p.sm.state().is_stopped())
        }) {
            return false;
        }
        let group = self.groups.remove(pos);
        self.fd_need = self.fd_need.saturating_sub(crate::fdbudget::group_total(
            &group.config,
            crate::fdbudget::debug(&self.config),
        ));
        self.group_pos.remove(name);
        for (i, g) in self.groups.iter().enumerate().skip(pos) {
            self.group_pos.insert(g.name.clone(), i);
        }
        self.index_logs(group.ids(), false);
        for id in group.ids() {
            if let Some(proc) = self.procs.remove(&id) {
                self.telemetry.remove(&proc.config.group, &proc.config.name);
            }
            self.refresh_deadline(id);
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

    /// Raises the soft RLIMIT_NOFILE when the active groups need more descriptors than it was last
    /// checked for (at start-up, and when `addProcessGroup` adds programs), and warns once per new need
    /// when the hard limit is too low.
    pub(super) fn ensure_fds(&mut self) {
        if self.fd_need <= self.fd_checked {
            return;
        }
        self.fd_checked = self.fd_need;
        let (raised, hard) = crate::sys::rlimits::raise_nofile_for(self.fd_need);
        if let Some(line) = raised {
            self.log(Level::Info, line);
        }
        if self.fd_need > hard && hard > 0 {
            let debug = crate::fdbudget::debug(&self.config);
            let need = crate::fdbudget::need_of(self.groups.iter().map(|g| &g.config), debug);
            if let Some(msg) = crate::fdbudget::shortfall_message(&need, &self.fd_plan, hard) {
                self.log(Level::Warn, msg);
            }
        }
    }

    /// The position of the group `name` in `groups`.
    pub(super) fn group_pos(&self, name: &str) -> Option<usize> {
        self.group_pos.get(name).copied()
    }

    /// Finds a process by group and process name.
    pub(super) fn find(&self, group: &str, name: &str) -> Option<ProcId> {
        let g = &self.groups[self.group_pos(group)?];
        g.members
            .iter()
            .find(|m| m.config.name == name)
            .map(|m| m.id)
    }
}
