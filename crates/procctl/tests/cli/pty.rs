//! The interactive shell on a real terminal: `script` (util-linux) runs procctl on a pseudo-terminal, so
//! the line editor is used: prompt, history file, tab completion, `help <action>`, Ctrl-D.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fixture::{Daemon, PROGRAMS, Server, procctl_bin};

against_both!(terminal_shell_edits_completes_and_keeps_history);

/// procctl running on a pseudo-terminal, with everything it wrote so far.
struct Terminal {
    child: Child,
    input: Option<ChildStdin>,
    output: Arc<Mutex<Vec<u8>>>,
    /// How much of `output` the last `expect` consumed.
    seen: usize,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Terminal {
    fn spawn(args: &[&str]) -> Terminal {
        let mut line = quote(&procctl_bin().display().to_string());
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut child = Command::new("script")
            .args(["-q", "-e", "-f", "-c", &line, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn script (util-linux)");
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = child.stdout.take().expect("stdout");
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut o) = sink.lock() {
                    o.extend_from_slice(&buf[..n]);
                }
            }
        });
        Terminal {
            input: child.stdin.take(),
            child,
            output,
            seen: 0,
        }
    }

    fn send(&mut self, keys: &str) {
        let input = self.input.as_mut().expect("terminal input open");
        input.write_all(keys.as_bytes()).expect("write keys");
        input.flush().expect("flush keys");
    }

    /// Output since the last `expect`, terminal escapes removed.
    fn fresh(&self) -> String {
        let o = self.output.lock().expect("output");
        plain(&String::from_utf8_lossy(
            o.get(self.seen..).unwrap_or_default(),
        ))
    }

    /// Waits until the output after the last match contains `want`, and consumes it up to there.
    #[track_caller]
    fn expect(&mut self, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let o = self.output.lock().expect("output");
                let raw = o.get(self.seen..).unwrap_or_default();
                let text = String::from_utf8_lossy(raw);
                if let Some(p) = plain_find(&text, want) {
                    let consumed = text[..p].len();
                    self.seen += consumed.min(raw.len());
                    return plain(&text[..p]);
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {want:?}; terminal shows {:?}",
                self.fresh()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for procctl to exit and returns its status.
    #[track_caller]
    fn exit_code(mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.input.take();
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "procctl did not exit; terminal shows {:?}",
                self.fresh()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.input.take();
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Removes ANSI escape sequences and carriage returns.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if n.is_ascii_alphabetic() || n == '~' {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\r' | '\x07' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Byte position in `text` just after the first place where its plain form contains `want`.
fn plain_find(text: &str, want: &str) -> Option<usize> {
    if !plain(text).contains(want) {
        return None;
    }
    // Smallest prefix whose plain form contains `want`.
    text.char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .find(|&end| plain(&text[..end]).contains(want))
}

fn terminal_shell_edits_completes_and_keeps_history(server: Server) {
    let d = Daemon::start_on(server, PROGRAMS, "");
    d.wait_states(&[("good", "RUNNING"), ("grp:a", "RUNNING")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let history = dir.path().join("history");
    let conf = d.conf.display().to_string();
    let hist = history.display().to_string();

    let mut t = Terminal::spawn(&["-c", &conf, "-r", &hist]);
    // The shell starts with `status`, then prompts.
    let first = t.expect("supervisor> ");
    assert!(first.contains("grp:a"), "{first:?}");
    assert!(first.contains("RUNNING"), "{first:?}");

    // Tab completes an action, then a process name, and the completed line runs. (The prompt is drawn
    // again on every edit, so each step waits for the command's own output.)
    t.send("vers\t");
    t.expect("version");
    t.send("\r");
    t.expect("4.3.0");
    t.send("status goo\t");
    t.expect("status good");
    t.send("\r");
    t.expect("RUNNING   pid ");
    // Two tabs list every candidate when the word is ambiguous.
    t.send("stop grp:\t\t");
    let listed = t.expect("grp:b");
    assert!(
        listed.contains("grp:a") && listed.contains("grp:*"),
        "{listed:?}"
    );
    // Ctrl-U clears the line so nothing is stopped.
    t.send("\x15help start\r");
    t.expect("start <name>");
    t.expect("start all");
    // Ctrl-D leaves with exit status 0 and writes the history file.
    t.send("\x04");
    assert_eq!(t.exit_code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&history).expect("history written"),
        // Completion leaves a space after the word, kept in the entry as readline does.
        "version \nstatus good \nhelp start\n"
    );

    // A second session, with history_file from the [supervisorctl] section, reads it back: Up recalls
    // the last entries.
    let ctl_conf = dir.path().join("ctl.conf");
    std::fs::write(
        &ctl_conf,
        format!(
            "[supervisorctl]\nserverurl={}\nhistory_file={hist}\n",
            d.url
        ),
    )
    .expect("write client config");
    let mut t = Terminal::spawn(&["-c", &ctl_conf.display().to_string()]);
    t.expect("supervisor> ");
    t.send("\x1b[A\x1b[A");
    t.expect("status good");
    t.send("\r");
    t.expect("RUNNING   pid ");
    t.send("quit\r");
    assert_eq!(t.exit_code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&history).expect("history"),
        "version \nstatus good \nhelp start\nstatus good \nquit\n"
    );
}
