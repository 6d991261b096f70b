//! The concrete event types of supervisord 4.3.0, their names, payloads and subscription matching.
//!
//! An [`Event`] captures its values when it is created (like supervisord, which renders a state event's
//! extra values eagerly), so a payload stays the same however long the event waits in a pool buffer.
//! Matching follows supervisord's `isinstance` rule: a listener subscribed to an abstract type
//! (`EVENT`, `PROCESS_STATE`, `PROCESS_LOG`, ...) receives every concrete type below it.

use procd_protocol::ProcessState;

use super::pyrepr::decode_output;

/// Which process an event is about: its `name=` and its group's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRef {
    pub name: String,
    pub group: String,
}

impl ProcessRef {
    pub fn new(name: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            group: group.into(),
        }
    }
}

/// Output of one process channel carried by `PROCESS_LOG_*` and `PROCESS_COMMUNICATION_*` events.
/// The bytes are kept raw and decoded only when the payload is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputData {
    pub process: ProcessRef,
    /// The process's pid when the output was read (`0` if it has none).
    pub pid: i32,
    pub data: Vec<u8>,
}

/// Every concrete event type supervisord 4.3.0 emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ProcessStateStopped {
        process: ProcessRef,
        from: ProcessState,
        pid: i32,
    },
    ProcessStateStarting {
        process: ProcessRef,
        from: ProcessState,
        tries: u32,
    },
    ProcessStateRunning {
        process: ProcessRef,
        from: ProcessState,
        pid: i32,
    },
    ProcessStateBackoff {
        process: ProcessRef,
        from: ProcessState,
        tries: u32,
    },
    ProcessStateStopping {
        process: ProcessRef,
        from: ProcessState,
        pid: i32,
    },
    ProcessStateExited {
        process: ProcessRef,
        from: ProcessState,
        expected: bool,
        pid: i32,
    },
    ProcessStateFatal {
        process: ProcessRef,
        from: ProcessState,
    },
    ProcessStateUnknown {
        process: ProcessRef,
        from: ProcessState,
    },
    ProcessLogStdout(OutputData),
    ProcessLogStderr(OutputData),
    ProcessCommunicationStdout(OutputData),
    ProcessCommunicationStderr(OutputData),
    /// `supervisor.sendRemoteCommEvent(type, data)`.
    RemoteCommunication {
        kind: String,
        data: String,
    },
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    ProcessGroupAdded {
        group: String,
    },
    ProcessGroupRemoved {
        group: String,
    },
    /// `when` is the epoch second the period boundary fell on.
    Tick5 {
        when: u64,
    },
    Tick60 {
        when: u64,
    },
    Tick3600 {
        when: u64,
    },
}

/// Abstract parent of each concrete type, as in supervisord's class hierarchy (`EVENT` is implied).
const PARENTS: &[(&str, &str)] = &[
    ("PROCESS_STATE_STOPPED", "PROCESS_STATE"),
    ("PROCESS_STATE_STARTING", "PROCESS_STATE"),
    ("PROCESS_STATE_RUNNING", "PROCESS_STATE"),
    ("PROCESS_STATE_BACKOFF", "PROCESS_STATE"),
    ("PROCESS_STATE_STOPPING", "PROCESS_STATE"),
    ("PROCESS_STATE_EXITED", "PROCESS_STATE"),
    ("PROCESS_STATE_FATAL", "PROCESS_STATE"),
    ("PROCESS_STATE_UNKNOWN", "PROCESS_STATE"),
    ("PROCESS_LOG_STDOUT", "PROCESS_LOG"),
    ("PROCESS_LOG_STDERR", "PROCESS_LOG"),
    ("PROCESS_COMMUNICATION_STDOUT", "PROCESS_COMMUNICATION"),
    ("PROCESS_COMMUNICATION_STDERR", "PROCESS_COMMUNICATION"),
    ("SUPERVISOR_STATE_CHANGE_RUNNING", "SUPERVISOR_STATE_CHANGE"),
    (
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        "SUPERVISOR_STATE_CHANGE",
    ),
    ("PROCESS_GROUP_ADDED", "PROCESS_GROUP"),
    ("PROCESS_GROUP_REMOVED", "PROCESS_GROUP"),
    ("TICK_5", "TICK"),
    ("TICK_60", "TICK"),
    ("TICK_3600", "TICK"),
];

/// Whether a listener subscribed to `subscribed` receives events of the concrete type `name`.
pub fn name_matches(name: &str, subscribed: &str) -> bool {
    if subscribed.eq_ignore_ascii_case("EVENT") || subscribed.eq_ignore_ascii_case(name) {
        return true;
    }
    PARENTS
        .iter()
        .any(|(child, parent)| *child == name && subscribed.eq_ignore_ascii_case(parent))
}

impl Event {
    /// The concrete type name (`eventname:` in the envelope).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProcessStateStopped { .. } => "PROCESS_STATE_STOPPED",
            Self::ProcessStateStarting { .. } => "PROCESS_STATE_STARTING",
            Self::ProcessStateRunning { .. } => "PROCESS_STATE_RUNNING",
            Self::ProcessStateBackoff { .. } => "PROCESS_STATE_BACKOFF",
            Self::ProcessStateStopping { .. } => "PROCESS_STATE_STOPPING",
            Self::ProcessStateExited { .. } => "PROCESS_STATE_EXITED",
            Self::ProcessStateFatal { .. } => "PROCESS_STATE_FATAL",
            Self::ProcessStateUnknown { .. } => "PROCESS_STATE_UNKNOWN",
            Self::ProcessLogStdout(_) => "PROCESS_LOG_STDOUT",
            Self::ProcessLogStderr(_) => "PROCESS_LOG_STDERR",
            Self::ProcessCommunicationStdout(_) => "PROCESS_COMMUNICATION_STDOUT",
            Self::ProcessCommunicationStderr(_) => "PROCESS_COMMUNICATION_STDERR",
            Self::RemoteCommunication { .. } => "REMOTE_COMMUNICATION",
            Self::SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            Self::SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Self::ProcessGroupAdded { .. } => "PROCESS_GROUP_ADDED",
            Self::ProcessGroupRemoved { .. } => "PROCESS_GROUP_REMOVED",
            Self::Tick5 { .. } => "TICK_5",
            Self::Tick60 { .. } => "TICK_60",
            Self::Tick3600 { .. } => "TICK_3600",
        }
    }

    /// Whether a pool subscribed to the (concrete or abstract) type `subscribed` receives this event.
    pub fn matches(&self, subscribed: &str) -> bool {
        name_matches(self.name(), subscribed)
    }

    /// The payload text that follows the envelope header, exactly as supervisord renders it.
    pub fn payload(&self) -> String {
        match self {
            Self::ProcessStateStopped { process, from, pid }
            | Self::ProcessStateRunning { process, from, pid }
            | Self::ProcessStateStopping { process, from, pid } => {
                format!("{} pid:{pid}", state_head(process, *from))
            }
            Self::ProcessStateStarting {
                process,
                from,
                tries,
            }
            | Self::ProcessStateBackoff {
                process,
                from,
                tries,
            } => {
                format!("{} tries:{tries}", state_head(process, *from))
            }
            Self::ProcessStateExited {
                process,
                from,
                expected,
                pid,
            } => format!(
                "{} expected:{} pid:{pid}",
                state_head(process, *from),
                u8::from(*expected)
            ),
            Self::ProcessStateFatal { process, from }
            | Self::ProcessStateUnknown { process, from } => state_head(process, *from),
            Self::ProcessLogStdout(o) => log_payload(o, "stdout"),
            Self::ProcessLogStderr(o) => log_payload(o, "stderr"),
            Self::ProcessCommunicationStdout(o) | Self::ProcessCommunicationStderr(o) => format!(
                "processname:{} groupname:{} pid:{}\n{}",
                o.process.name,
                o.process.group,
                o.pid,
                decode_output(&o.data)
            ),
            Self::RemoteCommunication { kind, data } => format!("type:{kind}\n{data}"),
            Self::SupervisorStateChangeRunning | Self::SupervisorStateChangeStopping => {
                String::new()
            }
            Self::ProcessGroupAdded { group } | Self::ProcessGroupRemoved { group } => {
                format!("groupname:{group}\n")
            }
            Self::Tick5 { when } | Self::Tick60 { when } | Self::Tick3600 { when } => {
                format!("when:{when}")
            }
        }
    }
}

fn state_head(process: &ProcessRef, from: ProcessState) -> String {
    format!(
        "processname:{} groupname:{} from_state:{}",
        process.name,
        process.group,
        from.name()
    )
}

fn log_payload(o: &OutputData, channel: &str) -> String {
    format!(
        "processname:{} groupname:{} pid:{} channel:{channel}\n{}",
        o.process.name,
        o.process.group,
        o.pid,
        decode_output(&o.data)
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use procd_config::events::{ABSTRACT_EVENT_TYPES, EVENT_TYPES};

    pub(crate) fn samples() -> Vec<Event> {
        let p = || ProcessRef::new("cat", "grp");
        let out = |data: &[u8]| OutputData {
            process: p(),
            pid: 42,
            data: data.to_vec(),
        };
        vec![
            Event::ProcessStateStopped {
                process: p(),
                from: ProcessState::Stopping,
                pid: 7,
            },
            Event::ProcessStateStarting {
                process: p(),
                from: ProcessState::Backoff,
                tries: 2,
            },
            Event::ProcessStateRunning {
                process: p(),
                from: ProcessState::Starting,
                pid: 123,
            },
            Event::ProcessStateBackoff {
                process: p(),
                from: ProcessState::Starting,
                tries: 1,
            },
            Event::ProcessStateStopping {
                process: p(),
                from: ProcessState::Running,
                pid: 9,
            },
            Event::ProcessStateExited {
                process: p(),
                from: ProcessState::Running,
                expected: false,
                pid: 10,
            },
            Event::ProcessStateExited {
                process: p(),
                from: ProcessState::Running,
                expected: true,
                pid: 11,
            },
            Event::ProcessStateFatal {
                process: p(),
                from: ProcessState::Backoff,
            },
            Event::ProcessStateUnknown {
                process: p(),
                from: ProcessState::Running,
            },
            Event::ProcessLogStdout(out(b"hello\n")),
            Event::ProcessLogStderr(out("héllo wörld".as_bytes())),
            Event::ProcessLogStdout(out(b"bad \xff\xfe 'q'\n")),
            Event::ProcessCommunicationStdout(out(b"<x>data</x>")),
            Event::ProcessCommunicationStderr(out(b"\x80")),
            Event::RemoteCommunication {
                kind: "mytype".into(),
                data: "some data\nmore".into(),
            },
            Event::SupervisorStateChangeRunning,
            Event::SupervisorStateChangeStopping,
            Event::ProcessGroupAdded {
                group: "grp".into(),
            },
            Event::ProcessGroupRemoved {
                group: "grp".into(),
            },
            Event::Tick5 {
                when: 1_795_688_980,
            },
            Event::Tick60 {
                when: 1_795_688_940,
            },
            Event::Tick3600 {
                when: 1_795_687_200,
            },
        ]
    }

    #[test]
    fn payload_table() {
        let cases: Vec<(Event, &str)> = samples()
            .into_iter()
            .zip([
                "processname:cat groupname:grp from_state:STOPPING pid:7",
                "processname:cat groupname:grp from_state:BACKOFF tries:2",
                "processname:cat groupname:grp from_state:STARTING pid:123",
                "processname:cat groupname:grp from_state:STARTING tries:1",
                "processname:cat groupname:grp from_state:RUNNING pid:9",
                "processname:cat groupname:grp from_state:RUNNING expected:0 pid:10",
                "processname:cat groupname:grp from_state:RUNNING expected:1 pid:11",
                "processname:cat groupname:grp from_state:BACKOFF",
                "processname:cat groupname:grp from_state:RUNNING",
                "processname:cat groupname:grp pid:42 channel:stdout\nhello\n",
                "processname:cat groupname:grp pid:42 channel:stderr\nhéllo wörld",
                "processname:cat groupname:grp pid:42 channel:stdout\nUndecodable: b\"bad \\xff\\xfe 'q'\\n\"",
                "processname:cat groupname:grp pid:42\n<x>data</x>",
                "processname:cat groupname:grp pid:42\nUndecodable: b'\\x80'",
                "type:mytype\nsome data\nmore",
                "",
                "",
                "groupname:grp\n",
                "groupname:grp\n",
                "when:1795688980",
                "when:1795688940",
                "when:1795687200",
            ])
            .collect();
        for (event, want) in cases {
            assert_eq!(event.payload(), want, "{}", event.name());
        }
    }

    #[test]
    fn every_concrete_name_is_a_config_event_type() {
        for event in samples() {
            assert!(EVENT_TYPES.contains(&event.name()), "{}", event.name());
            assert!(!ABSTRACT_EVENT_TYPES.contains(&event.name()));
        }
        // and every concrete config type is produced by some sample
        let produced: Vec<&str> = samples().iter().map(Event::name).collect();
        for name in EVENT_TYPES
            .iter()
            .filter(|n| !ABSTRACT_EVENT_TYPES.contains(n))
        {
            assert!(produced.contains(name), "no sample for {name}");
        }
    }

    #[test]
    fn matching_follows_the_class_hierarchy() {
        let running = &samples()[2];
        let log = &samples()[9];
        let remote = &samples()[14];
        let tick = &samples()[19];
        let table: &[(&Event, &str, bool)] = &[
            (running, "EVENT", true),
            (running, "PROCESS_STATE", true),
            (running, "PROCESS_STATE_RUNNING", true),
            (running, "process_state_running", true),
            (running, "PROCESS_STATE_EXITED", false),
            (running, "PROCESS_LOG", false),
            (log, "PROCESS_LOG", true),
            (log, "PROCESS_LOG_STDERR", false),
            (log, "PROCESS_COMMUNICATION", false),
            (remote, "PROCESS_COMMUNICATION", false),
            (remote, "REMOTE_COMMUNICATION", true),
            (remote, "EVENT", true),
            (tick, "TICK", true),
            (tick, "TICK_60", false),
            (tick, "TICK_5", true),
        ];
        for (event, sub, want) in table {
            assert_eq!(event.matches(sub), *want, "{} vs {sub}", event.name());
        }
    }

    #[test]
    fn abstract_types_cover_their_children() {
        for event in samples() {
            let covering: Vec<&str> = ABSTRACT_EVENT_TYPES
                .iter()
                .copied()
                .filter(|a| event.matches(a))
                .collect();
            // EVENT always, plus exactly one family unless the type stands alone.
            let want = if event.name() == "REMOTE_COMMUNICATION" {
                1
            } else {
                2
            };
            assert_eq!(covering.len(), want, "{}: {covering:?}", event.name());
        }
    }
}
