//! What procd tells the programs that keep it running: per-process counters and states for `/metrics`,
//! `/readyz` and systemd's `STATUS=`/`READY=1`, RPC and HTTP counters, and the hooks that feed them.
//!
//! The supervisor actor stays the only owner of process state; it reports every state change here
//! ([`Telemetry::state_changed`]), which costs a few atomic stores and, only when systemd listens, a wake-up
//! of the notifier task. Scrapes and probes read the atomics without a round trip to the actor. The
//! log-pumping hot path adds one atomic add per write ([`LogCounters`]). Nothing here owns a timer.

pub mod metrics;
mod selfstat;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use procd_core::Change;
use procd_protocol::api::METHODS;
use procd_protocol::{ProcessState, SupervisorState};

use crate::notify::Notifier;

/// Bytes one log channel (stdout or stderr) of one process wrote to its log file, and lost.
#[derive(Debug, Default)]
pub struct LogCounters {
    written: AtomicU64,
    lost: AtomicU64,
}

impl LogCounters {
    /// Counts bytes appended to the log file (one relaxed atomic add: the pump's only extra cost).
    pub fn wrote(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts bytes that could not be written.
    pub fn lost(&self, n: usize) {
        self.lost.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn written_total(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    pub fn lost_total(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

/// Why a child ended, as counted by `procd_process_exits_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// Exited on its own after `startsecs` with a code in `exitcodes`.
    Expected,
    /// Exited on its own after `startsecs` with a code not in `exitcodes`.
    Unexpected,
    /// Exited before `startsecs` had passed (STARTING -> BACKOFF).
    TooQuickly,
    /// Exited after procd asked it to stop.
    Stopped,
}

impl ExitReason {
    pub const ALL: [ExitReason; 4] = [
        Self::Expected,
        Self::Unexpected,
        Self::TooQuickly,
        Self::Stopped,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::TooQuickly => "too_quickly",
            Self::Stopped => "stopped",
        }
    }

    /// The reason a state change reports, if it is the end of a child.
    fn of(change: &Change) -> Option<Self> {
        match (change.from, change.to) {
            (_, ProcessState::Exited) if change.expected => Some(Self::Expected),
            (_, ProcessState::Exited) => Some(Self::Unexpected),
            // A spawn error also goes STARTING -> BACKOFF, but without a child (pid 0).
            (ProcessState::Starting, ProcessState::Backoff) if change.pid > 0 => {
                Some(Self::TooQuickly)
            }
            (ProcessState::Stopping, ProcessState::Stopped) => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// One process as the outside world sees it: kept by the actor, read by scrapes and probes.
#[derive(Debug)]
pub struct ProcStats {
    pub name: String,
    pub group: String,
    pub autostart: bool,
    state: AtomicI32,
    /// Wall-clock start of the current or last child (seconds), 0 before the first.
    start_time: AtomicI64,
    exit_status: AtomicI32,
    starts: AtomicU64,
    spawn_errors: AtomicU64,
    exits: [AtomicU64; 4],
    /// Left STARTING/BACKOFF at least once (for `READY=1`).
    settled: AtomicBool,
    pub stdout: Arc<LogCounters>,
    pub stderr: Arc<LogCounters>,
}

impl ProcStats {
    fn new(group: &str, name: &str, autostart: bool) -> Self {
        ProcStats {
            name: name.to_owned(),
            group: group.to_owned(),
            autostart,
            state: AtomicI32::new(ProcessState::Stopped.code()),
            start_time: AtomicI64::new(0),
            exit_status: AtomicI32::new(0),
            starts: AtomicU64::new(0),
            spawn_errors: AtomicU64::new(0),
            exits: Default::default(),
            settled: AtomicBool::new(false),
            stdout: Arc::default(),
            stderr: Arc::default(),
        }
    }

    pub fn state(&self) -> ProcessState {
        ProcessState::from_code(self.state.load(Ordering::Relaxed)).unwrap_or(ProcessState::Unknown)
    }

    pub fn start_time(&self) -> i64 {
        self.start_time.load(Ordering::Relaxed)
    }

    pub fn exit_status(&self) -> i32 {
        self.exit_status.load(Ordering::Relaxed)
    }

    /// Spawns after the first one (autorestarts, retries, manual restarts).
    pub fn restarts(&self) -> u64 {
        self.starts.load(Ordering::Relaxed).saturating_sub(1)
    }

    pub fn spawn_errors(&self) -> u64 {
        self.spawn_errors.load(Ordering::Relaxed)
    }

    pub fn exits(&self, reason: ExitReason) -> u64 {
        self.exits[reason as usize].load(Ordering::Relaxed)
    }
}

/// The actor's view of a process at a state change, for [`Telemetry::state_changed`].
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub start_time: i64,
    pub exit_status: i32,
}

/// Where HTTP connections or requests were refused by the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The connection cap was reached (503).
    Connections,
    /// A request body over the size limit (413).
    BodyTooLarge,
    /// Headers not received in time.
    HeaderTimeout,
}

impl Refusal {
    pub const ALL: [Refusal; 3] = [Self::Connections, Self::BodyTooLarge, Self::HeaderTimeout];

    pub const fn label(self) -> &'static str {
        match self {
            Self::Connections => "connections",
            Self::BodyTooLarge => "body_too_large",
            Self::HeaderTimeout => "header_timeout",
        }
    }
}

/// RPC calls by method (indexed like the method table; one more slot for unknown names) and faults.
#[derive(Debug)]
struct RpcCounters {
    calls: Vec<AtomicU64>,
    faults: Mutex<BTreeMap<(usize, i32), u64>>,
}

/// Shared by the actor, the HTTP backend and the notifier.
#[derive(Debug)]
pub struct Telemetry {
    procs: RwLock<BTreeMap<(String, String), Arc<ProcStats>>>,
    /// Processes per state, indexed like `ProcessState::ALL`.
    counts: [AtomicUsize; 8],
    /// Autostart processes that have not yet left STARTING/BACKOFF since the actor started them.
    unsettled: AtomicUsize,
    /// Autostart processes not RUNNING: `/readyz` answers from this count while it is 0, without
    /// visiting every process.
    autostart_down: AtomicUsize,
    /// The actor has created its groups (set by [`Telemetry::started`], cleared at reload).
    started: AtomicBool,
    mood: AtomicI32,
    rpc: RpcCounters,
    refused: [AtomicU64; 3],
    notifier: OnceLock<Arc<Notifier>>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            procs: RwLock::default(),
            counts: Default::default(),
            unsettled: AtomicUsize::new(0),
            autostart_down: AtomicUsize::new(0),
            started: AtomicBool::new(false),
            mood: AtomicI32::new(SupervisorState::Running.code()),
            rpc: RpcCounters {
                calls: (0..=METHODS.len()).map(|_| AtomicU64::new(0)).collect(),
                faults: Mutex::default(),
            },
            refused: Default::default(),
            notifier: OnceLock::new(),
        }
    }
}

fn state_index(state: ProcessState) -> usize {
    ProcessState::ALL
        .iter()
        .position(|s| *s == state)
        .unwrap_or(ProcessState::ALL.len() - 1)
}

fn pending(state: ProcessState) -> bool {
    matches!(state, ProcessState::Starting | ProcessState::Backoff)
}

impl Telemetry {
    /// Attaches systemd's notification socket (at most once).
    pub fn set_notifier(&self, notifier: Arc<Notifier>) {
        let _ = self.notifier.set(notifier);
    }

    pub fn notifier(&self) -> Option<&Arc<Notifier>> {
        self.notifier.get()
    }

    /// A process was added (start-up, reload, `addProcessGroup`); returns its stats for the actor to keep.
    pub fn add(&self, group: &str, name: &str, autostart: bool) -> Arc<ProcStats> {
        let stats = Arc::new(ProcStats::new(group, name, autostart));
        let old = self
            .procs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((group.to_owned(), name.to_owned()), Arc::clone(&stats));
        if let Some(old) = old {
            self.forget(&old);
        }
        self.counts[state_index(ProcessState::Stopped)].fetch_add(1, Ordering::Relaxed);
        if stats.autostart {
            self.unsettled.fetch_add(1, Ordering::Relaxed);
            self.autostart_down.fetch_add(1, Ordering::Relaxed);
        }
        self.changed();
        stats
    }

    /// A process was removed (`removeProcessGroup`).
    pub fn remove(&self, group: &str, name: &str) {
        let old = self
            .procs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(group.to_owned(), name.to_owned()));
        if let Some(old) = old {
            self.forget(&old);
            self.changed();
        }
    }

    fn forget(&self, stats: &ProcStats) {
        self.counts[state_index(stats.state())].fetch_sub(1, Ordering::Relaxed);
        if stats.autostart && !stats.settled.load(Ordering::Relaxed) {
            self.unsettled.fetch_sub(1, Ordering::Relaxed);
        }
        if stats.autostart && stats.state() != ProcessState::Running {
            self.autostart_down.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Every process is being replaced (reload): forgets them all; the actor adds the new ones.
    pub fn clear(&self) {
        self.procs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
        self.unsettled.store(0, Ordering::Relaxed);
        self.autostart_down.store(0, Ordering::Relaxed);
        self.started.store(false, Ordering::Relaxed);
    }

    /// The actor has created its groups and is about to start the autostart programs: `READY=1` goes
    /// out once none of them is STARTING or BACKOFF any more.
    pub fn started(&self) {
        self.started.store(true, Ordering::Release);
        self.check_ready();
    }

    /// A process changed state.
    pub fn state_changed(&self, stats: &ProcStats, change: &Change, now: Snapshot) {
        stats.state.store(change.to.code(), Ordering::Relaxed);
        if stats.autostart {
            match (
                change.from == ProcessState::Running,
                change.to == ProcessState::Running,
            ) {
                (true, false) => {
                    self.autostart_down.fetch_add(1, Ordering::Relaxed);
                }
                (false, true) => {
                    self.autostart_down.fetch_sub(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        self.counts[state_index(change.from)].fetch_sub(1, Ordering::Relaxed);
        self.counts[state_index(change.to)].fetch_add(1, Ordering::Relaxed);
        match change.to {
            ProcessState::Starting => {
                stats.starts.fetch_add(1, Ordering::Relaxed);
                stats.start_time.store(now.start_time, Ordering::Relaxed);
            }
            ProcessState::Backoff if change.pid <= 0 => {
                stats.spawn_errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        if let Some(reason) = ExitReason::of(change) {
            stats.exits[reason as usize].fetch_add(1, Ordering::Relaxed);
            stats.exit_status.store(now.exit_status, Ordering::Relaxed);
        }
        if !pending(change.to) && !stats.settled.swap(true, Ordering::Relaxed) && stats.autostart {
            self.unsettled.fetch_sub(1, Ordering::Relaxed);
            self.check_ready();
        }
        self.changed();
    }

    /// The supervisor entered a new state: RELOADING=1 / STOPPING=1 for systemd.
    pub fn mood_changed(&self, mood: SupervisorState) {
        let old = self.mood.swap(mood.code(), Ordering::Relaxed);
        if old == mood.code() {
            return;
        }
        if let Some(n) = self.notifier.get() {
            match mood {
                SupervisorState::Restarting => n.reloading(),
                SupervisorState::Shutdown => n.stopping(),
                _ => {}
            }
        }
    }

    pub fn mood(&self) -> SupervisorState {
        SupervisorState::from_code(self.mood.load(Ordering::Relaxed))
            .unwrap_or(SupervisorState::Shutdown)
    }

    fn check_ready(&self) {
        if self.started.load(Ordering::Acquire)
            && self.unsettled.load(Ordering::Relaxed) == 0
            && let Some(n) = self.notifier.get()
        {
            n.ready(&self.summary());
        }
    }

    fn changed(&self) {
        if let Some(n) = self.notifier.get() {
            n.status_changed();
        }
    }

    /// `12 running, 1 fatal`: how many processes are in each state, in state-code order.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = ProcessState::ALL
            .iter()
            .zip(&self.counts)
            .filter_map(|(state, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then(|| format!("{n} {}", state.name().to_ascii_lowercase()))
            })
            .collect();
        if parts.is_empty() {
            "no programs".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// Every process, sorted by group then name.
    pub fn processes(&self) -> Vec<Arc<ProcStats>> {
        self.procs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Autostart processes that are not RUNNING (what `/readyz` lists), as `group:name` with their state.
    /// O(1) while every one is RUNNING (the steady state a readiness probe polls).
    pub fn not_ready(&self) -> Vec<(String, ProcessState)> {
        if self.autostart_down.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        self.procs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|p| p.autostart && p.state() != ProcessState::Running)
            .map(|p| (namespec(&p.group, &p.name), p.state()))
            .collect()
    }

    /// The counter slot of an XML-RPC method (unknown names share one).
    pub fn rpc_slot(method: &str) -> usize {
        METHODS
            .iter()
            .position(|m| m.name == method)
            .unwrap_or(METHODS.len())
    }

    /// Counts one XML-RPC call (its [`Telemetry::rpc_slot`]) and its fault code, if any.
    pub fn rpc_call(&self, index: usize, fault: Option<i32>) {
        let index = index.min(METHODS.len());
        self.rpc.calls[index].fetch_add(1, Ordering::Relaxed);
        if let Some(code) = fault {
            *self
                .rpc
                .faults
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry((index, code))
                .or_insert(0) += 1;
        }
    }

    /// Counts one connection or request refused by the HTTP limits.
    pub fn refused(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// `group:name`, or `name` when the group is named after its only process.
fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_owned()
    } else {
        format!("{group}:{name}")
    }
}

/// The label an RPC method index stands for in `procd_rpc_calls_total{method}`.
fn method_label(index: usize) -> &'static str {
    METHODS.get(index).map_or("unknown", |m| m.name)
}

#[cfg(test)]
mod tests;
