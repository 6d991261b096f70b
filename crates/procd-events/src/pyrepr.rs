//! Python `repr()` of `bytes` and `str`, and Python's text decoding of child output.
//!
//! supervisord renders undecodable output as `Undecodable: b'...'` and quotes process names with `%r`
//! in a few main-log lines; these helpers reproduce those renderings so listeners and log readers see
//! the same text.

use std::fmt::Write as _;

/// `repr(b)` for a Python `bytes` object: `b'...'`, or `b"..."` when the data holds `'` but no `"`.
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(char::from(quote));
    out
}

pub use procd_config::pyrepr::repr as str_repr;

/// Child output as supervisord puts it in an event payload: the UTF-8 text, or
/// `Undecodable: b'...'` when the bytes are not valid UTF-8.
pub fn decode_output(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_owned(),
        Err(_) => format!("Undecodable: {}", bytes_repr(data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_repr_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "b''"),
            (b"READY\n", "b'READY\\n'"),
            (b"it's", "b\"it's\""),
            (b"'\"", "b'\\'\"'"),
            (b"\xff\x00\x7f\\", "b'\\xff\\x00\\x7f\\\\'"),
            (b"a\tb\rc", "b'a\\tb\\rc'"),
        ];
        for (input, want) in cases {
            assert_eq!(bytes_repr(input), *want, "{input:?}");
        }
    }

    #[test]
    fn str_repr_table() {
        assert_eq!(str_repr("cat"), "'cat'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\nb"), "'a\\nb'");
        assert_eq!(str_repr("é"), "'é'");
    }

    #[test]
    fn decode_output_falls_back_to_repr() {
        assert_eq!(decode_output("héllo".as_bytes()), "héllo");
        assert_eq!(decode_output(b"a\xffb"), "Undecodable: b'a\\xffb'");
    }
}
