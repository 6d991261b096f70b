//! Event listeners built into procd, run as child processes of procd itself (`/proc/self/exe`
//! with a hidden flag), so configurations written for well-known Python listeners work without
//! Python.
//!
//! * `supervisor_stdout`, from the `supervisor-stdout` package: the listener echoes every event
//!   payload back as its `RESULT`, and the pool's result handler (`supervisor_stdout:event_handler`,
//!   in [`crate::events`]) prints it on procd's stdout.

use std::io::{self, BufRead, Read, Write};

/// The hidden flag that makes `procd` run the built-in `supervisor_stdout` listener.
pub const BUILTIN_STDOUT_LISTENER_FLAG: &str = "--supervisor-stdout-listener";

/// The `supervisor_stdout` listener's loop on stdin and stdout: `READY`, read one event (header line
/// and `len:` bytes of payload), answer `RESULT <len>\n<payload>`. Returns the exit status: 0 when
/// stdin ends, 1 on a header without a usable `len:` (the Python listener dies with a traceback).
pub fn supervisor_stdout(input: impl Read, mut output: impl Write) -> i32 {
    let mut input = io::BufReader::new(input);
    let mut line = Vec::new();
    loop {
        if output
            .write_all(b"READY\n")
            .and_then(|()| output.flush())
            .is_err()
        {
            return 0;
        }
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        let Some(len) = header_len(&line) else {
            eprintln!(
                "supervisor_stdout: bad event header: {}",
                String::from_utf8_lossy(&line).trim_end()
            );
            return 1;
        };
        let mut payload = vec![0; len];
        if input.read_exact(&mut payload).is_err() {
            return 0;
        }
        let written = output
            .write_all(format!("RESULT {len}\n").as_bytes())
            .and_then(|()| output.write_all(&payload))
            .and_then(|()| output.flush());
        if written.is_err() {
            return 0;
        }
    }
}

/// The `len:` value of an event header line (`ver:3.0 server:supervisor ... len:54`).
fn header_len(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    text.split_ascii_whitespace()
        .find_map(|token| token.strip_prefix("len:"))
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::supervisor_stdout;

    #[test]
    fn echoes_each_payload_as_its_result() {
        let input: &[u8] = b"ver:3.0 server:supervisor serial:1 pool:stdout poolserial:1 \
eventname:PROCESS_LOG_STDOUT len:55\nprocessname:web groupname:web pid:42 channel:stdout\nhi\n\
ver:3.0 server:supervisor serial:2 pool:stdout poolserial:2 eventname:TICK_5 len:6\nwhen:5";
        let mut out = Vec::new();
        assert_eq!(supervisor_stdout(input, &mut out), 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "READY\nRESULT 55\nprocessname:web groupname:web pid:42 channel:stdout\nhi\n\
             READY\nRESULT 6\nwhen:5READY\n"
        );
    }

    #[test]
    fn a_header_without_len_ends_it() {
        let mut out = Vec::new();
        assert_eq!(supervisor_stdout(&b"nonsense\n"[..], &mut out), 1);
        assert_eq!(out, b"READY\n");
    }
}
