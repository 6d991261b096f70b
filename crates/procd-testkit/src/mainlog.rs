//! Reading a daemon's main log: `YYYY-MM-DD HH:MM:SS,mmm LEVL message`, continuation lines joined.

use std::path::Path;

/// Whether `line` starts with a main-log time stamp and a level.
fn stamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 29 && b[4] == b'-' && b[10] == b' ' && b[19] == b',' && b[23] == b' '
}

/// A main log as `(level, message)` pairs, time stamps dropped, continuation lines appended with `\n`.
pub fn parse_main_log(text: &str) -> Vec<(String, String)> {
    read_timed(text)
        .into_iter()
        .map(|(_, level, msg)| (level, msg))
        .collect()
}

/// Reads and parses the main log at `path` (empty when it cannot be read).
pub fn read_main_log(path: &Path) -> Vec<(String, String)> {
    parse_main_log(&std::fs::read_to_string(path).unwrap_or_default())
}

/// Like [`read_main_log`] with the time of day of each line in seconds.
pub fn read_main_log_timed(path: &Path) -> Vec<(f64, String, String)> {
    read_timed(&std::fs::read_to_string(path).unwrap_or_default())
}

fn read_timed(text: &str) -> Vec<(f64, String, String)> {
    let mut out: Vec<(f64, String, String)> = Vec::new();
    for line in text.lines() {
        match stamp(line) {
            Some(t) => out.push((
                t,
                line[24..28].to_owned(),
                line.get(29..).unwrap_or("").to_owned(),
            )),
            None => {
                if let Some(last) = out.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(line);
                }
            }
        }
    }
    out
}

/// Seconds since midnight of a stamped main-log line.
fn stamp(line: &str) -> Option<f64> {
    if !stamped(line) {
        return None;
    }
    let h: f64 = line.get(11..13)?.parse().ok()?;
    let m: f64 = line.get(14..16)?.parse().ok()?;
    let s: f64 = line.get(17..19)?.parse().ok()?;
    let ms: f64 = line.get(20..23)?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s + ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuation_lines() {
        let text =
            "2026-11-26 11:53:20,392 INFO first\nmore\n2026-11-26 11:53:21,000 WARN second\n";
        assert_eq!(
            parse_main_log(text),
            [
                ("INFO".to_owned(), "first\nmore".to_owned()),
                ("WARN".to_owned(), "second".to_owned())
            ]
        );
    }
}
