//! Scenarios 2–4 on a daemon with many stopped `sleep` programs (`autostart=false`, `startsecs=0`).
//!
//! 2. `startAllProcesses(wait=True)`: time from sending the call to receiving the reply, then a check
//!    that every program reports RUNNING.
//! 3. `stopAllProcesses(wait=True)`: the same timing, plus the moment the last child was reaped. A
//!    thread sweeps `/proc/<pid>` of every child (pids from `getAllProcessInfo`) about every
//!    millisecond; a pid disappears from /proc only once its parent has reaped it, so the sweep that
//!    finds none left marks the last reap. Reported as "reply after last reap" (negative: the reply came
//!    before every child was reaped).
//!    Before the call, every child must have exec'd `sleep` (see `wait_exec`).
//! 4. Programs are started again (not timed), then SIGTERM to the daemon; time until the daemon has
//!    exited (polled every millisecond). Children still alive after it exited count as a failure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use procd_protocol::Value;

use super::{Ctx, process_states, wait_all_in};
use crate::procfs;
use crate::report::{Better, Metric};

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

pub fn start_all(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    let t0 = Instant::now();
    let reply = client.call("supervisor.startAllProcesses", vec![Value::Bool(true)])?;
    let elapsed = t0.elapsed();
    check_all_succeeded(&reply, n, "startAllProcesses")?;
    wait_all_in(ctx, "mass_", "RUNNING", n)?;
    Ok(vec![Metric::new(
        &format!("{n} programs: call -> reply"),
        "ms",
        Better::Lower,
        elapsed.as_secs_f64() * 1000.0,
    )])
}

pub fn stop_all(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    let pids: Vec<i32> = process_states(&mut client)?
        .into_iter()
        .filter(|(name, state, pid)| name.starts_with("mass_") && state == "RUNNING" && *pid > 0)
        .map(|(_, _, pid)| pid)
        .collect();
    if pids.len() != n {
        bail!("{} of {n} programs running before the stop", pids.len());
    }
    wait_exec(ctx, &pids)?;
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

pub fn shutdown(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let n = ctx.sizes.mass_programs;
    let mut client = ctx.client();
    let reply = client.call("supervisor.startAllProcesses", vec![Value::Bool(true)])?;
    check_all_succeeded(&reply, n, "startAllProcesses (before shutdown)")?;
    wait_all_in(ctx, "mass_", "RUNNING", n)?;
    let pids: Vec<i32> = process_states(&mut client)?
        .into_iter()
        .map(|(_, _, pid)| pid)
        .collect();
    wait_exec(ctx, &pids)?;
    drop(client);
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
