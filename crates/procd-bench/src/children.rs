//! The tiny programs the daemons supervise during the benchmark, run as `procd-bench child-*`.
//!
//! Both daemons execute the same benchmark binary, so every scenario measures the daemon and not
//! differences in helper programs.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;

use crate::pattern;

/// With a gate file that does not exist, sleeps until killed (an idle program like `sleep`); returns
/// at once when there is no gate or it exists. `--scale` keeps its writer and crash programs idle this
/// way until it measures them, so `startAllProcesses` and the quiet window see only sleepers.
pub(crate) fn wait_for_gate(gate: Option<&Path>) {
    if let Some(gate) = gate
        && !gate.exists()
    {
        loop {
            std::thread::sleep(Duration::from_secs(86_400));
        }
    }
}

/// Writes `bytes` bytes of the pattern stream to stdout.
pub(crate) fn write(bytes: u64) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = 0u64;
    while pos < bytes {
        let n = (bytes - pos).min(buf.len() as u64) as usize;
        pattern::fill(pos, &mut buf[..n]);
        out.write_all(&buf[..n])?;
        pos += n as u64;
    }
    out.flush()?;
    Ok(())
}

/// Echoes every stdin line to stdout at once, until end of input.
pub(crate) fn echo() -> Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        writeln!(out, "{}", line?)?;
        out.flush()?;
    }
    Ok(())
}

/// Appends `start <pid> <ns>` to `stamp`, lives `after`, appends `exit <pid> <ns>` and exits 1.
pub(crate) fn crash(stamp: &Path, after: Duration) -> Result<()> {
    stamp_line(stamp, "start")?;
    std::thread::sleep(after);
    stamp_line(stamp, "exit")?;
    std::process::exit(1);
}

fn stamp_line(path: &Path, what: &str) -> Result<()> {
    let ns = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    // One write call per line: O_APPEND keeps lines whole.
    f.write_all(format!("{what} {} {ns}\n", std::process::id()).as_bytes())?;
    Ok(())
}

/// Respawn latencies from a stamp file: for each `exit` line, the time to the next `start` line of
/// another pid, in milliseconds.
pub(crate) fn respawn_latencies(stamps: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut last_exit: Option<(u32, u128)> = None;
    for line in stamps.lines() {
        let mut f = line.split_whitespace();
        let (Some(kind), Some(pid), Some(ns)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (Ok(pid), Ok(ns)) = (pid.parse::<u32>(), ns.parse::<u128>()) else {
            continue;
        };
        match kind {
            "exit" => last_exit = Some((pid, ns)),
            "start" => {
                if let Some((epid, ens)) = last_exit.take()
                    && epid != pid
                    && ns >= ens
                {
                    out.push((ns - ens) as f64 / 1e6);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pair_exit_with_next_start() {
        let stamps = "start 10 1000000000\n\
                      exit 10 1200000000\n\
                      start 11 1203500000\n\
                      exit 11 1400000000\n\
                      garbage line\n\
                      start 12 1401000000\n\
                      start 13 1500000000\n";
        assert_eq!(respawn_latencies(stamps), vec![3.5, 1.0]);
        // A start without a preceding exit, or by the same pid, is not a respawn.
        assert!(respawn_latencies("start 1 5\nexit 1 6\nstart 1 9\n").is_empty());
        assert!(respawn_latencies("").is_empty());
    }
}
