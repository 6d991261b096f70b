//! `environment_file=` (a procd extension): files of `KEY=VALUE` lines read with systemd's
//! `EnvironmentFile=` rules, re-read at every spawn.
//!
//! The syntax, as systemd.exec(5) documents it:
//! * Empty lines and lines starting with `#` or `;` (after leading whitespace) are comments. A comment
//!   that ends with a backslash swallows the next line too (systemd does the same).
//! * Whitespace around the key and before the value is dropped.
//! * Unquoted values: a backslash keeps the next character literally, a backslash at the end of a line
//!   joins the next line; interior whitespace is kept, trailing whitespace is dropped; quotes after the
//!   first character of the value are ordinary characters.
//! * `'...'`: everything up to the next single quote, verbatim, newlines included; no escapes.
//! * `"..."`: like a POSIX shell's double quotes: `\"`, `\\`, `` \` `` and `\$` keep the character, a
//!   backslash-newline joins lines, any other backslash is kept with the character after it.
//! * Quoted and unquoted pieces following each other are joined (`A="x"'y'` is `xy`).
//! * `$` has no special meaning (no variable expansion).
//!
//! Where procd is stricter than systemd (which warns and skips, or silently accepts): an invalid variable
//! name, an unterminated quote and text that is not UTF-8 are errors that name the file and line. Like
//! systemd, a line without `=` is ignored.

use std::path::{Path, PathBuf};

/// One `environment_file=` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Written with a leading `-`: a missing file is skipped.
    pub optional: bool,
}

/// A problem in an environment file: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line number in the environment file.
    pub line: usize,
    /// What is wrong with the line, e.g. a missing `=` or an unterminated quote.
    pub message: String,
}

/// Parses the value of `environment_file=`: a comma-separated list of absolute paths, each optionally
/// prefixed with `-`.
pub fn parse_list(value: &str) -> Result<Vec<EnvFile>, String> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (optional, path) = match item.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, item),
        };
        if !path.starts_with('/') {
            return Err(format!(
                "environment_file {} is not an absolute path",
                crate::pyrepr::repr(path)
            ));
        }
        out.push(EnvFile {
            path: PathBuf::from(path),
            optional,
        });
    }
    Ok(out)
}

/// Reads every file in order; later assignments override earlier ones. The error text names the file
/// (and line) and is what the spawn reports as `spawnerr`.
pub fn read_all(files: &[EnvFile]) -> Result<Vec<(String, String)>, String> {
    let mut env: Vec<(String, String)> = Vec::new();
    for f in files {
        let bytes = match std::fs::read(&f.path) {
            Ok(b) => b,
            Err(e) if f.optional && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(format!(
                    "can't read environment file {}: {}",
                    f.path.display(),
                    io_text(&e)
                ));
            }
        };
        let pairs = parse_bytes(&bytes).map_err(|e| located(&f.path, &e))?;
        for (k, v) in pairs {
            match env.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => env.push((k, v)),
            }
        }
    }
    Ok(env)
}

fn located(path: &Path, e: &ParseError) -> String {
    format!(
        "environment file {}, line {}: {}",
        path.display(),
        e.line,
        e.message
    )
}

/// `No such file or directory` rather than Rust's `... (os error 2)`.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Parses a file's bytes (which must be UTF-8).
pub fn parse_bytes(bytes: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(ParseError {
                line,
                message: "not valid UTF-8".into(),
            })
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    Single,
    Double,
    DoubleEscape,
    Comment,
    CommentEscape,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

/// A valid environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses the text of an environment file into assignments, in order (duplicates kept; the caller's
/// "later wins" handles them).
pub fn parse(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut out = Vec::new();
    let mut state = State::PreKey;
    let mut key = String::new();
    let mut value = String::new();
    // Length of `value` up to its last character that is not trailing unquoted whitespace.
    let mut keep = 0usize;
    let mut line = 1usize;
    let mut key_line = 1usize;
    let mut quote_line = 1usize;

    let finish = |key: &mut String,
                  value: &mut String,
                  keep: usize,
                  key_line: usize,
                  out: &mut Vec<(String, String)>|
     -> Result<(), ParseError> {
        value.truncate(keep);
        let k = key.trim_end_matches(is_space).to_owned();
        if !valid_name(&k) {
            return Err(ParseError {
                line: key_line,
                message: format!("invalid variable name {}", crate::pyrepr::repr(&k)),
            });
        }
        out.push((k, std::mem::take(value)));
        key.clear();
        Ok(())
    };

    for c in text.chars() {
        match state {
            State::PreKey => {
                if c == '#' || c == ';' {
                    state = State::Comment;
                } else if c == '=' {
                    key.clear();
                    key_line = line;
                    value.clear();
                    keep = 0;
                    state = State::PreValue;
                } else if c != '\n' && !is_space(c) {
                    key.clear();
                    key.push(c);
                    key_line = line;
                    state = State::Key;
                }
            }
            State::Key => {
                if c == '\n' {
                    // A line without `=`: ignored, as systemd does.
                    key.clear();
                    state = State::PreKey;
                } else if c == '=' {
                    value.clear();
                    keep = 0;
                    state = State::PreValue;
                } else {
                    key.push(c);
                }
            }
            State::PreValue => match c {
                '\n' => {
                    finish(&mut key, &mut value, keep, key_line, &mut out)?;
                    state = State::PreKey;
                }
                '\'' => {
                    quote_line = line;
                    state = State::Single;
                }
                '"' => {
                    quote_line = line;
                    state = State::Double;
                }
                '\\' => state = State::ValueEscape,
                c if is_space(c) => {}
                c => {
                    value.push(c);
                    keep = value.len();
                    state = State::Value;
                }
            },
            State::Value => match c {
                '\n' => {
                    finish(&mut key, &mut value, keep, key_line, &mut out)?;
                    state = State::PreKey;
                }
                '\\' => state = State::ValueEscape,
                c => {
                    value.push(c);
                    if !is_space(c) {
                        keep = value.len();
                    }
                }
            },
            State::ValueEscape => {
                if c != '\n' {
                    value.push(c);
                    keep = value.len();
                }
                state = State::Value;
            }
            State::Single => {
                if c == '\'' {
                    keep = value.len();
                    state = State::PreValue;
                } else {
                    value.push(c);
                }
            }
            State::Double => match c {
                '"' => {
                    keep = value.len();
                    state = State::PreValue;
                }
                '\\' => state = State::DoubleEscape,
                c => value.push(c),
            },
            State::DoubleEscape => {
                match c {
                    '"' | '\\' | '`' | '$' => value.push(c),
                    '\n' => {}
                    c => {
                        value.push('\\');
                        value.push(c);
                    }
                }
                state = State::Double;
            }
            State::Comment => match c {
                '\\' => state = State::CommentEscape,
                '\n' => state = State::PreKey,
                _ => {}
            },
            State::CommentEscape => state = State::Comment,
        }
        if c == '\n' {
            line += 1;
        }
    }
    match state {
        State::PreValue | State::Value | State::ValueEscape => {
            finish(&mut key, &mut value, keep, key_line, &mut out)?;
        }
        State::Single | State::Double | State::DoubleEscape => {
            return Err(ParseError {
                line: quote_line,
                message: "unterminated quoted value".into(),
            });
        }
        State::PreKey | State::Key | State::Comment | State::CommentEscape => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn systemd_rules() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("A=1\nB=2\n", &[("A", "1"), ("B", "2")]),
            ("A=1", &[("A", "1")]),
            ("  A = spaced value  \n", &[("A", "spaced value")]),
            ("# comment\n; also\n\nA=x\n", &[("A", "x")]),
            ("  # indented comment\nA=x", &[("A", "x")]),
            ("A=\n", &[("A", "")]),
            ("A=", &[("A", "")]),
            ("no equals sign\nA=x\n", &[("A", "x")]),
            ("A=\"  quoted  \"\n", &[("A", "  quoted  ")]),
            ("A='single $HOME \\n'\n", &[("A", "single $HOME \\n")]),
            ("A=\"a\\\"b\\\\c\\`d\\$e\\qf\"", &[("A", "a\"b\\c`d$e\\qf")]),
            ("A=\"multi\nline\"\n", &[("A", "multi\nline")]),
            ("A='multi\nline'\n", &[("A", "multi\nline")]),
            ("A=\"x\"'y'z\n", &[("A", "xyz")]),
            ("A=it's \"here\"\n", &[("A", "it's \"here\"")]),
            ("A=one\\\ntwo\n", &[("A", "onetwo")]),
            ("A=\"one\\\ntwo\"\n", &[("A", "onetwo")]),
            ("A=a\\ \\ \nB=\\#x\n", &[("A", "a  "), ("B", "#x")]),
            ("A=\\\\\n", &[("A", "\\")]),
            ("A=$HOME\n", &[("A", "$HOME")]),
            ("A=a=b\n", &[("A", "a=b")]),
            ("# comment \\\nA=swallowed\nB=kept\n", &[("B", "kept")]),
            ("A=1\r\n", &[("A", "1")]),
            ("A=1\nA=2\n", &[("A", "1"), ("A", "2")]),
            ("_x9=ok\n", &[("_x9", "ok")]),
        ];
        for (text, want) in table {
            assert_eq!(ok(text), pairs(want), "{text:?}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let table: &[(&str, usize, &str)] = &[
            ("A=1\n9X=2\n", 2, "invalid variable name '9X'"),
            ("A=1\n\nexport B=2\n", 3, "invalid variable name 'export B'"),
            ("A=1\nB=\"open\nmore\n", 2, "unterminated quoted value"),
            ("A='x", 1, "unterminated quoted value"),
            ("=value\n", 1, "invalid variable name ''"),
        ];
        for (text, line, message) in table {
            let e = parse(text).expect_err(text);
            assert_eq!((e.line, e.message.as_str()), (*line, *message), "{text:?}");
        }
        let e = parse_bytes(b"A=1\nB=\xff\n").expect_err("utf8");
        assert_eq!((e.line, e.message.as_str()), (2, "not valid UTF-8"));
    }

    #[test]
    fn list_of_files() {
        assert_eq!(
            parse_list("/etc/default/app, -/etc/app.local").unwrap(),
            vec![
                EnvFile {
                    path: "/etc/default/app".into(),
                    optional: false
                },
                EnvFile {
                    path: "/etc/app.local".into(),
                    optional: true
                },
            ]
        );
        assert_eq!(parse_list("").unwrap(), vec![]);
        assert_eq!(
            parse_list("rel/file").unwrap_err(),
            "environment_file 'rel/file' is not an absolute path"
        );
    }

    #[test]
    fn read_all_layers_files_and_reports_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.env");
        let b = dir.path().join("b.env");
        std::fs::write(&a, "X=1\nY=2\n").unwrap();
        std::fs::write(&b, "Y=3\nZ=4\n").unwrap();
        let missing = dir.path().join("missing.env");
        let files = vec![
            EnvFile {
                path: a.clone(),
                optional: false,
            },
            EnvFile {
                path: missing.clone(),
                optional: true,
            },
            EnvFile {
                path: b.clone(),
                optional: false,
            },
        ];
        assert_eq!(
            read_all(&files).unwrap(),
            pairs(&[("X", "1"), ("Y", "3"), ("Z", "4")])
        );
        let strict = [EnvFile {
            path: missing.clone(),
            optional: false,
        }];
        assert_eq!(
            read_all(&strict).unwrap_err(),
            format!(
                "can't read environment file {}: No such file or directory",
                missing.display()
            )
        );
        std::fs::write(&b, "ok=1\nbad name=2\n").unwrap();
        assert_eq!(
            read_all(&files).unwrap_err(),
            format!(
                "environment file {}, line 2: invalid variable name 'bad name'",
                b.display()
            )
        );
    }
}
