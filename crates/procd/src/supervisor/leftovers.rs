//! Crash-safe restart: a procd that was killed (SIGKILL, OOM, power to the container cut) and is started
//! again never runs a second copy of a program. supervisord 4.3.0 starts everything again beside the
//! orphans of the instance before it (see docs/compatibility.md).
//!
//! * The *children file* `<pidfile>.children` (next to the pidfile) lists every running child: pid,
//!   process start time (field 22 of `/proc/<pid>/stat`, which tells a pid reused by another program
//!   apart), process group and name. After each loop turn that spawned or reaped a child the actor
//!   appends what changed (a line per new child, a `-<pid> <start>` line per reaped one) and rewrites
//!   the whole file only once the appended lines outnumber the children listed: keeping it current
//!   costs the same per child with 10,000 children as with ten. A clean shutdown removes it.
//! * `kill_mode = cgroup` programs: their cgroups (see [`crate::sys::cgroup`]) hold whatever is left,
//!   grandchildren included.
//!
//! At start-up, before anything is started, procd stops what the previous instance left: each listed
//! process still alive with the same start time gets SIGTERM to its process group, then SIGKILL after
//! its `stopwaitsecs` (at most [`MAX_WAIT`]); each non-empty cgroup of this instance gets `cgroup.kill`.
//! Every step is logged. The file of a previous instance that is still running (its procd pid alive
//! with the recorded start time) is left alone.

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
        s.push_str(&entry_line(e));
    }
    s
}

/// A child's line, appended when it is spawned.
fn entry_line(e: &Entry) -> String {
    format!("{} {} {} {} {}\n", e.pid, e.start, e.pgid, e.wait, e.name)
}

/// The line appended when a child is reaped: `-<pid> <start>`.
fn removal_line(e: &Entry) -> String {
    format!("-{} {}\n", e.pid, e.start)
}

/// Parses the file: the owner `(pid, start)` and the children it lists, by pid. A `-<pid> <start>` line
/// removes the child listed before it; malformed lines (a line cut short by a crash) are skipped.
pub(super) fn parse(text: &str) -> (Option<(i32, u64)>, Vec<Entry>) {
    let mut owner = None;
    let mut entries = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Some(removed) = line.strip_prefix('-') {
            let mut it = removed.splitn(2, ' ');
            let pid: Option<i32> = it.next().and_then(|p| p.parse().ok());
            let start: Option<u64> = it.next().and_then(|s| s.parse().ok());
            if let (Some(pid), Some(start)) = (pid, start)
                && entries.get(&pid).is_some_and(|e: &Entry| e.start == start)
            {
                entries.remove(&pid);
            }
            continue;
        }
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
        if let Some(e) = parsed {
            entries.insert(e.pid, e);
        }
    }
    (owner, entries.into_values().collect())
}

/// The running children and the state of the file that lists them.
#[derive(Debug, Default)]
pub(super) struct Children {
    entries: std::collections::BTreeMap<i32, Entry>,
    /// Lines to append at the next write.
    journal: Vec<String>,
    /// A child was spawned or reaped (or all were forgotten) since the file was last written.
    dirty: bool,
    /// The file as last written lists `entries` minus the journal, so the journal can be appended
    /// (false before the first write, after a reload and after a failed write: rewrite it whole).
    based: bool,
    /// Child and removal lines in the file as last written.
    lines: usize,
    /// Writing the file failed (reported once).
    failing: bool,
    /// procd's own `(pid, start time)`, read once.
    owner: Option<(i32, u64)>,
}

impl Children {
    fn insert(&mut self, e: Entry) {
        self.journal.push(entry_line(&e));
        self.entries.insert(e.pid, e);
        self.dirty = true;
    }

    fn remove(&mut self, pid: i32) {
        if let Some(e) = self.entries.remove(&pid) {
            self.journal.push(removal_line(&e));
            self.dirty = true;
        }
    }

    /// A reload replaced every process (all of them reaped): the next write starts the file afresh.
    pub(super) fn clear(&mut self) {
        if !self.entries.is_empty() {
            self.entries.clear();
            self.journal.clear();
            self.based = false;
            self.dirty = true;
        }
    }

    /// Brings the file at `path` up to date: appends the journal, or rewrites the file when it has none
    /// yet or the appended lines would outnumber the children listed. `Err` only for a new failure.
    fn write(&mut self, path: &Path) -> Option<std::io::Error> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        let owner = *self.owner.get_or_insert_with(|| {
            let me = i32::try_from(std::process::id()).unwrap_or(0);
            (me, stat(me).map_or(0, |(s, _)| s))
        });
        let appended = self.lines + self.journal.len();
        let written = if !self.based || appended > 2 * self.entries.len() + 64 {
            let entries: Vec<Entry> = self.entries.values().cloned().collect();
            let tmp = {
                let mut t = path.as_os_str().to_owned();
                t.push(".tmp");
                PathBuf::from(t)
            };
            std::fs::write(&tmp, render(owner, &entries))
                .and_then(|()| std::fs::rename(&tmp, path))
                .map(|()| entries.len())
        } else {
            use std::io::Write as _;
            let text: String = self.journal.concat();
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map(|()| appended)
        };
        self.journal.clear();
        match written {
            Ok(lines) => {
                self.lines = lines;
                self.based = true;
                self.failing = false;
                None
            }
            Err(e) => {
                // The file may now lack lines: the next write rewrites it whole.
                self.based = false;
                (!std::mem::replace(&mut self.failing, true)).then_some(e)
            }
        }
    }
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
        self.children.insert(entry);
    }

    /// Forgets a reaped child.
    pub(super) fn child_ended(&mut self, pid: i32) {
        self.children.remove(pid);
    }

    /// Brings the children file up to date if a child was spawned or reaped since the last write.
    pub(super) fn write_children(&mut self) {
        // Called on every turn of the actor's loop: nothing to build unless the list changed.
        if !self.children.dirty {
            return;
        }
        let path = self.children_path();
        if let Some(e) = self.children.write(&path) {
            self.log(
                Level::Warn,
                format!(
                    "could not write {}: {e} (a restart after a crash cannot find this instance's programs)",
                    path.display()
                ),
            );
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

    fn entry(pid: i32) -> Entry {
        Entry {
            pid,
            start: 1000 + u64::try_from(pid).unwrap(),
            pgid: pid,
            name: format!("p{pid}"),
            wait: 10,
        }
    }

    /// The file always lists exactly the live children, whether the last write appended or rewrote it,
    /// and appending never lets it grow past about twice the children listed.
    #[test]
    fn appended_file_lists_the_live_children_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.pid.children");
        let mut c = Children::default();
        assert!(c.write(&path).is_none());
        assert!(!path.exists(), "nothing spawned, nothing written");
        let check = |c: &Children| {
            let text = std::fs::read_to_string(&path).unwrap();
            let (owner, listed) = parse(&text);
            assert_eq!(
                owner.map(|(pid, _)| pid),
                i32::try_from(std::process::id()).ok()
            );
            let live: Vec<Entry> = c.entries.values().cloned().collect();
            assert_eq!(listed, live);
            text.lines().count()
        };
        for pid in 1..=100 {
            c.insert(entry(pid));
            assert!(c.write(&path).is_none());
            check(&c);
        }
        // Reap and respawn one child at a time, as a crash loop does: the file is appended to and
        // compacted now and then.
        let mut longest = 0;
        for round in 0..600 {
            let pid = 1 + round % 100;
            c.remove(pid);
            if round % 3 == 0 {
                assert!(c.write(&path).is_none());
                check(&c);
            }
            c.insert(Entry {
                start: 5000 + round as u64,
                ..entry(pid)
            });
            assert!(c.write(&path).is_none());
            longest = longest.max(check(&c));
        }
        assert!(
            longest <= 2 * 100 + 64 + 2,
            "{longest} lines for 100 children"
        );
        // Reaping them all leaves an empty list; a reload starts the file afresh.
        for pid in 1..=70 {
            c.remove(pid);
        }
        assert!(c.write(&path).is_none());
        check(&c);
        c.clear();
        assert!(c.write(&path).is_none());
        assert_eq!(check(&c), 1, "only the owner line");
        c.insert(entry(7));
        assert!(c.write(&path).is_none());
        check(&c);
    }

    #[test]
    fn removal_lines_apply_only_to_the_same_child() {
        let text = "procd 5 99\n10 111 10 10 web\n12 222 12 3 worker\n-10 999\n-12 222\n-1\n-x y\n\
                    12 333 12 3 worker\n13 444 13 3 cut";
        let (owner, listed) = parse(text);
        assert_eq!(owner, Some((5, 99)));
        let pids: Vec<(i32, u64)> = listed.iter().map(|e| (e.pid, e.start)).collect();
        assert_eq!(pids, [(10, 111), (12, 333), (13, 444)]);
    }

    #[test]
    fn a_failed_write_is_reported_once_and_the_next_one_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/d.pid.children");
        let mut c = Children::default();
        c.insert(entry(1));
        assert!(c.write(&missing).is_some());
        c.insert(entry(2));
        assert!(c.write(&missing).is_none(), "reported once");
        let path = dir.path().join("d.pid.children");
        c.insert(entry(3));
        assert!(c.write(&path).is_none());
        let (_, listed) = parse(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(listed.len(), 3);
    }
}
