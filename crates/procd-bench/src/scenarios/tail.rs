//! Scenario 8: how soon a fresh line is visible through `tailProcessStdoutLog`.
//!
//! The `echo` helper copies each stdin line to stdout. Each sample sends a unique token with
//! `sendProcessStdin`, then polls `tailProcessStdoutLog(name, offset, 65536)` (offset = end of the log
//! seen so far, 1 ms between polls) until the token appears. The latency runs from just before the send
//! to the reply that contains the token.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow};
use procd_protocol::Value;

use super::Ctx;
use crate::report::{Better, Metric};
use crate::stats;

pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let name = || Value::String("echo".into());
    let mut client = ctx.client();
    client.call("supervisor.startProcess", vec![name(), Value::Bool(true)])?;
    let mut offset = 0i32;
    let mut samples = Vec::new();
    for i in 0..ctx.sizes.tail_samples {
        let nonce = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let token = format!("token-{i}-{nonce}");
        let t0 = Instant::now();
        client.call(
            "supervisor.sendProcessStdin",
            vec![name(), Value::String(format!("{token}\n"))],
        )?;
        let mut seen = String::new();
        loop {
            let r = client.call(
                "supervisor.tailProcessStdoutLog",
                vec![name(), Value::Int(offset), Value::Int(65536)],
            )?;
            let parts = r
                .as_array()
                .ok_or_else(|| anyhow!("tail reply is not an array"))?;
            let (Some(text), Some(next)) = (
                parts.first().and_then(Value::as_str),
                parts.get(1).and_then(Value::as_int),
            ) else {
                return Err(anyhow!("tail reply has an unexpected shape: {r:?}"));
            };
            seen.push_str(text);
            offset = next;
            if seen.contains(&token) {
                samples.push(t0.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            ctx.check_deadline(&format!("waiting for sample {i} in the tail"))?;
            thread::sleep(Duration::from_millis(1));
        }
    }
    let _ = client.call("supervisor.stopProcess", vec![name(), Value::Bool(true)]);
    let p = |q| stats::percentile(&samples, q).unwrap_or(f64::NAN);
    Ok(vec![
        Metric::new("fresh line visible, p50", "ms", Better::Lower, p(50.0)),
        Metric::new("fresh line visible, p90", "ms", Better::Lower, p(90.0)),
        Metric::new("samples", "count", Better::Info, samples.len() as f64),
    ])
}
