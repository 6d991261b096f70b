//! `--scale`: one daemon with N programs, for N in 100, 1,000 and 10,000, once with
//! `stdout_logfile=NONE` and once with each program's own log file. Each row is a fresh daemon whose
//! N programs are N − 2 `sleep`s plus two helpers that behave as sleepers until the benchmark opens
//! their gate (a file): `writer` (`procd-bench child-write`, always with its own log) and `crash`
//! (`procd-bench child-crash`, `autorestart=true`). Measured, in this order:
//!
//! - load: from starting the daemon to `getState` answering RUNNING (config load and start-up; the
//!   programs have `autostart=false`);
//! - `startAllProcesses(wait)`, beside the benchmark's own spawn loop of N `sleep`s at the same N;
//! - idle RSS of the daemon with everything running, and bytes per program (RSS with everything
//!   running minus RSS with everything stopped, over N; kernel pipe buffers are not in RSS: the pipes
//!   the daemon holds and their buffer capacity are their own columns, see [`procfs::pipes`]);
//! - idle wake-ups: context switches of the daemon per second over a quiet window;
//! - median latency of `getState` and of `getProcessInfo` for one process, time of `getAllProcessInfo`;
//! - `procctl status` (supervisord: `supervisorctl status`) wall time, the client process included;
//! - `/readyz` and `/metrics` latency (procd only; supervisord has neither);
//! - `update` after changing one program (what `supervisorctl update` sends: `reloadConfig`, then
//!   stop, remove and add that one group), and the part after `reloadConfig` alone (`update ops`:
//!   the re-read parses the whole file, as at load, while what it changes should cost O(changed));
//! - crash → respawn: the gate opens, `crash` is restarted and exits 100 ms after each start; the gap
//!   between an exit stamp and the next start stamp, median and p90 of [`RESPAWN_SAMPLES`];
//! - throughput of `writer` writing [`WRITE_BYTES`] into its log with the N − 1 others idle beside it
//!   (median of [`WRITE_RUNS`]), and as a percentage of the same writer in a daemon with no other
//!   program (measured once per daemon before its series); and the daemon's CPU time per GiB over the same runs;
//! - `stopAllProcesses(wait)` and shutdown (SIGTERM to exit), each with all N programs running.
//!
//! The spawn loop runs first, before the row's daemon starts.
//!
//! A daemon that takes more than [`CALL_LIMIT`] for a call, or fails, or spends more than
//! [`ROW_LIMIT`] on one row, ends its series: larger N are not tried for it. A larger N is skipped
//! too (a row says so) when the last `startAllProcesses(wait)`, scaled linearly to it, would take
//! over twice [`CALL_LIMIT`] ([`predicted_over_limit`]): starting N programs costs at least N spawns.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use procd_protocol::Value;
use serde::{Deserialize, Serialize};

use super::mass::spawn_round;
use crate::children::respawn_latencies;
use crate::config::{DaemonConfig, Program};
use crate::daemon::{Daemon, DaemonBin, Kind, reserve_port};
use crate::procfs;
use crate::rpc::{Client, RpcError};
use crate::stats::{median, percentile};

/// The longest one call may take before the series is abandoned for that daemon.
pub(crate) const CALL_LIMIT: Duration = Duration::from_secs(60);
/// The longest one row may take (all its steps) before the series is abandoned for that daemon.
pub(crate) const ROW_LIMIT: Duration = Duration::from_secs(7 * 60);
/// Bytes the writer writes per run.
pub(crate) const WRITE_BYTES: u64 = 256 << 20;
/// Writer runs per row (and for the baseline); the median counts.
pub(crate) const WRITE_RUNS: usize = 3;
/// A writer run still writing after this is cut short and its rate is what reached the log so far
/// (supervisord with a few hundred idle programs moves about 12 MiB/s).
pub(crate) const WRITE_CAP: Duration = Duration::from_secs(5);
/// Respawns sampled per row.
pub(crate) const RESPAWN_SAMPLES: usize = 10;
/// How long each `crash` child lives.
const CRASH_AFTER_MS: u64 = 100;
/// The longest the respawn samples may take to collect.
const RESPAWN_DEADLINE: Duration = Duration::from_secs(40);

/// How programs log in one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Logs {
    /// `stdout_logfile=NONE` (stderr redirected into it).
    None,
    /// `stdout_logfile=<dir>/<name>.log` for each program.
    Own,
}

impl Logs {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Logs::None => "NONE",
            Logs::Own => "own log",
        }
    }
}

/// One measured row: the metrics in [`COLUMNS`] order (`None`: not measured), or why it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Row {
    pub daemon: String,
    pub logs: Logs,
    pub n: usize,
    pub values: Vec<Option<f64>>,
    pub error: Option<String>,
}

/// Indexes into [`COLUMNS`] and `Row::values`.
pub(crate) mod col {
    pub(crate) const LOAD: usize = 0;
    pub(crate) const START_ALL: usize = 1;
    pub(crate) const SPAWN_LOOP: usize = 2;
    pub(crate) const RSS: usize = 3;
    pub(crate) const PER_PROGRAM: usize = 4;
    pub(crate) const PIPES: usize = 5;
    pub(crate) const PIPE_CAPACITY: usize = 6;
    pub(crate) const SOCKETS: usize = 7;
    pub(crate) const WAKE_UPS: usize = 8;
    pub(crate) const GET_STATE: usize = 9;
    pub(crate) const GET_PROCESS_INFO: usize = 10;
    pub(crate) const GET_ALL: usize = 11;
    pub(crate) const CTL_STATUS: usize = 12;
    pub(crate) const READYZ: usize = 13;
    pub(crate) const METRICS: usize = 14;
    pub(crate) const UPDATE: usize = 15;
    pub(crate) const UPDATE_OPS: usize = 16;
    pub(crate) const RESPAWN_P50: usize = 17;
    pub(crate) const RESPAWN_P90: usize = 18;
    pub(crate) const WRITER: usize = 19;
    pub(crate) const WRITER_VS_NONE: usize = 20;
    pub(crate) const WRITER_CPU: usize = 21;
    pub(crate) const STOP_ALL: usize = 22;
    pub(crate) const SHUTDOWN: usize = 23;
    pub(crate) const DESCRIPTORS: usize = 24;
}

/// Column names and units, in `Row::values` order.
pub(crate) const COLUMNS: [(&str, &str); 25] = [
    ("load", "ms"),
    ("startAll(wait)", "ms"),
    ("spawn loop", "ms"),
    ("idle RSS", "MiB"),
    ("per program", "B"),
    ("pipes", ""),
    ("pipe capacity", "KiB"),
    ("sockets", ""),
    ("wake-ups", "/s"),
    ("getState", "µs"),
    ("getProcessInfo", "µs"),
    ("getAllProcessInfo", "ms"),
    ("ctl status", "ms"),
    ("/readyz", "µs"),
    ("/metrics", "ms"),
    ("update 1", "ms"),
    ("update ops", "ms"),
    ("respawn p50", "ms"),
    ("respawn p90", "ms"),
    ("log writer", "MiB/s"),
    ("log vs none", "%"),
    ("log CPU", "s/GiB"),
    ("stopAll(wait)", "ms"),
    ("shutdown", "ms"),
    ("descriptors", ""),
];

/// A column's key in the JSON document and its heading in the table: `name (unit)`, or `name`.
pub(crate) fn column_key(i: usize) -> String {
    let (name, unit) = COLUMNS[i];
    if unit.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({unit})")
    }
}

/// The JSON document `--scale` writes and `--scale-plot` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Doc {
    pub unix_time: u64,
    /// The keys of `Row::values`, in order ([`column_key`]).
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// The writer's throughput with no other program, per daemon (MiB/s).
    #[serde(default)]
    pub log_baseline_mib_s: BTreeMap<String, f64>,
}

impl Doc {
    pub(crate) fn new(unix_time: u64, rows: Vec<Row>, baseline: BTreeMap<String, f64>) -> Self {
        Doc {
            unix_time,
            columns: (0..COLUMNS.len()).map(column_key).collect(),
            rows,
            log_baseline_mib_s: baseline,
        }
    }

    /// The rows with their values in this version's [`COLUMNS`] order, matched by key: a column the
    /// file does not have is `None` (a gap), a column this version does not know is dropped. Files
    /// written before the keys dropped an empty unit (`descriptors ()`) match too.
    pub(crate) fn current_rows(&self) -> Vec<Row> {
        let normal = |k: &str| k.strip_suffix(" ()").unwrap_or(k).to_owned();
        let index: Vec<Option<usize>> = (0..COLUMNS.len())
            .map(|i| {
                let want = column_key(i);
                self.columns.iter().position(|c| normal(c) == want)
            })
            .collect();
        self.rows
            .iter()
            .map(|r| Row {
                values: index
                    .iter()
                    .map(|at| at.and_then(|j| r.values.get(j).copied().flatten()))
                    .collect(),
                ..r.clone()
            })
            .collect()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Rough duration of a whole run, printed before it starts: a fixed cost per row (the quiet windows,
/// respawn and writer runs, the daemon's start) plus a cost per program (spawning, the calls that grow
/// with N, the benchmark's own spawn loop), from runs on the 2-core development VM. A supervisord row
/// costs at most about two call limits: its series ends at the first call over [`CALL_LIMIT`].
pub(crate) fn estimate(kinds: &[Kind], ns: &[usize]) -> Duration {
    let mut secs = 0.0;
    for kind in kinds {
        secs += 8.0; // the writer baseline
        for _logs in [Logs::None, Logs::Own] {
            for &n in ns {
                let n = n as f64;
                match kind {
                    Kind::Procd => secs += 25.0 + n * 0.014,
                    // At 1,000 a full row with two start-alls of 35-60 s each; 10,000 is skipped
                    // (`predicted_over_limit`).
                    Kind::Supervisord if n <= 1000.0 => secs += 70.0 + n * 0.15,
                    Kind::Supervisord => {}
                }
            }
        }
    }
    Duration::from_secs_f64(secs)
}

/// Why the row at `n` is not worth running, when the previous row (at `prev_n`) took `start_all_ms`
/// for `startAllProcesses(wait)`: scaled linearly (a lower bound: starting N programs is N spawns,
/// and supervisord's per-spawn cost grows with N too) it would take over twice [`CALL_LIMIT`].
pub(crate) fn predicted_over_limit(prev_n: usize, start_all_ms: f64, n: usize) -> Option<String> {
    let predicted = start_all_ms / 1000.0 * n as f64 / prev_n.max(1) as f64;
    (predicted > 2.0 * CALL_LIMIT.as_secs_f64()).then(|| {
        format!(
            "skipped: startAllProcesses took {:.0} s at N={prev_n}, so at least {predicted:.0} s \
             at N={n} (limit {CALL_LIMIT:?})",
            start_all_ms / 1000.0
        )
    })
}

/// What one daemon's series needs besides the daemon.
#[derive(Debug, Clone)]
pub(crate) struct Setup<'a> {
    pub bin: &'a DaemonBin,
    /// The benchmark binary (the helper programs run it).
    pub bench: &'a Path,
    /// `procctl` for procd, `supervisorctl` for supervisord; `None` when it is missing.
    pub ctl: Option<PathBuf>,
}

/// Runs every series, calling `on_row` as soon as each row is measured; returns the rows in order
/// of daemon, logs, N, and the writer's baseline throughput per daemon.
pub(crate) fn run(
    setups: &[Setup<'_>],
    ns: &[usize],
    work: &Path,
    on_row: &mut dyn FnMut(&Row),
) -> (Vec<Row>, BTreeMap<String, f64>) {
    let mut rows = Vec::new();
    let mut baselines = BTreeMap::new();
    // The spawn loop involves no daemon: measured in the first daemon's row, reused in the next.
    let mut spawn_loops: BTreeMap<(usize, bool), f64> = BTreeMap::new();
    let total = setups.len() * 2 * ns.len();
    let started = Instant::now();
    let mut done = 0;
    // Directories are removed only once every row has run: ext4 makes each new inode allocation
    // re-check the inodes freed in the last seconds (`recently_deleted`), so a removal of 10,000 log
    // files would slow down the file creation of the next measurement (the daemon's first
    // `startAllProcesses` right after the spawn loop's files were removed took 1.5x the loop).
    let mut leftovers: Vec<PathBuf> = Vec::new();
    for setup in setups {
        let name = setup.bin.kind.name();
        eprintln!("[scale] {name}: the writer alone (log throughput with no other program)");
        let dir = work.join(format!("scale-{name}-baseline"));
        let baseline = baseline(setup, &dir);
        leftovers.push(dir);
        let baseline = match baseline {
            Ok(v) => {
                eprintln!("[scale] {name}: writer alone {v:.0} MiB/s");
                baselines.insert(name.to_owned(), v);
                Some(v)
            }
            Err(e) => {
                eprintln!("[scale] {name}: writer alone failed: {e:#}");
                None
            }
        };
        for logs in [Logs::None, Logs::Own] {
            for (i, &n) in ns.iter().enumerate() {
                let skip = rows
                    .last()
                    .filter(|r: &&Row| r.daemon == name && r.logs == logs)
                    .and_then(|r| Some((r.n, r.values[col::START_ALL]?)))
                    .and_then(|(prev, ms)| predicted_over_limit(prev, ms, n));
                if let Some(why) = skip {
                    eprintln!("[scale] {name} at N={n} ({}): {why}", logs.name());
                    let row = Row {
                        daemon: name.to_owned(),
                        logs,
                        n,
                        values: vec![None; COLUMNS.len()],
                        error: Some(why),
                    };
                    on_row(&row);
                    rows.push(row);
                    done += ns.len() - i;
                    break;
                }
                eprintln!(
                    "[scale] row {}/{total}: {name}, {n} programs, {} ({:.1} min elapsed)",
                    done + 1,
                    logs.name(),
                    started.elapsed().as_secs_f64() / 60.0
                );
                let dir = work.join(format!("scale-{name}-{n}-{}", logs.name().replace(' ', "")));
                let mut row = Row {
                    daemon: name.to_owned(),
                    logs,
                    n,
                    values: vec![None; COLUMNS.len()],
                    error: None,
                };
                let ctx = RowCtx {
                    setup,
                    n,
                    logs,
                    dir: &dir,
                    baseline,
                    spawn_loop: spawn_loops.get(&(n, logs == Logs::Own)).copied(),
                    started: Instant::now(),
                };
                let result = one(&ctx, &mut row.values);
                if let Some(v) = row.values[col::SPAWN_LOOP] {
                    spawn_loops.insert((n, logs == Logs::Own), v);
                }
                leftovers.push(dir);
                done += 1;
                let failed = result.is_err();
                if let Err(e) = result {
                    let msg = format!("{e:#}");
                    eprintln!("[scale] {name} at N={n} ({}): {msg}", logs.name());
                    row.error = Some(msg.lines().next().unwrap_or_default().to_owned());
                }
                on_row(&row);
                rows.push(row);
                if failed {
                    // The series ends: the larger N are not tried.
                    done += ns.len() - i - 1;
                    break;
                }
            }
        }
    }
    eprintln!(
        "[scale] {done}/{total} rows in {:.1} min",
        started.elapsed().as_secs_f64() / 60.0
    );
    for dir in leftovers {
        let _ = fs::remove_dir_all(dir);
    }
    (rows, baselines)
}

struct RowCtx<'a> {
    setup: &'a Setup<'a>,
    n: usize,
    logs: Logs,
    dir: &'a Path,
    baseline: Option<f64>,
    /// The spawn loop at this N and log mode, when another daemon's row measured it.
    spawn_loop: Option<f64>,
    started: Instant,
}

impl RowCtx<'_> {
    /// Fails once the row has used up [`ROW_LIMIT`].
    fn check(&self, next: &str) -> Result<()> {
        if self.started.elapsed() > ROW_LIMIT {
            bail!("row took over {ROW_LIMIT:?} (before {next})");
        }
        Ok(())
    }

    fn gate(&self) -> PathBuf {
        self.dir.join("gate")
    }

    fn stamps(&self) -> PathBuf {
        self.dir.join("crash.stamps")
    }
}

/// A call that fails, or answers after [`CALL_LIMIT`], ends the series; a socket timeout (the client
/// waits [`CALL_LIMIT`]) reads as what it is, a call slower than the limit.
fn timed_call(client: &mut Client, method: &str, params: Vec<Value>) -> Result<Duration> {
    let t0 = Instant::now();
    match client.call(method, params) {
        Ok(_) => {}
        Err(RpcError::Timeout(_)) => bail!("{method} took over {CALL_LIMIT:?} (no reply)"),
        Err(e) => bail!("{method}: {e}"),
    }
    let took = t0.elapsed();
    if took > CALL_LIMIT {
        bail!("{method} took {took:?}, over {CALL_LIMIT:?}");
    }
    Ok(took)
}

fn call(client: &mut Client, method: &str, params: Vec<Value>) -> Result<Value> {
    match client.call(method, params) {
        Ok(v) => Ok(v),
        Err(RpcError::Timeout(_)) => bail!("{method} took over {CALL_LIMIT:?} (no reply)"),
        Err(e) => bail!("{method}: {e}"),
    }
}

fn helper(bench: &Path, args: &str) -> String {
    format!("{} {args}", bench.display())
}

/// The writer program: `bytes` of the pattern into its own log, behind `gate` when given.
fn writer(bench: &Path, log_dir: &Path, gate: Option<&Path>) -> Program {
    let gate = gate
        .map(|g| format!(" --gate {}", g.display()))
        .unwrap_or_default();
    Program::new(
        "writer",
        &helper(bench, &format!("child-write --bytes {WRITE_BYTES}{gate}")),
        log_dir,
    )
}

fn config(ctx: &RowCtx<'_>, variant: usize) -> Result<DaemonConfig> {
    let mut cfg = DaemonConfig::new(ctx.dir, reserve_port());
    let log_dir = cfg.log_dir();
    let none = |p: &mut Program| {
        if ctx.logs == Logs::None {
            p.stdout_logfile = PathBuf::from("NONE");
        }
    };
    for i in 0..ctx.n.saturating_sub(2) {
        let name = format!("s{i:05}");
        // `update` changes program 0's command (variant 1): only that group differs.
        let secs = if i == 0 { 100_000 + variant } else { 100_000 };
        let mut p = Program::new(&name, &format!("sleep {secs}"), &log_dir);
        none(&mut p);
        cfg.programs.push(p);
    }
    let gate = ctx.gate();
    cfg.programs
        .push(writer(ctx.setup.bench, &log_dir, Some(&gate)));
    let mut crash = Program::new(
        "crash",
        &helper(
            ctx.setup.bench,
            &format!(
                "child-crash --stamp {} --after-ms {CRASH_AFTER_MS} --gate {}",
                ctx.stamps().display(),
                gate.display()
            ),
        ),
        &log_dir,
    );
    crash.autorestart = true;
    none(&mut crash);
    cfg.programs.push(crash);
    Ok(cfg)
}

/// Median of `samples` calls of `method` in microseconds.
fn latency_us(client: &mut Client, method: &str, params: &[Value], samples: usize) -> Result<f64> {
    let mut v = Vec::with_capacity(samples);
    for _ in 0..samples {
        v.push(timed_call(client, method, params.to_vec())?.as_secs_f64() * 1e6);
    }
    median(&v).ok_or_else(|| anyhow!("no samples"))
}

/// Median of up to `max` calls of `f` in ms, fewer when they have taken `budget` (at least one).
fn median_ms(max: usize, budget: Duration, mut f: impl FnMut() -> Result<Duration>) -> Result<f64> {
    let t0 = Instant::now();
    let mut v = Vec::new();
    while v.len() < max && (v.is_empty() || t0.elapsed() < budget) {
        v.push(ms(f()?));
    }
    median(&v).ok_or_else(|| anyhow!("no samples"))
}

fn all_running(client: &mut Client, n: usize) -> Result<()> {
    let all = call(client, "supervisor.getAllProcessInfo", vec![])?;
    let Value::Array(all) = all else {
        bail!("getAllProcessInfo is not an array")
    };
    let running = all
        .iter()
        .filter(|p| p.get("statename").and_then(Value::as_str) == Some("RUNNING"))
        .count();
    if running != n {
        let sample = all
            .iter()
            .find(|p| p.get("statename").and_then(Value::as_str) != Some("RUNNING"))
            .and_then(|p| p.get("spawnerr").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        bail!("only {running} of {n} programs RUNNING (e.g. {sample:?})");
    }
    Ok(())
}

fn state(client: &mut Client, name: &str) -> Result<String> {
    let info = call(
        client,
        "supervisor.getProcessInfo",
        vec![Value::String(name.into())],
    )?;
    Ok(info
        .get("statename")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

/// Stops `name` and waits. Between two lives of a crashing program it is briefly not stoppable (a
/// NOT_RUNNING fault while it is EXITED, before the daemon restarts it), so unless `done_if_not_running`
/// it retries until a stop succeeds.
fn stop(client: &mut Client, name: &str, done_if_not_running: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client.call(
            "supervisor.stopProcess",
            vec![Value::String(name.into()), Value::Bool(true)],
        );
        match r {
            Ok(_) => return Ok(()),
            Err(RpcError::Fault(f))
                if done_if_not_running && f.string.starts_with("NOT_RUNNING") =>
            {
                return Ok(());
            }
            Err(e) if Instant::now() > deadline => bail!("stopProcess {name}: {e}"),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// `runs` writer runs (at least one), the median throughput in MiB/s. Each run empties the log,
/// starts `writer` and times until the log holds every byte (a run cut at [`WRITE_CAP`] counts what
/// arrived), then waits for the writer to exit.
/// The writer's throughput into its log (MiB/s) and the daemon's CPU time per GiB over the same
/// interval, each the median of `runs`.
fn writer_rate(client: &mut Client, daemon: i32, log: &Path, runs: usize) -> Result<(f64, f64)> {
    let mut rates = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..runs.max(1) {
        if log.exists() {
            fs::OpenOptions::new()
                .write(true)
                .open(log)
                .and_then(|f| f.set_len(0))
                .with_context(|| format!("emptying {}", log.display()))?;
        }
        let cpu0 = procfs::cpu(daemon).unwrap_or_default();
        let t0 = Instant::now();
        call(
            client,
            "supervisor.startProcess",
            vec![Value::String("writer".into()), Value::Bool(false)],
        )?;
        let (size, secs) = loop {
            let size = fs::metadata(log).map_or(0, |m| m.len());
            let el = t0.elapsed();
            if size >= WRITE_BYTES || el > WRITE_CAP {
                break (size, el.as_secs_f64());
            }
            thread::sleep(Duration::from_millis(5));
        };
        let cpu = procfs::cpu(daemon).unwrap_or_default().saturating_sub(cpu0);
        rates.push(size as f64 / f64::from(1 << 20) / secs);
        if size > 0 {
            cpus.push(cpu.as_secs_f64() / (size as f64 / f64::from(1 << 30)));
        }
        if size < WRITE_BYTES {
            stop(client, "writer", true)?;
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match state(client, "writer")?.as_str() {
                "EXITED" => break,
                "STARTING" | "RUNNING" if Instant::now() < deadline => {}
                other => bail!("writer ended in state {other:?}"),
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    if log.exists() {
        let _ = fs::OpenOptions::new()
            .write(true)
            .open(log)
            .and_then(|f| f.set_len(0));
    }
    let rate = median(&rates).ok_or_else(|| anyhow!("no writer runs"))?;
    Ok((rate, median(&cpus).unwrap_or(f64::NAN)))
}

/// The writer alone in a daemon: the throughput the rows compare with.
fn baseline(setup: &Setup<'_>, dir: &Path) -> Result<f64> {
    fs::create_dir_all(dir)?;
    let mut cfg = DaemonConfig::new(dir, reserve_port());
    let w = writer(setup.bench, &cfg.log_dir(), None);
    let log = w.stdout_logfile.clone();
    cfg.programs.push(w);
    let mut daemon = Daemon::start(setup.bin, cfg, CALL_LIMIT).context("start-up")?;
    let mut client = daemon.client();
    client.set_timeout(CALL_LIMIT);
    let (rate, _) = writer_rate(&mut client, daemon.pid, &log, WRITE_RUNS)?;
    daemon.stop(CALL_LIMIT)?;
    Ok(rate)
}

/// `<ctl> -c <conf> status` wall time, median of 3 (fewer past 20 s); the command must succeed.
fn ctl_status(ctl: &Path, conf: &Path) -> Result<f64> {
    median_ms(3, Duration::from_secs(20), || {
        let t0 = Instant::now();
        let out = Command::new(ctl)
            .arg("-c")
            .arg(conf)
            .arg("status")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("running {}", ctl.display()))?;
        let took = t0.elapsed();
        if !out.status.success() {
            bail!(
                "{} status: {} {}",
                ctl.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(took)
    })
}

/// Respawn latencies (ms) of the gated `crash` program: restarted once the gate is open, it exits
/// [`CRASH_AFTER_MS`] after each start and the daemon restarts it.
fn respawns(ctx: &RowCtx<'_>, client: &mut Client) -> Result<Vec<f64>> {
    stop(client, "crash", false)?;
    call(
        client,
        "supervisor.startProcess",
        vec![Value::String("crash".into()), Value::Bool(false)],
    )?;
    let deadline = Instant::now() + RESPAWN_DEADLINE;
    let latencies = loop {
        let l = respawn_latencies(&fs::read_to_string(ctx.stamps()).unwrap_or_default());
        if l.len() >= RESPAWN_SAMPLES || Instant::now() > deadline {
            break l;
        }
        thread::sleep(Duration::from_millis(20));
    };
    stop(client, "crash", false)?;
    if latencies.len() < RESPAWN_SAMPLES {
        eprintln!(
            "[scale] only {} of {RESPAWN_SAMPLES} respawns within {RESPAWN_DEADLINE:?}",
            latencies.len()
        );
    }
    Ok(latencies)
}

fn one(ctx: &RowCtx<'_>, out: &mut [Option<f64>]) -> Result<()> {
    use col::*;
    let n = ctx.n;
    fs::create_dir_all(ctx.dir)?;
    // The benchmark's own loop at the same N, without a daemon (first, so a row that fails later
    // still has it).
    out[SPAWN_LOOP] = match ctx.spawn_loop {
        Some(v) => Some(v),
        None => {
            let spawn_dir = ctx.dir.join("spawn");
            fs::create_dir_all(&spawn_dir)?;
            // Its files stay until the end of the run (see `run`).
            Some(spawn_round(
                n,
                (ctx.logs == Logs::Own).then_some(spawn_dir.as_path()),
            )?)
        }
    };

    let cfg = config(ctx, 0)?;
    let conf = ctx.dir.join("daemon.conf");
    let writer_log = cfg
        .programs
        .iter()
        .find(|p| p.name == "writer")
        .map(|p| p.stdout_logfile.clone())
        .ok_or_else(|| anyhow!("no writer"))?;
    let t0 = Instant::now();
    let mut daemon = Daemon::start(ctx.setup.bin, cfg, CALL_LIMIT).context("start-up")?;
    out[LOAD] = Some(ms(t0.elapsed()));
    let mut client = daemon.client();
    client.set_timeout(CALL_LIMIT);
    thread::sleep(Duration::from_millis(500));
    let rss_stopped = procfs::rss_kib(daemon.pid).unwrap_or(0);

    out[START_ALL] = Some(ms(timed_call(
        &mut client,
        "supervisor.startAllProcesses",
        vec![Value::Bool(true)],
    )?));
    all_running(&mut client, n)?;

    // Quiet window: RSS, pipes and wake-ups.
    thread::sleep(Duration::from_secs(2));
    let rss = procfs::rss_kib(daemon.pid).unwrap_or(0);
    out[RSS] = Some(rss as f64 / 1024.0);
    out[PER_PROGRAM] = Some(rss.saturating_sub(rss_stopped) as f64 * 1024.0 / n as f64);
    let c0 = procfs::ctxt_switches(daemon.pid).unwrap_or(0);
    let window = Duration::from_secs(5);
    thread::sleep(window);
    let c1 = procfs::ctxt_switches(daemon.pid).unwrap_or(0);
    out[WAKE_UPS] = Some(c1.saturating_sub(c0) as f64 / window.as_secs_f64());
    // After the window: opening the pipes through /proc is not quiet.
    if let Some((count, capacity)) = procfs::pipes(daemon.pid) {
        out[PIPES] = Some(count as f64);
        out[PIPE_CAPACITY] = Some(capacity as f64 / 1024.0);
    }
    out[SOCKETS] = procfs::sockets(daemon.pid).map(|n| n as f64);
    out[DESCRIPTORS] = fs::read_dir(format!("/proc/{}/fd", daemon.pid))
        .ok()
        .map(|d| d.count() as f64);

    ctx.check("the latencies")?;
    out[GET_STATE] = Some(latency_us(&mut client, "supervisor.getState", &[], 200)?);
    let middle = Value::String(format!("s{:05}", n.saturating_sub(2) / 2));
    out[GET_PROCESS_INFO] = Some(latency_us(
        &mut client,
        "supervisor.getProcessInfo",
        &[middle],
        200,
    )?);
    out[GET_ALL] = Some(median_ms(5, Duration::from_secs(10), || {
        timed_call(&mut client, "supervisor.getAllProcessInfo", vec![])
    })?);

    ctx.check("ctl status")?;
    match &ctx.setup.ctl {
        Some(ctl) => out[CTL_STATUS] = Some(ctl_status(ctl, &conf)?),
        None => eprintln!("[scale] no control client: ctl status not measured"),
    }

    if ctx.setup.bin.kind == Kind::Procd {
        ctx.check("/readyz")?;
        let mut get = |path: &str| -> Result<Duration> {
            let t0 = Instant::now();
            match client.get(path) {
                Ok(_) => Ok(t0.elapsed()),
                Err(RpcError::Timeout(_)) => bail!("GET {path} took over {CALL_LIMIT:?}"),
                Err(e) => bail!("GET {path}: {e}"),
            }
        };
        let mut v = Vec::new();
        for _ in 0..100 {
            v.push(get("/readyz")?.as_secs_f64() * 1e6);
        }
        out[READYZ] = median(&v);
        out[METRICS] = Some(median_ms(10, Duration::from_secs(10), || get("/metrics"))?);
    }

    // update with one changed program.
    ctx.check("update")?;
    let changed = config(ctx, 1)?;
    fs::write(&conf, changed.render())?;
    let t0 = Instant::now();
    timed_call(&mut client, "supervisor.reloadConfig", vec![])?;
    // What follows the re-read: the changed group's stop, remove and add.
    let t1 = Instant::now();
    let g = Value::String("s00000".into());
    timed_call(
        &mut client,
        "supervisor.stopProcessGroup",
        vec![g.clone(), Value::Bool(true)],
    )?;
    timed_call(
        &mut client,
        "supervisor.removeProcessGroup",
        vec![g.clone()],
    )?;
    timed_call(&mut client, "supervisor.addProcessGroup", vec![g])?;
    out[UPDATE] = Some(ms(t0.elapsed()));
    out[UPDATE_OPS] = Some(ms(t1.elapsed()));

    // The gated helpers: respawns, then the writer.
    ctx.check("respawns")?;
    fs::write(ctx.gate(), "")?;
    let latencies = respawns(ctx, &mut client)?;
    out[RESPAWN_P50] = median(&latencies);
    out[RESPAWN_P90] = percentile(&latencies, 90.0);
    ctx.check("the writer")?;
    stop(&mut client, "writer", true)?;
    let (rate, cpu) = writer_rate(&mut client, daemon.pid, &writer_log, WRITE_RUNS)?;
    out[WRITER] = Some(rate);
    out[WRITER_CPU] = Some(cpu).filter(|c| c.is_finite());
    out[WRITER_VS_NONE] = ctx.baseline.map(|b| 100.0 * rate / b);
    fs::remove_file(ctx.gate())?;

    // Everything running again (the changed program, and the helpers, now sleepers behind the
    // closed gate), then stopped, then started once more for the shutdown.
    ctx.check("stopAllProcesses")?;
    for name in ["s00000", "writer", "crash"] {
        timed_call(
            &mut client,
            "supervisor.startProcess",
            vec![Value::String(name.into()), Value::Bool(true)],
        )?;
    }
    all_running(&mut client, n)?;
    out[STOP_ALL] = Some(ms(timed_call(
        &mut client,
        "supervisor.stopAllProcesses",
        vec![Value::Bool(true)],
    )?));
    timed_call(
        &mut client,
        "supervisor.startAllProcesses",
        vec![Value::Bool(true)],
    )?;
    ctx.check("shutdown")?;
    let stopped = daemon.stop(CALL_LIMIT)?;
    if stopped.killed {
        bail!("shutdown took over {CALL_LIMIT:?}");
    }
    out[SHUTDOWN] = Some(ms(stopped.elapsed));
    Ok(())
}

/// The Markdown table's heading (two lines).
pub(crate) fn table_header() -> String {
    let mut s = String::from("| daemon | logs | N |");
    for i in 0..COLUMNS.len() {
        s.push_str(&format!(" {} |", column_key(i)));
    }
    s.push_str("\n|---|---|---:|");
    for _ in COLUMNS {
        s.push_str("---:|");
    }
    s
}

/// One row of the Markdown table (`–` for a value not measured).
pub(crate) fn table_row(r: &Row) -> String {
    let mut s = format!("| {} | {} | {} |", r.daemon, r.logs.name(), r.n);
    for i in 0..COLUMNS.len() {
        match r.values.get(i).copied().flatten() {
            Some(v) => s.push_str(&format!(" {} |", crate::report::fmt_value(v))),
            None => s.push_str(" – |"),
        }
    }
    if let Some(e) = &r.error {
        s.push_str(&format!(" failed: {e} |"));
    }
    s
}

/// The rows as a Markdown table.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut s = table_header();
    s.push('\n');
    for r in rows {
        s.push_str(&table_row(r));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(daemon: &str, logs: Logs, n: usize, first: Option<f64>) -> Row {
        let mut values = vec![None; COLUMNS.len()];
        values[0] = first;
        Row {
            daemon: daemon.into(),
            logs,
            n,
            values,
            error: first.is_none().then(|| "start-up failed".to_owned()),
        }
    }

    #[test]
    fn json_round_trip_keeps_rows_and_gaps() {
        let mut baseline = BTreeMap::new();
        baseline.insert("procd".to_owned(), 1000.0);
        let mut r = row("procd", Logs::Own, 1000, Some(12.5));
        r.values[col::DESCRIPTORS] = Some(3021.0);
        let doc = Doc::new(
            7,
            vec![
                row("procd", Logs::None, 100, Some(1.0)),
                r,
                row("supervisord", Logs::None, 1000, None),
            ],
            baseline,
        );
        let text = serde_json::to_string_pretty(&doc).expect("json");
        let back: Doc = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, doc);
        assert_eq!(back.current_rows(), doc.rows);
        assert!(text.contains("\"logs\": \"Own\""), "{text}");
        assert!(text.contains("\"descriptors\""), "{text}");
    }

    #[test]
    fn column_indexes_name_their_columns() {
        for (i, key) in [
            (col::LOAD, "load (ms)"),
            (col::SPAWN_LOOP, "spawn loop (ms)"),
            (col::PIPES, "pipes"),
            (col::SOCKETS, "sockets"),
            (col::WAKE_UPS, "wake-ups (/s)"),
            (col::CTL_STATUS, "ctl status (ms)"),
            (col::READYZ, "/readyz (µs)"),
            (col::RESPAWN_P90, "respawn p90 (ms)"),
            (col::WRITER_VS_NONE, "log vs none (%)"),
            (col::DESCRIPTORS, "descriptors"),
        ] {
            assert_eq!(column_key(i), key);
        }
        assert_eq!(col::DESCRIPTORS, COLUMNS.len() - 1);
    }

    #[test]
    fn older_files_map_by_column_name() {
        // An older file: fewer columns, another order, the empty unit spelled `()`.
        let text = r#"{"unix_time": 1, "columns": ["descriptors ()", "load (ms)", "gone (s)"],
            "rows": [{"daemon": "procd", "logs": "None", "n": 100,
                      "values": [121.0, 451.0, 9.0], "error": null}]}"#;
        let doc: Doc = serde_json::from_str(text).expect("parse");
        let rows = doc.current_rows();
        assert_eq!(rows[0].values.len(), COLUMNS.len());
        assert_eq!(rows[0].values[col::LOAD], Some(451.0));
        assert_eq!(rows[0].values[col::DESCRIPTORS], Some(121.0));
        assert_eq!(rows[0].values[col::READYZ], None);
        assert!(doc.log_baseline_mib_s.is_empty());
    }

    #[test]
    fn table_rows_stream_under_the_header() {
        let header = table_header();
        let cells = header.lines().next().expect("line").matches('|').count();
        let r = row("supervisord", Logs::None, 1000, None);
        let line = table_row(&r);
        // Same cells as the header, plus the failure.
        assert_eq!(line.matches('|').count(), cells + 1, "{line}");
        assert!(line.ends_with("| failed: start-up failed |"), "{line}");
        assert_eq!(table(&[r]), format!("{header}\n{line}\n"));
    }

    #[test]
    fn a_start_all_far_over_the_limit_skips_the_next_n() {
        // supervisord: 37 s at 1,000 -> at least 370 s at 10,000.
        let why = predicted_over_limit(1000, 37_000.0, 10_000).expect("skipped");
        assert!(why.contains("at least 370 s at N=10000"), "{why}");
        // procd: 4.6 s at 1,000 -> 46 s, still tried; so is anything under 120 s.
        assert_eq!(predicted_over_limit(1000, 4_600.0, 10_000), None);
        assert_eq!(predicted_over_limit(1000, 11_900.0, 10_000), None);
        assert!(predicted_over_limit(100, 1_300.0, 10_000).is_some());
    }

    #[test]
    fn estimate_bounds_supervisord_rows() {
        let ns = [100, 1000, 10_000];
        let s = estimate(&[Kind::Supervisord], &ns).as_secs_f64();
        // Every supervisord row is capped (its series ends at a 60 s call).
        // 100 costs 85 s, 1,000 220 s, 10,000 is skipped.
        assert_eq!(s, 8.0 + 2.0 * (85.0 + 220.0));
        let both = estimate(&[Kind::Procd, Kind::Supervisord], &ns);
        assert!(both > estimate(&[Kind::Procd], &ns));
        assert!(both < Duration::from_secs(26 * 60), "{both:?}");
    }
}
