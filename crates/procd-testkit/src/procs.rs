//! Reading processes from Linux's `/proc`: liveness, parent and group ids, descendants, status
//! fields, the TCP ports a process listens on; and killing a whole process tree.

use std::collections::HashSet;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// Whether a pid exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// `(ppid, pgid)` of a pid from `/proc/<pid>/stat`.
pub fn stat_ids(pid: i32) -> Option<(i32, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(") ")?;
    let mut it = rest.split_whitespace();
    let _state = it.next()?;
    let ppid = it.next()?.parse().ok()?;
    let pgid = it.next()?.parse().ok()?;
    Some((ppid, pgid))
}

/// Every live descendant of `root` (children, grandchildren, ...), found by parent links in `/proc`.
pub fn descendants(root: i32) -> Vec<i32> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                && let Some((ppid, _)) = stat_ids(pid)
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found: HashSet<i32> = HashSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid) in &parents {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found.into_iter().collect()
}

/// A field of `/proc/<pid>/status` (e.g. `Uid`, `SigIgn`), value trimmed.
pub fn proc_status(pid: i32, field: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
    })
}

/// Sum of voluntary and involuntary context switches of every thread of `pid` (how often it woke up).
pub fn ctx_switches(pid: i32) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in rd.flatten() {
            let text = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for l in text.lines() {
                if let Some(v) = l
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    total += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    total
}

/// The TCP ports `pid` listens on (IPv4 and IPv6): the inodes of its socket descriptors matched
/// against the kernel's socket tables. This reads a daemon's bound address back from the kernel.
pub fn tcp_listen_ports(pid: i32) -> Vec<u16> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let inodes: HashSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let t = target.to_str()?;
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            if *state != "0A" || !inodes.contains(*inode) {
                continue;
            }
            if let Some(port) = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            {
                ports.push(port);
            }
        }
    }
    ports
}

/// Kills `pid` and every process below it: freezes `pid` first (so it cannot start another child
/// meanwhile), then sends SIGKILL to each descendant, to the process group each one leads (programs
/// run in their own groups), and to `pid` itself.
pub fn kill_tree(pid: i32) {
    if pid <= 0 {
        return;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGSTOP);
    for p in descendants(pid) {
        if stat_ids(p).is_some_and(|(_, pgid)| pgid == p) {
            let _ = killpg(Pid::from_raw(p), Signal::SIGKILL);
        }
        let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_listening_port_and_a_child() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let me = i32::try_from(std::process::id()).expect("pid");
        assert!(tcp_listen_ports(me).contains(&port));
        drop(l);
        assert!(!tcp_listen_ports(me).contains(&port));

        let mut child = std::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .expect("sleep");
        let pid = i32::try_from(child.id()).expect("pid");
        assert!(alive(pid));
        assert!(descendants(me).contains(&pid));
        assert_eq!(stat_ids(pid).map(|(ppid, _)| ppid), Some(me));
        let _ = child.kill();
        let _ = child.wait();
        assert!(!alive(pid));
    }
}
