//! Pure text formatting of supervisorctl output: status tables, `avail` lines, `reread` summaries,
//! per-process result lines and the column layout of `help`.

pub use procd_protocol::api::make_namespec as namespec;

use crate::types::{ConfigInfo, ProcessInfo, ReloadResult, ResultStruct};
use procd_protocol::FaultCode;

/// Status lines: namespec padded to max(30, longest)+3, state padded to 10, then the description.
pub fn status_lines(infos: &[ProcessInfo]) -> Vec<String> {
    let specs: Vec<String> = infos.iter().map(|i| namespec(&i.group, &i.name)).collect();
    let width = specs
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    infos
        .iter()
        .zip(&specs)
        .map(|(info, spec)| {
            format!(
                "{spec:<width$}{:<10}{}",
                info.state.name(),
                info.description
            )
        })
        .collect()
}

/// One `avail` line: namespec, `in use`/`avail`, `auto`/`manual`, `group_prio:process_prio`.
pub fn avail_line(info: &ConfigInfo) -> String {
    let name = namespec(&info.group, &info.name);
    let inuse = if info.inuse { "in use" } else { "avail" };
    let auto = if info.autostart { "auto" } else { "manual" };
    format!(
        "{name:<32} {inuse:<9} {auto:<9} {}:{}",
        info.group_prio, info.process_prio
    )
}

/// `reread` output: sorted `name: available|changed|disappeared`, or the no-change line.
pub fn reread_lines(diff: &ReloadResult) -> Vec<String> {
    let mut entries: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (names, what) in [
        (&diff.added, "available"),
        (&diff.changed, "changed"),
        (&diff.removed, "disappeared"),
    ] {
        for n in names {
            entries.insert(n, what);
        }
    }
    if entries.is_empty() {
        return vec!["No config updates to processes".to_string()];
    }
    entries
        .into_iter()
        .map(|(n, w)| format!("{n}: {w}"))
        .collect()
}

/// The message for an unexpected result code (supervisorctl raises ValueError here).
pub fn unknown_result(code: i32, name: &str) -> String {
    format!("Unknown result code {code} for {name}")
}

/// Line for a start result; `Err` carries the text of supervisorctl's ValueError for unknown codes.
pub fn start_result(r: &ResultStruct) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    let why = match FaultCode::from_code(r.status) {
        Some(FaultCode::BadName) => "no such process",
        Some(FaultCode::NoFile) => "no such file",
        Some(FaultCode::NotExecutable) => "file is not executable",
        Some(FaultCode::AlreadyStarted) => "already started",
        Some(FaultCode::SpawnError) => "spawn error",
        Some(FaultCode::AbnormalTermination) => "abnormal termination",
        Some(FaultCode::Success) => return Ok(format!("{name}: started")),
        _ => return Err(unknown_result(r.status, &name)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

/// Line for a signal (or stop, with `success = "stopped"`) result.
pub fn signal_result(r: &ResultStruct, success: &str) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    let why = match FaultCode::from_code(r.status) {
        Some(FaultCode::BadName) => "no such process",
        Some(FaultCode::BadSignal) => "bad signal name",
        Some(FaultCode::NotRunning) => "not running",
        Some(FaultCode::Success) => return Ok(format!("{name}: {success}")),
        Some(FaultCode::Failed) => return Ok(r.description.clone()),
        _ => return Err(unknown_result(r.status, &name)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

/// Line for a clear-logs result.
pub fn clear_result(r: &ResultStruct) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    match FaultCode::from_code(r.status) {
        Some(FaultCode::BadName) => Ok(format!("{name}: ERROR (no such process)")),
        Some(FaultCode::Failed) => Ok(format!("{name}: ERROR (failed)")),
        Some(FaultCode::Success) => Ok(format!("{name}: cleared")),
        _ => Err(unknown_result(r.status, &name)),
    }
}

/// Lays out words in as few rows as fit in `width` columns, column-major, two spaces apart
/// (the layout of the `help` topic table).
pub fn columnize(words: &[&str], width: usize) -> Vec<String> {
    if words.is_empty() {
        return vec!["<empty>".to_string()];
    }
    let n = words.len();
    let width = i64::try_from(width).unwrap_or(i64::MAX);
    let mut layout: Option<(usize, Vec<usize>)> = None;
    for nrows in 1..n {
        let ncols = n.div_ceil(nrows);
        let mut widths = Vec::with_capacity(ncols);
        let mut total: i64 = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .filter_map(|r| words.get(r + nrows * col))
                .map(|s| s.len())
                .max()
                .unwrap_or(0);
            widths.push(w);
            total += i64::try_from(w).unwrap_or(i64::MAX) + 2;
            if total > width {
                break;
            }
        }
        if total <= width {
            layout = Some((nrows, widths));
            break;
        }
    }
    let (nrows, widths) = layout.unwrap_or_else(|| (n, vec![0]));
    (0..nrows)
        .map(|row| {
            let mut cells: Vec<&str> = (0..widths.len())
                .map(|c| words.get(row + nrows * c).copied().unwrap_or(""))
                .collect();
            while cells.last().is_some_and(|c| c.is_empty()) {
                cells.pop();
            }
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use procd_protocol::ProcessState;
    use procd_protocol::api::StreamConfigInfo;

    fn info(group: &str, name: &str, state: &str, desc: &str) -> ProcessInfo {
        let state = ProcessState::from_name(state).expect("state name");
        crate::types::test_info(group, name, state, desc)
    }

    #[test]
    fn status_width_grows_with_longest_name() {
        let lines = status_lines(&[
            info("good", "good", "RUNNING", "pid 1, uptime 0:00:01"),
            info("g", "x", "STARTING", ""),
        ]);
        assert_eq!(
            lines[0],
            format!("{:<33}{:<10}{}", "good", "RUNNING", "pid 1, uptime 0:00:01")
        );
        assert_eq!(lines[1], "g:x                              STARTING  ");
        let long = "l".repeat(40);
        let lines = status_lines(&[info(&long, &long, "STOPPED", "Not started")]);
        assert_eq!(lines[0], format!("{long}   STOPPED   Not started"));
    }

    #[test]
    fn avail_and_reread() {
        let stream = StreamConfigInfo {
            capture_maxbytes: 0,
            events_enabled: false,
            logfile: "none".into(),
            logfile_backups: 0,
            logfile_maxbytes: 0,
            syslog: false,
        };
        let c = ConfigInfo {
            autostart: true,
            directory: None,
            uid: None,
            command: "/bin/cat".into(),
            exitcodes: vec![0],
            group: "listener".into(),
            group_prio: -1,
            inuse: true,
            killasgroup: false,
            name: "listener".into(),
            process_prio: 999,
            redirect_stderr: false,
            startretries: 3,
            startsecs: 1,
            stdout: stream.clone(),
            stopsignal: procd_protocol::Signal::TERM,
            stopwaitsecs: 10,
            stderr: stream,
            serverurl: None,
        };
        assert_eq!(
            avail_line(&c),
            "listener                         in use    auto      -1:999"
        );
        let diff = ReloadResult {
            added: vec!["z".into()],
            changed: vec!["a".into()],
            removed: vec!["m".into()],
        };
        assert_eq!(
            reread_lines(&diff),
            ["a: changed", "m: disappeared", "z: available"]
        );
        assert_eq!(
            reread_lines(&ReloadResult::default()),
            ["No config updates to processes"]
        );
    }

    #[test]
    fn result_lines() {
        let r = |status, description: &str| ResultStruct {
            name: "a".into(),
            group: "g".into(),
            status,
            description: description.into(),
        };
        assert_eq!(start_result(&r(80, "OK")), Ok("g:a: started".into()));
        assert_eq!(
            start_result(&r(50, "")),
            Ok("g:a: ERROR (spawn error)".into())
        );
        assert_eq!(
            start_result(&r(99, "")),
            Err("Unknown result code 99 for g:a".into())
        );
        assert_eq!(
            signal_result(&r(80, ""), "stopped"),
            Ok("g:a: stopped".into())
        );
        assert_eq!(
            signal_result(&r(30, "FAILED: boom"), "stopped"),
            Ok("FAILED: boom".into())
        );
        assert_eq!(
            signal_result(&r(70, ""), "signalled"),
            Ok("g:a: ERROR (not running)".into())
        );
        assert_eq!(clear_result(&r(30, "")), Ok("g:a: ERROR (failed)".into()));
    }

    #[test]
    fn columnize_matches_help_table() {
        let words = [
            "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
            "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
            "update", "version",
        ];
        assert_eq!(
            columnize(&words, 79),
            [
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }
}
