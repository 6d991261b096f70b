//! Python's `repr()` of a `str`, used to word error messages exactly like supervisord
//! (which formats values with `%r`).

/// Whether Python would print the character as-is inside a repr.
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

fn escape(c: char, ascii: bool, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (ascii && !c.is_ascii()) || !printable(c) => {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else if n < 0x10000 {
                out.push_str(&format!("\\u{n:04x}"));
            } else {
                out.push_str(&format!("\\U{n:08x}"));
            }
        }
        c => out.push(c),
    }
}

fn quoted(s: &str, ascii: bool) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        if c == quote {
            out.push('\\');
            out.push(c);
        } else {
            escape(c, ascii, &mut out);
        }
    }
    out.push(quote);
    out
}

/// `repr(s)`.
pub fn repr(s: &str) -> String {
    quoted(s, false)
}

/// `ascii(s)`.
pub fn ascii(s: &str) -> String {
    quoted(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_repr() {
        let table = [
            ("a", "'a'", "'a'"),
            ("it's", "\"it's\"", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'", "'say \"hi\"'"),
            ("both ' and \"", "'both \\' and \"'", "'both \\' and \"'"),
            ("tab\there", "'tab\\there'", "'tab\\there'"),
            ("nl\n", "'nl\\n'", "'nl\\n'"),
            ("bs\\", "'bs\\\\'", "'bs\\\\'"),
            ("\x7f", "'\\x7f'", "'\\x7f'"),
            ("é", "'é'", "'\\xe9'"),
            ("\u{200b}", "'\\u200b'", "'\\u200b'"),
            ("\u{a0}", "'\\xa0'", "'\\xa0'"),
            ("😀", "'😀'", "'\\U0001f600'"),
        ];
        for (input, r, a) in table {
            assert_eq!(repr(input), r, "{input:?}");
            assert_eq!(ascii(input), a, "{input:?}");
        }
    }
}
