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

/// Aliases Python's `signal` module also knows.
const ALIASES: &[(&str, i32)] = &[("IOT", 6), ("POLL", 29), ("CLD", 17)];

impl Signal {
    pub const HUP: Signal = Signal(1);
    pub const INT: Signal = Signal(2);
    pub const QUIT: Signal = Signal(3);
    pub const KILL: Signal = Signal(9);
    pub const USR1: Signal = Signal(10);
    pub const USR2: Signal = Signal(12);
    pub const TERM: Signal = Signal(15);
    pub const CHLD: Signal = Signal(17);

    /// Builds a signal from its number; `None` outside 1..=64.
    pub fn from_number(n: i32) -> Option<Self> {
        (1..=64).contains(&n).then_some(Signal(n))
    }

    /// Parses a signal as supervisord does: a number, or a name with or without `SIG`, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Ok(n) = t.parse::<i32>() {
            return Self::from_number(n);
        }
        let upper = t.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        TABLE
            .iter()
            .find(|(_, name)| *name == bare)
            .map(|(n, _)| Signal(*n))
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(a, _)| *a == bare)
                    .map(|(_, n)| Signal(*n))
            })
            .or_else(|| realtime(bare))
    }

    pub const fn number(self) -> i32 {
        self.0
    }

    /// `SIGTERM` style name as supervisord prints it (`signame`); unknown numbers print as `signal N`.
    pub fn name(self) -> String {
        match TABLE.iter().find(|(n, _)| *n == self.0) {
            Some((_, name)) => format!("SIG{name}"),
            None => format!("signal {}", self.0),
        }
    }
}

fn realtime(bare: &str) -> Option<Signal> {
    const RTMIN: i32 = 34;
    const RTMAX: i32 = 64;
    if bare == "RTMIN" {
        return Some(Signal(RTMIN));
    }
    if bare == "RTMAX" {
        return Some(Signal(RTMAX));
    }
    if let Some(off) = bare.strip_prefix("RTMIN+") {
        let n = RTMIN + off.parse::<i32>().ok()?;
        return (n <= RTMAX).then_some(Signal(n));
    }
    if let Some(off) = bare.strip_prefix("RTMAX-") {
        let n = RTMAX - off.parse::<i32>().ok()?;
        return (n >= RTMIN).then_some(Signal(n));
    }
    None
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
    fn parses_names_numbers_and_prefixes() {
        for (text, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("term", 15),
            ("sigHup", 1),
            ("15", 15),
            (" 9 ", 9),
            ("USR2", 12),
            ("IOT", 6),
            ("RTMIN+2", 36),
        ] {
            assert_eq!(Signal::parse(text).map(Signal::number), Some(n), "{text}");
        }
        for bad in ["", "BOGUS", "0", "65", "-1", "SIG", "RTMIN+40"] {
            assert_eq!(Signal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_as_supervisord_prints() {
        assert_eq!(Signal::TERM.name(), "SIGTERM");
        assert_eq!(Signal::KILL.to_string(), "SIGKILL");
        assert_eq!(Signal(40).name(), "signal 40");
    }
}
