//! Reading from the user outside the shell prompt: yes/no questions, credentials, and the lines `fg`
//! forwards to a process (read on a thread that can be told to stop, so it never steals later input).

use std::io::{self, BufRead, IsTerminal, Write};
use std::os::fd::AsFd;
use std::os::fd::OwnedFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
use tokio::sync::mpsc;

/// Standard input, shared by every question the CLI asks.
#[derive(Debug, Default)]
pub struct Input;

impl Input {
    /// Python `input(prompt)`: the prompt goes through the command output (keeping order with it), then
    /// one line is read without its newline; None at end of input.
    pub fn read_line_after(
        &mut self,
        out: &mut crate::cli::output::Out,
        prompt: &str,
    ) -> Option<String> {
        out.prompt(prompt);
        read_stdin_line()
    }

    /// Reads a password without echo when stdin is a terminal.
    pub fn read_password(&mut self, prompt: &str) -> Option<String> {
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            let mut err = io::stderr().lock();
            let _ = err.write_all(prompt.as_bytes());
            let _ = err.flush();
            return read_stdin_line();
        }
        let mut out = io::stdout().lock();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        drop(out);
        let saved = tcgetattr(stdin.as_fd()).ok();
        if let Some(saved) = &saved {
            let mut quiet = saved.clone();
            quiet.local_flags.remove(LocalFlags::ECHO);
            let _ = tcsetattr(stdin.as_fd(), SetArg::TCSAFLUSH, &quiet);
        }
        let line = read_stdin_line();
        if let Some(saved) = &saved {
            let _ = tcsetattr(stdin.as_fd(), SetArg::TCSAFLUSH, saved);
        }
        let _ = io::stdout().write_all(b"\n");
        line
    }
}

fn read_stdin_line() -> Option<String> {
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
            }
            Some(line)
        }
    }
}

/// Lines from stdin delivered on a channel until [`LineFeed::stop`]; `None` on the channel = end of input.
///
/// The reader thread polls stdin together with a wake-up pipe; `stop` writes to that pipe and joins the
/// thread, so when it returns the thread is gone and the next read of stdin (the shell's) gets the
/// next line. A line the user is in the middle of typing when `stop` is called is still read by the
/// thread (stdin has no way to hand half a line back); `stop` waits for it.
#[derive(Debug)]
pub struct LineFeed {
    wake: Option<OwnedFd>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// The lines read, without their newline; `None` once stdin is at its end (or cannot be read).
    pub lines: mpsc::UnboundedReceiver<Option<String>>,
}

impl LineFeed {
    /// Starts the reader thread; it runs until [`LineFeed::stop`] or the end of stdin.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let Ok((wake_read, wake_write)) = nix::unistd::pipe() else {
            // No pipe, no reader: the channel reports end of input at once.
            let _ = tx.send(None);
            return LineFeed {
                wake: None,
                reader: None,
                lines: rx,
            };
        };
        let reader = std::thread::spawn(move || {
            let stdin = io::stdin();
            loop {
                let mut fds = [
                    PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
                    PollFd::new(wake_read.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => {
                        let woken = fds[1].revents().is_some_and(|r| !r.is_empty());
                        if woken {
                            return;
                        }
                        let line = read_stdin_line();
                        let end = line.is_none();
                        if tx.send(line).is_err() || end {
                            return;
                        }
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                }
            }
        });
        LineFeed {
            wake: Some(wake_write),
            reader: Some(reader),
            lines: rx,
        }
    }

    /// Stops the reader thread and waits until it has exited.
    pub fn stop(&mut self) {
        if let Some(wake) = self.wake.take() {
            let _ = nix::unistd::write(&wake, b"x");
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for LineFeed {
    fn drop(&mut self) {
        self.stop();
    }
}
