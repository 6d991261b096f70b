//! Value types of supervisord's config (`datatypes.py`): integers, booleans, byte sizes,
//! octal modes, exit codes, autorestart, log levels, names, inet addresses and lists.
//! Each parser takes the already expanded text and returns supervisord's error wording.

use crate::ini::{py_isspace, py_strip};
use crate::model::{AutoRestart, LogLevel};
use crate::pyrepr::repr;

/// Python's `int(text)` (base 10): surrounding whitespace, a sign, digits with single
/// underscores between them. Values outside `i64` are rejected.
pub fn py_int(text: &str) -> Option<i64> {
    py_int_radix(text, 10)
}

/// Python's `int(text, radix)` for radix 8 or 10 (an `0o` prefix is accepted for 8).
pub fn py_int_radix(text: &str, radix: u32) -> Option<i64> {
    let t = py_strip(text);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let body = if radix == 8 {
        body.strip_prefix("0o")
            .or_else(|| body.strip_prefix("0O"))
            .map_or(body, |b| b.strip_prefix('_').unwrap_or(b))
    } else {
        body
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut n: i64 = 0;
    for c in body.chars() {
        if c == '_' {
            continue;
        }
        let d = i64::from(c.to_digit(radix)?);
        n = n.checked_mul(i64::from(radix))?.checked_add(d)?;
    }
    Some(if neg { -n } else { n })
}

/// An integer option (`startsecs`, `numprocs`, ...) read with Python's `int()`; the error is Python's
/// `invalid literal for int() with base 10: '<v>'`.
pub fn integer(v: &str) -> Result<i64, String> {
    py_int(v).ok_or_else(|| format!("invalid literal for int() with base 10: {}", repr(v)))
}

/// A non-negative integer that fits `T`.
pub fn unsigned<T: TryFrom<i64>>(v: &str) -> Result<T, String> {
    let n = integer(v)?;
    T::try_from(n).map_err(|_| format!("value out of range: {}", repr(v)))
}

/// An integer that fits `i32` (`priority=`, which may be negative).
pub fn signed32(v: &str) -> Result<i32, String> {
    let n = integer(v)?;
    i32::try_from(n).map_err(|_| format!("value out of range: {}", repr(v)))
}

/// supervisord's boolean: `yes`/`true`/`on`/`1` or `no`/`false`/`off`/`0`, in any case.
pub fn boolean(v: &str) -> Result<bool, String> {
    match v.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", repr(v))),
    }
}

/// `N`, `NKB`, `NMB`, `NGB` (suffix case-insensitive, powers of 1024).
pub fn byte_size(v: &str) -> Result<u64, String> {
    let lower = v.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let (num, mult): (String, u64) = if chars.len() >= 2 {
        let suffix: String = chars[chars.len() - 2..].iter().collect();
        let head: String = chars[..chars.len() - 2].iter().collect();
        match suffix.as_str() {
            "kb" => (head, 1024),
            "mb" => (head, 1024 * 1024),
            "gb" => (head, 1024 * 1024 * 1024),
            _ => (lower.clone(), 1),
        }
    } else {
        (lower.clone(), 1)
    };
    let n = py_int(&num)
        .ok_or_else(|| format!("invalid literal for int() with base 10: {}", repr(&num)))?;
    let n = u64::try_from(n).map_err(|_| format!("byte size may not be negative: {}", repr(v)))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("byte size too large: {}", repr(v)))
}

/// An octal mode (`umask=`, `chmod=`, `socket_mode=`), with or without a leading `0`/`0o`.
pub fn octal(v: &str) -> Result<u32, String> {
    py_int_radix(v, 8)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{v} can not be converted to an octal type"))
}

/// `exitcodes=`: comma-separated integers, each 0-255; an empty value is an empty list.
pub fn exitcodes(v: &str) -> Result<Vec<i32>, String> {
    let bad = || format!("not a valid list of exit codes: {}", repr(v));
    if v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|part| {
            py_int(part)
                .filter(|n| (0..=255).contains(n))
                .map(|n| n as i32)
                .ok_or_else(bad)
        })
        .collect()
}

/// `autorestart=`: a boolean (`true` = always, `false` = never) or `unexpected`, in any case.
pub fn autorestart(v: &str) -> Result<AutoRestart, String> {
    let lower = v.to_lowercase();
    match lower.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::Never),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", repr(&lower))),
    }
}

/// `loglevel=`: `critical`, `error`, `warn`, `info`, `debug`, `trace` or `blather`, in any case.
pub fn log_level(v: &str) -> Result<LogLevel, String> {
    LogLevel::from_description(&v.to_lowercase())
        .ok_or_else(|| format!("bad logging level name {}", repr(v)))
}

/// Process and group names: stripped, no space, `:` or `/`.
pub fn process_or_group_name(v: &str) -> Result<String, String> {
    let s = py_strip(v);
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                repr(v),
                repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// Comma separated, each item stripped; empty input is an empty list.
pub fn list_of_strings(v: &str) -> Vec<String> {
    if v.is_empty() {
        return Vec::new();
    }
    v.split(',').map(|x| py_strip(x).to_string()).collect()
}

/// `host:port`, `*:port`, `:port` or `port`; host lower-cased, `""` = all interfaces.
pub fn inet_address(v: &str) -> Result<(String, u16), String> {
    let port_number = |p: &str| -> Result<u16, String> {
        let n = integer(p)?;
        if n < 1 {
            return Err(format!("{n} is below lower bound (1)"));
        }
        if n > 0xffff {
            return Err(format!("{n} is above upper bound (65535)"));
        }
        Ok(n as u16)
    };
    let (host, port) = match v.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", repr(port)));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => (
            String::new(),
            port_number(v).map_err(|_| format!("not a valid port number: {} ", repr(v)))?,
        ),
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

/// `profile_options`: comma list of sort keys plus the `callers` flag (normalised text).
pub fn profile_options(v: &str) -> String {
    list_of_strings(v)
        .iter()
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

/// True when `s` has any Python whitespace.
pub fn has_space(s: &str) -> bool {
    s.chars().any(py_isspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_python_int() {
        for (t, n) in [
            ("12", Some(12)),
            (" 7 ", Some(7)),
            ("+3", Some(3)),
            ("-4", Some(-4)),
            ("1_000", Some(1000)),
        ] {
            assert_eq!(py_int(t), n, "{t}");
        }
        for t in [
            "",
            "1.5",
            "0x10",
            "_1",
            "1_",
            "1__0",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(py_int(t), None, "{t}");
        }
        assert_eq!(
            integer("abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn booleans() {
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(t), Ok(true), "{t}");
        }
        for t in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(t), Ok(false), "{t}");
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
    }

    #[test]
    fn byte_sizes() {
        for (t, n) in [
            ("0", 0),
            ("1024", 1024),
            ("1KB", 1024),
            ("50MB", 50 * 1024 * 1024),
            ("5 MB", 5 * 1024 * 1024),
            ("2gb", 2 * 1024 * 1024 * 1024),
            ("1kB", 1024),
        ] {
            assert_eq!(byte_size(t), Ok(n), "{t}");
        }
        for t in ["50M", "1.5MB", "MB", "", "x", "-1"] {
            assert!(byte_size(t).is_err(), "{t}");
        }
    }

    #[test]
    fn octals() {
        for (t, n) in [
            ("022", 0o22),
            ("0700", 0o700),
            ("700", 0o700),
            ("0o17", 0o17),
            ("0", 0),
        ] {
            assert_eq!(octal(t), Ok(n), "{t}");
        }
        for t in ["8", "abc", "", "-1"] {
            assert!(octal(t).is_err(), "{t}");
        }
        assert_eq!(
            octal("9").unwrap_err(),
            "9 can not be converted to an octal type"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exitcodes("0"), Ok(vec![0]));
        assert_eq!(exitcodes("0,2, 255"), Ok(vec![0, 2, 255]));
        assert_eq!(exitcodes(""), Ok(vec![]));
        for t in ["0,256", "-1", "a", "0,", "1.0"] {
            assert!(exitcodes(t).is_err(), "{t}");
        }
        assert_eq!(
            exitcodes("0,256").unwrap_err(),
            "not a valid list of exit codes: '0,256'"
        );
    }

    #[test]
    fn autorestarts() {
        assert_eq!(autorestart("true"), Ok(AutoRestart::Always));
        assert_eq!(autorestart("OFF"), Ok(AutoRestart::Never));
        assert_eq!(autorestart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(
            autorestart("maybe").unwrap_err(),
            "invalid 'autorestart' value 'maybe'"
        );
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" web "), Ok("web".into()));
        assert_eq!(
            process_or_group_name("a b").unwrap_err(),
            "Invalid name: 'a b' because of character: ' '"
        );
        assert!(process_or_group_name("a:b").is_err());
        assert!(process_or_group_name("a/b").is_err());
    }

    #[test]
    fn inet_addresses() {
        for (t, h, p) in [
            ("127.0.0.1:9001", "127.0.0.1", 9001),
            ("*:9001", "", 9001),
            (":9001", "", 9001),
            ("9001", "", 9001),
            ("LocalHost:80", "localhost", 80),
        ] {
            assert_eq!(inet_address(t), Ok((h.to_string(), p)), "{t}");
        }
        for t in ["host:", "0", "70000", "abc", "h:x"] {
            assert!(inet_address(t).is_err(), "{t}");
        }
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level("INFO"), Ok(LogLevel::Info));
        assert_eq!(log_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(
            log_level("warning").unwrap_err(),
            "bad logging level name 'warning'"
        );
    }
}
