//! Two shell-like lexers, reimplementing Python's `shlex` state machine in the two modes
//! supervisord 4.3.0 uses:
//! * [`split`]: `shlex.split(command)` (POSIX mode) for `command=`;
//! * [`key_value_pairs`]: the legacy non-POSIX lexer behind `environment=`
//!   (`datatypes.dict_of_key_value_pairs`), quirks included (`A=$HOME` gives `A=$`).

/// POSIX `shlex.split`: whitespace separated words, `'…'`, `"…"` (with `\` escapes of
/// `\` and `"`), `\` escapes outside quotes, no comments.
pub fn split(s: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Space,
        Word,
        Quote(char),
        Escape(char),
    }
    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut st = St::Space;
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    for c in s.chars() {
        match st {
            St::Space | St::Word => {
                if is_ws(c) {
                    if st == St::Word || quoted {
                        words.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                    st = St::Space;
                } else if c == '\\' {
                    st = St::Escape('a');
                } else if c == '\'' || c == '"' {
                    st = St::Quote(c);
                } else {
                    token.push(c);
                    st = St::Word;
                }
            }
            St::Quote(q) => {
                quoted = true;
                if c == q {
                    st = St::Word;
                } else if q == '"' && c == '\\' {
                    st = St::Escape('"');
                } else {
                    token.push(c);
                }
            }
            St::Escape(from) => {
                if from == '"' && c != '\\' && c != '"' {
                    token.push('\\');
                }
                token.push(c);
                st = if from == '"' {
                    St::Quote('"')
                } else {
                    St::Word
                };
            }
        }
    }
    match st {
        St::Quote(_) => return Err("No closing quotation".into()),
        St::Escape(_) => return Err("No escaped character".into()),
        St::Word => words.push(token),
        St::Space => {
            if quoted {
                words.push(token);
            }
        }
    }
    Ok(words)
}

/// The tokens of Python's non-POSIX `shlex.shlex(s)` with `/.+-():` added to the word
/// characters, stopping at the first empty token like `list(lexer)` does.
pub fn legacy_tokens(s: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Space,
        Word,
        Quote(char),
        Eof,
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let is_quote = |c: char| c == '\'' || c == '"';
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let mut tokens = Vec::new();
    // A character pushed back as a token of its own.
    let mut pushback: Option<char> = None;
    let mut st = St::Space;
    let skip_line = |pos: &mut usize| {
        while *pos < chars.len() {
            let c = chars[*pos];
            *pos += 1;
            if c == '\n' {
                break;
            }
        }
    };
    loop {
        if let Some(c) = pushback.take() {
            tokens.push(c.to_string());
            continue;
        }
        let mut token = String::new();
        loop {
            let next = chars.get(pos).copied();
            if next.is_some() {
                pos += 1;
            }
            match st {
                St::Eof => break,
                St::Space => match next {
                    None => {
                        st = St::Eof;
                        break;
                    }
                    Some(c) if is_ws(c) => {
                        if !token.is_empty() {
                            break;
                        }
                    }
                    Some('#') => skip_line(&mut pos),
                    Some(c) if is_word(c) => {
                        token.push(c);
                        st = St::Word;
                    }
                    Some(c) if is_quote(c) => {
                        token.push(c);
                        st = St::Quote(c);
                    }
                    Some(c) => {
                        token.push(c);
                        break;
                    }
                },
                St::Quote(q) => match next {
                    None => return Err("No closing quotation".into()),
                    Some(c) => {
                        token.push(c);
                        if c == q {
                            st = St::Space;
                            break;
                        }
                    }
                },
                St::Word => match next {
                    None => {
                        st = St::Eof;
                        break;
                    }
                    Some(c) if is_ws(c) => {
                        st = St::Space;
                        if !token.is_empty() {
                            break;
                        }
                    }
                    Some('#') => skip_line(&mut pos),
                    Some(c) if is_word(c) || is_quote(c) => token.push(c),
                    Some(c) => {
                        pushback = Some(c);
                        st = St::Space;
                        if !token.is_empty() {
                            break;
                        }
                    }
                },
            }
        }
        if token.is_empty() {
            return Ok(tokens);
        }
        tokens.push(token);
    }
}

/// `K=V,K2="v 2"` → pairs, the way supervisord 4.3.0 reads `environment=`: tokens come in
/// fours (`key`, `=`, `value`, separator); quotes around the value are stripped.
pub fn key_value_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = legacy_tokens(s)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let chunk = &tokens[i..tokens.len().min(i + 3)];
        if chunk.len() != 3 || chunk[1] != "=" {
            return Err(format!("Unexpected end of key/value pairs in value '{s}'"));
        }
        let value = chunk[2].trim_matches(['\'', '"']).to_string();
        match pairs.iter_mut().find(|(k, _)| *k == chunk[0]) {
            Some(slot) => slot.1 = value,
            None => pairs.push((chunk[0].clone(), value)),
        }
        i += 4;
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn posix_split_matches_python() {
        // Expected values produced with Python 3.11 `shlex.split`.
        let table: &[(&str, &[&str])] = &[
            ("/bin/echo hello world", &["/bin/echo", "hello", "world"]),
            ("sh -c 'a ; b'", &["sh", "-c", "a ; b"]),
            ("a\"b c\"d", &["ab cd"]),
            ("echo \"a\\\"b\" 'c\\d'", &["echo", "a\"b", "c\\d"]),
            ("echo \"x\\y\"", &["echo", "x\\y"]),
            ("a\\ b", &["a b"]),
            ("''", &[""]),
            ("a '' b", &["a", "", "b"]),
            ("", &[]),
            ("  \n ", &[]),
            ("x\ny", &["x", "y"]),
            ("# not a comment", &["#", "not", "a", "comment"]),
        ];
        for (input, want) in table {
            assert_eq!(split(input), Ok(v(want)), "{input:?}");
        }
        assert_eq!(split("'abc").unwrap_err(), "No closing quotation");
        assert_eq!(split("abc\\").unwrap_err(), "No escaped character");
    }

    #[test]
    fn environment_pairs_match_python_4_3() {
        // Expected values produced with supervisor 4.3.0 `dict_of_key_value_pairs`.
        let table: &[(&str, &[(&str, &str)])] = &[
            ("A=1", &[("A", "1")]),
            ("A=1,B=2", &[("A", "1"), ("B", "2")]),
            ("A=\"x y\",B='z,w'", &[("A", "x y"), ("B", "z,w")]),
            ("A=$HOME", &[("A", "$")]),
            ("A=a#b", &[("A", "a")]),
            ("PATH=/usr/bin:/bin", &[("PATH", "/usr/bin:/bin")]),
            ("A=1 ,B=2", &[("A", "1"), ("B", "2")]),
            ("A=''", &[("A", "")]),
            ("", &[]),
            ("A=1,A=2", &[("A", "2")]),
            ("A=a#b\nc", &[("A", "ac")]),
            ("A=\"a\"b", &[("A", "a")]),
        ];
        for (input, want) in table {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(key_value_pairs(input), Ok(want), "{input:?}");
        }
        for bad in ["A=", "A=x@y", "A", "A=1,B", "A=\"x", "A=1 B=2,C=3"] {
            assert!(key_value_pairs(bad).is_err(), "{bad:?}");
        }
    }
}
