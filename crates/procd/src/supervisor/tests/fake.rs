//! A scripted operating system for the actor tests (after watchexec's `TestChild`): spawning hands out
//! pids and real pipes but starts nothing; a signal kills the fake child unless the test told it to
//! ignore that signal; the test makes children exit; every spawn and signal is recorded with the
//! (paused) tokio time it happened at.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use procd_protocol::Signal;
use tokio::time::Instant;

use super::super::os::{Notice, Os};
use crate::probes::CheckOs;
use crate::sys::{KillError, SpawnError, SpawnSpec, Spawned, StdinMode, WaitStatus};

/// Something the actor asked the fake OS to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Act {
    Spawn {
        name: String,
        pid: i32,
    },
    Kill {
        name: String,
        signal: Signal,
        group: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub act: Act,
    pub at: Instant,
}

/// A running fake child: its name and the child's ends of its pipes (closed when it exits).
struct Child {
    pid: i32,
    name: String,
    _pipes: Vec<OwnedFd>,
}

#[derive(Default)]
struct World {
    next_pid: i32,
    running: Vec<Child>,
    /// Exited and not yet reaped.
    zombies: VecDeque<(i32, WaitStatus)>,
    notices: VecDeque<Notice>,
    waker: Option<Waker>,
    records: Vec<Record>,
    /// (process name, signal) pairs the process survives.
    ignores: Vec<(String, Signal)>,
    /// Exit codes of the next exec-check children of each process, in order; a check child with no
    /// scripted code keeps running until the test makes it exit.
    check_exits: HashMap<String, VecDeque<i32>>,
}

impl World {
    fn exit(&mut self, pid: i32, status: WaitStatus) -> bool {
        if !self.exit_quietly(pid, status) {
            return false;
        }
        self.notify(Notice::ChildExited);
        true
    }

    /// The child exits without a SIGCHLD of its own (one that coalesced with another's).
    fn exit_quietly(&mut self, pid: i32, status: WaitStatus) -> bool {
        let Some(i) = self.running.iter().position(|c| c.pid == pid) else {
            return false;
        };
        self.running.remove(i);
        self.zombies.push_back((pid, status));
        true
    }

    fn next_pid(&mut self) -> i32 {
        self.next_pid += 1;
        self.next_pid
    }

    /// A new running child: records its spawn and returns its pid.
    fn spawn_child(&mut self, name: String, pipes: Vec<OwnedFd>) -> i32 {
        let pid = self.next_pid();
        self.records.push(Record {
            act: Act::Spawn {
                name: name.clone(),
                pid,
            },
            at: Instant::now(),
        });
        self.running.push(Child {
            pid,
            name,
            _pipes: pipes,
        });
        pid
    }

    fn notify(&mut self, notice: Notice) {
        self.notices.push_back(notice);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// Cloneable: the actor owns one clone, the test keeps another to script and inspect.
#[derive(Clone)]
pub(super) struct FakeOs {
    world: Arc<Mutex<World>>,
}

impl FakeOs {
    pub(super) fn new() -> Self {
        FakeOs {
            world: Arc::new(Mutex::new(World {
                next_pid: 1000,
                ..World::default()
            })),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The process named `name` survives `signal` (stays alive until killed otherwise or told to exit).
    pub(super) fn ignore(&self, name: &str, signal: Signal) {
        self.world().ignores.push((name.to_owned(), signal));
    }

    /// The running child of process `name`, if any.
    pub(super) fn pid_of(&self, name: &str) -> Option<i32> {
        self.world()
            .running
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.pid)
    }

    /// The running child of `name` exits by itself with `code`.
    pub(super) fn exit(&self, name: &str, code: i32) {
        let pid = self.pid_of(name).expect("a running child to exit");
        assert!(self.world().exit(pid, WaitStatus::Exited(code)));
    }

    /// The next exec checks of process `name` (ready or liveness) exit with these codes, one per
    /// attempt, as soon as they are spawned. Check children are named `check:<name>`.
    pub(super) fn check_exits(&self, name: &str, codes: &[i32]) {
        self.world()
            .check_exits
            .entry(name.to_owned())
            .or_default()
            .extend(codes);
    }

    /// These children exit at the same moment and the kernel coalesces their SIGCHLDs into one.
    pub(super) fn exit_together(&self, exits: &[(&str, i32)]) {
        let mut w = self.world();
        for &(name, code) in exits {
            let pid = w
                .running
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.pid)
                .expect("a running child to exit");
            assert!(w.exit_quietly(pid, WaitStatus::Exited(code)));
        }
        w.notify(Notice::ChildExited);
    }

    /// Exited children not reaped yet.
    pub(super) fn zombies(&self) -> usize {
        self.world().zombies.len()
    }

    /// A control signal arrives (TERM, HUP, ...).
    pub(super) fn signal(&self, signal: Signal) {
        self.world().notify(Notice::Signal(signal));
    }

    pub(super) fn records(&self) -> Vec<Record> {
        self.world().records.clone()
    }

    /// The recorded acts alone.
    pub(super) fn acts(&self) -> Vec<Act> {
        self.records().into_iter().map(|r| r.act).collect()
    }

    /// Names of the processes signalled, in order.
    pub(super) fn killed(&self) -> Vec<(String, Signal)> {
        self.acts()
            .into_iter()
            .filter_map(|a| match a {
                Act::Kill { name, signal, .. } => Some((name, signal)),
                Act::Spawn { .. } => None,
            })
            .collect()
    }

    fn send(&mut self, pid: i32, signal: Signal, group: bool) -> Result<(), KillError> {
        let mut w = self.world();
        let Some(child) = w.running.iter().find(|c| c.pid == pid) else {
            return Err(KillError::NoSuchProcess);
        };
        let name = child.name.clone();
        let at = Instant::now();
        w.records.push(Record {
            act: Act::Kill {
                name: name.clone(),
                signal,
                group,
            },
            at,
        });
        let survives = signal != Signal::KILL && w.ignores.contains(&(name, signal));
        if !survives {
            w.exit(
                pid,
                WaitStatus::Signaled {
                    signal: signal.number(),
                    core_dumped: false,
                },
            );
        }
        Ok(())
    }
}

/// A pipe whose read end is non-blocking, as `sys::spawn` makes the parent's ends.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = io::pipe()?;
    let (r, w) = (OwnedFd::from(r), OwnedFd::from(w));
    let flags = nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(
        std::os::fd::AsRawFd::as_raw_fd(&r),
        nix::fcntl::FcntlArg::F_SETFL(flags),
    )
    .map_err(io::Error::from)?;
    Ok((r, w))
}

impl Os for FakeOs {
    fn listen(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn poll_notice(&mut self, cx: &mut Context<'_>) -> Poll<Notice> {
        let mut w = self.world();
        match w.notices.pop_front() {
            Some(n) => Poll::Ready(n),
            None => {
                w.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn resolve_command(
        &self,
        argv0: &str,
        _program_path: Option<&str>,
        _daemon_path: Option<&str>,
    ) -> Result<PathBuf, String> {
        Ok(PathBuf::from(argv0))
    }

    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError> {
        let name = spec
            .env
            .iter()
            .find(|(k, _)| k == "SUPERVISOR_PROCESS_NAME")
            .map(|(_, v)| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (stdout, stdout_child) = pipe().map_err(SpawnError::Pipes)?;
        let mut pipes = vec![stdout_child];
        let stderr = if spec.redirect_stderr {
            None
        } else {
            let (r, w) = pipe().map_err(SpawnError::Pipes)?;
            pipes.push(w);
            Some(r)
        };
        let stdin = match spec.stdin {
            StdinMode::Pipe => {
                let (r, w) = io::pipe().map_err(SpawnError::Pipes)?;
                pipes.push(r.into());
                Some(w.into())
            }
            StdinMode::Fd(fd) => {
                pipes.push(fd);
                None
            }
        };
        let pid = self.world().spawn_child(name, pipes);
        Ok(Spawned {
            pid,
            stdin,
            stdout: Some(stdout),
            stderr,
            duplex: false,
        })
    }

    fn kill(&mut self, pid: i32, signal: Signal) -> Result<(), KillError> {
        self.send(pid, signal, false)
    }

    fn kill_group(&mut self, pgid: i32, signal: Signal) -> Result<(), KillError> {
        self.send(pgid, signal, true)
    }

    fn checks(&self) -> Arc<dyn CheckOs> {
        Arc::new(self.clone())
    }

    fn reap_any(&mut self) -> Option<(i32, WaitStatus)> {
        self.world().zombies.pop_front()
    }

    fn reap_pid(&mut self, pid: i32) -> Option<WaitStatus> {
        let mut w = self.world();
        let i = w.zombies.iter().position(|(p, _)| *p == pid)?;
        w.zombies.remove(i).map(|(_, status)| status)
    }
}

/// Exec checks: a spawn is recorded as `Act::Spawn` of `check:<process name>` and exits at once with
/// the next scripted code (see [`FakeOs::check_exits`]); the actor reaps it like any child.
impl CheckOs for FakeOs {
    fn spawn(&self, spec: SpawnSpec) -> Result<Spawned, SpawnError> {
        let owner = spec
            .env
            .iter()
            .find(|(k, _)| k == "SUPERVISOR_PROCESS_NAME")
            .map(|(_, v)| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut w = self.world();
        let pid = w.spawn_child(format!("check:{owner}"), Vec::new());
        if let Some(code) = w.check_exits.get_mut(&owner).and_then(VecDeque::pop_front) {
            w.exit(pid, WaitStatus::Exited(code));
        }
        Ok(Spawned {
            pid,
            stdin: None,
            stdout: None,
            stderr: None,
            duplex: false,
        })
    }

    fn kill_group(&self, pgid: i32, signal: Signal) -> Result<(), KillError> {
        self.clone().send(pgid, signal, true)
    }
}
