//! Python `%`-formatting of option values against a mapping (`value % expansions`),
//! with supervisord's error wording.
//!
//! Supports `%(name)<flags><width>.<precision><conv>` for every conversion Python
//! accepts on `str` and `int` values (`s r a d i u o x X e E f F g G c`) and `%%`.
//! A conversion without a `(name)` is rejected: Python would format the whole
//! expansion dict there, which no configuration relies on.

use std::collections::BTreeMap;
use std::fmt;

use crate::pyrepr;

/// A value that may be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpVal {
    /// A text value (`%(here)s`, `%(program_name)s`, `%(ENV_X)s`, ...).
    Str(String),
    /// An integer value (`%(process_num)d`, `%(numprocs)d`); `%(x)s` formats it in decimal.
    Int(i64),
}

impl From<&str> for ExpVal {
    fn from(s: &str) -> Self {
        ExpVal::Str(s.to_string())
    }
}

impl From<String> for ExpVal {
    fn from(s: String) -> Self {
        ExpVal::Str(s)
    }
}

impl From<i64> for ExpVal {
    fn from(n: i64) -> Self {
        ExpVal::Int(n)
    }
}

/// The names available to one option, sorted (as supervisord lists them).
pub type Names = BTreeMap<String, ExpVal>;

/// Why formatting failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// `%(key)s` with a key that is not available.
    Missing(String),
    /// Any other formatting problem, with Python's message.
    Bad(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Missing(k) => write!(f, "missing name {}", pyrepr::repr(k)),
            FormatError::Bad(m) => f.write_str(m),
        }
    }
}

/// supervisord's `expand(s, expansions, name)`: formats and words errors like it does.
pub fn expand(s: &str, names: &Names, name: &str) -> Result<String, String> {
    format(s, names).map_err(|e| match e {
        FormatError::Missing(key) => format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
            pyrepr::repr(s),
            pyrepr::repr(name),
            pyrepr::repr(&key),
            names.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        FormatError::Bad(msg) => {
            format!("Format string {} for {} is badly formatted: {msg}", pyrepr::repr(s), pyrepr::repr(name))
        }
    })
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// `s % names`.
pub fn format(s: &str, names: &Names) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let incomplete = || FormatError::Bad("incomplete format".into());
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if i >= chars.len() {
            return Err(incomplete());
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut key: Option<String> = None;
        if chars[i] == '(' {
            let start = i + 1;
            let mut depth = 1;
            i += 1;
            while i < chars.len() && depth > 0 {
                match chars[i] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(FormatError::Bad("incomplete format key".into()));
            }
            key = Some(chars[start..i - 1].iter().collect());
        }
        let value = match &key {
            Some(k) => Some(
                names
                    .get(k)
                    .ok_or_else(|| FormatError::Missing(k.clone()))?,
            ),
            None => None,
        };
        let mut spec = Spec::default();
        while i < chars.len() {
            match chars[i] {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if i < chars.len() && chars[i] == '*' {
            return Err(FormatError::Bad(
                "not enough arguments for format string".into(),
            ));
        }
        while i < chars.len() && chars[i].is_ascii_digit() {
            spec.width = spec
                .width
                .saturating_mul(10)
                .saturating_add(chars[i] as usize - '0' as usize);
            i += 1;
        }
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            if i < chars.len() && chars[i] == '*' {
                return Err(FormatError::Bad(
                    "not enough arguments for format string".into(),
                ));
            }
            let mut p = 0usize;
            while i < chars.len() && chars[i].is_ascii_digit() {
                p = p
                    .saturating_mul(10)
                    .saturating_add(chars[i] as usize - '0' as usize);
                i += 1;
            }
            spec.precision = Some(p);
        }
        while i < chars.len() && matches!(chars[i], 'h' | 'l' | 'L') {
            i += 1;
        }
        if i >= chars.len() {
            return Err(incomplete());
        }
        let conv = chars[i];
        let conv_index = i;
        i += 1;
        if spec.width > 100_000 || spec.precision.is_some_and(|p| p > 100_000) {
            return Err(FormatError::Bad("width too big".into()));
        }
        let Some(value) = value else {
            return Err(positional(conv, conv_index));
        };
        out.push_str(&convert(conv, conv_index, value, &spec)?);
    }
    Ok(out)
}

fn unsupported(conv: char, index: usize) -> FormatError {
    FormatError::Bad(format!(
        "unsupported format character {} (0x{:x}) at index {index}",
        pyrepr::repr(&conv.to_string()),
        conv as u32
    ))
}

fn positional(conv: char, index: usize) -> FormatError {
    match conv {
        'd' | 'i' | 'u' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => FormatError::Bad(format!(
            "%{conv} format: a real number is required, not dict"
        )),
        'o' | 'x' | 'X' => {
            FormatError::Bad(format!("%{conv} format: an integer is required, not dict"))
        }
        'c' => FormatError::Bad("%c requires int or char".into()),
        's' | 'r' | 'a' => FormatError::Bad(format!(
            "procd does not support '%{conv}' without a (name): write '%%{conv}' for a literal"
        )),
        _ => unsupported(conv, index),
    }
}

fn convert(conv: char, index: usize, value: &ExpVal, spec: &Spec) -> Result<String, FormatError> {
    let text = match conv {
        's' | 'r' | 'a' => {
            let mut t = match (conv, value) {
                (_, ExpVal::Int(n)) => n.to_string(),
                ('s', ExpVal::Str(s)) => s.clone(),
                ('r', ExpVal::Str(s)) => pyrepr::repr(s),
                (_, ExpVal::Str(s)) => pyrepr::ascii(s),
            };
            if let Some(p) = spec.precision {
                t = t.chars().take(p).collect();
            }
            return Ok(pad(String::new(), t, spec, false));
        }
        'c' => {
            let ch = match value {
                ExpVal::Int(n) => u32::try_from(*n)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| FormatError::Bad("%c arg not in range(0x110000)".into()))?,
                ExpVal::Str(s) => {
                    let mut it = s.chars();
                    match (it.next(), it.next()) {
                        (Some(c), None) => c,
                        _ => return Err(FormatError::Bad("%c requires int or char".into())),
                    }
                }
            };
            return Ok(pad(String::new(), ch.to_string(), spec, false));
        }
        'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => conv,
        _ => return Err(unsupported(conv, index)),
    };
    let n = match value {
        ExpVal::Int(n) => *n,
        ExpVal::Str(_) => {
            let what = if matches!(text, 'o' | 'x' | 'X') {
                "an integer"
            } else {
                "a real number"
            };
            return Err(FormatError::Bad(format!(
                "%{text} format: {what} is required, not str"
            )));
        }
    };
    let sign = if n < 0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let abs = n.unsigned_abs();
    let (prefix, mut digits) = match conv {
        'o' => (if spec.alt { "0o" } else { "" }, format!("{abs:o}")),
        'x' => (if spec.alt { "0x" } else { "" }, format!("{abs:x}")),
        'X' => (if spec.alt { "0X" } else { "" }, format!("{abs:X}")),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => ("", float_digits(conv, abs, spec)),
        _ => ("", abs.to_string()),
    };
    if matches!(conv, 'd' | 'i' | 'u' | 'o' | 'x' | 'X')
        && let Some(p) = spec.precision
        && digits.len() < p
    {
        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
    }
    Ok(pad(format!("{sign}{prefix}"), digits, spec, true))
}

/// Python's float formatting of an integer value (always finite).
fn float_digits(conv: char, abs: u64, spec: &Spec) -> String {
    let v = abs as f64;
    let p = spec.precision.unwrap_or(6);
    let exp_form = |p: usize, upper: bool| {
        let s = format!("{v:.p$e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = exp.parse().unwrap_or(0);
        let mant = if spec.alt && p == 0 {
            format!("{mant}.")
        } else {
            mant.to_string()
        };
        let sign = if e < 0 { '-' } else { '+' };
        let mark = if upper { 'E' } else { 'e' };
        format!("{mant}{mark}{sign}{:02}", e.abs())
    };
    match conv {
        'f' | 'F' => {
            let s = format!("{v:.p$}");
            if spec.alt && p == 0 {
                format!("{s}.")
            } else {
                s
            }
        }
        'e' | 'E' => exp_form(p, conv == 'E'),
        _ => {
            let p = if p == 0 { 1 } else { p };
            let x = if abs == 0 {
                0
            } else {
                (v.log10().floor()) as i64
            };
            let mut s = if -4 <= x && x < p as i64 {
                let decimals = (p as i64 - 1 - x).max(0) as usize;
                format!("{v:.decimals$}")
            } else {
                exp_form(p - 1, conv == 'G')
            };
            if !spec.alt {
                let (mant, tail) = match s.find(['e', 'E']) {
                    Some(i) => (s[..i].to_string(), s[i..].to_string()),
                    None => (s.clone(), String::new()),
                };
                let mant = if mant.contains('.') {
                    mant.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    mant
                };
                s = format!("{mant}{tail}");
            }
            s
        }
    }
}

fn pad(prefix: String, body: String, spec: &Spec, numeric: bool) -> String {
    let len = prefix.chars().count() + body.chars().count();
    if len >= spec.width {
        return format!("{prefix}{body}");
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{prefix}{body}{}", " ".repeat(fill))
    } else if numeric && spec.zero {
        format!("{prefix}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{prefix}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests;
