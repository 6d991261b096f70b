//! The supervisor actor: the single owner of every group's and process's state.
//!
//! Everything else (the XML-RPC layer, signal handlers) holds a cloneable [`Handle`] and sends messages.
//! The loop sleeps until the earliest deadline any process needs (startsecs, backoff, stopwaitsecs) or a
//! message, child exit or signal arrives: an idle procd does not wake up. Child output does not pass
//! through here: each pipe is pumped to its log file by its own task ([`output`]).

mod cgroups;
mod deferred;
mod methods;
mod output;
mod procs;
mod readiness;
mod stdin;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use procd_config::Config;
use procd_core::{Effect, Input, Level, Now};
use procd_protocol::{Fault, ProcessState, Signal, SupervisorState, Value};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot, watch};

use crate::events::{Event, EventBus, ProcessRef, Ticker};
use crate::logger::Logger;
use crate::sys;

use deferred::Pending;
use deferred::Reply;
use procs::{Group, Proc, ProcId};

/// A request to the actor.
#[derive(Debug)]
enum Request {
    /// A `supervisor.*` method call, already checked for parameter count and types.
    Call {
        method: String,
        params: Vec<Value>,
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
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        let (reply, rx) = oneshot::channel();
        let req = Request::Call {
            method: method.to_owned(),
            params,
            reply,
        };
        if self.tx.send(req).is_err() {
            return Err(shutting_down());
        }
        rx.await.unwrap_or_else(|_| Err(shutting_down()))
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

fn shutting_down() -> Fault {
    Fault::new(procd_protocol::FaultCode::ShutdownState, None)
}

/// How long shutdown waits for an event-listener pool to deliver its buffered events.
const LISTENER_DRAIN: Duration = Duration::from_secs(5);

/// Log paths by namespec, `[stdout, stderr]`, kept current by the actor for the HTTP layer.
pub type LogIndex = Arc<RwLock<HashMap<String, [Option<PathBuf>; 2]>>>;

/// A process's entry in the [`LogIndex`]: its namespec and its stdout and stderr log paths.
fn log_entry(proc: &Proc) -> (String, [Option<PathBuf>; 2]) {
    (
        proc.namespec(),
        [proc.stdout_path.clone(), proc.stderr_path.clone()],
    )
}

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
    procs: HashMap<ProcId, Proc>,
    pids: HashMap<i32, ProcId>,
    next_id: u64,
    mood: SupervisorState,
    /// `mood`'s code, shared with every [`Handle`] (see [`Handle::state`]).
    shared_mood: Arc<AtomicI32>,
    /// Counts reloads (see [`Handle::reloads`]).
    reloads: Arc<watch::Sender<u64>>,
    /// Counts state changes and added or removed processes (see [`Handle::changes`]).
    changes: Arc<watch::Sender<u64>>,
    /// Groups still to stop during shutdown/reload, highest priority number last (popped first).
    stop_groups: Option<Vec<String>>,
    last_die_report: Option<Instant>,
    /// Until when shutdown waits for an event-listener pool to drain (see `listener_pool_busy`).
    drain_deadline: Option<Instant>,
    pending: Vec<Pending>,
    logger: Logger,
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
    /// The file `startProcess` found for this process's command a moment before spawning it: the spawn
    /// uses it instead of searching `PATH` a second time (see `start_one`).
    prechecked: Option<(ProcId, std::path::PathBuf)>,
    /// `depends_on=` and ready checks (procd extensions).
    readiness: readiness::Readiness,
    /// `kill_mode = cgroup`: the instance's root cgroup, or why cgroup v2 is not usable (`None` until a
    /// program needs it).
    cgroups: Option<Result<sys::cgroup::CgroupRoot, String>>,
}

/// Messages from the actor's own tasks (output pumps) back to the actor.
#[derive(Debug)]
pub enum Internal {
    /// Bytes an event listener wrote on its stdout (the protocol channel).
    ListenerOutput { id: ProcId, pid: i32, data: Vec<u8> },
    /// An event produced from child output (PROCESS_LOG_*, PROCESS_COMMUNICATION_*).
    Publish(Event),
    /// A ready check of child `pid` passed (0: the current child, for `notify`).
    Ready { id: ProcId, pid: i32 },
    /// The liveness check of child `pid` failed `liveness_failures` times in a row.
    LivenessFailed {
        id: ProcId,
        pid: i32,
        reason: String,
    },
}

impl Supervisor {
    /// Builds the actor for `config`; groups are created by [`Supervisor::run`].
    pub fn new(config: Arc<Config>, logger: Logger, loader: Loader) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let bus = EventBus::new(config.supervisord.identifier.clone());
        Supervisor {
            last_read: Arc::clone(&config),
            read_generation: 0,
            config,
            groups: Vec::new(),
            procs: HashMap::new(),
            pids: HashMap::new(),
            next_id: 0,
            mood: SupervisorState::Running,
            shared_mood: Arc::new(AtomicI32::new(SupervisorState::Running.code())),
            reloads: Arc::new(watch::Sender::new(0)),
            changes: Arc::new(watch::Sender::new(0)),
            stop_groups: None,
            last_die_report: None,
            drain_deadline: None,
            pending: Vec::new(),
            logger,
            epoch: Instant::now(),
            base_env: std::env::vars_os().collect(),
            print_state: crate::events::SoftSpace::default(),
            rx,
            tx,
            loader,
            logs: LogIndex::default(),
            bus,
            ticker: Ticker::new(SystemTime::now()),
            internal_tx,
            internal_rx,
            prechecked: None,
            readiness: readiness::Readiness::default(),
            cgroups: None,
        }
    }

    pub fn handle(&self) -> Handle {
        Handle {
            tx: self.tx.clone(),
            logs: Arc::clone(&self.logs),
            mood: Arc::clone(&self.shared_mood),
            reloads: Arc::clone(&self.reloads),
            changes: Arc::clone(&self.changes),
        }
    }

    /// Replaces the configuration after a reload (SIGHUP / `restart`), keeping the same actor and handles.
    pub fn reset(&mut self, config: Arc<Config>) {
        self.reloads.send_modify(|n| *n += 1);
        self.groups.clear();
        self.procs.clear();
        self.pids.clear();
        self.pending.clear();
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
    fn index_logs(&self, ids: &[ProcId], add: bool) {
        self.changed();
        let mut index = self
            .logs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for proc in ids.iter().filter_map(|id| self.procs.get(id)) {
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
        let mut sigchld = signal(SignalKind::child())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigquit = signal(SignalKind::quit())?;
        let mut sighup = signal(SignalKind::hangup())?;
        let mut sigusr2 = signal(SignalKind::user_defined2())?;

        let configs = self.config.groups.clone();
        for group in &configs {
            self.add_group(group);
        }
        self.init_cgroups();
        self.log(
            Level::Info,
            format!("supervisord started with pid {}", std::process::id()),
        );
        self.publish(Event::SupervisorStateChangeRunning);
        // Children may have exited before the SIGCHLD stream existed (on reload).
        self.reap();

        loop {
            self.drive();
            if self.mood != SupervisorState::Running
                && self.stop_groups.as_ref().is_some_and(Vec::is_empty)
            {
                self.fail_pending();
                if self.mood != SupervisorState::Restarting {
                    self.remove_cgroups();
                }
                return Ok(if self.mood == SupervisorState::Restarting {
                    Exit::Restart
                } else {
                    Exit::Shutdown
                });
            }
            let deadline = self
                .next_deadline()
                .map(|d| tokio::time::Instant::from_std(self.epoch + d));
            tokio::select! {
                Some(req) = self.rx.recv() => self.on_request(req),
                Some(msg) = self.internal_rx.recv() => self.on_internal(msg),
                _ = sigchld.recv() => {
                    self.log(Level::Debug, "received SIGCHLD indicating a child quit");
                    self.reap();
                }
                _ = sigterm.recv() => self.on_signal(Signal::TERM),
                _ = sigint.recv() => self.on_signal(Signal::INT),
                _ = sigquit.recv() => self.on_signal(Signal::QUIT),
                _ = sighup.recv() => self.on_signal(Signal::HUP),
                _ = sigusr2.recv() => self.on_signal(Signal::USR2),
                () = sleep_until(deadline) => {}
            }
        }
    }

    fn on_request(&mut self, req: Request) {
        match req {
            Request::Call {
                method,
                params,
                reply,
            } => match self.dispatch(&method, &params) {
                Reply::Now(result) => {
                    let _ = reply.send(result);
                }
                Reply::Later(deferred) => self.pending.push(Pending::new(deferred, reply)),
            },
        }
    }

    fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Publish(event) => self.publish(event),
            Internal::Ready { id, pid } => self.check_passed(id, pid),
            Internal::LivenessFailed { id, pid, reason } => self.liveness_failed(id, pid, &reason),
            Internal::ListenerOutput { id, pid, data } => {
                // Output of an earlier child of this listener that arrives after its restart belongs
                // to no protocol conversation any more.
                let Some(proc) = self.procs.get(&id).filter(|p| p.sm.pid() == pid) else {
                    return;
                };
                let (pool, name) = (proc.config.group.clone(), proc.config.name.clone());
                let effects = self.bus.listener_output(&pool, &name, &data);
                self.bus_effects(effects);
            }
        }
    }

    /// Sends an event to the listener pools that subscribe to it.
    pub(super) fn publish(&mut self, event: Event) {
        let effects = self.bus.publish(event);
        self.bus_effects(effects);
    }

    /// Carries out what the event bus asks for: envelopes to listeners' stdin and main-log lines.
    fn bus_effects(&mut self, effects: Vec<crate::events::Effect>) {
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(effect) = queue.pop_front() {
            match effect {
                crate::events::Effect::WriteStdin {
                    pool,
                    process,
                    bytes,
                } => {
                    let sent = self
                        .find(&pool, &process)
                        .and_then(|id| self.procs[&id].stdin.as_ref())
                        .is_some_and(|w| w.send(bytes));
                    if !sent {
                        queue.extend(self.bus.write_failed(&pool, &process));
                    }
                }
                crate::events::Effect::Log { level, text } => self.log(level, text),
                crate::events::Effect::Rejected { .. } => {}
                crate::events::Effect::Print(text) => self.print_stdout(&text),
            }
        }
    }

    /// Writes a `supervisor_stdout:event_handler` line on procd's stdout, as supervisord's `print` does
    /// (blocking, like the main log's copy to stdout in the foreground). A closed stdout loses the line
    /// without stopping anything, as it does for supervisord.
    fn print_stdout(&mut self, text: &[u8]) {
        use std::io::Write as _;
        let bytes = self.print_state.print(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&bytes).and_then(|()| out.flush());
    }

    /// Publishes the PROCESS_STATE_* event of a state change and keeps listener pools informed.
    fn publish_state(&mut self, id: ProcId, change: procd_core::Change) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let process = ProcessRef::new(proc.config.name.clone(), proc.config.group.clone());
        let listener = proc.is_listener;
        let from = change.from;
        let event = match change.to {
            ProcessState::Stopped => Event::ProcessStateStopped {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Starting => Event::ProcessStateStarting {
                process,
                from,
                tries: change.tries,
            },
            ProcessState::Running => Event::ProcessStateRunning {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Backoff => Event::ProcessStateBackoff {
                process,
                from,
                tries: change.tries,
            },
            ProcessState::Stopping => Event::ProcessStateStopping {
                process,
                from,
                pid: change.pid,
            },
            ProcessState::Exited => Event::ProcessStateExited {
                process,
                from,
                expected: change.expected,
                pid: change.pid,
            },
            ProcessState::Fatal => Event::ProcessStateFatal { process, from },
            ProcessState::Unknown => Event::ProcessStateUnknown { process, from },
        };
        self.publish(event);
        if listener {
            let proc = &self.procs[&id];
            let (pool, name) = (proc.config.group.clone(), proc.config.name.clone());
            let effects =
                self.bus
                    .listener_running(&pool, &name, change.to == ProcessState::Running);
            self.bus_effects(effects);
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

    /// Enters SHUTDOWN or RESTARTING; the ordered stop runs from [`Supervisor::drive`].
    fn set_mood(&mut self, mood: SupervisorState) {
        self.mood = mood;
        self.shared_mood.store(mood.code(), Ordering::Release);
    }

    fn request_mood(&mut self, mood: SupervisorState) {
        if self.mood != SupervisorState::Running {
            if mood == SupervisorState::Shutdown {
                self.set_mood(mood);
            }
            return;
        }
        self.set_mood(mood);
        self.publish(Event::SupervisorStateChangeStopping);
        // Groups in ascending priority (stable, insertion order for ties); popped from the end.
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        order.sort_by_key(|&i| self.groups[i].priority);
        self.stop_groups = Some(
            order
                .into_iter()
                .map(|i| self.groups[i].name.clone())
                .collect(),
        );
    }

    /// Reaps every exited child and feeds the exits to their state machines, each as soon as it is
    /// collected: a batch of exits is not first collected in full, so the last child of a
    /// `stopAllProcesses` is reaped right before its reply is sent, not ahead of all the others' work.
    fn reap(&mut self) {
        while let Some((pid, status)) = sys::reap_any() {
            self.child_exited(pid, status);
        }
    }

    /// Reaps just this process's child if it has already exited (the check after starting or stopping
    /// one process; any other exit is collected on the SIGCHLD that follows it).
    fn reap_process(&mut self, id: ProcId) {
        let Some(pid) = self.procs.get(&id).map(|p| p.sm.pid()) else {
            return;
        };
        if let Some(status) = sys::reap_pid(pid) {
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
        for _ in 0..64 {
            // procd extensions: dependency conditions and stops waiting for dependents.
            let deps_fed = self.update_dependencies();
            let queued = self.run_stop_queue() | self.run_liveness_restarts();
            let now = self.now();
            // Group order, then config order: spawns happen in supervisord's order.
            let due: Vec<ProcId> = self
                .groups
                .iter()
                .flat_map(|g| g.ids.iter().copied())
                .filter(|id| {
                    self.procs[id]
                        .sm
                        .next_deadline(self.mood)
                        .is_some_and(|d| d <= now.mono)
                })
                .collect();
            // Every group that has finished stopping is dropped at once: a shutdown or reload with
            // hundreds of groups already stopped must not wait for a deadline per batch.
            let mut stopping = false;
            while self.mood != SupervisorState::Running && self.shutdown_step() {
                stopping = true;
            }
            if due.is_empty() && !stopping && !deps_fed && !queued {
                break;
            }
            for id in due {
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
        let procs = self
            .procs
            .values()
            .filter_map(|p| p.sm.next_deadline(self.mood));
        let reports = self.pending.iter().filter_map(Pending::next_report);
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
            .chain(reports)
            .chain(dying)
            .chain(drain)
            .chain(tick)
            .min()
    }

    /// Applies one input to a process and carries out the effects. Returns the text of a refused request
    /// (`Effect::Failed`), if any.
    fn input(&mut self, id: ProcId, first: Input) -> Option<String> {
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
                    Effect::Spawn => queue.push_back(match self.spawn(id) {
                        Ok(pid) => Input::Spawned { pid },
                        Err(message) => Input::SpawnFailed { message },
                    }),
                    Effect::Kill {
                        pid,
                        signal,
                        to_group,
                    } => {
                        let res = if to_group {
                            sys::kill_group(pid, signal)
                        } else {
                            sys::kill(pid, signal)
                        };
                        if signal == Signal::KILL {
                            self.kill_cgroup(id, "after stopwaitsecs");
                        }
                        if let Err(e) = res {
                            queue.push_back(Input::KillFailed(signal_error(&e)));
                        }
                    }
                    Effect::Signal { pid, signal } => {
                        if let Err(e) = sys::kill(pid, signal) {
                            queue.push_back(Input::SignalFailed(signal_error(&e)));
                        }
                    }
                    Effect::Failed(text) => failed = Some(text),
                }
            }
        }
        failed
    }

    fn on_state_change(&mut self, id: ProcId, change: procd_core::Change) {
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
        self.publish_state(id, change);
        if (change.to.is_stopped() || change.to == ProcessState::Backoff)
            && let Some(proc) = self.procs.get_mut(&id)
        {
            proc.child_gone();
        }
    }

    /// Whether an event-listener group still has events to deliver before it may be stopped. supervisord
    /// stops one group per 1-second tick, which in practice gives listeners time to receive
    /// SUPERVISOR_STATE_CHANGE_STOPPING and the last state changes; procd stops groups as soon as the
    /// previous one is down, so it waits for the pool to drain instead, for at most `LISTENER_DRAIN`.
    fn listener_pool_busy(&mut self, group: &str) -> bool {
        let Some(pool) = self.bus.pool(group) else {
            return false;
        };
        let running: Vec<&Proc> = self
            .groups
            .iter()
            .filter(|g| g.name == group)
            .flat_map(|g| g.ids.iter().map(|id| &self.procs[id]))
            .filter(|p| p.sm.state() == ProcessState::Running)
            .collect();
        let busy = running.iter().any(|p| {
            pool.listener_state(&p.config.name) == Some(procd_protocol::ListenerState::Busy)
        });
        let pending = !running.is_empty() && (pool.buffered() > 0 || busy);
        if !pending {
            return false;
        }
        let now = Instant::now();
        let deadline = *self.drain_deadline.get_or_insert(now + LISTENER_DRAIN);
        now < deadline
    }

    /// Shutdown/reload: stops groups one at a time, highest priority number first. Returns true when it
    /// made progress (a group finished stopping), so the caller runs again at once.
    fn shutdown_step(&mut self) -> bool {
        let Some(name) = self.stop_groups.as_ref().and_then(|g| g.last().cloned()) else {
            return false;
        };
        if self.listener_pool_busy(&name) {
            return false;
        }
        // supervisord sorts the group's processes by priority (stable, so ties keep config order) and
        // stops them in the reverse of that order.
        let ids: Vec<ProcId> = match self.groups.iter().find(|g| g.name == name) {
            Some(g) => {
                let mut ids = g.ids.clone();
                ids.sort_by_key(|id| self.procs[id].config.priority);
                ids.reverse();
                ids
            }
            None => Vec::new(),
        };
        // Dependents (in any group) go down before what they depend on (procd extension; without
        // `depends_on=` this stops exactly the group's processes, in this order).
        let mut seen = std::collections::HashSet::new();
        for &id in &ids {
            self.stop_after_dependents(id, &mut seen);
        }
        if ids.iter().all(|id| self.procs[id].sm.state().is_stopped()) {
            if let Some(g) = self.stop_groups.as_mut() {
                g.pop();
            }
            return true;
        }
        // Like supervisord, the report names every unstopped process, not just this group's.
        let unstopped: Vec<&Proc> = self
            .groups
            .iter()
            .flat_map(|g| g.ids.iter().map(|id| &self.procs[id]))
            .filter(|p| !p.sm.state().is_stopped())
            .collect();
        let now = Instant::now();
        if self
            .last_die_report
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(3))
        {
            let names: Vec<&str> = unstopped.iter().map(|p| p.config.name.as_str()).collect();
            self.log(
                Level::Info,
                format!("waiting for {} to die", names.join(", ")),
            );
            self.last_die_report = Some(now);
        }
        false
    }

    fn poll_pending(&mut self) {
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

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
