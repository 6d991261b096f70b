//! What a status-page request asks for (`?action=…&processname=…`) and the message texts supervisord's
//! web UI answers with after running it.

use chrono::NaiveDateTime;
use procd_protocol::api::ProcessInfo;
use procd_protocol::{Fault, FaultCode};

use super::form::Form;

/// An operation on one process from a row's links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessOp {
    Start,
    Stop,
    Restart,
    ClearLog,
}

/// The request's action, decided from its form fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No `action`: just show the page (and `message`, if given).
    Show,
    Refresh,
    StopAll,
    RestartAll,
    /// An action on `namespec`; `op` is `None` for an action name supervisord does not know (answered
    /// with "No such process" for an unknown process, else an internal error, like supervisord).
    Process {
        namespec: String,
        op: Option<ProcessOp>,
    },
    /// An action supervisord cannot run (unknown name, or a process action without a process): HTTP 500.
    Invalid,
}

impl Action {
    /// Whether running it can change processes (and so must pass the cross-site checks). Showing and
    /// refreshing the page cannot; neither can a request that is refused anyway.
    pub fn changes_processes(&self) -> bool {
        matches!(
            self,
            Action::StopAll | Action::RestartAll | Action::Process { .. }
        )
    }
}

/// Decides what the status page should do. The global actions ignore `processname`.
pub fn parse_action(form: &Form) -> Action {
    let Some(action) = form.get("action") else {
        return Action::Show;
    };
    match action {
        "refresh" => return Action::Refresh,
        "stopall" => return Action::StopAll,
        "restartall" => return Action::RestartAll,
        _ => {}
    }
    let Some(namespec) = form.get("processname") else {
        return Action::Invalid;
    };
    let op = match action {
        "start" => Some(ProcessOp::Start),
        "stop" => Some(ProcessOp::Stop),
        "restart" => Some(ProcessOp::Restart),
        "clearlog" => Some(ProcessOp::ClearLog),
        _ => None,
    };
    Action::Process {
        namespec: namespec.to_owned(),
        op,
    }
}

/// `group:name`, or just `name` when the process is alone in a group of its own name.
pub fn namespec(info: &ProcessInfo) -> String {
    if info.group == info.name {
        info.name.clone()
    } else {
        format!("{}:{}", info.group, info.name)
    }
}

/// Whether `spec` names exactly one process of `infos` (`group:name`, or `name` for a group of the
/// same name; `group:` and `group:*` name no single process).
pub fn names_a_process(infos: &[ProcessInfo], spec: &str) -> bool {
    let (group, name) = match spec.split_once(':') {
        Some((_, "" | "*")) => return false,
        Some(pair) => pair,
        None => (spec, spec),
    };
    infos.iter().any(|i| i.group == group && i.name == name)
}

/// supervisord's `time.ctime()` layout: `Thu Nov 26 12:00:53 2026` (day of month space-padded).
pub fn ctime(now: NaiveDateTime) -> String {
    now.format("%a %b %e %H:%M:%S %Y").to_string()
}

pub fn refreshed(now: NaiveDateTime) -> String {
    format!("Page refreshed at {}", ctime(now))
}

pub fn all_stopped(now: NaiveDateTime) -> String {
    format!("All stopped at {}", ctime(now))
}

pub fn all_restarted(now: NaiveDateTime) -> String {
    format!("All restarted at {}", ctime(now))
}

pub fn no_such_process(namespec: &str) -> String {
    format!("No such process named {namespec}")
}

/// The message after `op` on `namespec` succeeded.
pub fn op_done(op: ProcessOp, namespec: &str) -> String {
    match op {
        ProcessOp::Start => format!("Process {namespec} started"),
        ProcessOp::Stop => format!("Process {namespec} stopped"),
        ProcessOp::Restart => format!("Process {namespec} restarted"),
        ProcessOp::ClearLog => format!("Log for {namespec} cleared"),
    }
}

/// `unexpected rpc fault [<code>] <text>`: what stop and clear-log failures show, bare.
pub fn unexpected_fault(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code, fault.string)
}

/// The message when starting `namespec` failed with `fault`.
pub fn start_failed(namespec: &str, fault: &Fault) -> String {
    let known = [
        (FaultCode::NoFile, "no such file"),
        (FaultCode::NotExecutable, "file not executable"),
        (FaultCode::AlreadyStarted, "already started"),
        (FaultCode::SpawnError, "spawn error"),
        (FaultCode::AbnormalTermination, "abnormal termination"),
    ];
    let reason = known
        .iter()
        .find(|(code, _)| code.code() == fault.code)
        .map_or_else(|| unexpected_fault(fault), |(_, text)| (*text).to_owned());
    format!("ERROR: Process {namespec}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use procd_protocol::ProcessState;

    fn form(query: &str) -> Form {
        Form::parse(Some(query), b"")
    }

    fn info(group: &str, name: &str) -> ProcessInfo {
        ProcessInfo::new(group, name, ProcessState::Stopped, "")
    }

    fn process(namespec: &str, op: Option<ProcessOp>) -> Action {
        Action::Process {
            namespec: namespec.into(),
            op,
        }
    }

    #[test]
    fn actions_are_parsed_like_supervisord() {
        let cases = [
            ("", Action::Show),
            ("message=hello", Action::Show),
            ("action=", Action::Show),
            ("action=refresh", Action::Refresh),
            ("action=stopall&processname=x", Action::StopAll),
            ("action=restartall", Action::RestartAll),
            (
                "processname=g%3Ax&action=start",
                process("g:x", Some(ProcessOp::Start)),
            ),
            (
                "processname=x&action=stop",
                process("x", Some(ProcessOp::Stop)),
            ),
            (
                "processname=x&action=restart",
                process("x", Some(ProcessOp::Restart)),
            ),
            (
                "processname=x&action=clearlog",
                process("x", Some(ProcessOp::ClearLog)),
            ),
            ("processname=x&action=bogus", process("x", None)),
            ("action=start", Action::Invalid),
            ("processname=&action=start", Action::Invalid),
            ("action=bogus", Action::Invalid),
            ("action=Start&processname=x", process("x", None)),
        ];
        for (query, want) in cases {
            assert_eq!(parse_action(&form(query)), want, "{query}");
        }
    }

    #[test]
    fn namespecs_and_lookup() {
        let infos = [info("web", "web"), info("g", "a"), info("g", "b")];
        assert_eq!(namespec(&infos[0]), "web");
        assert_eq!(namespec(&infos[1]), "g:a");
        let cases = [
            ("web", true),
            ("web:web", true),
            ("g:a", true),
            ("g:b", true),
            ("g", false),
            ("g:", false),
            ("g:*", false),
            ("a", false),
            ("g:c", false),
            ("x:a", false),
        ];
        for (spec, want) in cases {
            assert_eq!(names_a_process(&infos, spec), want, "{spec}");
        }
    }

    #[test]
    fn message_texts() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 6)
            .and_then(|d| d.and_hms_opt(9, 5, 3))
            .expect("valid date");
        assert_eq!(ctime(t), "Fri Nov  6 09:05:03 2026");
        assert_eq!(refreshed(t), "Page refreshed at Fri Nov  6 09:05:03 2026");
        assert_eq!(all_stopped(t), "All stopped at Fri Nov  6 09:05:03 2026");
        assert_eq!(
            all_restarted(t),
            "All restarted at Fri Nov  6 09:05:03 2026"
        );
        assert_eq!(no_such_process("g:*"), "No such process named g:*");
        assert_eq!(op_done(ProcessOp::Start, "g:a"), "Process g:a started");
        assert_eq!(op_done(ProcessOp::Stop, "g:a"), "Process g:a stopped");
        assert_eq!(op_done(ProcessOp::Restart, "a"), "Process a restarted");
        assert_eq!(op_done(ProcessOp::ClearLog, "a"), "Log for a cleared");
    }

    #[test]
    fn fault_messages() {
        let fault = |code: FaultCode, extra: &str| Fault::new(code, Some(extra));
        let cases = [
            (
                fault(FaultCode::NoFile, "/nope"),
                "ERROR: Process a: no such file",
            ),
            (
                fault(FaultCode::NotExecutable, "/etc"),
                "ERROR: Process a: file not executable",
            ),
            (
                fault(FaultCode::AlreadyStarted, "a"),
                "ERROR: Process a: already started",
            ),
            (
                fault(FaultCode::SpawnError, "a"),
                "ERROR: Process a: spawn error",
            ),
            (
                fault(FaultCode::AbnormalTermination, "a"),
                "ERROR: Process a: abnormal termination",
            ),
            (
                fault(FaultCode::BadName, "a"),
                "ERROR: Process a: unexpected rpc fault [10] BAD_NAME: a",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(start_failed("a", &f), want);
        }
        assert_eq!(
            unexpected_fault(&fault(FaultCode::NotRunning, "g:cat")),
            "unexpected rpc fault [70] NOT_RUNNING: g:cat"
        );
    }
}
