//! Masks volatile parts of daemon output (pids, uptimes, dates, temp paths, ports) so procd's and
//! supervisord's answers can be compared byte for byte.
//!
//! Patterns are tiny: `#` matches one or more ASCII digits, `@` one ASCII letter, anything else itself.

use std::path::Path;

/// (pattern, replacement), tried in order at every position.
const RULES: &[(&str, &str)] = &[
    ("####-##-## ##:##:##,###", "<TS>"),
    ("#-#-# #:#:#,#", "<TS>"),
    ("@@@ # #:# @@", "<DATE>"),
    ("pid #", "pid <PID>"),
    ("uptime #:#:#", "uptime <UP>"),
    ("port #", "port <PORT>"),
    ("127.0.0.1:#", "127.0.0.1:<PORT>"),
];

/// Masks `text` from a daemon living in `dir`.
pub fn mask(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<DIR>");
    mask_patterns(&mask_auto_logs(&text))
}

/// AUTO child log names end in `---<identifier>-<random>.log`; the random part differs per run.
pub fn mask_auto_logs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("---") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let token_end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let token = &rest[..token_end];
        // Both supervisord and procd use 8 random characters.
        if token.ends_with(".log") && token.len() >= 12 && token.is_char_boundary(token.len() - 12)
        {
            out.push_str(&token[..token.len() - 12]);
            out.push_str("<RAND>.log");
            rest = &rest[token_end..];
        }
    }
    out.push_str(rest);
    out
}

/// Applies [`RULES`] only.
pub fn mask_patterns(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < b.len() {
        // Patterns may only start at a word boundary.
        if i == 0 || !b[i - 1].is_ascii_alphanumeric() {
            for (pat, rep) in RULES {
                if let Some(n) = match_at(pat.as_bytes(), &b[i..]) {
                    out.push_str(rep);
                    i += n;
                    continue 'outer;
                }
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// Length of the match of `pat` at the start of `s`, if any.
fn match_at(pat: &[u8], s: &[u8]) -> Option<usize> {
    let mut j = 0;
    for &p in pat {
        match p {
            b'#' => {
                let n = s
                    .get(j..)?
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if n == 0 {
                    return None;
                }
                j += n;
            }
            b'@' => {
                if !s.get(j)?.is_ascii_alphabetic() {
                    return None;
                }
                j += 1;
            }
            c => {
                if *s.get(j)? != c {
                    return None;
                }
                j += 1;
            }
        }
    }
    // Do not stop in the middle of a word or number.
    if s.get(j).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_volatile_fields() {
        let cases = [
            (
                "web   RUNNING   pid 31336, uptime 0:00:12\n",
                "web   RUNNING   pid <PID>, uptime <UP>\n",
            ),
            ("x  STOPPED   Nov 26 11:53 AM\n", "x  STOPPED   <DATE>\n"),
            ("2026-11-26 11:53:20,392 INFO hi", "<TS> INFO hi"),
            (
                "http://127.0.0.1:19777 refused",
                "http://127.0.0.1:<PORT> refused",
            ),
            ("pidfile", "pidfile"),
            ("spid 3", "spid 3"),
            ("pid 12a", "pid 12a"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_patterns(input), want, "{input:?}");
        }
        assert_eq!(mask("/tmp/x/a.log", Path::new("/tmp/x")), "<DIR>/a.log");
        assert_eq!(
            mask_auto_logs("\"/d/a-stdout---sup-ab_cd1e9.log\", ---"),
            "\"/d/a-stdout---sup-<RAND>.log\", ---"
        );
    }
}
