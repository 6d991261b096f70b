//! cgroup v2 for `kill_mode = cgroup` (procd extension): each such process runs in a cgroup of its own
//! under one cgroup procd owns, so everything it starts, daemonized grandchildren included, can be found
//! (`cgroup.procs`, `cgroup.events`) and killed at once (`cgroup.kill`, Linux 5.14).
//!
//! Layout: `<cgroup2 mount><procd's own cgroup>/procd-<identifier>-<hash of the pidfile path>/<group>/<name>`.
//! The name depends only on the configuration, so a procd started again after a crash finds the cgroups
//! of the instance before it (see `supervisor::leftovers`). The cgroup2 mount is looked up in
//! `/proc/self/mountinfo` (hybrid hierarchies mount it beside the v1 controllers, e.g. at
//! `/sys/fs/cgroup/unified`); no controller is needed.
//!
//! A child joins its cgroup before `execve`: the parent opens the cgroup's `cgroup.procs` and the child
//! writes `0` (itself) to it (see `sys::spawn`). No unsafe code here: plain file I/O.

use std::fs;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The cgroup that holds the cgroups of one procd instance's `kill_mode = cgroup` processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupRoot {
    path: PathBuf,
}

/// The mount point of the cgroup2 hierarchy, from `/proc/self/mountinfo`.
pub fn cgroup2_mount() -> Option<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mount_from_mountinfo(&text)
}

/// The cgroup2 mount point in a mountinfo text (field 5, where the filesystem type after ` - ` is
/// `cgroup2`); octal escapes (`\040` for a space) are decoded.
pub fn mount_from_mountinfo(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mount = left.split_whitespace().nth(4)?;
        Some(PathBuf::from(unescape(mount)))
    })
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup v2 path (the `0::` line of `/proc/self/cgroup`), e.g. `/` or
/// `/system.slice/procd.service`.
pub fn own_cgroup() -> Option<String> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_owned)
}

/// FNV-1a, for a short stable name derived from the pidfile path.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The directory name of an instance's root cgroup.
pub fn root_name(identifier: &str, pidfile: &Path) -> String {
    let safe: String = identifier
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "procd-{safe}-{:08x}",
        fnv1a(pidfile.as_os_str().as_encoded_bytes())
    )
}

/// Why `kill_mode = cgroup` cannot be used.
fn unavailable(what: impl std::fmt::Display) -> String {
    format!("kill_mode=cgroup: cgroup v2 is not usable: {what}")
}

impl CgroupRoot {
    /// Finds (and creates if needed) the root cgroup of this instance. The error says why cgroup v2
    /// cannot be used; it is the spawn error of every `kill_mode = cgroup` program.
    pub fn open(identifier: &str, pidfile: &Path) -> Result<CgroupRoot, String> {
        let mount = cgroup2_mount().ok_or_else(|| unavailable("no cgroup2 mount"))?;
        let own =
            own_cgroup().ok_or_else(|| unavailable("no cgroup v2 entry in /proc/self/cgroup"))?;
        let base = mount.join(own.trim_start_matches('/'));
        let path = base.join(root_name(identifier, pidfile));
        fs::create_dir_all(&path)
            .map_err(|e| unavailable(format!("cannot create {}: {e}", path.display())))?;
        if !path.join("cgroup.kill").exists() {
            return Err(unavailable(format!(
                "{} has no cgroup.kill (Linux 5.14 or later is needed)",
                path.display()
            )));
        }
        Ok(CgroupRoot { path })
    }

    /// A root at an explicit path (tests).
    pub fn at(path: PathBuf) -> CgroupRoot {
        CgroupRoot { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cgroup of one process.
    pub fn process(&self, group: &str, name: &str) -> PathBuf {
        self.path.join(group).join(name)
    }

    /// Creates a process's cgroup if needed and opens its `cgroup.procs` for the child to join.
    pub fn prepare(&self, group: &str, name: &str) -> io::Result<OwnedFd> {
        let dir = self.process(group, name);
        fs::create_dir_all(&dir)?;
        let f = fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))?;
        Ok(OwnedFd::from(f))
    }

    /// Every process cgroup below the root (`<group>/<name>` directories).
    pub fn process_cgroups(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for group in subdirs(&self.path) {
            out.extend(subdirs(&group));
        }
        out.sort();
        out
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// The pids in a cgroup (`cgroup.procs`); empty when it does not exist.
pub fn pids(cgroup: &Path) -> Vec<i32> {
    fs::read_to_string(cgroup.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Whether a cgroup (or one below it) still holds a process (`populated 1` in `cgroup.events`).
pub fn populated(cgroup: &Path) -> bool {
    fs::read_to_string(cgroup.join("cgroup.events"))
        .is_ok_and(|t| t.lines().any(|l| l.trim() == "populated 1"))
}

/// SIGKILLs every process in a cgroup and below it (`cgroup.kill`).
pub fn kill(cgroup: &Path) -> io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(cgroup.join("cgroup.kill"))?
        .write_all(b"1")
}

/// Removes an empty process cgroup (best effort: a cgroup that still holds a process stays).
pub fn remove(cgroup: &Path) {
    let _ = fs::remove_dir(cgroup);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_in_a_hybrid_hierarchy() {
        let text = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(
            mount_from_mountinfo(text),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let pure =
            "29 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            mount_from_mountinfo(pure),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let spaced = "41 31 0:38 / /mnt/my\\040cg rw - cgroup2 none rw\n";
        assert_eq!(
            mount_from_mountinfo(spaced),
            Some(PathBuf::from("/mnt/my cg"))
        );
        assert_eq!(
            mount_from_mountinfo("32 31 0:29 / /x rw - cgroup cgroup rw\n"),
            None
        );
    }

    #[test]
    fn root_names_are_stable_and_safe() {
        let a = root_name("supervisor", Path::new("/run/procd.pid"));
        assert_eq!(a, root_name("supervisor", Path::new("/run/procd.pid")));
        assert!(a.starts_with("procd-supervisor-"), "{a}");
        assert_ne!(a, root_name("supervisor", Path::new("/tmp/other.pid")));
        assert!(root_name("a/b c", Path::new("/p")).starts_with("procd-a_b_c-"));
    }
}
