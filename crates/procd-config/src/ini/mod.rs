//! The INI reader: a line-for-line reimplementation of what Python 3's
//! `RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)` does with a file,
//! which is how supervisord 4.3.0 reads `supervisord.conf`.
//!
//! It owns the raw dialect only (sections, options, comments, continuation lines,
//! `[DEFAULT]`, merging of repeated sections and the textual `%(here)s` pass); it knows
//! nothing about what the options mean. Every option remembers the file and line that
//! last set it, so later stages can point at it in error messages.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Name of the section whose options are defaults for every other section.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// Where an option was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The file, as the main config or its `[include]` named it.
    pub file: PathBuf,
    /// The 1-based line (of the `key =` line for a value continued on later lines).
    pub line: usize,
}

/// One option value with the place that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniValue {
    /// The raw value: inline comments removed, continuation lines joined with `\n`, `%(here)s`
    /// substituted, other `%(name)s` left for [`crate::expand`].
    pub value: String,
    /// Where it was set (the last assignment wins).
    pub span: Span,
}

/// A section: options in first-insertion order (later assignments replace the value in place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    entries: Vec<(String, IniValue)>,
}

impl Options {
    /// The value of `key` (already lower-cased, as configparser stores option names).
    pub fn get(&self, key: &str) -> Option<&IniValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut IniValue> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn set(&mut self, key: String, value: IniValue) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The option names, in the order they were first set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The options with their values, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IniValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    name: String,
    /// File in which the section first appeared.
    file: PathBuf,
    /// Line of its first header.
    line: usize,
    options: Options,
}

/// An inline comment that configparser removed from an option's value (`command=a ; b` keeps `a`).
/// Only the comments of each option's current value are kept; `procd --check` uses them to explain
/// a value that was cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineComment {
    /// `None` for `[DEFAULT]`.
    pub section: Option<String>,
    /// The option whose value lost the comment.
    pub key: String,
    /// The line the comment was on.
    pub span: Span,
    /// The removed text, starting at the comment character (`; b`).
    pub text: String,
}

/// What went wrong while reading one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniErrorKind {
    /// A non-blank line before the first `[section]` header (Python: MissingSectionHeaderError).
    MissingSectionHeader,
    /// A line that is neither a header nor `key = value` (Python: ParsingError).
    Parsing,
}

/// A syntax error, with the offending line as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError {
    /// The file being read.
    pub file: PathBuf,
    /// The 1-based number of the offending line.
    pub line: usize,
    /// The line as read (Python quotes it with `repr` in the message).
    pub text: String,
    /// Which of configparser's two errors it is.
    pub kind: IniErrorKind,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            IniErrorKind::MissingSectionHeader => write!(
                f,
                "File contains no section headers.\nfile: '{}', line: {}\n{}",
                self.file.display(),
                self.line,
                crate::pyrepr::repr(&self.text)
            ),
            IniErrorKind::Parsing => write!(
                f,
                "Source contains parsing errors: '{}'\n\t[line {:>2}]: {}",
                self.file.display(),
                self.line,
                crate::pyrepr::repr(&self.text)
            ),
        }
    }
}

/// Python's `str.isspace` for one character.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// Splits text into lines the way Python's text mode does (universal newlines),
/// each line keeping a trailing `\n` when it had a line ending.
fn universal_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                cur.push('\n');
                lines.push(std::mem::take(&mut cur));
            }
            '\n' => {
                cur.push('\n');
                lines.push(std::mem::take(&mut cur));
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Position (in chars) where an inline or full-line comment starts, following
/// configparser's search order exactly (including its quirks).
fn comment_start(line: &[char]) -> Option<usize> {
    const PREFIXES: [char; 2] = [';', '#'];
    let mut start: Option<usize> = None;
    // Last found index per prefix; `None` = prefix exhausted.
    let mut active: Vec<(char, isize)> = PREFIXES.iter().map(|&p| (p, -1)).collect();
    while start.is_none() && !active.is_empty() {
        let mut next = Vec::new();
        for &(prefix, index) in &active {
            let from = (index + 1) as usize;
            let found = line
                .iter()
                .skip(from)
                .position(|&c| c == prefix)
                .map(|i| i + from);
            let Some(i) = found else { continue };
            next.push((prefix, i as isize));
            if i == 0 || py_isspace(line[i - 1]) {
                start = Some(start.map_or(i, |s: usize| s.min(i)));
            }
        }
        active = next;
    }
    let stripped: String = line.iter().collect();
    let stripped = py_strip(&stripped);
    if stripped.starts_with('#') || stripped.starts_with(';') {
        start = Some(0);
    }
    start
}

/// The parser state: defaults plus sections, accumulated over several files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    defaults: Options,
    sections: Vec<Section>,
    /// Section name → position in `sections`.
    index: HashMap<String, usize>,
    comments: Vec<InlineComment>,
}

/// Which table the reader is currently filling.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Defaults,
    Section(usize),
}

impl Ini {
    /// An empty state with no sections; [`Ini::read_str`] adds files to it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one file's text into the state, merging with what is already there.
    /// Like Python, a parsing error does not stop the read (all bad lines are reported),
    /// but a missing section header does.
    pub fn read_str(&mut self, text: &str, file: &Path) -> Result<(), Vec<IniError>> {
        let mut errors = Vec::new();
        let mut cursor: Option<Cursor> = None;
        let mut optname: Option<String> = None;
        let mut indent_level: usize = 0;
        let mut touched: HashSet<(Option<usize>, String)> = HashSet::new();
        for (idx, line) in universal_lines(text).into_iter().enumerate() {
            let lineno = idx + 1;
            let chars: Vec<char> = line.chars().collect();
            let cstart = comment_start(&chars);
            let head: String = chars[..cstart.unwrap_or(chars.len())].iter().collect();
            let value = py_strip(&head).to_string();
            // A comment after text on the line: remembered for the option the text belongs to.
            let inline: Option<String> = cstart
                .filter(|_| !value.is_empty())
                .map(|i| chars[i..].iter().collect::<String>().trim_end().to_string());
            if value.is_empty() {
                if cstart.is_none()
                    && let (Some(cur), Some(name)) = (cursor, optname.as_deref())
                    && !name.is_empty()
                    && let Some(v) = self.table_mut(cur).get_mut(name)
                {
                    v.value.push('\n');
                }
                continue;
            }
            let cur_indent = chars.iter().position(|&c| !py_isspace(c)).unwrap_or(0);
            let continues = cursor.is_some()
                && optname.as_deref().is_some_and(|n| !n.is_empty())
                && cur_indent > indent_level;
            if continues {
                if let (Some(cur), Some(name)) = (cursor, optname.clone())
                    && let Some(v) = self.table_mut(cur).get_mut(&name)
                {
                    v.value.push('\n');
                    v.value.push_str(&value);
                    if let Some(text) = inline {
                        self.add_comment(cur, name, file, lineno, text);
                    }
                }
                continue;
            }
            indent_level = cur_indent;
            if let Some(header) = section_header(&value) {
                cursor = Some(self.open_section(header, file, lineno));
                optname = None;
                continue;
            }
            let Some(cur) = cursor else {
                return Err(vec![IniError {
                    file: file.to_path_buf(),
                    line: lineno,
                    text: line,
                    kind: IniErrorKind::MissingSectionHeader,
                }]);
            };
            match split_option(&value) {
                Some((key, val)) => {
                    if key.is_empty() {
                        errors.push(parse_error(file, lineno, &line));
                    }
                    let key = key.to_lowercase();
                    let span = Span {
                        file: file.to_path_buf(),
                        line: lineno,
                    };
                    self.table_mut(cur)
                        .set(key.clone(), IniValue { value: val, span });
                    let section = self.cursor_name(cur);
                    self.comments
                        .retain(|c| c.section != section || c.key != key);
                    if let Some(text) = inline {
                        self.add_comment(cur, key.clone(), file, lineno, text);
                    }
                    touched.insert((section_index(cur), key.clone()));
                    optname = Some(key);
                }
                None => errors.push(parse_error(file, lineno, &line)),
            }
        }
        for (sect, key) in touched {
            let cur = sect.map_or(Cursor::Defaults, Cursor::Section);
            if let Some(v) = self.table_mut(cur).get_mut(&key) {
                let trimmed = v.value.trim_end_matches(py_isspace).len();
                v.value.truncate(trimmed);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn cursor_name(&self, cur: Cursor) -> Option<String> {
        match cur {
            Cursor::Defaults => None,
            Cursor::Section(i) => Some(self.sections[i].name.clone()),
        }
    }

    fn add_comment(&mut self, cur: Cursor, key: String, file: &Path, line: usize, text: String) {
        let section = self.cursor_name(cur);
        self.comments.push(InlineComment {
            section,
            key,
            span: Span {
                file: file.to_path_buf(),
                line,
            },
            text,
        });
    }

    fn open_section(&mut self, name: &str, file: &Path, line: usize) -> Cursor {
        if let Some(&i) = self.index.get(name) {
            return Cursor::Section(i);
        }
        if name == DEFAULT_SECTION {
            return Cursor::Defaults;
        }
        self.sections.push(Section {
            name: name.to_string(),
            file: file.to_path_buf(),
            line,
            options: Options::default(),
        });
        self.index.insert(name.to_string(), self.sections.len() - 1);
        Cursor::Section(self.sections.len() - 1)
    }

    fn table_mut(&mut self, cur: Cursor) -> &mut Options {
        match cur {
            Cursor::Defaults => &mut self.defaults,
            Cursor::Section(i) => &mut self.sections[i].options,
        }
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    /// Section names in order of first appearance (`[DEFAULT]` excluded).
    pub fn sections(&self) -> Vec<String> {
        self.sections.iter().map(|s| s.name.clone()).collect()
    }

    /// Whether a section of exactly this name (case-sensitive, like configparser) was read.
    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// The file a section first appeared in.
    pub fn section_file(&self, name: &str) -> Option<&Path> {
        self.section(name).map(|s| s.file.as_path())
    }

    /// Where a section's first header is.
    pub fn section_span(&self, name: &str) -> Option<Span> {
        self.section(name).map(|s| Span {
            file: s.file.clone(),
            line: s.line,
        })
    }

    /// Options set in the section itself (not inherited from `[DEFAULT]`), with their values.
    pub fn own_options(&self, name: &str) -> Vec<(String, IniValue)> {
        // `expand_here` copies defaults into sections; those copies keep the `[DEFAULT]` span.
        let inherited =
            |k: &str, v: &IniValue| self.defaults.get(k).is_some_and(|d| d.span == v.span);
        self.section(name).map_or_else(Vec::new, |s| {
            s.options
                .iter()
                .filter(|(k, v)| !inherited(k, v))
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        })
    }

    /// Inline comments removed from the current value of `key` in `section`.
    pub fn inline_comments(&self, section: &str, key: &str) -> Vec<&InlineComment> {
        self.comments
            .iter()
            .filter(|c| c.section.as_deref() == Some(section) && c.key == key)
            .collect()
    }

    /// An option of a section, falling back to `[DEFAULT]`. `key` must be lower-case.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniValue> {
        let sect = self.section(section)?;
        sect.options.get(key).or_else(|| self.defaults.get(key))
    }

    /// Option names of a section: its own, then defaults it does not override.
    pub fn options(&self, section: &str) -> Vec<String> {
        let Some(sect) = self.section(section) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = sect.options.keys().map(str::to_string).collect();
        for k in self.defaults.keys() {
            if !keys.iter().any(|x| x == k) {
                keys.push(k.to_string());
            }
        }
        keys
    }

    /// The `[DEFAULT]` options.
    pub fn defaults(&self) -> &Options {
        &self.defaults
    }

    /// supervisord's `expand_here`: textually replaces `%(here)s` in every section's
    /// options (defaults included, copied into the section) with `here`.
    pub fn expand_here(&mut self, here: &str) {
        const HERE: &str = "%(here)s";
        let defaults = self.defaults.clone();
        for sect in &mut self.sections {
            let keys: Vec<String> = {
                let mut k: Vec<String> = sect.options.keys().map(str::to_string).collect();
                k.extend(
                    defaults
                        .keys()
                        .filter(|d| sect.options.get(d).is_none())
                        .map(str::to_string),
                );
                k
            };
            for key in keys {
                let current = sect
                    .options
                    .get(&key)
                    .or_else(|| defaults.get(&key))
                    .cloned();
                if let Some(v) = current
                    && v.value.contains(HERE)
                {
                    let value = v.value.replace(HERE, here);
                    sect.options.set(
                        key,
                        IniValue {
                            value,
                            span: v.span,
                        },
                    );
                }
            }
        }
    }
}

fn section_index(cur: Cursor) -> Option<usize> {
    match cur {
        Cursor::Defaults => None,
        Cursor::Section(i) => Some(i),
    }
}

fn parse_error(file: &Path, line: usize, text: &str) -> IniError {
    IniError {
        file: file.to_path_buf(),
        line,
        text: text.to_string(),
        kind: IniErrorKind::Parsing,
    }
}

/// `\[(?P<header>.+)\]` matched at the start of the (stripped) line.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}

/// `key = value` / `key: value`, splitting at the first delimiter.
fn split_option(value: &str) -> Option<(String, String)> {
    let pos = value.find(['=', ':'])?;
    let key = value[..pos].trim_end_matches(py_isspace);
    let val = py_strip(&value[pos + 1..]);
    Some((key.to_string(), val.to_string()))
}

#[cfg(test)]
mod tests;
