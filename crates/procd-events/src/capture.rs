//! Routing of one output channel of a (non-listener) process: log file, capture mode and the events
//! the output produces.
//!
//! With `<channel>_capture_maxbytes > 0`, text between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` is kept out of the log file and collected in a bounded buffer; when the
//! end token arrives the collected bytes become a `PROCESS_COMMUNICATION_<channel>` event. Tokens may be
//! split across reads: only a tail that could still start a token is held back. With
//! `<channel>_events_enabled`, every piece of output (captured or not) also becomes a
//! `PROCESS_LOG_<channel>` event, as in supervisord.
//!
//! Differences from supervisord 4.3 (its output is only delayed or lost, never changed): supervisord
//! holds up to 24 bytes back whenever capture is enabled and drops them at EOF; this router only holds
//! a possible token prefix and [`OutputRouter::finish`] flushes it.

use procd_protocol::Level;

use super::pyrepr::{decode_output, str_repr};
use super::types::{Event, OutputData, ProcessRef};

pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// A transformation applied to each piece of output (procd's `strip_ansi`).
pub type Filter = fn(&[u8]) -> Vec<u8>;

/// Which output channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }

    /// The `PROCESS_LOG_<channel>` event for a piece of output.
    pub fn log_event(self, process: ProcessRef, pid: i32, data: Vec<u8>) -> Event {
        let o = OutputData { process, pid, data };
        match self {
            Self::Stdout => Event::ProcessLogStdout(o),
            Self::Stderr => Event::ProcessLogStderr(o),
        }
    }

    /// The `PROCESS_COMMUNICATION_<channel>` event for a finished capture.
    pub fn comm_event(self, process: ProcessRef, pid: i32, data: Vec<u8>) -> Event {
        let o = OutputData { process, pid, data };
        match self {
            Self::Stdout => Event::ProcessCommunicationStdout(o),
            Self::Stderr => Event::ProcessCommunicationStderr(o),
        }
    }
}

/// How one channel of one running process is routed.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub process: ProcessRef,
    pub pid: i32,
    pub channel: Channel,
    /// `<channel>_capture_maxbytes` (0 = no capture mode).
    pub capture_maxbytes: usize,
    /// `<channel>_events_enabled`.
    pub events_enabled: bool,
    /// supervisord's `log_to_mainlog`: main-log level is DEBG or more verbose.
    pub debug_output: bool,
    /// `strip_ansi`: applied to each piece of output before it is logged or captured.
    pub filter: Option<Filter>,
}

/// What one read produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Bytes to append to the channel's log file.
    pub log_file: Vec<u8>,
    /// Main-log lines (all DEBG): `'<name>' <channel> output:\n<text>` and
    /// `'<name>' <channel> emitted a comm event`.
    pub main_log: Vec<(Level, String)>,
    /// Events to publish, in order.
    pub events: Vec<Event>,
}

/// The per-channel state machine.
#[derive(Debug)]
pub struct OutputRouter {
    config: RouterConfig,
    capturing: bool,
    pending: Vec<u8>,
    captured: Vec<u8>,
}

impl OutputRouter {
    pub fn new(config: RouterConfig) -> Self {
        Self {
            config,
            capturing: false,
            pending: Vec::new(),
            captured: Vec::new(),
        }
    }

    /// Whether the router is inside a capture block.
    pub fn capturing(&self) -> bool {
        self.capturing
    }

    /// Routes one chunk read from the pipe.
    pub fn feed(&mut self, chunk: &[u8]) -> Routed {
        let mut out = Routed::default();
        if self.config.capture_maxbytes == 0 {
            self.emit(chunk, &mut out);
            return out;
        }
        self.pending.extend_from_slice(chunk);
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if let Some(pos) = find(&self.pending, token) {
                let rest = self.pending.split_off(pos + token.len());
                self.pending.truncate(pos);
                let before = std::mem::replace(&mut self.pending, rest);
                self.emit(&before, &mut out);
                self.toggle(&mut out);
            } else {
                let keep = prefix_at_end(&self.pending, token);
                let held = self.pending.split_off(self.pending.len() - keep);
                let ready = std::mem::replace(&mut self.pending, held);
                self.emit(&ready, &mut out);
                break;
            }
        }
        out
    }

    /// The pipe reached EOF: flush what was held back waiting for a possible token.
    pub fn finish(&mut self) -> Routed {
        let mut out = Routed::default();
        let held = std::mem::take(&mut self.pending);
        self.emit(&held, &mut out);
        out
    }

    fn emit(&mut self, data: &[u8], out: &mut Routed) {
        if data.is_empty() {
            return;
        }
        let data = match self.config.filter {
            Some(f) => f(data),
            None => data.to_vec(),
        };
        if self.capturing {
            bound_write(&mut self.captured, &data, self.config.capture_maxbytes);
        } else {
            out.log_file.extend_from_slice(&data);
        }
        if self.config.debug_output {
            out.main_log.push((
                Level::Debug,
                format!(
                    "{} {} output:\n{}",
                    str_repr(&self.config.process.name),
                    self.config.channel.name(),
                    decode_output(&data)
                ),
            ));
        }
        if self.config.events_enabled {
            let c = &self.config;
            out.events
                .push(c.channel.log_event(c.process.clone(), c.pid, data));
        }
    }

    fn toggle(&mut self, out: &mut Routed) {
        self.capturing = !self.capturing;
        if self.capturing {
            return;
        }
        let data = std::mem::take(&mut self.captured);
        let c = &self.config;
        out.events
            .push(c.channel.comm_event(c.process.clone(), c.pid, data));
        out.main_log.push((
            Level::Debug,
            format!(
                "{} {} emitted a comm event",
                str_repr(&c.process.name),
                c.channel.name()
            ),
        ));
    }
}

/// supervisord's bounded capture buffer: when a write would exceed `max`, as many bytes as are being
/// written are first dropped from the front.
fn bound_write(buf: &mut Vec<u8>, data: &[u8], max: usize) {
    if buf.len() + data.len() > max {
        let drop = data.len().min(buf.len());
        buf.drain(..drop);
    }
    buf.extend_from_slice(data);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest proper prefix of `token` that `data` ends with.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    (1..token.len())
        .rev()
        .find(|&l| data.ends_with(&token[..l]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(maxbytes: usize, events: bool) -> OutputRouter {
        OutputRouter::new(RouterConfig {
            process: ProcessRef::new("talker", "talker"),
            pid: 5,
            channel: Channel::Stdout,
            capture_maxbytes: maxbytes,
            events_enabled: events,
            debug_output: false,
            filter: None,
        })
    }

    fn comm_data(events: &[Event]) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ProcessCommunicationStdout(o) => Some(o.data.clone()),
                _ => None,
            })
            .collect()
    }

    fn run(r: &mut OutputRouter, chunks: &[&[u8]]) -> Routed {
        let mut all = Routed::default();
        let mut pieces: Vec<Routed> = chunks.iter().map(|c| r.feed(c)).collect();
        pieces.push(r.finish());
        for c in pieces {
            all.log_file.extend(c.log_file);
            all.main_log.extend(c.main_log);
            all.events.extend(c.events);
        }
        all
    }

    #[test]
    fn capture_table() {
        // (chunks, expected log file, expected comm payloads)
        type Case<'a> = (&'a [&'a [u8]], &'a [u8], &'a [&'a [u8]]);
        let cases: &[Case] = &[
            (&[b"plain\n"], b"plain\n", &[]),
            (
                &[b"a<!--XSUPERVISOR:BEGIN-->msg<!--XSUPERVISOR:END-->b"],
                b"ab",
                &[b"msg"],
            ),
            (
                &[b"a<!--XSUPER", b"VISOR:BEGIN-->m", b"sg<!--XSUPERVISOR:E", b"ND-->b\n"],
                b"ab\n",
                &[b"msg"],
            ),
            (
                &[b"<!--XSUPERVISOR:BEGIN--><!--XSUPERVISOR:END--><!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->"],
                b"",
                &[b"", b"x"],
            ),
            // A tail that merely looks like a token start is flushed at EOF.
            (&[b"end <!--XSUP"], b"end <!--XSUP", &[]),
            // An unterminated capture never becomes an event and is not logged.
            (&[b"x<!--XSUPERVISOR:BEGIN-->lost"], b"x", &[]),
            // Bounded: 6 bytes max; second write of 4 drops 4 from the front.
            (
                &[b"<!--XSUPERVISOR:BEGIN-->abcde", b"fghi", b"<!--XSUPERVISOR:END-->"],
                b"",
                &[b"efghi"],
            ),
        ];
        for (chunks, log, comms) in cases {
            let mut r = router(6, false);
            let got = run(&mut r, chunks);
            assert_eq!(got.log_file, *log, "{chunks:?}");
            let want: Vec<Vec<u8>> = comms.iter().map(|c| c.to_vec()).collect();
            assert_eq!(comm_data(&got.events), want, "{chunks:?}");
        }
    }

    #[test]
    fn bound_write_matches_bound_io() {
        let mut b = Vec::new();
        bound_write(&mut b, b"abcde", 6);
        bound_write(&mut b, b"fghi", 6);
        assert_eq!(b, b"efghi");
        // A single write larger than the bound is kept whole, as BoundIO does.
        let mut b = b"xy".to_vec();
        bound_write(&mut b, b"0123456789", 6);
        assert_eq!(b, b"0123456789");
    }

    #[test]
    fn no_capture_without_maxbytes() {
        let mut r = router(0, false);
        let got = r.feed(b"a<!--XSUPERVISOR:BEGIN-->b<!--XSUPERVISOR:END-->");
        assert_eq!(
            got.log_file,
            b"a<!--XSUPERVISOR:BEGIN-->b<!--XSUPERVISOR:END-->"
        );
        assert!(got.events.is_empty());
    }

    #[test]
    fn log_events_cover_captured_and_logged_pieces() {
        let mut r = router(100, true);
        let got = r.feed(b"a<!--XSUPERVISOR:BEGIN-->b<!--XSUPERVISOR:END-->c");
        let names: Vec<&str> = got.events.iter().map(Event::name).collect();
        assert_eq!(
            names,
            [
                "PROCESS_LOG_STDOUT",
                "PROCESS_LOG_STDOUT",
                "PROCESS_COMMUNICATION_STDOUT",
                "PROCESS_LOG_STDOUT"
            ]
        );
        assert_eq!(
            got.events[3].payload(),
            "processname:talker groupname:talker pid:5 channel:stdout\nc"
        );
        assert_eq!(
            got.events[2].payload(),
            "processname:talker groupname:talker pid:5\nb"
        );
        assert_eq!(got.log_file, b"ac");
    }

    #[test]
    fn events_disabled_means_no_log_events() {
        let mut r = router(0, false);
        assert!(r.feed(b"hello").events.is_empty());
        let mut r = router(0, true);
        let got = r.feed(b"hello");
        assert_eq!(got.events.len(), 1);
        assert!(r.feed(b"").events.is_empty());
    }

    #[test]
    fn debug_output_and_filter() {
        fn upper(d: &[u8]) -> Vec<u8> {
            d.to_ascii_uppercase()
        }
        let mut r = OutputRouter::new(RouterConfig {
            process: ProcessRef::new("web", "web"),
            pid: 1,
            channel: Channel::Stderr,
            capture_maxbytes: 0,
            events_enabled: false,
            debug_output: true,
            filter: Some(upper),
        });
        let got = r.feed(b"hi\xff");
        assert_eq!(got.log_file, b"HI\xff");
        assert_eq!(
            got.main_log,
            [(
                Level::Debug,
                "'web' stderr output:\nUndecodable: b'HI\\xff'".to_string()
            )]
        );
    }

    #[test]
    fn prefix_at_end_table() {
        assert_eq!(prefix_at_end(b"abc<!--", BEGIN_TOKEN), 4);
        assert_eq!(prefix_at_end(b"abc", BEGIN_TOKEN), 0);
        assert_eq!(prefix_at_end(b"<", END_TOKEN), 1);
        assert_eq!(prefix_at_end(BEGIN_TOKEN, BEGIN_TOKEN), 0);
    }
}
