//! Scenario 7: one program writing a large stream to stdout while the idle sleepers are present.
//!
//! The writer is `procd-bench child-write`, which emits the deterministic pattern of `crate::pattern`.
//! Timing runs from the `startProcess` call until the log file(s) hold every byte (sizes polled every
//! 10 ms, 50 ms for the rotated case). Afterwards the log files are read back in order (oldest backup
//! first) and compared with the pattern, so lost, duplicated or reordered bytes are counted. Daemon CPU
//! is the `/proc` utime+stime delta over the same interval. The physical limit is the same writer piped
//! through `cat` into a file, without any daemon. The plain and 10-backup runs and the limit are repeated
//! (`Sizes::write_repeats`) and reported as the median run.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use procd_protocol::Value;

use super::{Ctx, Partial};
use crate::pattern::Verifier;
use crate::procfs;
use crate::report::{Better, Metric};
use crate::stats::median;

pub(crate) const PLAIN_RATE: &str = "plain log: throughput";
pub(crate) const ROTATED_RATE: &str = "rotated log (1MB files): throughput";
pub(crate) const PLAIN_CPU: &str = "plain log: daemon CPU";
pub(crate) const ROTATED_CPU: &str = "rotated log: daemon CPU";
pub(crate) const ROTATED10_RATE: &str = "rotated log, 10 backups: throughput";
pub(crate) const ROTATED10_CPU: &str = "rotated log, 10 backups: daemon CPU";
/// `stdout_log_timestamp=rfc3339` (a procd extension; supervisord ignores the key, so only procd reports
/// it). Throughput counts the program's bytes, not the larger stamped file.
pub(crate) const STAMPED_RATE: &str = "timestamped log (rfc3339): throughput";
pub(crate) const STAMPED_CPU: &str = "timestamped log (rfc3339): daemon CPU";
const STAMPED_VS_PLAIN: &str = "timestamped log: throughput vs plain";

/// Length of `2026-12-03T14:32:55.123Z ` in front of every line of the timestamped log.
const STAMP_LEN: u64 = 25;

/// supervisord's default `stdout_logfile_backups`: the rotated run that keeps only the newest files.
pub(super) const USUAL_BACKUPS: u32 = 10;
const MIB: f64 = (1 << 20) as f64;
const GIB: f64 = (1 << 30) as f64;

/// Whether a log starts with an RFC 3339 stamp and a space (`2026-12-03T14:32:55.123Z `).
fn looks_stamped(log: &Path) -> bool {
    let mut head = [0u8; STAMP_LEN as usize];
    let ok = File::open(log).and_then(|mut f| f.read_exact(&mut head));
    ok.is_ok() && head[4] == b'-' && head[10] == b'T' && head[23] == b'Z' && head[24] == b' '
}

/// Backups needed so a rotated log of `bytes` keeps everything (1 MiB files), plus slack.
pub(super) fn backups_needed(bytes: u64) -> u32 {
    (bytes.div_ceil(1 << 20) + 4).min(u64::from(u32::MAX)) as u32
}

/// What moving the stream costs without any daemon: `procd-bench child-write | cat > file`.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub(crate) struct Limit {
    /// Throughput in MiB/s (the median of the runs).
    pub mib_s: f64,
    /// `cat`'s own CPU (user + system) per GiB copied from the pipe into the file (the median of the
    /// runs): the floor for a daemon doing the same copy.
    pub cat_cpu_s_per_gib: f64,
}

/// `runs` copies through `cat` (at least one); the median of each figure.
pub(crate) fn physical_limit(bench: &Path, bytes: u64, dir: &Path, runs: usize) -> Result<Limit> {
    let mut all = Vec::new();
    for _ in 0..runs.max(1) {
        all.push(pipe_to_cat(bench, bytes, dir)?);
    }
    let med = |f: fn(&Limit) -> f64| median(&all.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0);
    Ok(Limit {
        mib_s: med(|l| l.mib_s),
        cat_cpu_s_per_gib: med(|l| l.cat_cpu_s_per_gib),
    })
}

/// CPU time of the children reaped so far (`RUSAGE_CHILDREN`).
fn reaped_children_cpu() -> f64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).map_or(0.0, |u| {
        let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
        t(u.user_time()) + t(u.system_time())
    })
}

fn pipe_to_cat(bench: &Path, bytes: u64, dir: &Path) -> Result<Limit> {
    let target = dir.join("limit.out");
    let file = File::create(&target)?;
    let t0 = Instant::now();
    let mut writer = Command::new(bench)
        .args(["child-write", "--bytes", &bytes.to_string()])
        .stdout(Stdio::piped())
        .spawn()?;
    let pipe = writer
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no writer pipe"))?;
    let mut cat = Command::new("cat").stdin(pipe).stdout(file).spawn()?;
    // The writer is reaped first, so the children's CPU that grows while reaping `cat` is `cat`'s alone.
    let ws = writer.wait()?;
    let before = reaped_children_cpu();
    let cs = cat.wait()?;
    let secs = t0.elapsed().as_secs_f64();
    let cat_cpu = reaped_children_cpu() - before;
    let len = fs::metadata(&target)?.len();
    let _ = fs::remove_file(&target);
    if !ws.success() || !cs.success() || len != bytes {
        bail!("writer | cat failed ({ws}, {cs}, {len} of {bytes} bytes)");
    }
    Ok(Limit {
        mib_s: bytes as f64 / MIB / secs,
        cat_cpu_s_per_gib: cat_cpu / (bytes as f64 / GIB),
    })
}

/// The log file and its numbered backups, oldest (highest number) first.
fn log_files(log: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(base)) = (log.parent(), log.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == base {
            found.push((0, entry.path()));
        } else if let Some(n) = name.strip_prefix(base).and_then(|r| r.strip_prefix('.'))
            && let Ok(n) = n.parse::<u64>()
        {
            found.push((n, entry.path()));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Whether the newest non-empty file ends with the last record of a `bytes`-long stream (the record
/// numbers are unique, so the end has been written).
fn ends_with_stream_end(files: &[PathBuf], bytes: u64) -> bool {
    use std::io::{Seek, SeekFrom};
    let tail_len = crate::pattern::RECORD.min(bytes);
    let mut want = vec![0u8; tail_len as usize];
    crate::pattern::fill(bytes - tail_len, &mut want);
    let Some(newest) = files
        .iter()
        .rev()
        .find(|p| fs::metadata(p).is_ok_and(|m| m.len() > 0))
    else {
        return false;
    };
    let Ok(mut f) = File::open(newest) else {
        return false;
    };
    let mut got = vec![0u8; want.len()];
    f.seek(SeekFrom::End(-(tail_len as i64))).is_ok()
        && f.read_exact(&mut got).is_ok()
        && got == want
}

fn total_size(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

struct WriteRun {
    /// The log held timestamps (procd with `stdout_log_timestamp`).
    stamped: bool,
    mib_s: f64,
    cpu_s_per_gib: f64,
    /// `None` when older backups were deleted by design (only the kept files are checked).
    lost: Option<u64>,
    files: usize,
    error: Option<String>,
}

fn write_through_daemon(ctx: &Ctx<'_>, name: &str) -> Result<WriteRun> {
    let bytes = ctx.sizes.write_bytes;
    let log = ctx
        .daemon
        .config
        .programs
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.stdout_logfile.clone())
        .ok_or_else(|| anyhow!("no program {name}"))?;
    let poll = if name.contains("rot") { 50 } else { 10 };
    // With few backups the oldest files are deleted as the log rotates: what is kept must be the exact
    // end of the stream, and completion is judged by the daemon (the program has exited and its output
    // was drained) instead of by the total size.
    let keeps_all = !name.ends_with("rot10");
    // The timestamped writer: procd stamps each 16-byte record, supervisord ignores the key. Which one
    // it is shows in the first bytes of the log.
    let mut stamped: Option<bool> = (!name.ends_with("_ts")).then_some(false);
    let pid = ctx.daemon.pid;
    let mut client = ctx.client();
    let cpu0 = procfs::cpu(pid).ok_or_else(|| anyhow!("daemon vanished"))?;
    let t0 = Instant::now();
    client.call(
        "supervisor.startProcess",
        vec![Value::String(name.into()), Value::Bool(false)],
    )?;
    let mut last = (0u64, Instant::now());
    let elapsed = loop {
        let files = log_files(&log);
        let size = total_size(&files);
        if stamped.is_none() && size >= STAMP_LEN {
            stamped = Some(looks_stamped(&log));
        }
        let want = if stamped == Some(true) {
            bytes + bytes / crate::pattern::RECORD * STAMP_LEN
        } else {
            bytes
        };
        let done = if stamped.is_none() {
            false
        } else if keeps_all {
            size >= want
        } else {
            ends_with_stream_end(&files, bytes)
        };
        if done {
            break t0.elapsed();
        }
        if size != last.0 {
            last = (size, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(10) {
            bail!(
                "log stalled at {size} of {bytes} bytes ({} lost)",
                bytes - size
            );
        }
        ctx.check_deadline(&format!(
            "waiting for {name}'s log ({size} of {bytes} bytes)"
        ))?;
        thread::sleep(Duration::from_millis(poll));
    };
    let cpu = procfs::cpu(pid).unwrap_or(cpu0).saturating_sub(cpu0);
    // Let the writer finish and be reaped before reading the files back.
    loop {
        let info = client.call(
            "supervisor.getProcessInfo",
            vec![Value::String(name.into())],
        )?;
        match info.get("statename").and_then(Value::as_str) {
            Some("EXITED") => break,
            Some("STARTING" | "RUNNING") => {}
            other => bail!("{name} ended in state {other:?}"),
        }
        ctx.check_deadline(&format!("waiting for {name} to exit"))?;
        thread::sleep(Duration::from_millis(20));
    }
    let files = log_files(&log);
    let kept = total_size(&files);
    // Where the kept files must start in the stream (0 when every byte is kept).
    let start = if keeps_all {
        0
    } else {
        bytes.saturating_sub(kept)
    };
    let stamped = stamped == Some(true);
    let mut v = Verifier::starting_at(start);
    let mut buf = vec![0u8; 1 << 20];
    let mut unstamped = Vec::new();
    // Column in the current line (stamped logs: the stamp's bytes are skipped).
    let mut col = 0u64;
    for path in &files {
        let mut f = File::open(path).with_context(|| format!("open {}", path.display()))?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if stamped {
                unstamped.clear();
                for &b in &buf[..n] {
                    if col >= STAMP_LEN {
                        unstamped.push(b);
                    }
                    col = if b == b'\n' { 0 } else { col + 1 };
                }
                v.feed(&unstamped);
            } else {
                v.feed(&buf[..n]);
            }
        }
    }
    // Backups are removed; the log itself is emptied instead, so the next run's daemon keeps (procd) or
    // reopens (supervisord) the same file. Removing it made the daemon that still held it open free the
    // previous run's page cache inside the next measured window.
    for path in &files {
        if *path == log {
            fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(0))
                .with_context(|| format!("emptying {}", path.display()))?;
        } else {
            let _ = fs::remove_file(path);
        }
    }
    let error = if let Some(at) = v.first_mismatch() {
        Some(format!(
            "{name}: log content differs from the written stream at byte {at}"
        ))
    } else if v.len() != bytes {
        Some(format!(
            "{name}: log holds {} bytes, {bytes} were written",
            v.len() - start
        ))
    } else {
        None
    };
    let secs = elapsed.as_secs_f64();
    Ok(WriteRun {
        stamped,
        mib_s: bytes as f64 / MIB / secs,
        cpu_s_per_gib: cpu.as_secs_f64() / (bytes as f64 / GIB),
        lost: keeps_all.then(|| bytes.saturating_sub(v.len())),
        files: files.len(),
        error,
    })
}

/// Repeats a write `times` times (at least once): the median throughput and CPU, the largest loss,
/// every error.
fn repeated(ctx: &Ctx<'_>, name: &str, times: usize) -> Result<WriteRun> {
    let mut runs = Vec::new();
    for _ in 0..times.max(1) {
        runs.push(write_through_daemon(ctx, name)?);
    }
    let med =
        |f: fn(&WriteRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0);
    let errors: Vec<String> = runs.iter().filter_map(|r| r.error.clone()).collect();
    Ok(WriteRun {
        stamped: runs.iter().all(|r| r.stamped),
        mib_s: med(|r| r.mib_s),
        cpu_s_per_gib: med(|r| r.cpu_s_per_gib),
        lost: runs.iter().filter_map(|r| r.lost).max(),
        files: runs.last().map_or(0, |r| r.files),
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    })
}

pub(super) fn run(ctx: &mut Ctx<'_>) -> Result<Vec<Metric>> {
    let mut m = Vec::new();
    let mut errors = Vec::new();
    for (name, rate, cpu, label) in [
        ("writer", PLAIN_RATE, PLAIN_CPU, "plain log"),
        ("writer_rot", ROTATED_RATE, ROTATED_CPU, "rotated log"),
        (
            "writer_rot10",
            ROTATED10_RATE,
            ROTATED10_CPU,
            "rotated log, 10 backups",
        ),
        ("writer_ts", STAMPED_RATE, STAMPED_CPU, "timestamped log"),
    ] {
        // Keeping all 1024 backups is slow (renames dominate) and steady; it runs once.
        let times = if name == "writer_rot" {
            1
        } else {
            ctx.sizes.write_repeats
        };
        match repeated(ctx, name, times) {
            Ok(r) if name == "writer_ts" && !r.stamped => {
                // supervisord: the key is ignored, the run was a second plain one; nothing to report.
                errors.extend(r.error);
            }
            Ok(r) => {
                if name == "writer_ts" {
                    let plain = m.iter().find(|x: &&Metric| x.name == PLAIN_RATE);
                    if let Some(plain) = plain.map(|x| x.value)
                        && plain > 0.0
                    {
                        m.push(Metric::new(
                            STAMPED_VS_PLAIN,
                            "%",
                            Better::Info,
                            100.0 * r.mib_s / plain,
                        ));
                    }
                }
                m.push(Metric::new(rate, "MiB/s", Better::Higher, r.mib_s));
                m.push(Metric::new(cpu, "s/GiB", Better::Lower, r.cpu_s_per_gib));
                if let Some(lost) = r.lost {
                    m.push(Metric::new(
                        &format!("{label}: bytes lost"),
                        "bytes",
                        Better::Lower,
                        lost as f64,
                    ));
                }
                if name != "writer" && name != "writer_ts" {
                    m.push(Metric::new(
                        &format!("{label}: files"),
                        "count",
                        Better::Info,
                        r.files as f64,
                    ));
                }
                errors.extend(r.error);
            }
            Err(e) => errors.push(format!("{name}: {e:#}")),
        }
    }
    if errors.is_empty() {
        Ok(m)
    } else {
        Err(Partial {
            error: errors.join("; "),
            metrics: m,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_cover_the_stream() {
        assert_eq!(backups_needed(16 << 20), 20);
        assert_eq!(backups_needed((1 << 30) + 1), 1029);
    }

    #[test]
    fn log_files_are_ordered_oldest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "w.log",
            "w.log.1",
            "w.log.10",
            "w.log.2",
            "w.logx",
            "w.log.bak",
            "other.log",
        ] {
            fs::write(dir.path().join(name), name).expect("write");
        }
        let names: Vec<String> = log_files(&dir.path().join("w.log"))
            .iter()
            .map(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(names, ["w.log.10", "w.log.2", "w.log.1", "w.log"]);
    }
}
