//! TCP ports for daemons under test.
//!
//! The obvious way, binding port 0 and reading the port back, is not open to a config file:
//! supervisord 4.3.0 rejects `port=127.0.0.1:0` ("0 is below lower bound (1)") and procd reads the file
//! the same way, so a test must write a real port number into the config before the daemon starts.
//! The old helper took one from the kernel (bind port 0, close, hand the number out), which races: the
//! kernel hands the same ephemeral ports to every outgoing connection (our own clients included) and to
//! every other port-0 bind, and parallel test processes could pick the same one.
//!
//! [`reserve`] closes both gaps instead of hoping:
//! 1. it only picks ports *outside* the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), which
//!    the kernel never hands to an outgoing connection or a port-0 bind;
//! 2. a port is ours while we hold an exclusive `flock` on `$TMPDIR/procd-testkit-ports/<port>.lock`;
//!    the [`Port`] keeps it until dropped, so concurrent test processes never share a port;
//! 3. it checks that nothing else listens there right now (a bind that succeeds).
//!
//! The fixtures then read the bound address back: they wait until the daemon's own pid listens on that
//! port ([`crate::procs::tcp_listen_ports`]) before talking to it, so a test never talks to a stranger.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};

/// A TCP port on 127.0.0.1 reserved for one test; the reservation ends when it is dropped.
#[derive(Debug)]
pub struct Port {
    port: u16,
    _lock: Flock<File>,
}

impl Port {
    /// The port number.
    pub fn get(&self) -> u16 {
        self.port
    }
}

/// The kernel's ephemeral port range (inclusive), Linux's default when it cannot be read.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(str::parse::<u16>);
            Some((it.next()?.ok()?, it.next()?.ok()?))
        })
        .unwrap_or((32768, 60999))
}

/// Reserves a free port outside the ephemeral range (see the module docs). Panics when none is free.
#[track_caller]
pub fn reserve() -> Port {
    let (lo, hi) = ephemeral_range();
    // Candidates: 10000 up to the ephemeral range, and above it.
    let below = 10_000..lo.max(10_000);
    let above = hi.saturating_add(1)..u16::MAX;
    let candidates: Vec<u16> = below.chain(above).collect();
    assert!(!candidates.is_empty(), "no ports outside {lo}-{hi}");
    let dir = std::env::temp_dir().join("procd-testkit-ports");
    let _ = std::fs::create_dir_all(&dir);
    // Start at a different place in each process, so parallel tests rarely meet on a lock.
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id().wrapping_mul(2_654_435_761);
    let start = seed as usize % candidates.len();
    for i in 0..candidates.len() {
        let port = candidates[(start + i) % candidates.len()];
        let Some(lock) = lock(dir.join(format!("{port}.lock"))) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Port { port, _lock: lock };
        }
    }
    panic!("no free TCP port outside the ephemeral range {lo}-{hi}");
}

fn lock(path: PathBuf) -> Option<Flock<File>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_distinct_bindable_and_outside_the_ephemeral_range() {
        let (lo, hi) = ephemeral_range();
        let a = reserve();
        let b = reserve();
        assert_ne!(
            a.get(),
            b.get(),
            "a held reservation is not handed out twice"
        );
        for p in [&a, &b] {
            assert!(!(lo..=hi).contains(&p.get()));
            TcpListener::bind(("127.0.0.1", p.get())).expect("the reserved port is free");
        }
    }
}
