//! A child's stdin: `sendProcessStdin` queues bytes; a task writes them so a child that never reads can
//! neither block the actor nor other programs.
//!
//! Most programs never receive a byte on stdin, so the queue and the writer task are created on the
//! first `send`; until then the pipe's write end is only held open (an idle program then costs no task,
//! channel or reactor registration for its stdin: about 2 KB less per running program).

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::AsyncWriteExt;

use crate::sys::pipeio::DuplexWriter;
use tokio::sync::mpsc;

pub(super) struct StdinWriter {
    state: RefCell<State>,
}

enum State {
    /// Nothing was sent yet: the write end of the child's stdin pipe.
    Idle(OwnedFd),
    /// Nothing was sent yet: the socket that is the child's stdin and stdout (its output pump reads
    /// the same socket, see `sys::spawn::SpawnSpec::shared_stdio`).
    IdleDuplex(DuplexWriter),
    /// The writer task owns the pipe.
    Started {
        tx: mpsc::UnboundedSender<Vec<u8>>,
        closed: Arc<AtomicBool>,
    },
    /// The pipe could not be registered with the runtime; nothing can be sent.
    Broken,
}

impl StdinWriter {
    pub(super) fn new(fd: OwnedFd) -> Self {
        StdinWriter {
            state: RefCell::new(State::Idle(fd)),
        }
    }

    /// A writer into the socket shared by the child's stdin and stdout.
    pub(super) fn duplex(writer: DuplexWriter) -> Self {
        StdinWriter {
            state: RefCell::new(State::IdleDuplex(writer)),
        }
    }

    /// Queues bytes for the child (starting the writer task on first use; must be called inside the
    /// runtime). False when the child's stdin is known to be closed (EPIPE) or unusable.
    pub(super) fn send(&self, data: Vec<u8>) -> bool {
        let mut state = self.state.borrow_mut();
        *state = match std::mem::replace(&mut *state, State::Broken) {
            State::Idle(fd) => start(fd).unwrap_or(State::Broken),
            State::IdleDuplex(writer) => start_duplex(writer),
            started_or_broken => started_or_broken,
        };
        match &*state {
            State::Started { tx, closed } => {
                !closed.load(Ordering::Acquire) && tx.send(data).is_ok()
            }
            State::Idle(_) | State::IdleDuplex(_) | State::Broken => false,
        }
    }
}

fn start(fd: OwnedFd) -> std::io::Result<State> {
    let mut pipe = tokio::net::unix::pipe::Sender::from_owned_fd(fd)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    tokio::spawn(async move {
        while let Some(buf) = rx.recv().await {
            if pipe.write_all(&buf).await.is_err() {
                flag.store(true, Ordering::Release);
                break;
            }
        }
    });
    Ok(State::Started { tx, closed })
}

fn start_duplex(socket: DuplexWriter) -> State {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    tokio::spawn(async move {
        while let Some(buf) = rx.recv().await {
            if socket.write_all(&buf).await.is_err() {
                flag.store(true, Ordering::Release);
                break;
            }
        }
    });
    State::Started { tx, closed }
}
