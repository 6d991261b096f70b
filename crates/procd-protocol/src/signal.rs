//! Signal vocabulary: names and numbers as supervisord accepts and prints them (Linux numbering).

use std::fmt;

/// A POSIX signal, by its Linux number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

/// Linux signal numbers and their names without the `SIG` prefix.
const TABLE: &[(i32, &str)] = &[
    (1, "HUP"),
    (2, "INT"),
    (3, "QUIT"),
    (4, "ILL"),
    (5, "TRAP"),
    (6, "ABRT"),
    (7, "BUS"),
    (8, "FPE"),
    (9, "KILL"),
    (10, "USR1"),
    (11, "SEGV"),
    (12, "USR2"),
    (13, "PIPE"),
    (14, "ALRM"),
    (15, "TERM"),
    (16, "STKFLT"),
    (17, "CHLD"),
    (18, "CONT"),
    (19, "STOP"),
    (20, "TSTP"),
    (21, "TTIN"),
    (22, "TTOU"),
    (23, "URG"),
    (24, "XCPU"),
    (25, "XFSZ"),
    (26, "VTALRM"),
    (27, "PROF"),
    (28, "WINCH"),
    (29, "IO"),
    (30, "PWR"),
    (31, "SYS"),
];

/// Names Python's `signal` module has besides [`TABLE`] (aliases and the real-time bounds).
const ALIASES: &[(&str, i32)] = &[
    ("IOT", 6),
    ("POLL", 29),
    ("CLD", 17),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// `SIG_*` constants of Python's `signal` module, which supervisord's `getattr(signal, 'SIG' + name)`
/// also finds (`signal _DFL` is signal 0, `signal _IGN` is 1).
const HANDLER_CONSTANTS: &[(&str, i32)] = &[
    ("_DFL", 0),
    ("_IGN", 1),
    ("_BLOCK", 0),
    ("_UNBLOCK", 1),
    ("_SETMASK", 2),
];

impl Signal {
    /// SIGHUP (1): to supervisord, "restart" (reread the config and start again).
    pub const HUP: Signal = Signal(1);
    /// SIGINT (2): to supervisord, "shut down".
    pub const INT: Signal = Signal(2);
    /// SIGQUIT (3): to supervisord, "shut down".
    pub const QUIT: Signal = Signal(3);
    /// SIGKILL (9): sent when a process outlives `stopwaitsecs`.
    pub const KILL: Signal = Signal(9);
    /// SIGUSR1 (10).
    pub const USR1: Signal = Signal(10);
    /// SIGUSR2 (12): to supervisord, "reopen the log files".
    pub const USR2: Signal = Signal(12);
    /// SIGTERM (15): the default `stopsignal`; to supervisord, "shut down".
    pub const TERM: Signal = Signal(15);
    /// SIGCHLD (17): a child changed state; the daemon reaps on it.
    pub const CHLD: Signal = Signal(17);

    /// Builds a signal from a number supervisord accepts: 0 to 31, SIGRTMIN (34) or SIGRTMAX (64), the
    /// values of Python's `signal` module on Linux (0 only checks that the process exists).
    pub fn from_number(n: i32) -> Option<Self> {
        ((0..=31).contains(&n) || n == 34 || n == 64).then_some(Signal(n))
    }

    /// Parses a signal exactly as supervisord's `signal_number` does (for `stopsignal=` and
    /// `signalProcess`): a Python integer literal, or a name with or without `SIG` in any case, and the
    /// number must be one Python's `signal` module defines.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(n) = python_int(text) {
            return i32::try_from(n).ok().and_then(Self::from_number);
        }
        let upper = text.trim().to_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        TABLE
            .iter()
            .map(|(n, name)| (*name, *n))
            .chain(ALIASES.iter().copied())
            .chain(HANDLER_CONSTANTS.iter().copied())
            .find(|(name, _)| *name == bare)
            .and_then(|(_, n)| Self::from_number(n))
    }

    /// The Linux signal number (what `getAllConfigInfo` sends as `stopsignal`).
    pub const fn number(self) -> i32 {
        self.0
    }

    /// `SIGTERM` style name as supervisord prints it (`signame`); other numbers print as `signal N`.
    pub fn name(self) -> String {
        let known = TABLE
            .iter()
            .map(|(n, name)| (*n, *name))
            .chain([(34, "RTMIN"), (64, "RTMAX")])
            .find(|(n, _)| *n == self.0);
        match known {
            Some((_, name)) => format!("SIG{name}"),
            None => format!("signal {}", self.0),
        }
    }
}

/// Python's `int(str)` for base 10: surrounding whitespace, an optional sign, digits with single
/// underscores between them.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -value } else { value })
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_supervisords_signal_number() {
        for (text, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("term", 15),
            ("sigHup", 1),
            ("15", 15),
            (" 9 ", 9),
            ("+9", 9),
            ("1_8", 18),
            ("0", 0),
            ("USR2", 12),
            ("IOT", 6),
            ("RTMIN", 34),
            ("SIGRTMAX", 64),
            ("_DFL", 0),
            ("SIG_IGN", 1),
            ("34", 34),
        ] {
            assert_eq!(Signal::parse(text).map(Signal::number), Some(n), "{text}");
        }
        for bad in [
            "", "BOGUS", "32", "33", "35", "65", "-1", "SIG", "RTMIN+2", "1__8", "_1", "0x10",
        ] {
            assert_eq!(Signal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_as_supervisord_prints() {
        assert_eq!(Signal::TERM.name(), "SIGTERM");
        assert_eq!(Signal::KILL.to_string(), "SIGKILL");
        assert_eq!(Signal(0).name(), "signal 0");
        assert_eq!(Signal(34).name(), "SIGRTMIN");
    }
}
