//! Standard output for the CLI: buffered, flushed at command boundaries, and quiet on a closed pipe
//! (`procctl tail -f x | head` must end with status 0, not a panic or an error message).

use std::io::{self, Write};

/// Where command output goes.
pub struct Out {
    sink: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Out")
    }
}

impl Out {
    /// Output to the process's stdout, buffered until a flush or a prompt (a closed stdout ends the
    /// program quietly with status 0, like a pipe into `head`).
    pub fn stdout() -> Self {
        Out {
            sink: Box::new(io::BufWriter::new(io::stdout())),
        }
    }

    /// Output into any writer (tests).
    pub fn to_writer(w: impl Write + Send + 'static) -> Self {
        Out { sink: Box::new(w) }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: &str) {
        let r = self
            .sink
            .write_all(text.as_bytes())
            .and_then(|()| self.sink.write_all(b"\n"));
        check(r);
    }

    /// Writes raw bytes (streamed log data) and flushes them.
    pub fn raw(&mut self, bytes: &[u8]) {
        let r = self.sink.write_all(bytes).and_then(|()| self.sink.flush());
        check(r);
    }

    /// Writes text without a newline (prompts) and flushes.
    pub fn prompt(&mut self, text: &str) {
        let r = self
            .sink
            .write_all(text.as_bytes())
            .and_then(|()| self.sink.flush());
        check(r);
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        check(self.sink.flush());
    }
}

/// A reader that went away is not an error for a command-line tool: leave quietly.
fn check(r: io::Result<()>) {
    if let Err(e) = r
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes one line to stderr, ignoring failures.
pub fn eprint_line(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}
