//! Main-log levels, with supervisord's numbers, 4-letter tags and `loglevel=` names.

use std::fmt;

/// Severity of a main-log line. Ordered by importance: `Blather < Trace < ... < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Level {
    /// `blather` (BLAT, 3): the most verbose chatter.
    Blather,
    /// `trace` (TRAC, 5): fine-grained tracing, e.g. of the event listener protocol.
    Trace,
    /// `debug` (DEBG, 10): details such as the signals sent to children and their output.
    Debug,
    /// `info` (INFO, 20, the default `loglevel`): process state changes (`spawned`, `success`,
    /// `exited`, `stopped`) and the daemon's own life cycle.
    Info,
    /// `warn` (WARN, 30): anomalies the daemon handles, such as an unexpected exit or a config warning.
    Warn,
    /// `error` (ERRO, 40): operations that failed, e.g. a log file that cannot be written.
    Error,
    /// `critical` (CRIT, 50): the gravest, e.g. running as root without `user=`.
    Critical,
}

impl Level {
    /// Every level, least important first.
    pub const ALL: [Level; 7] = [
        Level::Blather,
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Critical,
    ];

    /// supervisord's numeric value (CRIT 50 ... BLAT 3).
    pub const fn number(self) -> u8 {
        match self {
            Level::Critical => 50,
            Level::Error => 40,
            Level::Warn => 30,
            Level::Info => 20,
            Level::Debug => 10,
            Level::Trace => 5,
            Level::Blather => 3,
        }
    }

    /// The 4-letter tag written in main-log lines.
    pub const fn tag(self) -> &'static str {
        match self {
            Level::Critical => "CRIT",
            Level::Error => "ERRO",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBG",
            Level::Trace => "TRAC",
            Level::Blather => "BLAT",
        }
    }

    /// The name accepted by `loglevel=` (`warning` is not accepted, as in supervisord).
    pub const fn description(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
            Level::Blather => "blather",
        }
    }

    /// Parses a `loglevel=` value (case-insensitive, like supervisord's `logging_level`).
    pub fn from_description(text: &str) -> Option<Level> {
        let lower = text.trim().to_ascii_lowercase();
        Level::ALL.into_iter().find(|l| l.description() == lower)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_tags_and_names() {
        let table = [
            (Level::Critical, 50, "CRIT", "critical"),
            (Level::Error, 40, "ERRO", "error"),
            (Level::Warn, 30, "WARN", "warn"),
            (Level::Info, 20, "INFO", "info"),
            (Level::Debug, 10, "DEBG", "debug"),
            (Level::Trace, 5, "TRAC", "trace"),
            (Level::Blather, 3, "BLAT", "blather"),
        ];
        for (level, n, tag, name) in table {
            assert_eq!(level.number(), n);
            assert_eq!(level.tag(), tag);
            assert_eq!(Level::from_description(name), Some(level));
            assert_eq!(Level::from_description(&name.to_uppercase()), Some(level));
        }
        assert_eq!(Level::from_description("warning"), None);
        assert_eq!(Level::from_description(""), None);
    }

    #[test]
    fn order_follows_numbers() {
        for pair in Level::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].number() < pair[1].number());
        }
    }
}
