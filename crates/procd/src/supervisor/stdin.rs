//! A child's stdin: `sendProcessStdin` queues bytes; a task writes them so a child that never reads can
//! neither block the actor nor other programs.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

pub struct StdinWriter {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    closed: Arc<AtomicBool>,
}

impl StdinWriter {
    pub fn new(fd: OwnedFd) -> std::io::Result<Self> {
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
        Ok(StdinWriter { tx, closed })
    }

    /// Queues bytes for the child. False when the child's stdin is known to be closed (EPIPE).
    pub fn send(&self, data: Vec<u8>) -> bool {
        !self.closed.load(Ordering::Acquire) && self.tx.send(data).is_ok()
    }
}
