//! `*_log_timestamp=` and `*_log_format=json` (procd extensions): child output rewritten line by line on
//! its way into the log file.
//!
//! Each pipe keeps a [`LineState`]: whether the next byte starts a line (text mode) or the part of a line
//! read so far (JSON mode). A line that arrives in several reads therefore gets exactly one timestamp, and
//! one JSON object. The clock is read once per chunk: every line of one read gets the same stamp (they
//! arrived together). When the pipe ends in the middle of a line, [`LineFormat::finish`] ends it with a
//! newline (text) or writes it as a last object (JSON), so the next child's output starts a fresh line.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use procd_config::{LogFormat, LogTimestamp};

/// The longest line JSON mode holds back; a longer one is written in pieces of this size.
const MAX_JSON_LINE: usize = 64 * 1024;

/// How one channel's lines are written.
#[derive(Debug, Clone)]
pub struct LineFormat {
    stamp: LogTimestamp,
    json: bool,
    /// `"program":"<name>","stream":"<stream>",` with the name already escaped (JSON mode).
    json_middle: String,
}

/// Per-pipe state (see the module docs) and a scratch buffer reused between reads.
#[derive(Debug)]
pub struct LineState {
    at_line_start: bool,
    partial: Vec<u8>,
    out: Vec<u8>,
    /// The last stamp written and the millisecond it stands for.
    cached: Option<(u128, String)>,
}

impl Default for LineState {
    fn default() -> Self {
        LineState {
            at_line_start: true,
            partial: Vec::new(),
            out: Vec::new(),
            cached: None,
        }
    }
}

impl LineFormat {
    /// `None` when the channel is written as is (no timestamp, text format): the plain path.
    pub fn new(
        timestamp: Option<LogTimestamp>,
        format: LogFormat,
        program: &str,
        stream: &str,
    ) -> Option<Self> {
        let json = format == LogFormat::Json;
        if timestamp.is_none() && !json {
            return None;
        }
        let mut json_middle = String::from(",\"program\":");
        push_json_str(&mut json_middle, program.as_bytes());
        json_middle.push_str(",\"stream\":");
        push_json_str(&mut json_middle, stream.as_bytes());
        json_middle.push_str(",\"line\":");
        Some(LineFormat {
            stamp: timestamp.unwrap_or(LogTimestamp::Rfc3339),
            json,
            json_middle,
        })
    }

    /// Rewrites one chunk read at `now`; returns the bytes to append to the log file.
    pub fn format<'s>(&self, st: &'s mut LineState, data: &[u8], now: SystemTime) -> &'s [u8] {
        st.out.clear();
        if data.is_empty() {
            return &st.out;
        }
        let stamp = stamp_text(&mut st.cached, self.stamp, now);
        if self.json {
            let mut rest = data;
            while let Some(i) = memchr::memchr(b'\n', rest) {
                let (line, tail) = (&rest[..i], &rest[i + 1..]);
                if st.partial.is_empty() {
                    self.json_line(&mut st.out, &stamp, line);
                } else {
                    st.partial.extend_from_slice(line);
                    let whole = std::mem::take(&mut st.partial);
                    self.json_line(&mut st.out, &stamp, &whole);
                    st.partial = whole;
                    st.partial.clear();
                }
                rest = tail;
            }
            st.partial.extend_from_slice(rest);
            while st.partial.len() >= MAX_JSON_LINE {
                let piece: Vec<u8> = st.partial.drain(..MAX_JSON_LINE).collect();
                self.json_line(&mut st.out, &stamp, &piece);
            }
        } else {
            st.out.reserve(data.len() + stamp.len() + 1);
            let mut rest = data;
            while !rest.is_empty() {
                if st.at_line_start {
                    st.out.extend_from_slice(stamp.as_bytes());
                    st.out.push(b' ');
                }
                match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        st.out.extend_from_slice(&rest[..=i]);
                        st.at_line_start = true;
                        rest = &rest[i + 1..];
                    }
                    None => {
                        st.out.extend_from_slice(rest);
                        st.at_line_start = false;
                        rest = &[];
                    }
                }
            }
        }
        &st.out
    }

    /// The pipe ended: completes a line cut short (see the module docs).
    pub fn finish<'s>(&self, st: &'s mut LineState, now: SystemTime) -> &'s [u8] {
        st.out.clear();
        if self.json {
            if !st.partial.is_empty() {
                let stamp = stamp_text(&mut st.cached, self.stamp, now);
                let line = std::mem::take(&mut st.partial);
                self.json_line(&mut st.out, &stamp, &line);
            }
        } else if !st.at_line_start {
            st.out.push(b'\n');
            st.at_line_start = true;
        }
        &st.out
    }

    fn json_line(&self, out: &mut Vec<u8>, stamp: &str, line: &[u8]) {
        let mut s = String::with_capacity(line.len() + stamp.len() + self.json_middle.len() + 16);
        s.push_str("{\"time\":");
        if self.stamp == LogTimestamp::Epoch {
            s.push_str(stamp);
        } else {
            s.push('"');
            s.push_str(stamp);
            s.push('"');
        }
        s.push_str(&self.json_middle);
        push_json_str(&mut s, line);
        s.push_str("}\n");
        out.extend_from_slice(s.as_bytes());
    }
}

/// The stamp for `now`, formatted once per millisecond.
fn stamp_text(cache: &mut Option<(u128, String)>, kind: LogTimestamp, now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ms = since.as_millis();
    if let Some((at, text)) = cache.as_ref()
        && *at == ms
    {
        return text.clone();
    }
    let text = format_stamp(kind, now);
    *cache = Some((ms, text.clone()));
    text
}

/// `rfc3339`: `2026-12-03T14:32:55.123Z`; `iso8601`: local time with its offset,
/// `2026-12-03T15:32:55.123+01:00`; `epoch`: `1764772375.123`.
pub fn format_stamp(kind: LogTimestamp, now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    match kind {
        LogTimestamp::Epoch => format!("{}.{:03}", since.as_secs(), since.subsec_millis()),
        LogTimestamp::Rfc3339 => {
            let t: chrono::DateTime<chrono::Utc> = now.into();
            t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        }
        LogTimestamp::Iso8601 => {
            let t: chrono::DateTime<chrono::Local> = now.into();
            t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
        }
    }
}

/// Appends `bytes` as a JSON string (invalid UTF-8 replaced by U+FFFD).
fn push_json_str(s: &mut String, bytes: &[u8]) {
    s.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(ms: u64) -> SystemTime {
        // 2026-12-03T14:32:55Z
        UNIX_EPOCH + Duration::from_millis(1_796_308_375_000 + ms)
    }

    fn text(kind: LogTimestamp) -> LineFormat {
        LineFormat::new(Some(kind), LogFormat::Text, "web", "stdout").unwrap()
    }

    #[test]
    fn plain_channels_have_no_format() {
        assert!(LineFormat::new(None, LogFormat::Text, "web", "stdout").is_none());
        assert!(LineFormat::new(None, LogFormat::Json, "web", "stdout").is_some());
    }

    #[test]
    fn stamps() {
        assert_eq!(
            format_stamp(LogTimestamp::Rfc3339, at(7)),
            "2026-12-03T14:32:55.007Z"
        );
        assert_eq!(format_stamp(LogTimestamp::Epoch, at(123)), "1796308375.123");
        let local = format_stamp(LogTimestamp::Iso8601, at(0));
        assert_eq!(
            local.len(),
            "2026-12-03T14:32:55.000+00:00".len(),
            "{local}"
        );
    }

    #[test]
    fn one_stamp_per_line_across_reads() {
        let f = text(LogTimestamp::Epoch);
        let mut st = LineState::default();
        let mut file = Vec::new();
        file.extend_from_slice(f.format(&mut st, b"one\ntw", at(0)));
        file.extend_from_slice(f.format(&mut st, b"o\nthree", at(1000)));
        file.extend_from_slice(f.format(&mut st, b"\n\nfour", at(2000)));
        file.extend_from_slice(f.finish(&mut st, at(3000)));
        assert_eq!(
            String::from_utf8(file).unwrap(),
            "1796308375.000 one\n1796308375.000 two\n1796308376.000 three\n1796308377.000 \n\
             1796308377.000 four\n"
        );
        // A finished pipe starts the next one on a fresh line; nothing to add when it ended cleanly.
        assert_eq!(f.finish(&mut st, at(0)), b"");
    }

    #[test]
    fn json_lines_are_whole_and_escaped() {
        let f = LineFormat::new(None, LogFormat::Json, "we\"b", "stderr").unwrap();
        let mut st = LineState::default();
        let mut file = Vec::new();
        file.extend_from_slice(f.format(&mut st, b"a \"quoted\" \\ta", at(0)));
        file.extend_from_slice(f.format(&mut st, b"b\tc\x01\xff\nnext\n", at(5)));
        file.extend_from_slice(f.format(&mut st, b"tail", at(9)));
        file.extend_from_slice(f.finish(&mut st, at(9)));
        let text = String::from_utf8(file).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["time"], "2026-12-03T14:32:55.005Z");
        assert_eq!(lines[0]["program"], "we\"b");
        assert_eq!(lines[0]["stream"], "stderr");
        assert_eq!(lines[0]["line"], "a \"quoted\" \\tab\tc\u{1}\u{fffd}");
        assert_eq!(lines[1]["line"], "next");
        assert_eq!(lines[2]["line"], "tail");
        let epoch =
            LineFormat::new(Some(LogTimestamp::Epoch), LogFormat::Json, "w", "stdout").unwrap();
        let mut st = LineState::default();
        let out = String::from_utf8(epoch.format(&mut st, b"x\n", at(42)).to_vec()).unwrap();
        assert_eq!(
            out,
            "{\"time\":1796308375.042,\"program\":\"w\",\"stream\":\"stdout\",\"line\":\"x\"}\n"
        );
    }

    #[test]
    fn very_long_json_lines_are_cut() {
        let f = LineFormat::new(None, LogFormat::Json, "w", "stdout").unwrap();
        let mut st = LineState::default();
        let big = vec![b'x'; MAX_JSON_LINE + 10];
        let out = f.format(&mut st, &big, at(0)).to_vec();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let rest = f.finish(&mut st, at(0));
        let v: serde_json::Value = serde_json::from_slice(rest).unwrap();
        assert_eq!(v["line"], "x".repeat(10));
    }
}
