//! `--scale`: one daemon with N `sleep` programs, for N in 100, 1,000 and 10,000, once with
//! `stdout_logfile=NONE` and once with each program's own log file. Each row is a fresh daemon:
//!
//! - load: from starting the daemon to `getState` answering RUNNING (config load and start-up; the
//!   programs have `autostart=false`);
//! - `startAllProcesses(wait)`, beside the benchmark's own spawn loop of N `sleep`s at the same N;
//! - idle RSS of the daemon with everything running, and bytes per program (RSS with everything
//!   running minus RSS with everything stopped, over N; kernel pipe buffers are not in RSS);
//! - idle wake-ups: context switches of the daemon per second over a quiet window;
//! - median latency of `getState` and of `getProcessInfo` for one process, time of `getAllProcessInfo`;
//! - `update` after changing one program (what `supervisorctl update` sends: `reloadConfig`, then
//!   stop, remove and add that one group);
//! - `stopAllProcesses(wait)` and shutdown (SIGTERM to exit) after starting everything again.
//!
//! A daemon that takes more than [`CALL_LIMIT`] for a call, or fails, ends its series: larger N are
//! not tried for it.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use procd_protocol::Value;

use super::mass::spawn_round;
use crate::config::{DaemonConfig, Program};
use crate::daemon::{Daemon, DaemonBin, reserve_port};
use crate::procfs;
use crate::rpc::Client;
use crate::stats::median;

/// The longest one call may take before the series is abandoned for that daemon.
pub(crate) const CALL_LIMIT: Duration = Duration::from_secs(60);

/// How programs log in one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Row {
    pub daemon: String,
    pub logs: Logs,
    pub n: usize,
    pub values: Vec<Option<f64>>,
    pub error: Option<String>,
}

/// Column names and units, in `Row::values` order.
pub(crate) const COLUMNS: [(&str, &str); 13] = [
    ("load", "ms"),
    ("startAll(wait)", "ms"),
    ("spawn loop", "ms"),
    ("idle RSS", "MiB"),
    ("per program", "B"),
    ("wake-ups", "/s"),
    ("getState", "µs"),
    ("getProcessInfo", "µs"),
    ("getAllProcessInfo", "ms"),
    ("update 1", "ms"),
    ("stopAll(wait)", "ms"),
    ("shutdown", "ms"),
    ("descriptors", ""),
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs every series; the rows in order of daemon, logs, N.
pub(crate) fn run(bins: &[&DaemonBin], ns: &[usize], work: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for bin in bins {
        for logs in [Logs::None, Logs::Own] {
            for &n in ns {
                let name = bin.kind.name();
                eprintln!("[scale] {name}, {} programs, {}", n, logs.name());
                let dir = work.join(format!("scale-{name}-{n}-{}", logs.name().replace(' ', "")));
                let mut row = Row {
                    daemon: name.to_owned(),
                    logs,
                    n,
                    values: vec![None; COLUMNS.len()],
                    error: None,
                };
                let result = one(bin, n, logs, &dir, &mut row.values);
                let _ = std::fs::remove_dir_all(&dir);
                if let Err(e) = result {
                    let msg = format!("{e:#}");
                    eprintln!("[scale] {name} at N={n} ({}): {msg}", logs.name());
                    row.error = Some(msg.lines().next().unwrap_or_default().to_owned());
                    rows.push(row);
                    break;
                }
                rows.push(row);
            }
        }
    }
    rows
}

fn timed_call(client: &mut Client, method: &str, params: Vec<Value>) -> Result<Duration> {
    let t0 = Instant::now();
    client
        .call(method, params)
        .map_err(|e| anyhow!("{method}: {e}"))?;
    let took = t0.elapsed();
    if took > CALL_LIMIT {
        bail!("{method} took {took:?}, over {CALL_LIMIT:?}");
    }
    Ok(took)
}

fn config(n: usize, logs: Logs, dir: &Path, variant: usize) -> Result<DaemonConfig> {
    let mut cfg = DaemonConfig::new(dir, reserve_port());
    let log_dir = cfg.log_dir();
    for i in 0..n {
        let name = format!("s{i:05}");
        // `update` changes program 0's command (variant 1): only that group differs.
        let secs = if i == 0 { 100_000 + variant } else { 100_000 };
        let mut p = Program::new(&name, &format!("sleep {secs}"), &log_dir);
        if logs == Logs::None {
            p.stdout_logfile = PathBuf::from("NONE");
        }
        cfg.programs.push(p);
    }
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

fn all_running(client: &mut Client, n: usize) -> Result<()> {
    let all = client
        .call("supervisor.getAllProcessInfo", vec![])
        .map_err(|e| anyhow!("getAllProcessInfo: {e}"))?;
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

fn one(bin: &DaemonBin, n: usize, logs: Logs, dir: &Path, out: &mut [Option<f64>]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let cfg = config(n, logs, dir, 0)?;
    let t0 = Instant::now();
    let mut daemon = Daemon::start(bin, cfg, CALL_LIMIT).context("start-up")?;
    out[0] = Some(ms(t0.elapsed()));
    let mut client = daemon.client();
    client.set_timeout(CALL_LIMIT + Duration::from_secs(5));
    thread::sleep(Duration::from_millis(500));
    let rss_stopped = procfs::rss_kib(daemon.pid).unwrap_or(0);

    out[1] = Some(ms(timed_call(
        &mut client,
        "supervisor.startAllProcesses",
        vec![Value::Bool(true)],
    )?));
    all_running(&mut client, n)?;

    // Quiet window: RSS and wake-ups.
    thread::sleep(Duration::from_secs(2));
    let rss = procfs::rss_kib(daemon.pid).unwrap_or(0);
    out[3] = Some(rss as f64 / 1024.0);
    out[4] = Some(rss.saturating_sub(rss_stopped) as f64 * 1024.0 / n as f64);
    let c0 = procfs::ctxt_switches(daemon.pid).unwrap_or(0);
    let window = Duration::from_secs(5);
    thread::sleep(window);
    let c1 = procfs::ctxt_switches(daemon.pid).unwrap_or(0);
    out[5] = Some(c1.saturating_sub(c0) as f64 / window.as_secs_f64());
    out[12] = std::fs::read_dir(format!("/proc/{}/fd", daemon.pid))
        .ok()
        .map(|d| d.count() as f64);

    out[6] = Some(latency_us(&mut client, "supervisor.getState", &[], 200)?);
    let middle = Value::String(format!("s{:05}", n / 2));
    out[7] = Some(latency_us(
        &mut client,
        "supervisor.getProcessInfo",
        &[middle],
        200,
    )?);
    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(ms(timed_call(
            &mut client,
            "supervisor.getAllProcessInfo",
            vec![],
        )?));
    }
    out[8] = median(&all);

    // update with one changed program.
    let changed = config(n, logs, dir, 1)?;
    std::fs::write(dir.join("daemon.conf"), changed.render())?;
    let t0 = Instant::now();
    client
        .call("supervisor.reloadConfig", vec![])
        .map_err(|e| anyhow!("reloadConfig: {e}"))?;
    let g = Value::String("s00000".into());
    client
        .call(
            "supervisor.stopProcessGroup",
            vec![g.clone(), Value::Bool(true)],
        )
        .map_err(|e| anyhow!("stopProcessGroup: {e}"))?;
    client
        .call("supervisor.removeProcessGroup", vec![g.clone()])
        .map_err(|e| anyhow!("removeProcessGroup: {e}"))?;
    client
        .call("supervisor.addProcessGroup", vec![g])
        .map_err(|e| anyhow!("addProcessGroup: {e}"))?;
    out[9] = Some(ms(t0.elapsed()));

    out[10] = Some(ms(timed_call(
        &mut client,
        "supervisor.stopAllProcesses",
        vec![Value::Bool(true)],
    )?));
    timed_call(
        &mut client,
        "supervisor.startAllProcesses",
        vec![Value::Bool(true)],
    )?;
    let stopped = daemon.stop(CALL_LIMIT)?;
    if stopped.killed {
        bail!("shutdown took over {CALL_LIMIT:?}");
    }
    out[11] = Some(ms(stopped.elapsed));

    // The benchmark's own loop at the same N, without a daemon.
    let spawn_dir = dir.join("spawn");
    std::fs::create_dir_all(&spawn_dir)?;
    out[2] = Some(spawn_round(
        n,
        (logs == Logs::Own).then_some(spawn_dir.as_path()),
    )?);
    Ok(())
}

/// The rows as a Markdown table.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut s = String::from("| daemon | logs | N |");
    for (name, unit) in COLUMNS {
        if unit.is_empty() {
            s.push_str(&format!(" {name} |"));
        } else {
            s.push_str(&format!(" {name} ({unit}) |"));
        }
    }
    s.push_str("\n|---|---|---:|");
    for _ in COLUMNS {
        s.push_str("---:|");
    }
    s.push('\n');
    for r in rows {
        s.push_str(&format!("| {} | {} | {} |", r.daemon, r.logs.name(), r.n));
        for v in &r.values {
            match v {
                Some(v) => s.push_str(&format!(" {} |", crate::report::fmt_value(*v))),
                None => s.push_str(" – |"),
            }
        }
        if let Some(e) = &r.error {
            s.push_str(&format!(" failed: {e} |"));
        }
        s.push('\n');
    }
    s
}
