//! Raising RLIMIT_NOFILE / RLIMIT_NPROC soft limits to `minfds` / `minprocs`, as supervisord does at
//! first start.

use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::resource::{Resource, getrlimit, setrlimit};

const RLIM_INFINITY: u64 = libc::RLIM_INFINITY;

/// The soft RLIMIT_NOFILE children start with when procd raised its own beyond what supervisord would
/// have (0: children inherit procd's). See [`raise_nofile_for`].
static CHILD_NOFILE: AtomicU64 = AtomicU64::new(0);

/// The soft RLIMIT_NOFILE a child resets itself to before `execve`, if any.
pub fn child_nofile() -> Option<u64> {
    match CHILD_NOFILE.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// procd's soft RLIMIT_NOFILE (`RLIM_INFINITY` as `u64::MAX`); `None` if it cannot be read.
pub fn soft_nofile() -> Option<u64> {
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// After [`raise_limits`]: raises procd's own soft RLIMIT_NOFILE to `need` descriptors (the
/// configuration's budget, see `crate::fdbudget`), at most to the hard limit. Children still start
/// with the soft limit they would have had under supervisord. Returns the INFO line to log when
/// raised, and the hard limit.
pub fn raise_nofile_for(need: u64) -> (Option<String>, u64) {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return (None, 0);
    };
    let target = if hard == RLIM_INFINITY {
        need
    } else {
        need.min(hard)
    };
    if soft == RLIM_INFINITY || soft >= target {
        return (None, hard);
    }
    if setrlimit(Resource::RLIMIT_NOFILE, target, hard).is_err() {
        return (None, hard);
    }
    // Children keep the limit procd had before it first raised its own (a later raise, for programs a
    // reload added, must not hand them the raised one).
    let _ = CHILD_NOFILE.compare_exchange(0, soft, Ordering::Relaxed, Ordering::Relaxed);
    (
        Some(format!("Increased RLIMIT_NOFILE limit to {target}")),
        hard,
    )
}

/// Raises both limits when needed. Ok: the INFO lines to log (`Increased RLIMIT_NOFILE limit to N`).
/// Err: supervisord's usage error text (the daemon prints `Error: <text>` and exits 2).
pub fn raise_limits(minfds: u64, minprocs: u64) -> Result<Vec<String>, String> {
    let mut infos = Vec::new();
    let limits = [
        (
            Resource::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            minfds,
            nofile_message as fn(u64) -> String,
        ),
        (
            Resource::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            minprocs,
            nproc_message,
        ),
    ];
    for (resource, name, min, message) in limits {
        let (soft, hard) = getrlimit(resource).map_err(|_| message(min))?;
        if let Some(hard) = needed(soft, hard, min) {
            setrlimit(resource, min, hard).map_err(|_| message(min))?;
            infos.push(format!("Increased {name} limit to {min}"));
        }
    }
    Ok(infos)
}

/// `Some(new hard limit)` when the soft limit is below `min` (an infinite soft limit never is).
fn needed(soft: u64, hard: u64, min: u64) -> Option<u64> {
    if soft == RLIM_INFINITY || soft >= min {
        return None;
    }
    Some(if hard != RLIM_INFINITY && hard < min {
        min
    } else {
        hard
    })
}

// supervisord formats `%(hard)s` after replacing a too-low hard limit with the minimum, so both
// numbers in its message are the configured minimum; we keep that text.
fn nofile_message(min: u64) -> String {
    format!(
        "The minimum number of file descriptors required to run this process is {min} as per the \
         \"minfds\" command-line argument or config file setting. The current environment will only allow \
         you to open {min} file descriptors.  Either raise the number of usable file descriptors in your \
         environment (see README.rst) or lower the minfds setting in the config file to allow the process \
         to start."
    )
}

fn nproc_message(min: u64) -> String {
    format!(
        "The minimum number of available processes required to run this program is {min} as per the \
         \"minprocs\" command-line argument or config file setting. The current environment will only \
         allow you to open {min} processes.  Either raise the number of usable processes in your \
         environment (see README.rst) or lower the minprocs setting in the config file to allow the \
         program to start."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_like_supervisord() {
        assert_eq!(needed(1024, 4096, 1024), None);
        assert_eq!(needed(RLIM_INFINITY, 10, 1024), None);
        assert_eq!(needed(512, 4096, 1024), Some(4096));
        assert_eq!(needed(512, 800, 1024), Some(1024));
        assert_eq!(needed(512, RLIM_INFINITY, 1024), Some(RLIM_INFINITY));
    }

    #[test]
    fn already_satisfied_limits_log_nothing() {
        assert_eq!(raise_limits(1, 1), Ok(vec![]));
    }

    #[test]
    fn messages_match_supervisord_wording() {
        assert!(nofile_message(7).starts_with("The minimum number of file descriptors required to run this process is 7 as per the \"minfds\" command-line argument"));
        assert!(nproc_message(7).ends_with(
            "lower the minprocs setting in the config file to allow the program to start."
        ));
    }
}
