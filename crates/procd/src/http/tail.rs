//! `/logtail` and `/mainlogtail` streams: the last 1024 bytes of a file, then everything appended.
//!
//! A follower task per connected client checks the file every 100 ms (supervisord's `tail_f_producer`
//! interval) — polling only while someone is reading. It reopens the file when the path's inode changes
//! (rotation), emits `==> File truncated <==\n` when the file shrinks, and stops when the client goes
//! away or the server shuts down. File operations are small local reads done inline.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::response::ChannelBody;

const HEAD: u64 = 1024;
const POLL: Duration = Duration::from_millis(100);
const MAX_CHUNK: u64 = 64 * 1024;
const TRUNCATED: &[u8] = b"==> File truncated <==\n";

/// Opens `path` and starts following it. `None` if it cannot be opened (answer 404).
/// The follower ends when the server stops, or when `replaced` changes (the file is no longer the
/// program's log).
pub(crate) fn start(
    path: PathBuf,
    stop: watch::Receiver<bool>,
    replaced: Option<watch::Receiver<u64>>,
) -> Option<ChannelBody> {
    let follower = Follower::open(path)?;
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(follower.run(tx, stop, replaced));
    Some(ChannelBody { rx })
}

struct Follower {
    path: PathBuf,
    file: File,
    ino: u64,
    /// How much of the file has been sent.
    sent: u64,
}

impl Follower {
    fn open(path: PathBuf) -> Option<Self> {
        let (file, ino, size) = open(&path)?;
        Some(Follower {
            path,
            file,
            ino,
            sent: size.saturating_sub(HEAD),
        })
    }

    async fn run(
        mut self,
        tx: mpsc::Sender<Bytes>,
        mut stop: watch::Receiver<bool>,
        mut replaced: Option<watch::Receiver<u64>>,
    ) {
        loop {
            if *stop.borrow()
                || replaced
                    .as_ref()
                    .is_some_and(|r| r.has_changed().unwrap_or(true))
            {
                return;
            }
            match self.next_chunk() {
                Some(chunk) => {
                    if tx.send(chunk).await.is_err() {
                        return;
                    }
                }
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(POLL) => {}
                        () = tx.closed() => return,
                        _ = stop.changed() => return,
                        () = changed(replaced.as_mut()) => return,
                    }
                }
            }
        }
    }

    /// New bytes (at most [`MAX_CHUNK`]), the truncation notice, or `None` when nothing changed.
    fn next_chunk(&mut self) -> Option<Bytes> {
        self.follow_rotation();
        let size = self.file.metadata().ok()?.len();
        if size < self.sent {
            self.sent = 0;
            return Some(Bytes::from_static(TRUNCATED));
        }
        if size == self.sent {
            return None;
        }
        let want = (size - self.sent).min(MAX_CHUNK);
        self.file.seek(SeekFrom::Start(self.sent)).ok()?;
        let mut buf = Vec::with_capacity(usize::try_from(want).ok()?);
        (&mut self.file).take(want).read_to_end(&mut buf).ok()?;
        if buf.is_empty() {
            return None;
        }
        self.sent += buf.len() as u64;
        Some(Bytes::from(buf))
    }

    /// Reopens the file when the path now names another inode (a missing path keeps the old file).
    fn follow_rotation(&mut self) {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        if meta.ino() == self.ino {
            return;
        }
        if let Some((file, ino, _)) = open(&self.path) {
            self.file = file;
            self.ino = ino;
            self.sent = 0;
        }
    }
}

fn open(path: &Path) -> Option<(File, u64, u64)> {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    Some((file, meta.ino(), meta.len()))
}

/// Resolves when `rx` sees a new value or its sender is gone; never without a receiver.
async fn changed(rx: Option<&mut watch::Receiver<u64>>) {
    match rx {
        Some(rx) => {
            let _ = rx.changed().await;
        }
        None => std::future::pending().await,
    }
}
