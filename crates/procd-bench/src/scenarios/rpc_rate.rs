//! Scenario 6: RPC throughput.
//!
//! Back-to-back calls on keep-alive connections for a fixed window (the first reply of each client is
//! decoded in full, later ones only checked to be complete non-fault responses, so the client's XML
//! decoding does not cap the rate): `getAllProcessInfo` with one client
//! over the unix socket and over TCP, then `getState` with 8 concurrent clients on the unix socket.
//! The benchmark's own CPU time (all its threads, from /proc/self/stat) and the daemon's CPU time over
//! the same window are reported, to show which side is saturated.

use std::sync::Barrier;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};

use super::Ctx;
use crate::procfs;
use crate::report::{Better, Metric};
use crate::rpc::{Client, Endpoint};

struct Rate {
    calls_per_s: f64,
    client_cpu_pct: f64,
    daemon_cpu_pct: f64,
}

fn measure(ctx: &Ctx<'_>, endpoint: Endpoint, method: &str, clients: usize) -> Result<Rate> {
    let window = ctx.sizes.rpc_window;
    let timeout = ctx.remaining();
    let barrier = Barrier::new(clients + 1);
    let pid = ctx.daemon.pid;
    let (counts, wall, client_cpu, daemon_cpu) = std::thread::scope(|scope| -> Result<_> {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let endpoint = endpoint.clone();
                let barrier = &barrier;
                scope.spawn(move || -> Result<u64> {
                    let mut c = Client::new(endpoint);
                    c.set_timeout(timeout);
                    // Connect and warm up before the clock starts.
                    let warm = c.call(method, vec![]);
                    barrier.wait();
                    barrier.wait();
                    warm?;
                    let end = Instant::now() + window;
                    let mut n = 0;
                    while Instant::now() < end {
                        c.call_unchecked(method, vec![])?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        barrier.wait();
        let cpu0 = procfs::self_cpu().unwrap_or_default();
        let dcpu0 = procfs::cpu(pid).unwrap_or_default();
        let t0 = Instant::now();
        barrier.wait();
        let mut counts = Vec::new();
        for h in handles {
            counts.push(h.join().map_err(|_| anyhow!("client thread panicked"))?);
        }
        let wall = t0.elapsed();
        let cpu = procfs::self_cpu().unwrap_or_default().saturating_sub(cpu0);
        let dcpu = procfs::cpu(pid).unwrap_or_default().saturating_sub(dcpu0);
        Ok((counts, wall, cpu, dcpu))
    })?;
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    let w = wall.as_secs_f64();
    Ok(Rate {
        calls_per_s: total as f64 / w,
        client_cpu_pct: client_cpu.as_secs_f64() / w * 100.0,
        daemon_cpu_pct: daemon_cpu.as_secs_f64() / w * 100.0,
    })
}

pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let expected = ctx.daemon.config.programs.len();
    let got = super::process_states(&mut ctx.client())?.len();
    if got != expected {
        bail!("getAllProcessInfo returned {got} processes, expected {expected}");
    }
    let mut m = Vec::new();
    let cases = [
        (
            "getAllProcessInfo, 1 client, unix",
            ctx.daemon.unix(),
            "supervisor.getAllProcessInfo",
            1,
        ),
        (
            "getAllProcessInfo, 1 client, TCP",
            ctx.daemon.tcp(),
            "supervisor.getAllProcessInfo",
            1,
        ),
        (
            "getState, 8 clients, unix",
            ctx.daemon.unix(),
            "supervisor.getState",
            8,
        ),
    ];
    for (label, endpoint, method, clients) in cases {
        ctx.check_deadline(label)?;
        let r = measure(ctx, endpoint, method, clients)?;
        m.push(Metric::new(label, "calls/s", Better::Higher, r.calls_per_s));
        m.push(Metric::new(
            &format!("  bench client CPU ({label})"),
            "%",
            Better::Info,
            r.client_cpu_pct,
        ));
        m.push(Metric::new(
            &format!("  daemon CPU ({label})"),
            "%",
            Better::Info,
            r.daemon_cpu_pct,
        ));
    }
    Ok(m)
}
