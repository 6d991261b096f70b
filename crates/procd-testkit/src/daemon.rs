//! A daemon process under test that cannot outlive its test: dropping the guard stops it and kills
//! whatever it left running.

use std::process::Child;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::procs::{alive, descendants, kill_tree};
use crate::wait::wait_until;

/// How a [`DaemonProcess`] ends when it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Teardown {
    /// SIGTERM, then up to this long for the daemon to stop its programs and exit; a daemon still
    /// running after that is killed with everything below it.
    Graceful(Duration),
    /// Kill the daemon and everything below it at once (the fastest teardown, for engine tests that
    /// do not look at shutdown).
    Kill,
}

/// A running daemon: our child, or a daemonized process adopted by pid.
#[derive(Debug)]
pub struct DaemonProcess {
    child: Option<Child>,
    pid: i32,
    teardown: Teardown,
}

impl DaemonProcess {
    /// Guards a spawned daemon.
    pub fn new(child: Child, teardown: Teardown) -> Self {
        let pid = i32::try_from(child.id()).unwrap_or(0);
        DaemonProcess {
            child: Some(child),
            pid,
            teardown,
        }
    }

    /// Guards a daemonized process that is not our child.
    pub fn adopt(pid: i32, teardown: Teardown) -> Self {
        DaemonProcess {
            child: None,
            pid,
            teardown,
        }
    }

    /// The daemon's pid (0 once it has exited and been waited for).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Sends `sig` to the daemon.
    pub fn signal(&self, sig: Signal) {
        if self.pid > 0 {
            let _ = kill(Pid::from_raw(self.pid), sig);
        }
    }

    /// The exit status, if the daemon (our child) has exited; it is then waited for.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok().flatten()?;
        self.child = None;
        self.pid = 0;
        Some(status)
    }

    /// Waits for the daemon to exit by itself; its exit status when it was our child.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        if self.child.is_some() {
            return Some(wait_until(timeout, "the daemon to exit", || {
                self.try_wait()
            }));
        }
        let pid = self.pid;
        wait_until(timeout, "the daemon to exit", || !alive(pid));
        self.pid = 0;
        None
    }

    fn exited(&mut self) -> bool {
        if self.child.is_some() {
            self.try_wait().is_some()
        } else {
            self.pid <= 0 || !alive(self.pid)
        }
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if self.pid <= 0 || self.exited() {
            return;
        }
        if let Teardown::Graceful(timeout) = self.teardown {
            // What runs below the daemon now: a grandchild that its program's stop does not reach
            // would outlive the daemon.
            let below = descendants(self.pid);
            self.signal(Signal::SIGTERM);
            let deadline = std::time::Instant::now() + timeout;
            while std::time::Instant::now() < deadline {
                if self.exited() {
                    for p in below.into_iter().filter(|&p| alive(p)) {
                        kill_tree(p);
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Still running (a daemon in SHUTDOWN, or no graceful teardown wanted): freeze it so it cannot
        // start another child, then kill it and its programs, which would otherwise outlive the test.
        kill_tree(self.pid);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}
