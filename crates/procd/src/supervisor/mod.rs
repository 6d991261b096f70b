//! The supervisor actor: the single owner of every group's and process's state.
//!
//! Everything else (the XML-RPC layer, signal handlers) holds a cloneable [`Handle`] and sends messages.
//! The loop sleeps until the earliest deadline any process needs (startsecs, backoff, stopwaitsecs) or a
//! message, child exit or signal arrives: an idle procd does not wake up. Child output does not pass
//! through here: each pipe is pumped to its log file by its own task ([`output`]).

mod cgroups;
mod deferred;
mod faults;
mod fcgi;
mod leftovers;
mod methods;
mod os;
mod output;
mod procs;
mod publish;
mod readiness;
mod shutdown;
mod spawn;
mod stdin;
#[cfg(test)]
mod tests;
mod timers;
mod types;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procd_config::Config;
use procd_core::{Effect, Input, Level, Now};
use procd_protocol::{Fault, ProcessState, Signal, SupervisorCall, SupervisorState, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::events::{Event, EventBus, Ticker};
use crate::logger::Logger;
use crate::sys;
use crate::telemetry::Telemetry;

use deferred::Pending;
use deferred::Reply;
use faults::shutting_down;
pub use os::{Notice, Os, RealOs};
use procs::{Group, Proc};
pub use types::{Internal, ProcId};

/// A request to the actor.
#[derive(Debug)]
enum Request {
    /// A `supervisor.*` method call, decoded and checked by the XML-RPC layer.
    Call {
        call: SupervisorCall,
        reply: oneshot::Sender<Result<Value, Fault>>,
    },
}

/// Cloneable access to the actor, used by the HTTP/XML-RPC layer.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Request>,
    logs: LogIndex,
    mood: Arc<AtomicI32>,
    reloads: Arc<watch::Sender<u64>>,
    changes: Arc<watch::Sender<u64>>,
    telemetry: Arc<Telemetry>,
}

impl Handle {
    /// Changes whenever a process changes state or processes are added or removed (what the web UI's
    /// live table follows). Nothing runs for it when nobody subscribes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Changes at every reload, when every process and its log files are replaced (supervisord drops
    /// its HTTP connections then, ending child-log followers).
    pub fn reloads(&self) -> watch::Receiver<u64> {
        self.reloads.subscribe()
    }

    /// The supervisor's state as of its last change, read without a round trip to the actor. The actor
    /// stores a new state before it answers the call that caused it, so a client that asked for a
    /// shutdown sees SHUTDOWN on its next `getState`.
    pub fn state(&self) -> SupervisorState {
        SupervisorState::from_code(self.mood.load(Ordering::Acquire))
            .unwrap_or(SupervisorState::Shutdown)
    }

    /// Runs one `supervisor.*` method; resolves when the method's result is known (deferred calls such as
    /// `startProcess(wait=True)` resolve when the target state is reached).
    pub async fn call(&self, call: SupervisorCall) -> Result<Value, Fault> {
        let (reply, rx) = oneshot::channel();
        let req = Request::Call { call, reply };
        if self.tx.send(req).is_err() {
            return Err(shutting_down());
        }
        rx.await.unwrap_or_else(|_| Err(shutting_down()))
    }

    /// Process states and counters for `/metrics`, `/readyz` and systemd (no round trip to the actor).
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// The log file of `namespec`'s `channel`, if it has one (for `/logtail`; no round trip to the actor).
    pub fn log_path(&self, namespec: &str, stderr: bool) -> Option<PathBuf> {
        let index = self
            .logs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let [out, err] = index.get(namespec)?;
        if stderr { err.clone() } else { out.clone() }
    }
}

/// Log paths by namespec, `[stdout, stderr]`, kept current by the actor for the HTTP layer.
pub type LogIndex = Arc<RwLock<HashMap<String, [Option<PathBuf>; 2]>>>;

/// A process's entry in the [`LogIndex`]: its namespec and its stdout and stderr log paths.
fn log_entry(proc: &Proc) -> (String, [Option<PathBuf>; 2]) {
    (
        proc.namespec(),
        [proc.stdout_path.clone(), proc.stderr_path.clone()],
    )
}

/// While at most this many processes are STOPPING, a SIGCHLD asks their children directly before
/// walking all of them (see [`Supervisor::reap`]).
const TARGETED_REAP_MAX: usize = 8;

/// How soon after a targeted reap every other exited child is collected.
const SWEEP_DELAY: Duration = Duration::from_millis(20);

/// Re-reads the configuration file for `reloadConfig` and reloads; the error is the CANT_REREAD text.
pub type Loader = Arc<dyn Fn() -> Result<Config, String> + Send + Sync>;

/// Why the actor's loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every process is stopped and procd should exit.
    Shutdown,
    /// Every process is stopped and procd should re-read its configuration and start again.
    Restart,
}

/// The actor.
pub struct Supervisor {
    config: Arc<Config>,
    /// The configuration as last read by `reloadConfig` (what `addProcessGroup` and `avail` see).
    last_read: Arc<Config>,
    /// Counts configuration reads; groups remember the one they were created from.
    read_generation: u64,
    groups: Vec<Group>,
    /// Index of `groups` by name, kept by `add_group`, `remove_group` and `reset`: finding a group (and
    /// so a process) by name costs the same with 10,000 groups as with one.
    group_pos: HashMap<String, usize>,
    procs: HashMap<ProcId, Proc>,
    /// Every process's next deadline (see [`timers`]), kept by [`Supervisor::refresh_deadline`].
    deadlines: timers::Deadlines,
    pids: HashMap<i32, ProcId>,
    /// Processes in STOPPING: the children whose exit a SIGCHLD most likely reports (see
    /// [`Supervisor::reap`]).
    stopping: std::collections::HashSet<ProcId>,
    /// When the exits a targeted reap may have left behind are collected by a full one.
    sweep_at: Option<Duration>,
    next_id: u64,
    mood: SupervisorState,
    /// `mood`'s code, shared with every [`Handle`] (see [`Handle::state`]).
    shared_mood: Arc<AtomicI32>,
    /// Counts reloads (see [`Handle::reloads`]).
    reloads: Arc<watch::Sender<u64>>,
    /// Counts state changes and added or removed processes (see [`Handle::changes`]).
    changes: Arc<watch::Sender<u64>>,
    /// Groups still to stop during shutdown/reload, in the order they stop (see [`shutdown`]).
    stop_groups: Option<std::collections::VecDeque<String>>,
    last_die_report: Option<Instant>,
    /// Until when shutdown waits for an event-listener pool to drain (see `listener_pool_busy`).
    drain_deadline: Option<Instant>,
    pending: Vec<Pending>,
    /// Processes that took an input (other than a stop report) or changed state since deferred replies
    /// were last polled; `polled` holds the previous batch while they are polled (see
    /// `methods::control::AllOp`).
    touched: Vec<ProcId>,
    polled: Vec<ProcId>,
    logger: Logger,
    /// The monotonic epoch of the core's [`Now`] (tokio's clock: the test clock under
    /// `tokio::time::pause()`).
    epoch: Instant,
    /// procd's own environment at startup: the base of every child's environment.
    base_env: Vec<(OsString, OsString)>,
    rx: mpsc::UnboundedReceiver<Request>,
    /// Keeps `rx` open while the actor runs (handles may all be dropped between reloads).
    tx: mpsc::UnboundedSender<Request>,
    loader: Loader,
    logs: LogIndex,
    /// Event listener pools and the global event serial.
    bus: EventBus,
    /// procd's stdout as `supervisor_stdout:event_handler` prints to it.
    print_state: crate::events::SoftSpace,
    ticker: Ticker,
    /// Output pumps report listener protocol bytes and output events here.
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    /// `depends_on=` and ready checks (procd extensions).
    readiness: readiness::Readiness,
    /// `kill_mode = cgroup`: the instance's root cgroup, or why cgroup v2 is not usable (`None` until a
    /// program needs it).
    cgroups: Option<Result<sys::cgroup::CgroupRoot, String>>,
    /// Spawning, signalling, reaping and signal notices.
    os: Box<dyn Os>,
    /// What `/metrics`, `/readyz` and systemd see; fed at every state change.
    telemetry: Arc<Telemetry>,
    /// Running children by pid and the children file that lists them (see `leftovers`).
    children: leftovers::Children,
    /// How the configuration fits procd's descriptor limit (see [`Supervisor::set_fd_plan`]).
    fd_plan: crate::fdbudget::Plan,
    /// The bounded set of open child log files, under a plan that bounds them.
    open_logs: Option<Arc<crate::logs::OpenFiles>>,
    /// Descriptors the active groups need with everything running (`crate::fdbudget`), kept by
    /// `add_group` and `remove_group`.
    fd_need: u64,
    /// The largest `fd_need` the soft RLIMIT_NOFILE was already checked (and raised) for: the daemon
    /// checks the first configuration before the actor exists (and warns on stderr too).
    fd_checked: u64,
}

impl Supervisor {
    /// Builds the actor for `config`; groups are created by [`Supervisor::run`].
    pub fn new(config: Arc<Config>, logger: Logger, loader: Loader) -> Self {
        Self::with_os(config, logger, loader, Box::new(RealOs::default()))
    }

    /// [`Supervisor::new`] over another [`Os`] (the actor tests' fake).
    pub fn with_os(config: Arc<Config>, logger: Logger, loader: Loader, os: Box<dyn Os>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let bus = EventBus::new(config.supervisord.identifier.clone());
        let fd_checked = crate::fdbudget::need(&config).total;
        Supervisor {
            last_read: Arc::clone(&config),
            read_generation: 0,
            config,
            groups: Vec::new(),
            group_pos: HashMap::new(),
            procs: HashMap::new(),
            deadlines: timers::Deadlines::default(),
            pids: HashMap::new(),
            stopping: std::collections::HashSet::new(),
            sweep_at: None,
            next_id: 0,
            mood: SupervisorState::Running,
            shared_mood: Arc::new(AtomicI32::new(SupervisorState::Running.code())),
            reloads: Arc::new(watch::Sender::new(0)),
            changes: Arc::new(watch::Sender::new(0)),
            stop_groups: None,
            last_die_report: None,
            drain_deadline: None,
            pending: Vec::new(),
            touched: Vec::new(),
            polled: Vec::new(),
            logger,
            epoch: Instant::now(),
            print_state: crate::events::SoftSpace::default(),
            base_env: std::env::vars_os()
                .filter(|(k, _)| !crate::notify::HIDDEN_FROM_CHILDREN.iter().any(|h| k == h))
                .collect(),
            rx,
            tx,
            loader,
            logs: LogIndex::default(),
            bus,
            ticker: Ticker::new(SystemTime::now()),
            internal_tx,
            internal_rx,
            readiness: readiness::Readiness::default(),
            cgroups: None,
            os,
            telemetry: Arc::default(),
            children: leftovers::Children::default(),
            fd_plan: crate::fdbudget::Plan::default(),
            open_logs: None,
            fd_need: crate::fdbudget::RESERVE,
            fd_checked,
        }
    }

    /// Fits the programs into a descriptor limit too low for supervisord's way (see
    /// [`crate::fdbudget::plan`]): from now on, log files opened and children spawned follow `plan`.
    pub fn set_fd_plan(&mut self, plan: crate::fdbudget::Plan) {
        self.fd_plan = plan;
        self.open_logs = plan.open_logs.map(|n| {
            Arc::new(crate::logs::OpenFiles::new(
                usize::try_from(n).unwrap_or(usize::MAX),
            ))
        });
    }

    pub fn handle(&self) -> Handle {
        Handle {
            tx: self.tx.clone(),
            logs: Arc::clone(&self.logs),
            mood: Arc::clone(&self.shared_mood),
            reloads: Arc::clone(&self.reloads),
            changes: Arc::clone(&self.changes),
            telemetry: Arc::clone(&self.telemetry),
        }
    }

    /// Replaces the configuration after a reload (SIGHUP / `restart`), keeping the same actor and handles.
    pub fn reset(&mut self, config: Arc<Config>) {
        self.reloads.send_modify(|n| *n += 1);
        self.telemetry.clear();
        self.groups.clear();
        self.group_pos.clear();
        self.procs.clear();
        self.deadlines.clear();
        self.pids.clear();
        self.stopping.clear();
        self.sweep_at = None;
        self.children.clear();
        self.fd_need = crate::fdbudget::RESERVE;
        self.fd_checked = 0;
        self.pending.clear();
        self.touched.clear();
        self.stop_groups = None;
        self.last_die_report = None;
        self.drain_deadline = None;
        self.readiness.reset();
        self.set_mood(SupervisorState::Running);
        self.bus = EventBus::new(config.supervisord.identifier.clone());
        self.ticker = Ticker::new(SystemTime::now());
        self.last_read = Arc::clone(&config);
        self.config = config;
        self.cgroups = None;
        self.refresh_log_index();
    }

    /// Adds (or removes) the log paths of these processes in the index `/logtail` reads. Only the group
    /// that changed is touched, so loading N groups stays linear.
    fn index_logs(&self, ids: impl Iterator<Item = ProcId>, add: bool) {
        self.changed();
        let mut index = self
            .logs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for proc in ids.filter_map(|id| self.procs.get(&id)) {
            if add {
                let (name, paths) = log_entry(proc);
                index.insert(name, paths);
            } else {
                index.remove(&proc.namespec());
            }
        }
    }

    /// Publishes the current log paths for `/logtail`, all of them anew.
    fn refresh_log_index(&self) {
        self.changed();
        let mut index = self
            .logs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        index.clear();
        index.extend(self.procs.values().map(log_entry));
    }

    /// Tells [`Handle::changes`] subscribers that the process table changed.
    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn now(&self) -> Now {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Now::new(self.epoch.elapsed(), wall)
    }

    fn log(&self, level: Level, text: impl AsRef<str>) {
        self.logger.log(level, text.as_ref());
    }

    /// Runs until every process is stopped after a shutdown or restart request.
    pub async fn run(&mut self) -> std::io::Result<Exit> {
        self.os.listen()?;

        let configs = self.config.groups.clone();
        for group in &configs {
            self.add_group(group);
        }
        self.ensure_fds();
        self.init_cgroups();
        self.stop_leftovers();
        self.log(
            Level::Info,
            format!("supervisord started with pid {}", std::process::id()),
        );
        self.publish(Event::SupervisorStateChangeRunning);
        self.telemetry.started();
        // Children may have exited before the SIGCHLD stream existed (on reload).
        self.reap_all();

        loop {
            self.drive();
            self.write_children();
            if self.mood != SupervisorState::Running
                && self
                    .stop_groups
                    .as_ref()
                    .is_some_and(std::collections::VecDeque::is_empty)
            {
                self.fail_pending();
                if self.mood != SupervisorState::Restarting {
                    self.remove_cgroups();
                    self.remove_children_file();
                }
                return Ok(if self.mood == SupervisorState::Restarting {
                    Exit::Restart
                } else {
                    Exit::Shutdown
                });
            }
            let deadline = self.next_deadline().map(|d| self.epoch + d);
            let os = &mut self.os;
            tokio::select! {
                Some(req) = self.rx.recv() => self.on_request(req),
                Some(msg) = self.internal_rx.recv() => self.on_internal(msg),
                notice = std::future::poll_fn(|cx| os.poll_notice(cx)) => match notice {
                    Notice::ChildExited => {
                        self.log(Level::Debug, "received SIGCHLD indicating a child quit");
                        self.reap();
                    }
                    Notice::Signal(sig) => self.on_signal(sig),
                },
                () = sleep_until(deadline) => {}
            }
        }
    }

    fn on_request(&mut self, req: Request) {
        match req {
            Request::Call { call, reply } => match self.dispatch(call) {
                Reply::Now(result) => {
                    let _ = reply.send(result);
                }
                Reply::Later(deferred) => self.pending.push(Pending::new(deferred, reply)),
            },
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        match sig {
            Signal::TERM | Signal::INT | Signal::QUIT => {
                self.log(
                    Level::Warn,
                    format!("received {} indicating exit request", sig.name()),
                );
                self.request_mood(SupervisorState::Shutdown);
            }
            Signal::HUP => {
                if self.mood == SupervisorState::Shutdown {
                    self.log(
                        Level::Warn,
                        "ignored SIGHUP indicating restart request (shutdown in progress)",
                    );
                } else {
                    self.log(Level::Warn, "received SIGHUP indicating restart request");
                    self.request_mood(SupervisorState::Restarting);
                }
            }
            Signal::USR2 => {
                self.log(
                    Level::Info,
                    "received SIGUSR2 indicating log reopen request",
                );
                self.logger.reopen();
                for proc in self.procs.values() {
                    proc.reopen_logs(&self.logger);
                }
            }
            _ => {}
        }
    }

    /// After a SIGCHLD: reaps the exited children and feeds the exits to their state machines, each as
    /// soon as it is collected (a batch of exits is not first collected in full, so the last child of a
    /// `stopAllProcesses` is reaped right before its reply is sent, not ahead of all the others' work).
    ///
    /// `waitpid(-1)` walks every child in the kernel, and a loop of them ends with a walk that finds
    /// nothing: two full walks per exit, O(N²) for a shutdown that stops N groups one after the other.
    /// So while only a few processes are STOPPING (those a SIGCHLD most likely reports), their children
    /// are asked directly (`waitpid(pid)` looks at that one child); if one of them had exited, the full
    /// walk, for exits the same SIGCHLD may also stand for (signals coalesce), follows within
    /// [`SWEEP_DELAY`] instead of at once, so it is shared by all the exits of that span. Before that,
    /// the pids the SIGCHLDs themselves named (`si_pid`, [`Os::exit_hints`]) are asked the same way:
    /// a crash of one program among 10,000 costs one `waitpid(pid)`, not two walks of 10,000 children.
    fn reap(&mut self) {
        // The pids the SIGCHLDs named (a crash, a stop): asked directly, the full walk deferred.
        if let Some(pids) = self.os.exit_hints()
            && self.reap_these(pids)
        {
            return;
        }
        if !self.stopping.is_empty() && self.stopping.len() <= TARGETED_REAP_MAX {
            let pids: Vec<i32> = self
                .stopping
                .iter()
                .filter_map(|id| self.procs.get(id))
                .map(|p| p.sm.pid())
                .filter(|&pid| pid > 0)
                .collect();
            if self.reap_these(pids) {
                return;
            }
        }
        self.reap_all();
    }

    /// Reaps those of `pids` that have exited (`waitpid(pid)` each); if any had, schedules the full walk
    /// for exits their SIGCHLD may also stand for within [`SWEEP_DELAY`] and returns true.
    fn reap_these(&mut self, pids: Vec<i32>) -> bool {
        let mut reaped = false;
        for pid in pids {
            if let Some(status) = self.os.reap_pid(pid) {
                self.child_exited(pid, status);
                reaped = true;
            }
        }
        if reaped {
            let at = self.epoch.elapsed() + SWEEP_DELAY;
            self.sweep_at.get_or_insert(at);
        }
        reaped
    }

    /// Reaps every exited child (`waitpid(-1)` until nothing is left).
    fn reap_all(&mut self) {
        self.sweep_at = None;
        while let Some((pid, status)) = self.os.reap_any() {
            self.child_exited(pid, status);
        }
    }

    /// Reaps just this process's child if it has already exited (the check after starting or stopping
    /// one process; any other exit is collected on the SIGCHLD that follows it).
    fn reap_process(&mut self, id: ProcId) {
        let Some(pid) = self.procs.get(&id).map(|p| p.sm.pid()) else {
            return;
        };
        if let Some(status) = self.os.reap_pid(pid) {
            self.child_exited(pid, status);
        }
    }

    fn child_exited(&mut self, pid: i32, status: sys::WaitStatus) {
        if !self.pids.contains_key(&pid) && self.readiness.exec_children.reaped(pid, status) {
            return;
        }
        let status = match status {
            sys::WaitStatus::Exited(code) => procd_core::WaitStatus::Exited(code),
            sys::WaitStatus::Signaled {
                signal,
                core_dumped,
            } => procd_core::WaitStatus::Signaled {
                signal,
                core_dumped,
            },
        };
        match self.pids.remove(&pid) {
            Some(id) => {
                self.child_ended(pid);
                // Bookkeeping first: the exit may restart the process at once (autorestart with
                // startsecs=0), and the new child must not lose its listener or socket state.
                self.child_reaped(id);
                self.input(id, Input::Exited { pid, status });
            }
            None => {
                let (_, text) = status.decode();
                self.log(Level::Info, format!("reaped unknown pid {pid} ({text})"));
            }
        }
    }

    /// Runs due timers, the shutdown sequence and pending deferred replies until nothing is left to do now.
    fn drive(&mut self) {
        if self.sweep_at.is_some_and(|at| at <= self.epoch.elapsed()) {
            self.reap_all();
        }
        for _ in 0..64 {
            // procd extensions: dependency conditions and stops waiting for dependents.
            let deps_fed = self.update_dependencies();
            let queued = self.run_stop_queue() | self.run_liveness_restarts();
            let now = self.now();
            // Group order, then config order: spawns happen in supervisord's order.
            let mut due: Vec<(usize, usize, ProcId)> = self
                .deadlines
                .due(now.mono)
                .into_iter()
                .filter_map(|id| {
                    let proc = self.procs.get(&id)?;
                    Some((self.group_pos(&proc.config.group)?, proc.slot, id))
                })
                .collect();
            due.sort_unstable();
            // Every group that has finished stopping is dropped at once: a shutdown or reload with
            // hundreds of groups already stopped must not wait for a deadline per batch.
            let mut stopping = false;
            while self.mood != SupervisorState::Running && self.shutdown_step() {
                stopping = true;
            }
            if due.is_empty() && !stopping && !deps_fed && !queued {
                break;
            }
            for (_, _, id) in due {
                self.input(id, Input::Tick);
            }
        }
        self.tick_events();
        self.poll_pending();
    }

    /// Publishes TICK_* events whose boundary has passed (only armed while a pool subscribes to them).
    fn tick_events(&mut self) {
        let bus = &self.bus;
        let Some(due) = self.ticker.next_wakeup(|n| bus.wants(n)) else {
            return;
        };
        let now = SystemTime::now();
        if due <= now {
            for event in self.ticker.poll(now) {
                self.publish(event);
            }
        }
    }

    /// The earliest moment the loop must wake up without outside input (monotonic, since `epoch`).
    fn next_deadline(&self) -> Option<Duration> {
        let procs = self.deadlines.earliest().into_iter();
        let reports = self.pending.iter().filter_map(Pending::next_report);
        let sweep = self.sweep_at;
        let dying = (self.mood != SupervisorState::Running)
            .then(|| self.epoch.elapsed() + Duration::from_secs(3));
        let drain = self
            .drain_deadline
            .map(|d| d.saturating_duration_since(self.epoch));
        let bus = &self.bus;
        let tick = self.ticker.next_wakeup(|n| bus.wants(n)).map(|at| {
            let wait = at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            self.epoch.elapsed() + wait
        });
        procs
            .chain(sweep)
            .chain(reports)
            .chain(dying)
            .chain(drain)
            .chain(tick)
            .min()
    }

    /// Applies one input to a process and carries out the effects. Returns the text of a refused request
    /// (`Effect::Failed`), if any.
    fn input(&mut self, id: ProcId, first: Input) -> Option<String> {
        self.apply(id, first, None)
    }

    /// [`Supervisor::input`], with the file `startProcess` has just found for the command: the spawn
    /// this input causes executes it instead of searching `PATH` again.
    fn apply(&mut self, id: ProcId, first: Input, mut program: Option<PathBuf>) -> Option<String> {
        if !matches!(first, Input::StopReport) {
            self.touch(id);
        }
        let mut failed = None;
        let mut queue = std::collections::VecDeque::from([first]);
        while let Some(input) = queue.pop_front() {
            let now = self.now();
            let mood = self.mood;
            let Some(proc) = self.procs.get_mut(&id) else {
                break;
            };
            let effects = proc.sm.handle(input, now, mood);
            for effect in effects {
                match effect {
                    Effect::Log { level, text } => self.log(level, text),
                    Effect::StateChanged(change) => self.on_state_change(id, change),
                    Effect::Spawn => queue.push_back(match self.spawn(id, program.take()) {
                        Ok(pid) => Input::Spawned { pid },
                        Err(message) => Input::SpawnFailed { message },
                    }),
                    Effect::Kill {
                        pid,
                        signal,
                        to_group,
                    } => {
                        let res = if to_group {
                            self.os.kill_group(pid, signal)
                        } else {
                            self.os.kill(pid, signal)
                        };
                        if signal == Signal::KILL {
                            self.kill_cgroup(id, "after stopwaitsecs");
                        }
                        if let Err(e) = res {
                            queue.push_back(Input::KillFailed(signal_error(&e)));
                        }
                    }
                    Effect::Signal { pid, signal } => {
                        if let Err(e) = self.os.kill(pid, signal) {
                            queue.push_back(Input::SignalFailed(signal_error(&e)));
                        }
                    }
                    Effect::Failed(text) => failed = Some(text),
                }
            }
        }
        self.refresh_deadline(id);
        failed
    }

    /// Re-reads `id`'s next deadline into the index (after an input, or when the supervisor's state
    /// changed); a process that is gone leaves the index.
    fn refresh_deadline(&mut self, id: ProcId) {
        let deadline = self
            .procs
            .get(&id)
            .and_then(|p| p.sm.next_deadline(self.mood));
        self.deadlines.set(id, deadline);
    }

    /// Records that `id`'s state machine (or its place in the stop queue) changed, for the deferred
    /// replies that wait for it.
    fn touch(&mut self, id: ProcId) {
        self.touched.push(id);
    }

    fn on_state_change(&mut self, id: ProcId, change: procd_core::Change) {
        self.touch(id);
        if change.to == ProcessState::Stopping {
            self.stopping.insert(id);
        } else if change.from == ProcessState::Stopping {
            self.stopping.remove(&id);
        }
        self.changed();
        self.readiness.dirty = true;
        if change.from == ProcessState::Starting {
            self.disarm_ready_check(id);
        }
        if change.to == ProcessState::Running {
            self.arm_liveness(id, change.pid);
        } else if change.from == ProcessState::Running {
            self.disarm_liveness(id);
        }
        if let Some(proc) = self.procs.get(&id) {
            let now = crate::telemetry::Snapshot {
                start_time: proc.sm.start_time(),
                exit_status: proc.sm.exitstatus(),
            };
            self.telemetry.state_changed(&proc.stats, &change, now);
        }
        self.publish_state(id, change);
        if (change.to.is_stopped() || change.to == ProcessState::Backoff)
            && let Some(proc) = self.procs.get_mut(&id)
        {
            proc.child_gone();
        }
    }

    fn poll_pending(&mut self) {
        self.polled = std::mem::take(&mut self.touched);
        let mut pending = std::mem::take(&mut self.pending);
        pending.retain_mut(|p| !p.poll(self));
        pending.append(&mut self.pending);
        self.pending = pending;
    }

    /// Answers every waiting client once the loop ends.
    fn fail_pending(&mut self) {
        self.poll_pending();
        for p in self.pending.drain(..) {
            p.fail(shutting_down());
        }
    }
}

fn signal_error(e: &sys::KillError) -> procd_core::SignalError {
    procd_core::SignalError {
        no_such_process: matches!(e, sys::KillError::NoSuchProcess),
        detail: match e {
            sys::KillError::NoSuchProcess => "[Errno 3] No such process".to_owned(),
            other => other.to_string(),
        },
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
