//! Load errors (every problem found, with file, line, section and option) and the
//! non-fatal messages (warnings, infos) the daemon logs after loading.

use std::fmt;
use std::path::PathBuf;

use crate::model::LogLevel;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file the problem is in (the main file or an `[include]`d one).
    pub file: PathBuf,
    /// The 1-based line of the option or section, when the problem has one.
    pub line: Option<usize>,
    /// The section name as written (`program:web`), when the problem is inside one.
    pub section: Option<String>,
    /// The option name (`startsecs`), when one option is at fault.
    pub option: Option<String>,
    /// The wording supervisord uses where it has one.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A message about the whole file that names it already (`could not find config file X`,
        // supervisord's wording) is not prefixed with the path a second time.
        if self.line.is_none()
            && self.section.is_none()
            && self.option.is_none()
            && self.message.contains(self.file.to_string_lossy().as_ref())
        {
            return f.write_str(&self.message);
        }
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(":")?;
        if let Some(section) = &self.section {
            write!(f, " [{section}]")?;
        }
        if let Some(option) = &self.option {
            write!(f, " {option}:")?;
        }
        write!(f, " {}", self.message)
    }
}

/// Every problem found while loading (never empty when returned as an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems, in the order they were found (file order, then section order).
    pub errors: Vec<ConfigError>,
    /// Likely mistakes found before the errors stopped the load, as in [`crate::Loaded::lints`]
    /// (e.g. the misspelled `comand=` behind a `does not specify a command` error).
    pub lints: Vec<crate::Lint>,
}

impl ConfigErrors {
    /// One problem about a whole file (unreadable, not found), with no line, section or option.
    pub fn single(file: PathBuf, message: impl Into<String>) -> Self {
        ConfigErrors {
            errors: vec![ConfigError {
                file,
                line: None,
                section: None,
                option: None,
                message: message.into(),
            }],
            lints: Vec::new(),
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A message for the main log, produced while loading (supervisord's parse warnings and infos).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    /// The level it is logged at (`WARN` or `INFO`).
    pub level: LogLevel,
    /// The text, in supervisord's wording (e.g. `Included extra file "..." during parsing`).
    pub text: String,
}
