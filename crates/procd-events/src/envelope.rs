//! The envelope supervisord writes to a listener's stdin: one header line, then the payload.
//!
//! `len:` counts the payload's characters (Python `str` length), not its bytes: listeners built on
//! `childutils` read that many characters from a text-mode stdin, so a byte count would make them
//! wait for data that never comes whenever the payload holds non-ASCII text.

use super::types::Event;

/// Identifies one delivery of an event to one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serials {
    /// Global serial, shared by every pool that accepted the event.
    pub serial: u64,
    /// Per-pool serial.
    pub pool_serial: u64,
}

/// Renders `ver:3.0 server:<id> serial:<n> pool:<pool> poolserial:<n> eventname:<NAME> len:<n>\n<payload>`.
pub fn envelope(identifier: &str, pool: &str, serials: Serials, event: &Event) -> String {
    let payload = event.payload();
    format!(
        "ver:3.0 server:{identifier} serial:{} pool:{pool} poolserial:{} eventname:{} len:{}\n{payload}",
        serials.serial,
        serials.pool_serial,
        event.name(),
        payload.chars().count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{OutputData, ProcessRef};

    #[test]
    fn header_then_payload() {
        let e = Event::ProcessGroupAdded {
            group: "web".into(),
        };
        let s = Serials {
            serial: 4,
            pool_serial: 2,
        };
        assert_eq!(
            envelope("supervisor", "listener", s, &e),
            "ver:3.0 server:supervisor serial:4 pool:listener poolserial:2 \
             eventname:PROCESS_GROUP_ADDED len:14\ngroupname:web\n"
        );
    }

    #[test]
    fn len_counts_characters_not_bytes() {
        let e = Event::ProcessLogStdout(OutputData {
            process: ProcessRef::new("p", "p"),
            pid: 1,
            data: "€€".as_bytes().to_vec(),
        });
        let env = envelope(
            "s",
            "l",
            Serials {
                serial: 0,
                pool_serial: 0,
            },
            &e,
        );
        let payload = "processname:p groupname:p pid:1 channel:stdout\n€€";
        assert!(env.ends_with(&format!("len:{}\n{payload}", payload.chars().count())));
        assert_ne!(payload.chars().count(), payload.len());
    }

    #[test]
    fn empty_payload_has_len_zero() {
        let env = envelope(
            "id",
            "pool",
            Serials {
                serial: 0,
                pool_serial: 0,
            },
            &Event::SupervisorStateChangeRunning,
        );
        assert!(env.ends_with("eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0\n"));
    }
}
