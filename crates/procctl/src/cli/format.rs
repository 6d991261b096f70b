//! Pure text formatting of supervisorctl output: status tables, `avail` lines, `reread` summaries,
//! per-process result lines and the column layout of `help`.

use crate::faults;
use crate::types::{CallResult, ConfigInfo, ProcessInfo, ReloadDiff};

/// `group:name`, or just `name` when the process is alone in a group of the same name.
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// Splits `group:name` / `group:*` / `group:` / `name` into (group, Some(process) or None for the whole group).
pub fn split_namespec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((group, "" | "*")) => (group, None),
        Some((group, process)) => (group, Some(process)),
        None => (spec, Some(spec)),
    }
}

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
        .map(|(info, spec)| format!("{spec:<width$}{:<10}{}", info.statename, info.description))
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
pub fn reread_lines(diff: &ReloadDiff) -> Vec<String> {
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
pub fn start_result(r: &CallResult) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    let why = match r.status {
        faults::BAD_NAME => "no such process",
        faults::NO_FILE => "no such file",
        faults::NOT_EXECUTABLE => "file is not executable",
        faults::ALREADY_STARTED => "already started",
        faults::SPAWN_ERROR => "spawn error",
        faults::ABNORMAL_TERMINATION => "abnormal termination",
        faults::SUCCESS => return Ok(format!("{name}: started")),
        code => return Err(unknown_result(code, &name)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

/// Line for a signal (or stop, with `success = "stopped"`) result.
pub fn signal_result(r: &CallResult, success: &str) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    let why = match r.status {
        faults::BAD_NAME => "no such process",
        faults::BAD_SIGNAL => "bad signal name",
        faults::NOT_RUNNING => "not running",
        faults::SUCCESS => return Ok(format!("{name}: {success}")),
        faults::FAILED => return Ok(r.description.clone()),
        code => return Err(unknown_result(code, &name)),
    };
    Ok(format!("{name}: ERROR ({why})"))
}

/// Line for a clear-logs result.
pub fn clear_result(r: &CallResult) -> Result<String, String> {
    let name = namespec(&r.group, &r.name);
    match r.status {
        faults::BAD_NAME => Ok(format!("{name}: ERROR (no such process)")),
        faults::FAILED => Ok(format!("{name}: ERROR (failed)")),
        faults::SUCCESS => Ok(format!("{name}: cleared")),
        code => Err(unknown_result(code, &name)),
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

    fn info(group: &str, name: &str, state: &str, desc: &str) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: group.into(),
            statename: state.into(),
            description: desc.into(),
            ..ProcessInfo::default()
        }
    }

    #[test]
    fn namespecs() {
        assert_eq!(namespec("a", "a"), "a");
        assert_eq!(namespec("g", "a"), "g:a");
        assert_eq!(split_namespec("g:*"), ("g", None));
        assert_eq!(split_namespec("g:"), ("g", None));
        assert_eq!(split_namespec("g:a"), ("g", Some("a")));
        assert_eq!(split_namespec("a"), ("a", Some("a")));
        assert_eq!(split_namespec("g:a:b"), ("g", Some("a:b")));
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
        let c = ConfigInfo {
            name: "listener".into(),
            group: "listener".into(),
            inuse: true,
            autostart: true,
            group_prio: -1,
            process_prio: 999,
        };
        assert_eq!(
            avail_line(&c),
            "listener                         in use    auto      -1:999"
        );
        let diff = ReloadDiff {
            added: vec!["z".into()],
            changed: vec!["a".into()],
            removed: vec!["m".into()],
        };
        assert_eq!(
            reread_lines(&diff),
            ["a: changed", "m: disappeared", "z: available"]
        );
        assert_eq!(
            reread_lines(&ReloadDiff::default()),
            ["No config updates to processes"]
        );
    }

    #[test]
    fn result_lines() {
        let r = |status, description: &str| CallResult {
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
