//! Child exit statuses and their main-log wording (supervisord's `decode_wait_status`).

use procd_protocol::Signal;

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// Normal exit with this code.
    Exited(i32),
    /// Killed by a signal.
    Signaled {
        /// The signal number (may be a real-time signal, 32-64, that has no name).
        signal: i32,
        /// The kernel wrote a core file (`WCOREDUMP`).
        core_dumped: bool,
    },
    /// Anything else `waitpid` may report; carries the raw status word.
    Other(i32),
}

impl WaitStatus {
    /// Decodes a raw Linux `waitpid` status word (pure bit arithmetic, same layout as `<sys/wait.h>`).
    pub const fn from_raw(raw: i32) -> Self {
        let low = raw & 0x7f;
        if low == 0 {
            WaitStatus::Exited((raw >> 8) & 0xff)
        } else if low != 0x7f {
            WaitStatus::Signaled {
                signal: low,
                core_dumped: raw & 0x80 != 0,
            }
        } else {
            WaitStatus::Other(raw)
        }
    }

    /// The exit status supervisord records (`-1` for anything but a normal exit) and the text it logs,
    /// e.g. `exit status 1`, `terminated by SIGTERM`, `terminated by SIGSEGV (core dumped)`.
    pub fn decode(self) -> (i32, String) {
        match self {
            WaitStatus::Exited(code) => {
                let es = code & 0xffff;
                (es, format!("exit status {es}"))
            }
            WaitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                let mut msg = format!("terminated by {}", signal_name(signal));
                if core_dumped {
                    msg.push_str(" (core dumped)");
                }
                (-1, msg)
            }
            WaitStatus::Other(raw) => (-1, format!("unknown termination cause 0x{raw:04x}")),
        }
    }
}

/// `SIGTERM`-style name, or `signal N` for numbers without a name.
pub fn signal_name(number: i32) -> String {
    match Signal::from_number(number) {
        Some(sig) => sig.name(),
        None => format!("signal {number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording_matrix() {
        let table = [
            (WaitStatus::Exited(0), 0, "exit status 0"),
            (WaitStatus::Exited(1), 1, "exit status 1"),
            (WaitStatus::Exited(127), 127, "exit status 127"),
            (
                WaitStatus::Signaled {
                    signal: 15,
                    core_dumped: false,
                },
                -1,
                "terminated by SIGTERM",
            ),
            (
                WaitStatus::Signaled {
                    signal: 9,
                    core_dumped: false,
                },
                -1,
                "terminated by SIGKILL",
            ),
            (
                WaitStatus::Signaled {
                    signal: 11,
                    core_dumped: true,
                },
                -1,
                "terminated by SIGSEGV (core dumped)",
            ),
            (
                WaitStatus::Signaled {
                    signal: 40,
                    core_dumped: false,
                },
                -1,
                "terminated by signal 40",
            ),
            (
                WaitStatus::Other(0x137f),
                -1,
                "unknown termination cause 0x137f",
            ),
        ];
        for (status, es, text) in table {
            assert_eq!(status.decode(), (es, text.to_string()), "{status:?}");
        }
    }

    #[test]
    fn raw_status_words() {
        assert_eq!(WaitStatus::from_raw(0), WaitStatus::Exited(0));
        assert_eq!(WaitStatus::from_raw(3 << 8), WaitStatus::Exited(3));
        assert_eq!(WaitStatus::from_raw(255 << 8), WaitStatus::Exited(255));
        assert_eq!(
            WaitStatus::from_raw(15),
            WaitStatus::Signaled {
                signal: 15,
                core_dumped: false
            }
        );
        assert_eq!(
            WaitStatus::from_raw(11 | 0x80),
            WaitStatus::Signaled {
                signal: 11,
                core_dumped: true
            }
        );
        // stopped by SIGSTOP
        assert_eq!(
            WaitStatus::from_raw((19 << 8) | 0x7f),
            WaitStatus::Other((19 << 8) | 0x7f)
        );
    }
}
