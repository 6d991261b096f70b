//! Load errors (every problem found, with file, line, section and option) and the
//! non-fatal messages (warnings, infos) the daemon logs after loading.

use std::fmt;
use std::path::PathBuf;

use crate::model::LogLevel;

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub section: Option<String>,
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
    pub errors: Vec<ConfigError>,
    /// Likely mistakes found before the errors stopped the load, as in [`crate::Loaded::lints`]
    /// (e.g. the misspelled `comand=` behind a `does not specify a command` error).
    pub lints: Vec<crate::Lint>,
}

impl ConfigErrors {
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
    pub level: LogLevel,
    pub text: String,
}
