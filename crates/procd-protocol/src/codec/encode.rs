//! Writing documents byte-for-byte like Python's `xmlrpc.client.dumps`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::MethodCall;
use crate::fault::Fault;
use crate::value::Value;

const HEADER: &str = "<?xml version='1.0'?>\n";

/// A `<methodCall>` document.
pub fn encode_call(call: &MethodCall) -> Vec<u8> {
    let mut out = String::from(HEADER);
    out.push_str("<methodCall>\n<methodName>");
    push_escaped(&mut out, &call.method);
    out.push_str("</methodName>\n<params>\n");
    for param in &call.params {
        out.push_str("<param>\n");
        push_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out.into_bytes()
}

/// A successful `<methodResponse>` carrying one value.
pub fn encode_response(value: &Value) -> Vec<u8> {
    // One allocation of about the right size: a large reply (getAllProcessInfo with hundreds of
    // processes is a few hundred KB) grown by doubling was copied a dozen times, each copy a fresh
    // mapping and a page fault per 4 KiB.
    let mut out = String::with_capacity(size_hint(value) + 128);
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    push_value(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out.into_bytes()
}

/// A fault `<methodResponse>`.
pub fn encode_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::from(HEADER);
    out.push_str("<methodResponse>\n<fault>\n");
    push_value(&mut out, &fault.to_value());
    out.push_str("</fault>\n</methodResponse>\n");
    out.into_bytes()
}

/// About the encoded size of a value (exact for plain text; escapes and base64 make it grow a little).
fn size_hint(value: &Value) -> usize {
    match value {
        Value::Int(_) | Value::Bool(_) | Value::Double(_) | Value::Nil => 48,
        Value::String(s) | Value::DateTime(s) => 40 + s.len(),
        Value::Base64(b) => 40 + b.len() / 3 * 4 + b.len() / 57 + 8,
        Value::Struct(members) => {
            32 + members
                .iter()
                .map(|(name, v)| 40 + name.len() + size_hint(v))
                .sum::<usize>()
        }
        Value::Array(items) => 48 + items.iter().map(size_hint).sum::<usize>(),
    }
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(i) => {
            out.push_str("<value><int>");
            // Writing into a String cannot fail.
            let _ = std::fmt::Write::write_fmt(out, format_args!("{i}"));
            out.push_str("</int></value>\n");
        }
        Value::Bool(b) => {
            out.push_str("<value><boolean>");
            out.push_str(if *b { "1" } else { "0" });
            out.push_str("</boolean></value>\n");
        }
        Value::String(s) => {
            out.push_str("<value><string>");
            push_escaped(out, s);
            out.push_str("</string></value>\n");
        }
        Value::Double(d) => {
            out.push_str("<value><double>");
            out.push_str(&python_float_repr(*d));
            out.push_str("</double></value>\n");
        }
        Value::DateTime(s) => {
            out.push_str("<value><dateTime.iso8601>");
            push_escaped(out, s);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        Value::Base64(bytes) => {
            out.push_str("<value><base64>\n");
            push_base64_lines(out, bytes);
            out.push_str("</base64></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                push_escaped(out, name);
                out.push_str("</name>\n");
                push_value(out, member);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                push_value(out, item);
            }
            out.push_str("</data></array></value>\n");
        }
        // Python (with allow_none) writes no newline after nil.
        Value::Nil => out.push_str("<value><nil/></value>"),
    }
}

/// Escapes like Python's `xmlrpc.client.escape` (`&`, `<`, `>`), plus the two documented differences:
/// CR as `&#13;` and XML-forbidden characters as U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    // Most text needs no escaping: copy the longest prefix of plain bytes at once. A byte needs a
    // closer look when it is markup, a control character other than tab and newline, or 0xEF (the
    // first byte of U+FFFE and U+FFFF, which XML forbids).
    let plain = text
        .bytes()
        .position(|b| {
            matches!(b, b'&' | b'<' | b'>' | 0xEF) || (b < 0x20 && b != b'\t' && b != b'\n')
        })
        .unwrap_or(text.len());
    out.push_str(&text[..plain]);
    for c in text[plain..].chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
}

/// Whether XML 1.0 allows this character in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Python's `base64.encodebytes`: standard alphabet, 76 characters per line, every line ends in `\n`.
fn push_base64_lines(out: &mut String, bytes: &[u8]) {
    let encoded = STANDARD.encode(bytes);
    let mut rest = encoded.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(76));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside `1e-4 <= |x| < 1e16`,
/// exponents signed with at least two digits (`1e+16`, `1e-05`), and `inf`, `-inf`, `nan`.
pub(crate) fn python_float_repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's Debug uses the same thresholds and shortest digits; only the exponent spelling differs.
    let debug = format!("{d:?}");
    match debug.split_once('e') {
        None => debug,
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}
