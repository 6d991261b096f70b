//! One event-listener process as the pool sees it: its protocol state and what it has written so far.
//!
//! The listener's stdout is parsed here (supervisord's `PEventListenerDispatcher`): `READY\n` moves an
//! ACKNOWLEDGED listener to READY, `RESULT <len>\n<body>` ends a BUSY listener's work, and anything
//! else puts it in UNKNOWN, where it gets no more events until it is started again. Data may arrive in
//! any split. The pool owns the queue; this module only reports what must happen to the in-flight
//! event.

use procd_config::ResultHandler;
use procd_protocol::Level;
use procd_protocol::ListenerState;

use super::effect::{Effect, Queued};

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();

/// A listener process of a pool.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) name: String,
    pub(crate) state: ListenerState,
    /// Whether the process is in the RUNNING process state (required to receive events).
    pub(crate) running: bool,
    /// Set when writing to its stdin failed; cleared when it is started again.
    pub(crate) stdin_closed: bool,
    /// The event it is working on (BUSY).
    pub(crate) in_flight: Option<Queued>,
    buf: Vec<u8>,
    result_len: Option<usize>,
    result: Vec<u8>,
    handler: ResultHandler,
}

impl Listener {
    pub(crate) fn new(name: String, handler: ResultHandler) -> Self {
        Self {
            name,
            handler,
            state: ListenerState::Acknowledged,
            running: false,
            stdin_closed: false,
            in_flight: None,
            buf: Vec::new(),
            result_len: None,
            result: Vec::new(),
        }
    }

    /// Whether an event can be written to it now.
    pub(crate) fn can_take(&self) -> bool {
        self.running && self.state == ListenerState::Ready && !self.stdin_closed
    }

    /// A new process was started: fresh protocol state (no transition is logged, as in supervisord).
    pub(crate) fn reset(&mut self) {
        self.state = ListenerState::Acknowledged;
        self.stdin_closed = false;
        self.buf.clear();
        self.result_len = None;
        self.result.clear();
    }

    /// Feeds bytes read from the listener's stdout. Returns the in-flight event if it was rejected
    /// (it must go back to the head of the pool's buffer).
    pub(crate) fn feed(&mut self, data: &[u8], effects: &mut Vec<Effect>) -> Option<Queued> {
        self.buf.extend_from_slice(data);
        let mut rejected = None;
        loop {
            match self.state {
                ListenerState::Unknown => {
                    self.buf.clear();
                    break;
                }
                ListenerState::Acknowledged => {
                    if self.buf.len() < READY_TOKEN.len() {
                        break;
                    }
                    if self.buf.starts_with(READY_TOKEN) {
                        self.change(ListenerState::Ready, effects);
                        self.buf.drain(..READY_TOKEN.len());
                    } else {
                        self.change(ListenerState::Unknown, effects);
                        self.buf.clear();
                    }
                    if self.buf.is_empty() {
                        break;
                    }
                }
                ListenerState::Ready => {
                    if self.buf.is_empty() {
                        break;
                    }
                    // Output while nothing was asked for breaks the protocol.
                    self.change(ListenerState::Unknown, effects);
                    self.buf.clear();
                    break;
                }
                ListenerState::Busy => {
                    if self.result_len.is_none() {
                        let Some(pos) = self.buf.iter().position(|&b| b == b'\n') else {
                            break;
                        };
                        let line: Vec<u8> = self.buf.drain(..=pos).take(pos).collect();
                        match line.get(RESULT_PREFIX_LEN..).and_then(parse_py_int) {
                            Some(n) => self.result_len = Some(n),
                            None => {
                                effects.push(Effect::log(
                                    Level::Warn,
                                    format!(
                                        "{}: bad result line: '{}'",
                                        self.name,
                                        super::pyrepr::decode_output(&line)
                                    ),
                                ));
                                self.change(ListenerState::Unknown, effects);
                                self.buf.clear();
                                rejected = self.in_flight.take();
                                break;
                            }
                        }
                    }
                    let want = self.result_len.unwrap_or(0);
                    let needed = want.saturating_sub(self.result.len()).min(self.buf.len());
                    self.result.extend(self.buf.drain(..needed));
                    if self.result.len() < want {
                        break;
                    }
                    let body = std::mem::take(&mut self.result);
                    self.result_len = None;
                    if let Some(r) = self.handle_result(&body, effects) {
                        rejected = Some(r);
                    }
                    if self.buf.is_empty() {
                        break;
                    }
                }
            }
        }
        rejected
    }

    /// Runs the pool's result handler on a `RESULT` body, as supervisord's `handle_result`: accepted,
    /// rejected (the event goes back) or failed (the listener goes UNKNOWN and the event goes back).
    fn handle_result(&mut self, body: &[u8], effects: &mut Vec<Effect>) -> Option<Queued> {
        match self.handler {
            ResultHandler::Default => self.default_handler(body, effects),
            ResultHandler::SupervisorStdout => match supervisor_stdout_line(body) {
                Some(line) => {
                    effects.push(Effect::Print(line));
                    self.processed(effects)
                }
                None => {
                    effects.push(Effect::log(
                        Level::Warn,
                        format!("{}: event caused an error", self.name),
                    ));
                    self.change(ListenerState::Unknown, effects);
                    self.in_flight.take()
                }
            },
        }
    }

    fn processed(&mut self, effects: &mut Vec<Effect>) -> Option<Queued> {
        effects.push(Effect::log(
            Level::Debug,
            format!("{}: event was processed", self.name),
        ));
        self.change(ListenerState::Acknowledged, effects);
        self.in_flight = None;
        None
    }

    /// supervisord's default result handler: `OK` accepts, anything else rejects.
    fn default_handler(&mut self, body: &[u8], effects: &mut Vec<Effect>) -> Option<Queued> {
        if body == b"OK" {
            effects.push(Effect::log(
                Level::Debug,
                format!("{}: event was processed", self.name),
            ));
            self.change(ListenerState::Acknowledged, effects);
            self.in_flight = None;
            None
        } else {
            effects.push(Effect::log(
                Level::Warn,
                format!("{}: event was rejected", self.name),
            ));
            self.change(ListenerState::Acknowledged, effects);
            self.in_flight.take()
        }
    }

    fn change(&mut self, new: ListenerState, effects: &mut Vec<Effect>) {
        effects.push(Effect::log(
            Level::Debug,
            format!("{}: {} -> {}", self.name, self.state.name(), new.name()),
        ));
        self.state = new;
        if new == ListenerState::Unknown {
            effects.push(Effect::log(
                Level::Warn,
                format!(
                    "{}: has entered the UNKNOWN state and will no longer receive events, this \
                     usually indicates the process violated the eventlistener protocol",
                    self.name
                ),
            ));
        }
    }
}

/// What `supervisor_stdout:event_handler` prints for a result body: the body is the event payload the
/// listener echoed back, a header line of `key:value` tokens and the data; the handler prints
/// `<processname> <channel> | <data>`. `None` where the Python handler raises (no newline, a token
/// that is not exactly one `key:value` pair, no `processname` or `channel`).
pub(crate) fn supervisor_stdout_line(body: &[u8]) -> Option<Vec<u8>> {
    let newline = body.iter().position(|&b| b == b'\n')?;
    let (line, data) = (&body[..newline], &body[newline + 1..]);
    let mut processname = None;
    let mut channel = None;
    // Python 2's `str.split()`: runs of ASCII whitespace.
    for token in line
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .filter(|t| !t.is_empty())
    {
        let mut parts = token.split(|&b| b == b':');
        let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        match key {
            b"processname" => processname = Some(value),
            b"channel" => channel = Some(value),
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(body.len() + 16);
    out.extend_from_slice(processname?);
    out.push(b' ');
    out.extend_from_slice(channel?);
    out.extend_from_slice(b" | ");
    out.extend_from_slice(data);
    Some(out)
}

/// Python's `int(bytes)` for a result length: surrounding ASCII whitespace, an optional `+`, digits
/// with single `_` separators. A negative length is refused (supervisord would wait forever).
fn parse_py_int(raw: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    if !s.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    s.replace('_', "").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_int_table() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"2", Some(2)),
            (b" 2 ", Some(2)),
            (b"2\r", Some(2)),
            (b"+4", Some(4)),
            (b"1_0", Some(10)),
            (b"", None),
            (b"x", None),
            (b"-1", None),
            (b"1__0", None),
            (b"_1", None),
            (b"2 2", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_py_int(raw), *want, "{raw:?}");
        }
    }
}
