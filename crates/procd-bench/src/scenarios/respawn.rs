//! Scenario 5: crash → respawn latency with `autorestart=true`, `startsecs=0`.
//!
//! The `crash` helper appends `start <pid> <ns>` to a stamp file when it starts, lives a fixed time,
//! appends `exit <pid> <ns>` and exits 1. The latency of a sample is the wall-clock (ns resolution)
//! gap between an `exit` stamp and the next `start` stamp: it covers the daemon noticing the exit,
//! reaping, deciding to restart, fork and exec of the helper. Median over the samples.

use std::fs;
use std::thread;
use std::time::Duration;

use anyhow::{Result, bail};
use procd_protocol::Value;

use super::Ctx;
use crate::children::respawn_latencies;
use crate::report::{Better, Metric};
use crate::stats;

pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let stamp = super::scratch(ctx, "crash.stamps");
    let want = ctx.sizes.respawn_samples;
    let mut client = ctx.client();
    client.call(
        "supervisor.startProcess",
        vec![Value::String("crash".into()), Value::Bool(false)],
    )?;
    let latencies = loop {
        let text = fs::read_to_string(&stamp).unwrap_or_default();
        let l = respawn_latencies(&text);
        if l.len() >= want {
            break l;
        }
        if ctx.check_deadline("collecting respawns").is_err() {
            bail!("only {} of {want} respawns before the deadline", l.len());
        }
        thread::sleep(Duration::from_millis(20));
    };
    // Stop the cycle; between two lives the process may briefly not be stoppable, so retry.
    for _ in 0..50 {
        match client.call(
            "supervisor.stopProcess",
            vec![Value::String("crash".into()), Value::Bool(true)],
        ) {
            Ok(_) => break,
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
    let p = |q| stats::percentile(&latencies, q).unwrap_or(f64::NAN);
    Ok(vec![
        Metric::new(
            "exit -> new process started, median",
            "ms",
            Better::Lower,
            stats::median(&latencies).unwrap_or(f64::NAN),
        ),
        Metric::new(
            "exit -> new process started, p90",
            "ms",
            Better::Lower,
            p(90.0),
        ),
        Metric::new("samples", "count", Better::Info, latencies.len() as f64),
    ])
}
