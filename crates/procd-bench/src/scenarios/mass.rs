//! Scenarios 2–4 on a daemon with many stopped `sleep` programs (`autostart=false`, `startsecs=0`).
//!
//! 2. `startAllProcesses(wait=True)`: time from sending the call to receiving the reply, then a check
//!    that every program reports RUNNING. The first call creates the log files; then everything is
//!    stopped and started again `start_repeats` times (the files exist by then) and the median of those
//!    calls is reported too. [`spawn_limit`] measures the same starts without a daemon.
//! 3. `stopAllProcesses(wait=True)`: the same timing, plus the moment the last child was reaped. A
//!    thread sweeps `/proc/<pid>` of every child (pids from `getAllProcessInfo`) about every
//!    millisecond; a pid disappears from /proc only once its parent has reaped it, so the sweep that
//!    finds none left marks the last reap. Reported as "reply after last reap" (negative: the reply came
//!    before every child was reaped).
//!    Before the call, every child must have exec'd `sleep` (see `wait_exec`).
//! 4. Programs are started again (not timed), then SIGTERM to the daemon; time until the daemon has
//!    exited (polled every millisecond). Children still alive after it exited count as a failure.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use procd_protocol::Value;

use super::{Ctx, Sizes, process_states, wait_all_in};
use crate::procfs;
use crate::report::{Better, Metric};
use crate::rpc::Client;
use crate::stats::median;

fn check_all_succeeded(reply: &Value, expected: usize, what: &str) -> Result<()> {
    let items = reply
        .as_array()
        .ok_or_else(|| anyhow!("{what} did not return an array"))?;
    let ok = items
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_int) == Some(80))
        .count();
    if items.len() != expected || ok != expected {
        bail!(
            "{what}: {ok} of {} results succeeded, {expected} expected",
            items.len()
        );
    }
    Ok(())
}

/// Waits until every child has exec'd `sleep`. A signal that reaches a child between fork and exec can
/// be lost (supervisord's forked child still runs the daemon's handlers), which would turn a stop
/// measurement into a `stopwaitsecs` timeout; this scenario measures stopping, not that race.
fn wait_exec(ctx: &Ctx<'_>, pids: &[i32]) -> Result<()> {
    loop {
        let pending = pids
            .iter()
            .filter(|&&p| procfs::comm(p).as_deref() != Some("sleep"))
            .count();
        if pending == 0 {
            return Ok(());
        }
        ctx.check_deadline(&format!("waiting for {pending} children to exec sleep"))?;
        thread::sleep(Duration::from_millis(5));
    }
}

/// Scenario 2's metric names: the first call, and the median of the later ones.
fn start_names(n: usize, repeats: usize) -> (String, String) {
    (
        format!("{n} programs, first call (creates the logs): call -> reply"),
        format!("{n} programs, later calls (logs exist), median of {repeats}: call -> reply"),
    )
}

pub(super) fn start_all(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    let repeats = ctx.sizes.start_repeats;
    let (first_name, later_name) = start_names(n, repeats);
    let first = timed_start_all(ctx)?;
    let mut metrics = vec![Metric::new(&first_name, "ms", Better::Lower, first)];
    let mut later = Vec::new();
    for _ in 0..repeats {
        stop_all_untimed(ctx)?;
        later.push(timed_start_all(ctx)?);
    }
    if let Some(ms) = median(&later) {
        metrics.push(Metric::new(&later_name, "ms", Better::Lower, ms));
    }
    Ok(metrics)
}

/// One `startAllProcesses(wait=True)`: call to reply in ms, after checking every result.
fn timed_start_all(ctx: &mut Ctx<'_>) -> Result<f64> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    let t0 = Instant::now();
    let reply = client.call("supervisor.startAllProcesses", vec![Value::Bool(true)])?;
    let elapsed = t0.elapsed();
    check_all_succeeded(&reply, n, "startAllProcesses")?;
    wait_all_in(ctx, "mass_", "RUNNING", n)?;
    Ok(elapsed.as_secs_f64() * 1000.0)
}

/// Stops everything again between the timed starts, once every child has exec'd (see [`wait_exec`]),
/// and lets the machine settle.
fn stop_all_untimed(ctx: &mut Ctx<'_>) -> Result<()> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    running_pids(ctx, &mut client)?;
    let reply = client.call("supervisor.stopAllProcesses", vec![Value::Bool(true)])?;
    check_all_succeeded(&reply, n, "stopAllProcesses (between starts)")?;
    wait_all_in(ctx, "mass_", "STOPPED", n)?;
    thread::sleep(SETTLE);
    Ok(())
}

/// Pause after stopping 500 children before the next timed start (their teardown is not measured).
const SETTLE: Duration = Duration::from_millis(300);

/// The same starts without a daemon: `n` `sleep 100000` children, each with stdin on `/dev/null` and
/// stdout and stderr appended to its own log file, started one after another by the benchmark itself
/// (`posix_spawn`, which returns once the child has exec'd: what both daemons wait for too). The first
/// round creates the files, the later rounds reuse them, as in scenario 2.
#[derive(Debug, Clone)]
pub(crate) struct SpawnLimit {
    /// Metric name of scenario 2's first call, and the time of the first round.
    pub first_name: String,
    pub first_ms: f64,
    /// Metric name of the later calls, and the median of the later rounds.
    pub repeated: Option<(String, f64)>,
}

pub(crate) fn spawn_limit(sizes: &Sizes, work: &Path) -> Result<SpawnLimit> {
    let n = sizes.mass_programs;
    let dir = work.join("spawn-limit");
    std::fs::create_dir_all(&dir)?;
    let (first_name, later_name) = start_names(n, sizes.start_repeats);
    let first_ms = spawn_round(n, Some(&dir))?;
    let mut later = Vec::new();
    for _ in 0..sizes.start_repeats {
        thread::sleep(SETTLE);
        later.push(spawn_round(n, Some(&dir))?);
    }
    Ok(SpawnLimit {
        first_name,
        first_ms,
        repeated: median(&later).map(|ms| (later_name, ms)),
    })
}

/// Starts the `n` children (timed), then kills and reaps them (not timed). Output goes to a log file
/// per child in `dir`, or to /dev/null.
pub(super) fn spawn_round(n: usize, dir: Option<&Path>) -> Result<f64> {
    let mut children = KillOnDrop(Vec::with_capacity(n));
    let t0 = Instant::now();
    for i in 0..n {
        let (out, err) = match dir {
            Some(dir) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(format!("mass_{i:03}.log")))?;
                (Stdio::from(log.try_clone()?), Stdio::from(log))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let child = Command::new("sleep")
            .arg("100000")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .context("spawning sleep")?;
        children.0.push(child);
    }
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

/// Children of the spawn limit; killed and reaped however the round ends.
struct KillOnDrop(Vec<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// The pids of all `n` programs, once each is RUNNING and has exec'd `sleep` (see [`wait_exec`]).
fn running_pids(ctx: &Ctx<'_>, client: &mut Client) -> Result<Vec<i32>> {
    let n = ctx.sizes.mass_programs;
    let pids: Vec<i32> = process_states(client)?
        .into_iter()
        .filter(|(name, state, pid)| name.starts_with("mass_") && state == "RUNNING" && *pid > 0)
        .map(|(_, _, pid)| pid)
        .collect();
    if pids.len() != n {
        bail!("{} of {n} programs running before the stop", pids.len());
    }
    wait_exec(ctx, &pids)?;
    Ok(pids)
}

pub(super) fn stop_all(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    let pids = running_pids(ctx, &mut client)?;
    let done = AtomicBool::new(false);
    let deadline = ctx.deadline;
    let (elapsed, reply, last_reap) = thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut left = pids.clone();
            let mut grace: Option<Instant> = None;
            loop {
                left.retain(|&p| procfs::exists(p));
                let now = Instant::now();
                if left.is_empty() {
                    return Some(now);
                }
                if now >= deadline {
                    return None;
                }
                // After the reply, stragglers get a bounded time before the watcher gives up.
                if done.load(Ordering::Relaxed)
                    && now >= *grace.get_or_insert(now + Duration::from_secs(10))
                {
                    return None;
                }
                thread::sleep(Duration::from_millis(1));
            }
        });
        let t0 = Instant::now();
        let reply = client.call("supervisor.stopAllProcesses", vec![Value::Bool(true)]);
        let returned = Instant::now();
        done.store(true, Ordering::Relaxed);
        let last = watcher.join().ok().flatten();
        ((returned - t0, returned), reply, last)
    });
    let reply = reply?;
    check_all_succeeded(&reply, n, "stopAllProcesses")?;
    let (elapsed, returned) = elapsed;
    let last =
        last_reap.ok_or_else(|| anyhow!("some children were still in /proc after the reply"))?;
    let gap_ms = if returned >= last {
        (returned - last).as_secs_f64() * 1000.0
    } else {
        -((last - returned).as_secs_f64() * 1000.0)
    };
    Ok(vec![
        Metric::new(
            &format!("{n} programs: call -> reply"),
            "ms",
            Better::Lower,
            elapsed.as_secs_f64() * 1000.0,
        ),
        Metric::new("reply after last child reaped", "ms", Better::Lower, gap_ms),
    ])
}

pub(super) fn shutdown(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    timed_start_all(ctx)?;
    running_pids(ctx, &mut ctx.client())?;
    let stopped = ctx.daemon.stop(ctx.remaining())?;
    let metrics = vec![Metric::new(
        &format!("{n} programs running: SIGTERM -> exit"),
        "ms",
        Better::Lower,
        stopped.elapsed.as_secs_f64() * 1000.0,
    )];
    if stopped.killed {
        return Err(super::Partial {
            error: "daemon did not exit before the deadline (killed)".into(),
            metrics,
        }
        .into());
    }
    if stopped.leftovers > 0 {
        return Err(super::Partial {
            error: format!(
                "{} children were left running after the daemon exited",
                stopped.leftovers
            ),
            metrics,
        }
        .into());
    }
    Ok(metrics)
}
