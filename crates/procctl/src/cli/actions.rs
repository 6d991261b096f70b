//! The actions supervisorctl offers (and procctl's few extras), each with supervisorctl's arguments,
//! output lines and exit statuses.

use crate::cli::controller::{CmdResult, Controller, Raised, exit};
use crate::cli::format::{self, namespec};
use crate::cli::help::show_help;
use crate::cli::select::select;
use crate::cli::{extras, help, stream};
use crate::error::ClientError;
use crate::types::{ProcessInfo, ResultStruct, process_json};
use procd_protocol::FaultCode;
use procd_protocol::api::split_namespec;

const ACTIONS: &[&str] = &[
    "add",
    "avail",
    "clear",
    "exit",
    "fg",
    "maintail",
    "open",
    "pid",
    "quit",
    "reload",
    "remove",
    "reread",
    "restart",
    "shutdown",
    "signal",
    "start",
    "status",
    "stop",
    "tail",
    "update",
    "version",
    "help",
    "EOF",
    // procctl extensions
    "wait",
    "check",
    "completions",
    "manpage",
];

/// Whether `name` is a command of the shell (supervisorctl's `do_*` methods and procd's additions);
/// other words are reported as `*** Unknown syntax`.
pub fn is_action(name: &str) -> bool {
    ACTIONS.contains(&name)
}

/// Runs an action; `Ok(true)` asks the shell to stop.
pub fn dispatch(ctl: &mut Controller, name: &str, arg: &str) -> Result<bool, Raised> {
    match name {
        "quit" | "exit" | "EOF" => {
            ctl.output("");
            return Ok(true);
        }
        "help" => do_help(ctl, arg),
        "status" => do_status(ctl, arg)?,
        "start" => do_start(ctl, arg)?,
        "stop" => do_stop(ctl, arg)?,
        "restart" => do_restart(ctl, arg)?,
        "signal" => do_signal(ctl, arg)?,
        "pid" => do_pid(ctl, arg)?,
        "tail" => stream::do_tail(ctl, arg)?,
        "maintail" => stream::do_maintail(ctl, arg)?,
        "fg" => stream::do_fg(ctl, arg)?,
        "clear" => do_clear(ctl, arg)?,
        "avail" => do_avail(ctl, arg)?,
        "reread" => do_reread(ctl, arg)?,
        "update" => do_update(ctl, arg)?,
        "add" => do_add(ctl, arg)?,
        "remove" => do_remove(ctl, arg)?,
        "reload" => do_reload(ctl, arg)?,
        "shutdown" => do_shutdown(ctl, arg)?,
        "open" => do_open(ctl, arg)?,
        "version" => do_version(ctl, arg)?,
        "wait" => extras::do_wait(ctl, arg)?,
        "check" => extras::do_check(ctl, arg)?,
        "completions" => extras::do_completions(ctl, arg),
        "manpage" => extras::do_manpage(ctl, arg),
        _ => {
            ctl.output(&format!("*** Unknown syntax: {name} {arg}"));
            ctl.exitstatus = exit::GENERIC;
        }
    }
    Ok(false)
}

fn do_help(ctl: &mut Controller, arg: &str) {
    if arg.is_empty() {
        ctl.output("");
        let header = "default commands (type help <topic>):";
        ctl.output(header);
        ctl.output(&"=".repeat(header.len()));
        for row in format::columnize(help::TOPICS, 79) {
            ctl.output(&row);
        }
        ctl.output("");
    } else if help::topic(arg).is_some() {
        show_help(ctl, arg);
    } else {
        ctl.output(&format!("*** No help on {arg}"));
    }
}

fn words(arg: &str) -> Vec<&str> {
    arg.split_whitespace().collect()
}

fn do_status(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let mut names = words(arg);
    let json = names.contains(&"--json");
    names.retain(|n| *n != "--json");
    let client = ctl.client()?;
    let all = ctl.block(client.get_all_process_info())?;
    let (matching, bad) = select(ctl, &all, &names, json);
    if bad {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
    }
    if json {
        // procd's dependency and readiness keys (servers without them simply report none).
        let extensions = ctl
            .block(client.get_all_config_info_raw())
            .unwrap_or_default();
        let list: Vec<serde_json::Value> = matching
            .iter()
            .map(|i| {
                let mut v = process_json(i);
                crate::types::add_readiness_json(&mut v, i, &extensions);
                v
            })
            .collect();
        let text = serde_json::to_string_pretty(&list).map_err(|e| Raised::Value(e.to_string()))?;
        ctl.output(&text);
    } else {
        let owned: Vec<ProcessInfo> = matching.iter().map(|i| (*i).clone()).collect();
        for line in format::status_lines(&owned) {
            ctl.output(&line);
        }
    }
    if matching.iter().any(|i| i.state.is_stopped()) {
        ctl.exitstatus = exit::STATUS_NOT_RUNNING;
    }
    Ok(())
}

fn do_pid(ctl: &mut Controller, arg: &str) -> CmdResult {
    let client = ctl.client()?;
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let pid = ctl.block(client.get_pid())?;
        ctl.output(&pid.to_string());
    } else if names.contains(&"all") {
        for info in ctl.block(client.get_all_process_info())? {
            ctl.output(&info.pid.to_string());
        }
    } else {
        for name in names {
            match ctl.block(client.get_process_info(name)) {
                Ok(info) => {
                    ctl.output(&info.pid.to_string());
                    if info.pid == 0 {
                        ctl.exitstatus = exit::NOT_RUNNING;
                    }
                }
                Err(e) => {
                    ctl.exitstatus = exit::GENERIC;
                    if e.fault() == Some(FaultCode::BadName) {
                        ctl.output(&format!("No such process {name}"));
                    } else {
                        return Err(e.into());
                    }
                }
            }
        }
    }
    Ok(())
}

/// A single-process fault turned into the result struct supervisorctl formats.
fn fault_result(e: ClientError, name: &str) -> Result<ResultStruct, Raised> {
    let ClientError::Fault(f) = e else {
        return Err(e.into());
    };
    let (group, process) = split_namespec(name);
    let (group, process) = (group.as_str(), process.as_deref());
    Ok(ResultStruct {
        name: process.unwrap_or_default().to_string(),
        group: group.to_string(),
        status: f.code,
        description: f.string,
    })
}

fn print_results(
    ctl: &mut Controller,
    results: &[ResultStruct],
    fmt: impl Fn(&ResultStruct) -> Result<String, String>,
    ignored: Option<i32>,
) -> CmdResult {
    for r in results {
        let line = fmt(r).map_err(Raised::Value)?;
        ctl.output(&line);
        ctl.status_from_fault(r.status, ignored);
    }
    Ok(())
}

fn do_start(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    let client = ctl.client()?;
    if names.is_empty() {
        ctl.output("Error: start requires a process name");
        ctl.exitstatus = exit::INVALID_ARGS;
        show_help(ctl, "start");
        return Ok(());
    }
    let ignored = Some(FaultCode::AlreadyStarted.code());
    if names.contains(&"all") {
        let results = ctl.block(client.start_all_processes(true))?;
        return print_results(ctl, &results, format::start_result, ignored);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        let (group, process) = (group.as_str(), process.as_deref());
        match process {
            None => match ctl.block(client.start_process_group(group, true)) {
                Ok(results) => print_results(ctl, &results, format::start_result, ignored)?,
                Err(e) if e.fault() == Some(FaultCode::BadName) => {
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                    ctl.exitstatus = exit::INVALID_ARGS;
                }
                Err(e) => {
                    ctl.exitstatus = exit::GENERIC;
                    return Err(e.into());
                }
            },
            Some(process) => match ctl.block(client.start_process(name, true)) {
                Ok(_) => ctl.output(&format!("{}: started", namespec(group, process))),
                Err(e) => {
                    let r = fault_result(e, name)?;
                    print_results(ctl, &[r], format::start_result, ignored)?;
                }
            },
        }
    }
    Ok(())
}

fn do_stop(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    let client = ctl.client()?;
    if names.is_empty() {
        ctl.output("Error: stop requires a process name");
        ctl.exitstatus = exit::GENERIC;
        show_help(ctl, "stop");
        return Ok(());
    }
    let ignored = Some(FaultCode::NotRunning.code());
    let fmt = |r: &ResultStruct| format::signal_result(r, "stopped");
    if names.contains(&"all") {
        let results = ctl.block(client.stop_all_processes(true))?;
        return print_results(ctl, &results, fmt, ignored);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        let (group, process) = (group.as_str(), process.as_deref());
        match process {
            None => match ctl.block(client.stop_process_group(group, true)) {
                Ok(results) => print_results(ctl, &results, fmt, ignored)?,
                Err(e) => {
                    ctl.exitstatus = exit::GENERIC;
                    if e.fault() == Some(FaultCode::BadName) {
                        ctl.output(&format!("{group}: ERROR (no such group)"));
                    } else {
                        return Err(e.into());
                    }
                }
            },
            Some(process) => match ctl.block(client.stop_process(name, true)) {
                Ok(_) => ctl.output(&format!("{}: stopped", namespec(group, process))),
                Err(e) => {
                    let r = fault_result(e, name)?;
                    print_results(ctl, &[r], fmt, ignored)?;
                }
            },
        }
    }
    Ok(())
}

fn do_restart(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    if words(arg).is_empty() {
        ctl.output("Error: restart requires a process name");
        ctl.exitstatus = exit::GENERIC;
        show_help(ctl, "restart");
        return Ok(());
    }
    do_stop(ctl, arg)?;
    do_start(ctl, arg)
}

fn do_signal(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    if args.len() < 2 {
        ctl.output("Error: signal requires a signal name and a process name");
        show_help(ctl, "signal");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    let sig = args[0];
    let names = &args[1..];
    let client = ctl.client()?;
    let fmt = |r: &ResultStruct| format::signal_result(r, "signalled");
    if names.contains(&"all") {
        let results = ctl.block(client.signal_all_processes(sig))?;
        return print_results(ctl, &results, fmt, None);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        let (group, process) = (group.as_str(), process.as_deref());
        match process {
            None => match ctl.block(client.signal_process_group(group, sig)) {
                Ok(results) => print_results(ctl, &results, fmt, None)?,
                Err(e) if e.fault() == Some(FaultCode::BadName) => {
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                    ctl.exitstatus = exit::GENERIC;
                }
                Err(e) => return Err(e.into()),
            },
            Some(process) => match ctl.block(client.signal_process(name, sig)) {
                Ok(_) => ctl.output(&format!("{}: signalled", namespec(group, process))),
                Err(e) => {
                    let r = fault_result(e, name)?;
                    print_results(ctl, &[r], fmt, None)?;
                }
            },
        }
    }
    Ok(())
}

fn do_clear(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        ctl.output("Error: clear requires a process name");
        ctl.exitstatus = exit::GENERIC;
        show_help(ctl, "clear");
        return Ok(());
    }
    let client = ctl.client()?;
    if names.contains(&"all") {
        let results = ctl.block(client.clear_all_process_logs())?;
        return print_results(ctl, &results, format::clear_result, None);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        let (group, process) = (group.as_str(), process.as_deref());
        match ctl.block(client.clear_process_logs(name)) {
            Ok(_) => ctl.output(&format!(
                "{}: cleared",
                namespec(group, process.unwrap_or_default())
            )),
            Err(e) => {
                let r = fault_result(e, name)?;
                print_results(ctl, &[r], format::clear_result, None)?;
            }
        }
    }
    Ok(())
}

fn no_args(ctl: &mut Controller, action: &str, arg: &str) -> bool {
    if arg.is_empty() {
        return false;
    }
    ctl.output(&format!("Error: {action} accepts no arguments"));
    ctl.exitstatus = exit::GENERIC;
    show_help(ctl, action);
    true
}

fn do_avail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if no_args(ctl, "avail", arg) {
        return Ok(());
    }
    let client = ctl.client()?;
    match ctl.block(client.get_all_config_info()) {
        Ok(infos) => {
            for info in &infos {
                ctl.output(&format::avail_line(info));
            }
            Ok(())
        }
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            if e.fault() == Some(FaultCode::ShutdownState) {
                ctl.output("ERROR: supervisor shutting down");
                Ok(())
            } else {
                Err(e.into())
            }
        }
    }
}

fn do_reread(ctl: &mut Controller, arg: &str) -> CmdResult {
    if no_args(ctl, "reread", arg) {
        return Ok(());
    }
    let client = ctl.client()?;
    match ctl.block(client.reload_config()) {
        Ok(diff) => {
            for line in format::reread_lines(&diff) {
                ctl.output(&line);
            }
            Ok(())
        }
        Err(ClientError::Fault(f))
            if f.code_enum() == Some(FaultCode::ShutdownState)
                || f.code_enum() == Some(FaultCode::CantReread) =>
        {
            ctl.exitstatus = exit::GENERIC;
            if f.code_enum() == Some(FaultCode::ShutdownState) {
                ctl.output("ERROR: supervisor shutting down");
            } else {
                ctl.output(&format!("ERROR: {}", f.string));
            }
            Ok(())
        }
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            Err(e.into())
        }
    }
}

fn do_add(ctl: &mut Controller, arg: &str) -> CmdResult {
    let client = ctl.client()?;
    for name in words(arg) {
        match ctl.block(client.add_process_group(name)) {
            Ok(_) => ctl.output(&format!("{name}: added process group")),
            Err(e) => match e.fault() {
                Some(FaultCode::ShutdownState) => {
                    ctl.output("ERROR: shutting down");
                    ctl.exitstatus = exit::GENERIC;
                }
                Some(FaultCode::AlreadyAdded) => ctl.output("ERROR: process group already active"),
                Some(FaultCode::BadName) => {
                    ctl.output(&format!("ERROR: no such process/group: {name}"));
                    ctl.exitstatus = exit::GENERIC;
                }
                _ => {
                    ctl.exitstatus = exit::GENERIC;
                    return Err(e.into());
                }
            },
        }
    }
    Ok(())
}

fn do_remove(ctl: &mut Controller, arg: &str) -> CmdResult {
    let client = ctl.client()?;
    for name in words(arg) {
        match ctl.block(client.remove_process_group(name)) {
            Ok(_) => ctl.output(&format!("{name}: removed process group")),
            Err(e) => {
                ctl.exitstatus = exit::GENERIC;
                match e.fault() {
                    Some(FaultCode::StillRunning) => {
                        ctl.output(&format!("ERROR: process/group still running: {name}"));
                    }
                    Some(FaultCode::BadName) => {
                        ctl.output(&format!("ERROR: no such process/group: {name}"));
                    }
                    _ => return Err(e.into()),
                }
            }
        }
    }
    Ok(())
}

fn do_update(ctl: &mut Controller, arg: &str) -> CmdResult {
    let client = ctl.client()?;
    let diff = match ctl.block(client.reload_config()) {
        Ok(d) => d,
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            if e.fault() == Some(FaultCode::ShutdownState) {
                ctl.output("ERROR: already shutting down");
                return Ok(());
            }
            return Err(e.into());
        }
    };
    let mut wanted: Vec<&str> = Vec::new();
    for w in words(arg) {
        if !wanted.contains(&w) {
            wanted.push(w);
        }
    }
    if wanted.contains(&"all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let infos = ctl.block(client.get_all_process_info())?;
        let mut groups: Vec<&str> = infos.iter().map(|i| i.group.as_str()).collect();
        groups.extend(diff.added.iter().map(String::as_str));
        for g in &wanted {
            if !groups.contains(g) {
                ctl.output(&format!("ERROR: no such group: {g}"));
                ctl.exitstatus = exit::GENERIC;
            }
        }
    }
    let selected = |g: &str| wanted.is_empty() || wanted.contains(&g);
    for g in diff.removed.iter().filter(|g| selected(g)) {
        let results = ctl.block(client.stop_process_group(g, true))?;
        ctl.output(&format!("{g}: stopped"));
        if results.iter().any(|r| r.status == FaultCode::Failed.code()) {
            ctl.output(&format!("{g}: has problems; not removing"));
            ctl.exitstatus = exit::GENERIC;
            continue;
        }
        ctl.block(client.remove_process_group(g))?;
        ctl.output(&format!("{g}: removed process group"));
    }
    for g in diff.changed.iter().filter(|g| selected(g)) {
        ctl.block(client.stop_process_group(g, true))?;
        ctl.output(&format!("{g}: stopped"));
        ctl.block(client.remove_process_group(g))?;
        ctl.block(client.add_process_group(g))?;
        ctl.output(&format!("{g}: updated process group"));
    }
    for g in diff.added.iter().filter(|g| selected(g)) {
        ctl.block(client.add_process_group(g))?;
        ctl.output(&format!("{g}: added process group"));
    }
    Ok(())
}

/// Asks a yes/no question when interactive; true when the answer starts with y.
fn confirm(ctl: &mut Controller, question: &str) -> Result<bool, Raised> {
    if !ctl.settings.interactive {
        return Ok(true);
    }
    ctl.out.flush();
    let answer = ctl
        .input
        .read_line_after(&mut ctl.out, question)
        .ok_or(Raised::Eof)?;
    Ok(answer.to_lowercase().starts_with('y'))
}

fn do_reload(ctl: &mut Controller, arg: &str) -> CmdResult {
    if no_args(ctl, "reload", arg) {
        return Ok(());
    }
    if !confirm(ctl, "Really restart the remote supervisord process y/N? ")? {
        return Ok(());
    }
    let client = ctl.client()?;
    match ctl.block(client.restart()) {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            if e.fault() == Some(FaultCode::ShutdownState) {
                ctl.output("ERROR: already shutting down");
            } else {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

fn do_shutdown(ctl: &mut Controller, arg: &str) -> CmdResult {
    if no_args(ctl, "shutdown", arg) {
        return Ok(());
    }
    if !confirm(ctl, "Really shut the remote supervisord process down y/N? ")? {
        return Ok(());
    }
    let client = ctl.client()?;
    match ctl.block(client.shutdown()) {
        Ok(_) => ctl.output("Shut down"),
        Err(ClientError::Fault(f)) if f.code_enum() == Some(FaultCode::ShutdownState) => {
            ctl.output("ERROR: already shutting down");
        }
        Err(ClientError::ConnectionRefused { url }) => {
            ctl.exitstatus = exit::GENERIC;
            ctl.output(&format!(
                "ERROR: {url} refused connection (already shut down?)"
            ));
        }
        Err(ClientError::NoSuchFile { url }) => {
            ctl.exitstatus = exit::GENERIC;
            ctl.output(&format!("ERROR: {url} no such file (already shut down?)"));
        }
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            return Err(e.into());
        }
    }
    Ok(())
}

/// URL scheme as Python's urlparse sees it (empty when there is none).
fn url_scheme(url: &str) -> &str {
    match url.split_once(':') {
        Some((s, _))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s
        }
        _ => "",
    }
}

fn do_open(ctl: &mut Controller, arg: &str) -> CmdResult {
    let url = arg.trim();
    if !matches!(
        url_scheme(url).to_ascii_lowercase().as_str(),
        "unix" | "http"
    ) {
        ctl.output("ERROR: url must be http:// or unix://");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.settings.serverurl = url.to_string();
    ctl.reset_client();
    let old = ctl.exitstatus;
    let r = do_status(ctl, "");
    ctl.exitstatus = old;
    r
}

fn do_version(ctl: &mut Controller, arg: &str) -> CmdResult {
    if no_args(ctl, "version", arg) {
        return Ok(());
    }
    if !ctl.upcheck()? {
        return Ok(());
    }
    let client = ctl.client()?;
    let v = ctl.block(client.get_supervisor_version())?;
    ctl.output(&v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(url_scheme("unix:///x"), "unix");
        assert_eq!(url_scheme("http://h:1"), "http");
        assert_eq!(url_scheme("/tmp/x"), "");
        assert_eq!(url_scheme(""), "");
    }
}
