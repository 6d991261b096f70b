//! Crash-safe restart: a procd that was killed (SIGKILL, OOM, power to the container cut) and is started
//! again never runs a second copy of a program. supervisord 4.3.0 starts everything again beside the
//! orphans of the instance before it (see docs/compatibility.md).
//!
//! * The *children file* `<pidfile>.children` (next to the pidfile) lists every running child: pid,
//!   process start time (field 22 of `/proc/<pid>/stat`, which tells a pid reused by another program
//!   apart), process group and name. The actor rewrites it after each loop turn that spawned or reaped a
//!   child; a clean shutdown removes it.
//! * `kill_mode = cgroup` programs: their cgroups (see [`crate::sys::cgroup`]) hold whatever is left,
//!   grandchildren included.
//!
//! At start-up, before anything is started, procd stops what the previous instance left: each listed
//! process still alive with the same start time gets SIGTERM to its process group, then SIGKILL after
//! its `stopwaitsecs` (at most [`MAX_WAIT`]); each non-empty cgroup of this instance gets `cgroup.kill`.
//! Every step is logged. The file of a previous instance that is still running (its procd pid alive
//! with the recorded start time) is left alone.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use procd_core::Level;
use procd_protocol::Signal;

use super::Supervisor;
use crate::sys;
use crate::sys::cgroup;

/// The longest start-up waits for leftovers to exit after SIGTERM before SIGKILL.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// One child as recorded in the children file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub pid: i32,
    /// Clock ticks since boot at which the process started (`/proc/<pid>/stat` field 22).
    pub start: u64,
    pub pgid: i32,
    /// Namespec, for the log.
    pub name: String,
    /// `stopwaitsecs` of its program.
    pub wait: u64,
}

/// The children file of a pidfile.
pub(super) fn children_file(pidfile: &Path) -> PathBuf {
    let mut name = pidfile.as_os_str().to_owned();
    name.push(".children");
    PathBuf::from(name)
}

/// `(start time, pgid)` of a live (non-zombie) process from `/proc/<pid>/stat`.
pub(super) fn stat(pid: i32) -> Option<(u64, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses a `/proc/<pid>/stat` line: `(start time, pgid)`; `None` for a zombie or a malformed line.
pub(super) fn parse_stat(text: &str) -> Option<(u64, i32)> {
    // The command name (field 2) may contain spaces and parentheses: fields 3.. follow the last ')'.
    let (_, rest) = text.rsplit_once(") ")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); pgid is field 5, starttime field 22.
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    let pgid = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, pgid))
}

/// The file's text: a `procd <pid> <start>` line, then `<pid> <start> <pgid> <stopwaitsecs> <name>` per
/// child.
pub(super) fn render(owner: (i32, u64), entries: &[Entry]) -> String {
    let mut s = format!("procd {} {}\n", owner.0, owner.1);
    for e in entries {
        let _ = writeln!(s, "{} {} {} {} {}", e.pid, e.start, e.pgid, e.wait, e.name);
    }
    s
}

/// Parses the file: the owner `(pid, start)` and the entries (malformed lines are skipped).
pub(super) fn parse(text: &str) -> (Option<(i32, u64)>, Vec<Entry>) {
    let mut owner = None;
    let mut entries = Vec::new();
    for line in text.lines() {
        let mut it = line.splitn(5, ' ');
        let first = it.next().unwrap_or("");
        if first == "procd" {
            owner = it
                .next()
                .and_then(|p| p.parse().ok())
                .zip(it.next().and_then(|s| s.parse().ok()));
            continue;
        }
        let parsed = (|| {
            Some(Entry {
                pid: first.parse().ok()?,
                start: it.next()?.parse().ok()?,
                pgid: it.next()?.parse().ok()?,
                wait: it.next()?.parse().ok()?,
                name: it.next()?.to_owned(),
            })
        })();
        entries.extend(parsed);
    }
    (owner, entries)
}

/// Whether `pid` is alive and is the process that started at `start`.
fn same_process(pid: i32, start: u64) -> bool {
    stat(pid).is_some_and(|(s, _)| s == start)
}

impl Supervisor {
    fn children_path(&self) -> PathBuf {
        children_file(&self.config.supervisord.pidfile)
    }

    /// At start-up, before anything starts: stops what a killed previous instance left running.
    pub(super) fn stop_leftovers(&mut self) {
        self.kill_leftover_cgroups();
        let path = self.children_path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let (owner, entries) = parse(&text);
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        if owner.is_some_and(|(pid, _)| pid == me) {
            // Written by this very process before a reload, after which every program was stopped.
            return;
        }
        if let Some((pid, start)) = owner
            && same_process(pid, start)
        {
            self.log(
                Level::Warn,
                format!(
                    "{} belongs to procd pid {pid}, which is still running; its programs are left alone",
                    path.display()
                ),
            );
            return;
        }
        let alive: Vec<&Entry> = entries
            .iter()
            .filter(|e| same_process(e.pid, e.start))
            .collect();
        for e in &alive {
            self.log(
                Level::Warn,
                format!(
                    "stopping {} (pid {}) left running by a previous procd instance",
                    e.name, e.pid
                ),
            );
            let _ = signal_leftover(e, Signal::TERM);
        }
        let wait = alive
            .iter()
            .map(|e| Duration::from_secs(e.wait))
            .max()
            .unwrap_or_default()
            .min(MAX_WAIT);
        let deadline = Instant::now() + wait;
        while alive.iter().any(|e| same_process(e.pid, e.start)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for e in alive.iter().filter(|e| same_process(e.pid, e.start)) {
            self.log(
                Level::Warn,
                format!(
                    "killing {} (pid {}) left running by a previous procd instance with SIGKILL",
                    e.name, e.pid
                ),
            );
            let _ = signal_leftover(e, Signal::KILL);
        }
        let _ = std::fs::remove_file(&path);
    }

    /// `kill_mode = cgroup`: empties the cgroups a previous instance left populated.
    fn kill_leftover_cgroups(&mut self) {
        let wanted = self
            .procs
            .values()
            .any(|p| p.config.kill_mode == Some(procd_config::KillMode::Cgroup));
        if !wanted {
            return;
        }
        let Ok(root) = self.cgroup_root().cloned() else {
            return;
        };
        let busy: Vec<PathBuf> = root
            .process_cgroups()
            .into_iter()
            .filter(|d| cgroup::populated(d))
            .collect();
        for dir in &busy {
            let name = dir
                .strip_prefix(root.path())
                .map_or_else(|_| dir.display().to_string(), |p| p.display().to_string());
            self.log(
                Level::Warn,
                format!(
                    "killing {name} (pids {:?}) left running by a previous procd instance (cgroup.kill)",
                    cgroup::pids(dir)
                ),
            );
            if let Err(e) = cgroup::kill(dir) {
                self.log(
                    Level::Error,
                    format!("could not kill the cgroup {}: {e}", dir.display()),
                );
            }
        }
        let deadline = Instant::now() + MAX_WAIT;
        while busy.iter().any(|d| cgroup::populated(d)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Records a freshly spawned child (its start time and process group are read once, here).
    pub(super) fn child_started(&mut self, pid: i32, id: super::ProcId) {
        let Some(proc) = self.procs.get(&id) else {
            return;
        };
        let Some((start, pgid)) = self.os.identity(pid) else {
            return;
        };
        let entry = Entry {
            pid,
            start,
            pgid,
            name: proc.namespec(),
            wait: proc.config.stopwaitsecs,
        };
        self.children.insert(pid, entry);
        self.children_dirty = true;
    }

    /// Forgets a reaped child.
    pub(super) fn child_ended(&mut self, pid: i32) {
        if self.children.remove(&pid).is_some() {
            self.children_dirty = true;
        }
    }

    /// Rewrites the children file if a child was spawned or reaped since the last write.
    pub(super) fn write_children(&mut self) {
        if !std::mem::take(&mut self.children_dirty) {
            return;
        }
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        let owner = (me, stat(me).map_or(0, |(s, _)| s));
        let entries: Vec<Entry> = self.children.values().cloned().collect();
        let path = self.children_path();
        let tmp = {
            let mut t = path.clone().into_os_string();
            t.push(".tmp");
            PathBuf::from(t)
        };
        let written = std::fs::write(&tmp, render(owner, &entries))
            .and_then(|()| std::fs::rename(&tmp, &path));
        match written {
            Ok(()) => self.children_failing = false,
            Err(e) => {
                if !std::mem::replace(&mut self.children_failing, true) {
                    self.log(
                        Level::Warn,
                        format!(
                            "could not write {}: {e} (a restart after a crash cannot find this instance's programs)",
                            path.display()
                        ),
                    );
                }
            }
        }
    }

    /// At a clean shutdown: nothing is left running, so no children file either.
    pub(super) fn remove_children_file(&mut self) {
        let _ = std::fs::remove_file(self.children_path());
    }
}

/// Signals a leftover's process group when it still leads it, else the process alone.
fn signal_leftover(e: &Entry, sig: Signal) -> Result<(), sys::KillError> {
    match stat(e.pid) {
        Some((_, pgid)) if pgid == e.pid && e.pgid == e.pid => sys::kill_group(e.pid, sig),
        _ => sys::kill(e.pid, sig),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines() {
        let line = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 \
                    18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(line), Some((987_654, 4242)));
        let zombie = "77 (x) Z 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert_eq!(parse_stat(zombie), None);
        assert_eq!(parse_stat("garbage"), None);
        let me = i32::try_from(std::process::id()).unwrap();
        let (start, _) = stat(me).expect("own stat");
        assert!(start > 0);
        assert!(same_process(me, start));
        assert!(!same_process(me, start + 1));
    }

    #[test]
    fn file_round_trip() {
        let entries = vec![
            Entry {
                pid: 10,
                start: 111,
                pgid: 10,
                name: "web".into(),
                wait: 10,
            },
            Entry {
                pid: 12,
                start: 222,
                pgid: 12,
                name: "grp:worker 1".into(),
                wait: 3,
            },
        ];
        let text = render((5, 99), &entries);
        assert_eq!(
            text,
            "procd 5 99\n10 111 10 10 web\n12 222 12 3 grp:worker 1\n"
        );
        assert_eq!(parse(&text), (Some((5, 99)), entries));
        let (owner, junk) = parse("x y\n1 2\nprocd nope\n");
        assert_eq!((owner, junk), (None, vec![]));
        assert_eq!(
            children_file(Path::new("/run/supervisord.pid")),
            PathBuf::from("/run/supervisord.pid.children")
        );
    }
}
