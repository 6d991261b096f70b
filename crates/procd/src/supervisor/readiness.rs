//! procd's start-order extensions in the actor (docs/extensions.md): `depends_on=` conditions, ready
//! checks, and stops that take dependents down before what they depend on.
//!
//! * Conditions are evaluated by `procd_core::deps` from the state machines' views and fed back as
//!   `Input::Dependencies`; the machines hold starts while a condition does not hold. Evaluation runs
//!   only after a state change, and only when some process has dependencies.
//! * Starting a process whose dependency is STOPPED (or EXITED, for `started`/`ready`) starts the
//!   dependency first, as systemd's `Requires=` does. A FATAL dependency is not restarted: the dependent
//!   becomes FATAL.
//! * Ready checks run in `crate::probes`; a passed check comes back as [`Internal::Ready`] and becomes
//!   `Input::Ready`. Probe tasks exist only while their process is STARTING.
//! * `stopAllProcesses`, `stopProcessGroup` and shutdown stop a process only once every process that
//!   depends on it is down. A plain `stopProcess` stops just the process named.

use std::collections::HashSet;
use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use procd_config::ReadyCheck;
use procd_core::deps::{Condition, Dependency, evaluate};
use procd_core::{DepStatus, Input, Level};
use procd_protocol::{ProcessState, SupervisorState};
use tokio::task::AbortHandle;

use super::procs::Group;
use super::types::ProcId;
use super::{Internal, Supervisor};
use crate::probes::{self, LogWatch, NotifySocket, OnPass};
use crate::sys;

/// A process's share of the extensions' state.
#[derive(Debug, Default)]
pub(super) struct ProcReadiness {
    /// `depends_on=`, resolved to process ids (`ProcId.0`; `usize::MAX` for a name no longer loaded).
    pub deps: Vec<Dependency>,
    /// The polling task of a tcp/http/exec check while the process is STARTING.
    probe: Option<AbortHandle>,
    /// Stops the output pumps' `log:` matching when the check is no longer pending.
    log_done: Option<Arc<AtomicBool>>,
    /// `notify`: the program's `NOTIFY_SOCKET`, kept across restarts.
    notify: Option<NotifySocket>,
    /// The liveness check's task while the process is RUNNING.
    liveness: Option<AbortHandle>,
}

impl ProcReadiness {
    fn disarm(&mut self) {
        if let Some(p) = self.probe.take() {
            p.abort();
        }
        if let Some(done) = self.log_done.take() {
            done.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for ProcReadiness {
    fn drop(&mut self) {
        self.disarm();
        if let Some(l) = self.liveness.take() {
            l.abort();
        }
    }
}

/// Actor-wide state of the extensions.
#[derive(Debug, Default)]
pub(super) struct Readiness {
    /// Some process has `depends_on=` (otherwise nothing here runs).
    pub has_deps: bool,
    /// A state changed since conditions were last evaluated.
    pub dirty: bool,
    /// Processes of a `stopAllProcesses`/`stopProcessGroup` waiting for their dependents to stop, with
    /// those dependents.
    pub stop_queue: Vec<(ProcId, Vec<ProcId>)>,
    /// Children of exec checks (reaped by the actor, reported to the check).
    pub exec_children: probes::ExecChildren,
    /// Directory of the `notify` sockets, created on first use, removed with the actor.
    notify_dir: Option<tempfile::TempDir>,
    /// Groups were added or removed: names must be resolved again.
    graph_dirty: bool,
    /// Processes stopped by a failed liveness check, to start again once STOPPED.
    restarts: Vec<ProcId>,
}

impl Readiness {
    pub(super) fn graph_changed(&mut self) {
        self.graph_dirty = true;
    }

    /// A reload replaces every process.
    pub(super) fn reset(&mut self) {
        self.has_deps = false;
        self.dirty = false;
        self.graph_dirty = false;
        self.stop_queue.clear();
        self.restarts.clear();
    }
}

fn node(id: ProcId) -> usize {
    usize::try_from(id.0).unwrap_or(usize::MAX)
}

fn proc_id(n: usize) -> ProcId {
    ProcId(n as u64)
}

impl Supervisor {
    /// Resolves every process's `depends_on=` names to the processes loaded now (after groups were
    /// added or removed).
    pub(super) fn resolve_dependencies(&mut self) {
        let mut resolved = Vec::new();
        for (&id, proc) in &self.procs {
            if proc.config.depends_on.is_empty() && proc.ready.deps.is_empty() {
                continue;
            }
            let deps: Vec<Dependency> = proc
                .config
                .depends_on
                .iter()
                .map(|d| Dependency {
                    label: d.name.clone(),
                    condition: d.condition,
                    targets: d
                        .targets
                        .iter()
                        .map(|spec| {
                            let (group, name) = spec.split_once(':').unwrap_or((spec, spec));
                            self.find(group, name).map_or(usize::MAX, node)
                        })
                        .collect(),
                })
                .collect();
            resolved.push((id, deps));
        }
        self.readiness.has_deps = resolved.iter().any(|(_, d)| !d.is_empty());
        for (id, deps) in resolved {
            if let Some(p) = self.procs.get_mut(&id) {
                p.ready.deps = deps;
            }
        }
        self.readiness.dirty = true;
    }

    /// The current verdict on `id`'s dependencies.
    fn dependency_status(&self, id: ProcId) -> DepStatus {
        let Some(proc) = self.procs.get(&id) else {
            return DepStatus::Met;
        };
        evaluate(
            &proc.ready.deps,
            |n| self.procs.get(&proc_id(n)).map(|p| p.sm.dep_view()),
            |n| {
                self.procs
                    .get(&proc_id(n))
                    .map_or("(removed)", |p| p.config.name.as_str())
            },
        )
    }

    /// Feeds `id` its current dependency status if it changed.
    pub(super) fn refresh_dependencies_of(&mut self, id: ProcId) {
        let status = self.dependency_status(id);
        if self.procs.get(&id).is_some_and(|p| *p.sm.deps() != status) {
            self.input(id, Input::Dependencies(status));
        }
    }

    /// Re-evaluates every condition after a state change; starts the dependencies a waiting start needs
    /// (systemd `Requires=`). Returns true if it fed any input (the caller runs timers again).
    pub(super) fn update_dependencies(&mut self) -> bool {
        if std::mem::take(&mut self.readiness.graph_dirty) {
            self.resolve_dependencies();
        }
        if !self.readiness.has_deps || !std::mem::take(&mut self.readiness.dirty) {
            return false;
        }
        let ids: Vec<ProcId> = self
            .groups
            .iter()
            .flat_map(Group::ids)
            .filter(|id| self.procs.get(id).is_some_and(|p| !p.ready.deps.is_empty()))
            .collect();
        let mut fed = false;
        for id in ids {
            let status = self.dependency_status(id);
            if self.procs.get(&id).is_some_and(|p| *p.sm.deps() != status) {
                self.input(id, Input::Dependencies(status.clone()));
                fed = true;
            }
            if matches!(status, DepStatus::Waiting(_)) && self.mood == SupervisorState::Running {
                fed |= self.pull_dependencies(id);
            }
        }
        fed
    }

    /// A start of `id` waits for dependencies that nothing is starting: start them.
    fn pull_dependencies(&mut self, id: ProcId) -> bool {
        let Some(proc) = self.procs.get(&id).filter(|p| p.sm.wants_start()) else {
            return false;
        };
        let by = proc.namespec();
        let wanted: Vec<ProcId> = proc
            .ready
            .deps
            .iter()
            .flat_map(|d| d.targets.iter().map(move |&t| (d.condition, proc_id(t))))
            .filter(|(cond, t)| {
                self.procs.get(t).is_some_and(|p| {
                    let v = p.sm.dep_view();
                    !v.will_start
                        && match v.state {
                            ProcessState::Stopped => true,
                            ProcessState::Exited => *cond != Condition::Completed,
                            _ => false,
                        }
                })
            })
            .map(|(_, t)| t)
            .collect();
        for &t in &wanted {
            let Some(name) = self.procs.get(&t).map(super::procs::Proc::namespec) else {
                continue;
            };
            self.log(
                Level::Info,
                format!("starting {name}, which {by} depends on"),
            );
            self.input(t, Input::Start);
        }
        !wanted.is_empty()
    }

    /// Why `id` is FATAL, if a dependency failed it.
    pub(super) fn dependency_failure(&self, id: ProcId) -> Option<String> {
        let proc = self.procs.get(&id)?;
        match proc.sm.deps() {
            DepStatus::Failed(reason) if proc.sm.state() == ProcessState::Fatal => {
                Some(reason.clone())
            }
            _ => None,
        }
    }

    /// The `description` of a process whose start waits for a dependency.
    pub(super) fn waiting_description(&self, id: ProcId) -> Option<String> {
        self.procs
            .get(&id)
            .and_then(|p| p.sm.waiting_for())
            .map(str::to_owned)
    }

    /// Processes that depend on `id` (directly).
    fn dependents(&self, id: ProcId) -> Vec<ProcId> {
        let n = node(id);
        let mut out: Vec<ProcId> = self
            .procs
            .iter()
            .filter(|(_, p)| p.ready.deps.iter().any(|d| d.targets.contains(&n)))
            .map(|(&pid, _)| pid)
            .collect();
        out.sort();
        out
    }

    fn is_down(&self, id: ProcId) -> bool {
        self.procs
            .get(&id)
            .is_none_or(|p| p.sm.state().is_stopped())
    }

    /// Shutdown: stops `id` once everything that depends on it is down, stopping those first.
    /// Returns true if `id` was stopped (or given up) now.
    pub(super) fn stop_after_dependents(&mut self, id: ProcId, seen: &mut HashSet<ProcId>) -> bool {
        if !seen.insert(id) {
            return false;
        }
        if self.readiness.has_deps {
            let up: Vec<ProcId> = self
                .dependents(id)
                .into_iter()
                .filter(|&d| !self.is_down(d))
                .collect();
            if !up.is_empty() {
                for d in up {
                    self.stop_after_dependents(d, seen);
                }
                return false;
            }
        }
        match self.procs.get(&id).map(|p| p.sm.state()) {
            Some(ProcessState::Running | ProcessState::Starting) => {
                self.input(id, Input::Stop);
                true
            }
            Some(ProcessState::Backoff) => {
                self.input(id, Input::GiveUp);
                true
            }
            _ => false,
        }
    }

    /// For a group or "all" stop: the processes of `ids` that others in `ids` depend on are queued until
    /// those dependents are down. Returns the ids to stop now.
    pub(super) fn queue_dependency_stops(&mut self, ids: &[ProcId]) -> Vec<ProcId> {
        if !self.readiness.has_deps {
            return ids.to_vec();
        }
        let set: HashSet<ProcId> = ids.iter().copied().collect();
        let mut now = Vec::new();
        for &id in ids {
            let waits_for: Vec<ProcId> = self
                .dependents(id)
                .into_iter()
                .filter(|d| set.contains(d) && !self.is_down(*d))
                .collect();
            if waits_for.is_empty() {
                now.push(id);
            } else {
                self.readiness.stop_queue.push((id, waits_for));
            }
        }
        now
    }

    /// Stops queued processes whose dependents are down. Returns true if it stopped any.
    pub(super) fn run_stop_queue(&mut self) -> bool {
        if self.readiness.stop_queue.is_empty() {
            return false;
        }
        let queue = std::mem::take(&mut self.readiness.stop_queue);
        let mut stopped = false;
        for (id, waits_for) in queue {
            if !self.procs.contains_key(&id) {
                continue;
            }
            if waits_for.iter().all(|&d| self.is_down(d)) {
                // Leaving the queue ends a `stopAllProcesses(wait)` waiter's wait, input or not.
                self.touch(id);
                if self
                    .procs
                    .get(&id)
                    .is_some_and(|p| p.sm.state().is_running())
                {
                    self.input(id, Input::Stop);
                    stopped = true;
                }
            } else {
                self.readiness.stop_queue.push((id, waits_for));
            }
        }
        stopped
    }

    /// Whether `id` is queued to stop after its dependents.
    pub(super) fn stop_queued(&self, id: ProcId) -> bool {
        self.readiness.stop_queue.iter().any(|(q, _)| *q == id)
    }

    /// A callback that reports a passed check of `id`'s child `pid` (0: whichever child is current).
    fn on_pass(&self, id: ProcId, pid: i32) -> OnPass {
        let tx = self.internal_tx.clone();
        Arc::new(move || {
            let _ = tx.send(Internal::Ready { id, pid });
        })
    }

    /// A passed check: STARTING -> RUNNING if it is still about the current child.
    pub(super) fn check_passed(&mut self, id: ProcId, pid: i32) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        if proc.sm.state() != ProcessState::Starting || (pid != 0 && proc.sm.pid() != pid) {
            return;
        }
        self.input(id, Input::Ready);
    }

    /// `notify`: the program's socket path for `NOTIFY_SOCKET`, creating the socket on first use.
    pub(super) fn notify_socket(&mut self, id: ProcId) -> Result<Option<OsString>, String> {
        use std::os::unix::fs::PermissionsExt;
        let Some(proc) = self.procs.get(&id) else {
            return Ok(None);
        };
        if proc.config.ready_check != Some(ReadyCheck::Notify) {
            return Ok(None);
        }
        if let Some(s) = &proc.ready.notify {
            return Ok(Some(s.path().as_os_str().to_owned()));
        }
        if self.readiness.notify_dir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("procd-notify-")
                .tempdir()
                .map_err(|e| format!("cannot create the NOTIFY_SOCKET directory: {e}"))?;
            // Programs running as another user must reach their socket (the socket itself is 0600).
            let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711));
            self.readiness.notify_dir = Some(dir);
        }
        let dir = self
            .readiness
            .notify_dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default();
        let path = dir.join(format!("{}.sock", id.0));
        let owner = proc.config.user.as_ref().map(|u| (u.uid, u.gid));
        let on_ready = self.on_pass(id, 0);
        let socket = NotifySocket::bind(&path, owner, on_ready)
            .map_err(|e| format!("cannot create NOTIFY_SOCKET {}: {e}", path.display()))?;
        let shown = socket.path().as_os_str().to_owned();
        if let Some(p) = self.procs.get_mut(&id) {
            p.ready.notify = Some(socket);
        }
        Ok(Some(shown))
    }

    /// `log:` checks: the watch the new child's output pumps feed, armed until the check passes.
    pub(super) fn log_watch(&mut self, id: ProcId, pid: i32) -> Option<LogWatch> {
        let proc = self.procs.get(&id)?;
        let Some(ReadyCheck::Log { pattern }) = &proc.config.ready_check else {
            return None;
        };
        let watch = match LogWatch::new(pattern, self.on_pass(id, pid)) {
            Ok(w) => w,
            Err(e) => {
                self.log(
                    Level::Error,
                    format!("bad log: pattern for {}: {e}", proc.config.name),
                );
                return None;
            }
        };
        if let Some(p) = self.procs.get_mut(&id) {
            p.ready.log_done = Some(watch.done_flag());
        }
        Some(watch)
    }

    /// Starts polling a tcp/http/exec check for the child `pid` just spawned.
    pub(super) fn arm_ready_check(&mut self, id: ProcId, pid: i32) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let Some(check) = proc.config.ready_check.clone() else {
            return;
        };
        let name = proc.config.name.clone();
        let interval = proc.config.ready_interval;
        let exec = match &check {
            ReadyCheck::Exec { argv, .. } => match self.exec_spec(id, argv) {
                Ok(spec) => Some(probes::ExecCheck {
                    spec,
                    children: self.readiness.exec_children.clone(),
                    os: self.os.checks(),
                }),
                Err(e) => {
                    self.log(
                        Level::Warn,
                        format!("ready check of {name} cannot run: {e}"),
                    );
                    return;
                }
            },
            _ => None,
        };
        let on_pass = self.on_pass(id, pid);
        if let Some(handle) = probes::poll(&check, interval, exec, on_pass)
            && let Some(p) = self.procs.get_mut(&id)
        {
            p.ready.disarm();
            p.ready.probe = Some(handle);
        }
    }

    /// How an exec check runs: the program's environment, directory, user and umask.
    fn exec_spec(&self, id: ProcId, argv: &[String]) -> Result<probes::ExecSpec, String> {
        let cfg = &self.procs.get(&id).ok_or("the process is gone")?.config;
        let argv0 = argv.first().ok_or("the command is empty")?;
        let program_path = cfg
            .environment
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let daemon_path = std::env::var("PATH").ok();
        let program = self
            .os
            .resolve_command(argv0, program_path, daemon_path.as_deref())?;
        let from_files = procd_config::envfile::read_all(&cfg.environment_files)?;
        let env = self.child_env(cfg, &from_files);
        let argv = argv.to_vec();
        let directory = cfg.directory.clone();
        let umask = cfg.umask;
        let user = cfg.user.as_ref().map(|u| sys::SpawnUser {
            uid: u.uid,
            gid: u.gid,
            groups: sys::users::supplementary_groups(&u.name, u.gid),
        });
        let minfds = self.config.supervisord.minfds;
        Ok(Arc::new(move || {
            Ok(sys::SpawnSpec {
                program: program.clone(),
                argv: argv.clone(),
                env: env.clone(),
                directory: directory.clone(),
                umask,
                user: user.clone(),
                redirect_stderr: true,
                // The check's output is not read: it goes to /dev/null.
                stdout_pipe: false,
                stderr_pipe: false,
                stdin: sys::StdinMode::Pipe,
                shared_stdio: false,
                minfds,
                cgroup_procs: None,
            })
        }))
    }

    /// Entered RUNNING: starts the liveness check, if any.
    pub(super) fn arm_liveness(&mut self, id: ProcId, pid: i32) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let Some(l) = proc.config.liveness.clone() else {
            return;
        };
        let name = proc.config.name.clone();
        let exec = match &l.check {
            ReadyCheck::Exec { argv, .. } => match self.exec_spec(id, argv) {
                Ok(spec) => Some(probes::ExecCheck {
                    spec,
                    children: self.readiness.exec_children.clone(),
                    os: self.os.checks(),
                }),
                Err(e) => {
                    self.log(
                        Level::Warn,
                        format!("liveness check of {name} cannot run: {e}"),
                    );
                    return;
                }
            },
            _ => None,
        };
        let tx = self.internal_tx.clone();
        let on_fail: probes::OnFail = Arc::new(move |reason| {
            let _ = tx.send(Internal::LivenessFailed { id, pid, reason });
        });
        let plan = probes::LivenessPlan {
            interval: l.interval,
            timeout: l.timeout,
            failures: l.failures,
        };
        let handle = probes::watch_liveness(&l.check, plan, exec, on_fail);
        if let Some(p) = self.procs.get_mut(&id) {
            if let Some(old) = p.ready.liveness.take() {
                old.abort();
            }
            p.ready.liveness = handle;
        }
    }

    /// Left RUNNING: ends the liveness check.
    pub(super) fn disarm_liveness(&mut self, id: ProcId) {
        if let Some(l) = self
            .procs
            .get_mut(&id)
            .and_then(|p| p.ready.liveness.take())
        {
            l.abort();
        }
    }

    /// A liveness check failed `liveness_failures` times in a row: log it and act.
    pub(super) fn liveness_failed(&mut self, id: ProcId, pid: i32, reason: &str) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let Some(l) = &proc.config.liveness else {
            return;
        };
        if proc.sm.state() != ProcessState::Running || proc.sm.pid() != pid {
            return;
        }
        let action = l.action;
        let what = match action {
            procd_config::LivenessAction::Restart => ", restarting it",
            procd_config::LivenessAction::Stop => ", stopping it",
            procd_config::LivenessAction::Log => "",
        };
        let text = format!(
            "liveness check {} of {} failed {} times in a row ({reason}){what}",
            l.check.label(),
            proc.config.name,
            l.failures
        );
        self.log(Level::Warn, text);
        match action {
            procd_config::LivenessAction::Log => {}
            procd_config::LivenessAction::Stop => {
                self.input(id, Input::Stop);
            }
            procd_config::LivenessAction::Restart => {
                self.readiness.restarts.push(id);
                self.input(id, Input::Stop);
            }
        }
    }

    /// Starts again the processes a liveness check stopped, once they are down. Returns true if it
    /// started any.
    pub(super) fn run_liveness_restarts(&mut self) -> bool {
        if self.readiness.restarts.is_empty() || self.mood != SupervisorState::Running {
            return false;
        }
        let mut started = false;
        for id in std::mem::take(&mut self.readiness.restarts) {
            match self.procs.get(&id).map(|p| p.sm.state()) {
                Some(ProcessState::Stopping) => self.readiness.restarts.push(id),
                Some(s) if s.is_stopped() => {
                    self.input(id, Input::Start);
                    started = true;
                }
                _ => {}
            }
        }
        started
    }

    /// The check is no longer pending (the process left STARTING): end its probe.
    pub(super) fn disarm_ready_check(&mut self, id: ProcId) {
        if let Some(p) = self.procs.get_mut(&id) {
            p.ready.disarm();
        }
    }
}
