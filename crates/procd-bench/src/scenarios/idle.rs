//! Scenario 1: an idle daemon supervising sleeping programs.
//!
//! Waits until every sleeper is RUNNING, lets the daemon settle for a second, then reads the daemon's
//! `/proc` counters before and after a quiet window in which the benchmark sends nothing.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::{Ctx, wait_all_in};
use crate::procfs;
use crate::report::{Better, Metric};

pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    wait_all_in(ctx, "sleep_", "RUNNING", ctx.sizes.idle_programs)?;
    thread::sleep(Duration::from_secs(1));
    let pid = ctx.daemon.pid;
    let gone = || anyhow!("daemon pid {pid} vanished from /proc");
    let cpu0 = procfs::cpu(pid).ok_or_else(gone)?;
    let cs0 = procfs::ctxt_switches(pid).ok_or_else(gone)?;
    let t0 = Instant::now();
    thread::sleep(ctx.sizes.idle_window);
    let cpu1 = procfs::cpu(pid).ok_or_else(gone)?;
    let cs1 = procfs::ctxt_switches(pid).ok_or_else(gone)?;
    let wall = t0.elapsed().as_secs_f64();
    let rss = procfs::rss_kib(pid).ok_or_else(gone)?;
    let anon = procfs::rss_anon_kib(pid).ok_or_else(gone)?;
    let pss = procfs::pss_kib(pid).ok_or_else(gone)?;
    Ok(vec![
        Metric::new("daemon RSS", "MiB", Better::Lower, rss as f64 / 1024.0),
        Metric::new(
            "daemon RSS, anonymous part",
            "MiB",
            Better::Lower,
            anon as f64 / 1024.0,
        ),
        Metric::new(
            "daemon PSS (shared pages split among their users)",
            "MiB",
            Better::Lower,
            pss as f64 / 1024.0,
        ),
        Metric::new(
            "context switches",
            "1/s",
            Better::Lower,
            cs1.saturating_sub(cs0) as f64 / wall,
        ),
        Metric::new(
            &format!("CPU over {:.0} s", ctx.sizes.idle_window.as_secs_f64()),
            "ms",
            Better::Lower,
            cpu1.saturating_sub(cpu0).as_secs_f64() * 1000.0,
        ),
    ])
}
