//! Readings from `/proc`: a process's CPU time, RSS, context switches, and children.
//!
//! CPU time comes from `utime + stime` of `/proc/<pid>/stat`, which covers all threads of the process,
//! in clock ticks of 10 ms (Linux's user-visible tick rate is fixed at 100 Hz). Context switches are
//! summed over the threads alive at the time of reading (`/proc/<pid>/task/*/status`).

use std::fs;
use std::path::Path;
use std::time::Duration;

/// Linux reports `/proc` times in USER_HZ ticks, which is 100 per second on every supported target.
const TICKS_PER_SEC: u64 = 100;

/// Fields of `/proc/<pid>/stat` the benchmark uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// The state letter (`R`, `S`, `T` for stopped, `Z`, ...).
    pub state: char,
    pub ppid: i32,
    pub utime: u64,
    pub stime: u64,
}

impl Stat {
    pub(crate) fn cpu(&self) -> Duration {
        Duration::from_millis((self.utime + self.stime) * 1000 / TICKS_PER_SEC)
    }
}

/// Parses a stat line; the command name may itself contain spaces and parentheses.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, utime 14, stime 15 (1-based in proc(5)).
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        utime: fields.get(11)?.parse().ok()?,
        stime: fields.get(12)?.parse().ok()?,
    })
}

/// The number in a `Key:   123 kB` line of a status file.
pub(crate) fn status_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k != key {
            return None;
        }
        v.split_whitespace().next()?.parse().ok()
    })
}

pub(crate) fn stat(pid: i32) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU time (user + system, all threads) of a process.
pub(crate) fn cpu(pid: i32) -> Option<Duration> {
    stat(pid).map(|s| s.cpu())
}

/// CPU time of the benchmark process itself.
pub(crate) fn self_cpu() -> Option<Duration> {
    parse_stat(&fs::read_to_string("/proc/self/stat").ok()?).map(|s| s.cpu())
}

/// Resident set size in KiB.
pub(crate) fn rss_kib(pid: i32) -> Option<u64> {
    status_field(
        &fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS",
    )
}

/// The anonymous (private, not file-backed) part of the resident set in KiB: the heap, stacks and other
/// memory the process itself dirtied, as opposed to mapped code and libraries.
pub(crate) fn rss_anon_kib(pid: i32) -> Option<u64> {
    status_field(
        &fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "RssAnon",
    )
}

/// Proportional set size in KiB (`Pss` of `smaps_rollup`): resident pages, each shared page divided by
/// the number of processes mapping it. Shared libraries count only in part; the daemon's own memory fully.
pub(crate) fn pss_kib(pid: i32) -> Option<u64> {
    status_field(
        &fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?,
        "Pss",
    )
}

/// Voluntary plus involuntary context switches, summed over the process's current threads.
pub(crate) fn ctxt_switches(pid: i32) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for entry in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(text) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        total += status_field(&text, "voluntary_ctxt_switches").unwrap_or(0);
        total += status_field(&text, "nonvoluntary_ctxt_switches").unwrap_or(0);
        any = true;
    }
    any.then_some(total)
}

/// The command name (`/proc/<pid>/comm`), which changes at exec.
pub(crate) fn comm(pid: i32) -> Option<String> {
    Some(
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim_end()
            .to_owned(),
    )
}

/// Whether `/proc/<pid>` exists: true for running processes and for zombies not yet reaped.
pub(crate) fn exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Pids whose parent is `parent`.
pub(crate) fn children_of(parent: i32) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|s| s.ppid == parent))
        .collect()
}

/// The pipes a process holds: how many distinct pipes (by inode) its descriptors point to, and the sum of
/// their buffer capacities in bytes (`F_GETPIPE_SZ`, read by opening `/proc/<pid>/fd/<n>` read-only and
/// non-blocking, which opens the same pipe without taking data from it). The capacity is the most the
/// kernel will buffer: 64 KiB per pipe by default, 8 KiB for pipes created after the user went over
/// `/proc/sys/fs/pipe-user-pages-soft`. Pages are allocated only for data in flight, so an idle pipe's
/// real cost is its bookkeeping (inode, two open files, the slot array), not its capacity.
pub(crate) fn pipes(pid: i32) -> Option<(usize, u64)> {
    let table = pipe_table(pid)?;
    Some((table.len(), table.values().sum()))
}

/// How many of the process's descriptors are sockets (listeners, connections, socket pairs to children).
pub(crate) fn sockets(pid: i32) -> Option<usize> {
    Some(
        fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()?
            .flatten()
            .filter(|e| {
                fs::read_link(e.path())
                    .ok()
                    .and_then(|t| t.to_str().map(|t| t.starts_with("socket:[")))
                    .unwrap_or(false)
            })
            .count(),
    )
}

/// Pipe inode -> capacity in bytes, for every pipe `pid` holds a descriptor of.
fn pipe_table(pid: i32) -> Option<std::collections::BTreeMap<u64, u64>> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let mut seen = std::collections::BTreeMap::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        let Some(inode) = target
            .to_str()
            .and_then(|t| t.strip_prefix("pipe:["))
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        if seen.contains_key(&inode) {
            continue;
        }
        let size = fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(entry.path())
            .ok()
            .and_then(|f| nix::fcntl::fcntl(f.as_raw_fd(), nix::fcntl::F_GETPIPE_SZ).ok());
        seen.insert(inode, size.unwrap_or(0).max(0) as u64);
    }
    Some(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_comm() {
        let line = "1234 (a) b (c) S 77 1234 1234 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 1 0 5 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'S',
                ppid: 77,
                utime: 250,
                stime: 31
            })
        );
        assert_eq!(
            parse_stat(line).map(|s| s.cpu()),
            Some(Duration::from_millis(2810))
        );
        assert_eq!(parse_stat("1234 (x) S 1"), None);
        assert_eq!(parse_stat("no paren"), None);
    }

    #[test]
    fn reads_status_fields() {
        let text = "Name:\tprocd\nVmRSS:\t    5120 kB\nvoluntary_ctxt_switches:\t17\n";
        assert_eq!(status_field(text, "VmRSS"), Some(5120));
        assert_eq!(status_field(text, "voluntary_ctxt_switches"), Some(17));
        assert_eq!(status_field(text, "nonvoluntary_ctxt_switches"), None);
        assert_eq!(status_field(text, "VmRS"), None);
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id() as i32;
        assert!(exists(me));
        assert!(comm(me).is_some_and(|c| !c.is_empty()));
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(rss_anon_kib(me).is_some_and(|k| k > 0 && k <= rss_kib(me).unwrap_or(0)));
        assert!(pss_kib(me).is_some_and(|k| k > 0 && k <= rss_kib(me).unwrap_or(0)));
        assert!(ctxt_switches(me).is_some());
        assert_eq!(
            stat(me).map(|s| s.ppid),
            Some(nix::unistd::getppid().as_raw())
        );
        assert!(children_of(nix::unistd::getppid().as_raw()).contains(&me));
    }

    #[test]
    fn counts_own_pipes_once_each() {
        let me = std::process::id() as i32;
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let inode = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&r))
            .expect("fstat")
            .st_ino;
        let table = pipe_table(me).expect("own fds");
        // Both ends of the new pipe are one entry, with the pipe's capacity (4 KiB at the least).
        assert!(table.get(&inode).is_some_and(|&c| c >= 4096), "{table:?}");
        let (count, capacity) = pipes(me).expect("own fds");
        assert!(count >= 1 && capacity >= 4096);
        drop((r, w));
        let before = sockets(me).expect("own fds");
        let pair = std::os::unix::net::UnixStream::pair().expect("socketpair");
        assert!(sockets(me).expect("own fds") >= before + 2);
        drop(pair);
    }
}
