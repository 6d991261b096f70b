//! A cloneable handle on the main log, shared by the actor, the output pumps and the HTTP layer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use procd_core::Level;

use crate::logs::MainLog;

/// Shared main log. Writing never fails for the caller (see [`MainLog`]).
#[derive(Clone, Debug)]
pub struct Logger {
    inner: Arc<Mutex<MainLog>>,
}

impl Logger {
    pub fn new(log: MainLog) -> Self {
        Logger {
            inner: Arc::new(Mutex::new(log)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MainLog> {
        // A panic while holding the lock cannot leave the log in a state worse than a lost line.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn log(&self, level: Level, message: &str) {
        self.lock().log(level, message);
    }

    pub fn enabled(&self, level: Level) -> bool {
        self.lock().enabled(level)
    }

    /// Reopens the main log file (SIGUSR2, `clearLog`).
    pub fn reopen(&self) {
        let mut log = self.lock();
        if let Err(e) = log.reopen() {
            eprintln!("procd: could not reopen the main log: {e}");
        }
    }

    /// `clearLog`: removes the main log file and reopens it.
    pub fn clear(&self) -> std::io::Result<()> {
        self.lock().clear()
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path().map(std::path::Path::to_path_buf)
    }
}
