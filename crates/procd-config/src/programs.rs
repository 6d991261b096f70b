//! Process groups: `[group:x]`, `[program:x]`, `[eventlistener:x]`, `[fcgi-program:x]`,
//! built in supervisord's order (heterogeneous groups first, then homogeneous program,
//! listener and FastCGI groups) and stably sorted by (priority, name).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use procd_protocol::Signal;

use crate::ctx::Ctx;
use crate::events::is_event_type;
use crate::expand::{self, ExpVal, Names};
use crate::model::*;
use crate::{paths, readiness, shlex, users, values};

pub(crate) fn process_groups(cx: &mut Ctx<'_>) -> Vec<GroupConfig> {
    let here = cx.here_names();
    let sections = cx.ini.sections();
    let mut groups = Vec::new();
    let mut grouped: Vec<String> = Vec::new();

    for section in sections.iter().filter(|s| s.starts_with("group:")) {
        let raw_name = &section["group:".len()..];
        let name = match values::process_or_group_name(raw_name) {
            Ok(n) => n,
            Err(m) => {
                cx.error(section, None, m);
                continue;
            }
        };
        let programs = match cx.get(section, "programs", &here) {
            Ok(Some(v)) => values::list_of_strings(&v),
            _ => Vec::new(),
        };
        let priority = cx.typed(section, "priority", &here, 999, values::signed32);
        let mut processes = Vec::new();
        for program in programs {
            let psect = format!("program:{program}");
            let fsect = format!("fcgi-program:{program}");
            let (has_p, has_f) = (cx.ini.has_section(&psect), cx.ini.has_section(&fsect));
            let target = match (has_p, has_f) {
                (false, false) => {
                    cx.error(
                        section,
                        Some("programs"),
                        format!("[{section}] names unknown program or fcgi-program {program}"),
                    );
                    continue;
                }
                (true, true) => {
                    cx.error(
                        section,
                        Some("programs"),
                        format!("[{section}] name {program} is ambiguous (exists as program and fcgi-program)"),
                    );
                    continue;
                }
                (true, false) => psect,
                (false, true) => fsect,
            };
            grouped.push(target.clone());
            processes.extend(processes_from_section(cx, &target, &name));
        }
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for section in sections
        .iter()
        .filter(|s| s.starts_with("program:") && !grouped.contains(s))
    {
        let Ok(name) = values::process_or_group_name(&section["program:".len()..]) else {
            // Reported by processes_from_section.
            processes_from_section(cx, section, "");
            continue;
        };
        let priority = cx.typed(section, "priority", &here, 999, values::signed32);
        let processes = processes_from_section(cx, section, &name);
        groups.push(GroupConfig {
            name,
            priority,
            kind: GroupKind::Program,
            processes,
        });
    }

    for section in sections.iter().filter(|s| s.starts_with("eventlistener:")) {
        if let Some(g) = listener_pool(cx, section) {
            groups.push(g);
        }
    }

    for section in sections
        .iter()
        .filter(|s| s.starts_with("fcgi-program:") && !grouped.contains(s))
    {
        if let Some(g) = fcgi_group(cx, section) {
            groups.push(g);
        }
    }

    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    groups
}

fn listener_pool(cx: &mut Ctx<'_>, section: &str) -> Option<GroupConfig> {
    let here = cx.here_names();
    let name = section["eventlistener:".len()..].to_string();
    let priority = cx.typed(section, "priority", &here, -1, values::signed32);
    let buffer_size = cx.typed(section, "buffer_size", &here, 10, values::integer);
    if buffer_size < 1 {
        cx.error(
            section,
            Some("buffer_size"),
            format!("[{section}] section sets invalid buffer_size ({buffer_size})"),
        );
    }
    let result_handler = cx
        .get(section, "result_handler", &here)
        .ok()
        .flatten()
        .unwrap_or_else(|| DEFAULT_RESULT_HANDLER.into());
    if ResultHandler::from_spec(&result_handler).is_none() {
        cx.error(
            section,
            Some("result_handler"),
            format!(
                "{result_handler} cannot be resolved within [{section}] (procd cannot load Python code; \
                 it implements {DEFAULT_RESULT_HANDLER} and {SUPERVISOR_STDOUT_HANDLER})"
            ),
        );
    }
    let mut events: Vec<String> = Vec::new();
    let listed = match cx.get(section, "events", &here) {
        Ok(v) => values::list_of_strings(&v.unwrap_or_default()),
        Err(()) => return None,
    };
    for e in listed {
        let up = e.to_uppercase();
        if !events.contains(&up) {
            events.push(up);
        }
    }
    if events.is_empty() {
        cx.error(
            section,
            None,
            format!("[{section}] section requires an \"events\" line"),
        );
    }
    for e in &events {
        if !is_event_type(e) {
            cx.error(
                section,
                Some("events"),
                format!("Unknown event type {e} in [{section}] events"),
            );
        }
    }
    if cx.typed_str(section, "redirect_stderr", &here, "false", values::boolean) == Some(true) {
        cx.error(
            section,
            Some("redirect_stderr"),
            format!(
                "[{section}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
            ),
        );
    }
    let processes = processes_from_section(cx, section, &name);
    let pool = ListenerPoolConfig {
        events,
        buffer_size: usize::try_from(buffer_size).unwrap_or(1),
        result_handler,
    };
    Some(GroupConfig {
        name,
        priority,
        kind: GroupKind::EventListener(pool),
        processes,
    })
}

fn fcgi_group(cx: &mut Ctx<'_>, section: &str) -> Option<GroupConfig> {
    let here = cx.here_names();
    let name = match values::process_or_group_name(&section["fcgi-program:".len()..]) {
        Ok(n) => n,
        Err(m) => {
            cx.error(section, None, m);
            return None;
        }
    };
    let priority = cx.typed(section, "priority", &here, 999, values::signed32);
    let proc_uid = match cx.get(section, "user", &here) {
        Ok(Some(u)) => match users::name_to_uid(&u) {
            Ok(uid) => Some(uid),
            Err(m) => {
                cx.error(section, Some("user"), m);
                None
            }
        },
        _ => None,
    };
    let backlog = match cx.get(section, "socket_backlog", &here) {
        Ok(Some(v)) => match values::integer(&v) {
            Ok(n) if (1..=65535).contains(&n) => n as u32,
            Ok(n) => {
                cx.error(
                    section,
                    Some("socket_backlog"),
                    format!("Invalid socket_backlog value {n}"),
                );
                0
            }
            Err(m) => {
                cx.error(section, Some("socket_backlog"), m);
                0
            }
        },
        _ => libc::SOMAXCONN as u32,
    };
    let owner = match cx.get(section, "socket_owner", &here) {
        Ok(Some(v)) => match users::user_group(&v) {
            Ok(o) => Some(o),
            Err(_) => {
                cx.error(
                    section,
                    Some("socket_owner"),
                    format!("Invalid socket_owner value {v}"),
                );
                None
            }
        },
        _ => None,
    };
    let mode = match cx.get(section, "socket_mode", &here) {
        Ok(Some(v)) => match values::octal(&v) {
            Ok(m) => Some(m),
            Err(_) => {
                cx.error(
                    section,
                    Some("socket_mode"),
                    format!("Invalid socket_mode value {v}"),
                );
                None
            }
        },
        _ => None,
    };
    let mut names = here.clone();
    names.insert("program_name".into(), ExpVal::Str(name.clone()));
    let socket = match cx.get(section, "socket", &names) {
        Ok(Some(s)) if !s.is_empty() => Some(s),
        Ok(_) => {
            cx.error(
                section,
                None,
                format!("[{section}] section requires a \"socket\" line"),
            );
            None
        }
        Err(()) => None,
    };
    let socket =
        socket.and_then(
            |s| match parse_fcgi_socket(cx, &s, proc_uid, owner, mode, backlog) {
                Ok(c) => Some(c),
                Err(m) => {
                    cx.error(
                        section,
                        Some("socket"),
                        format!("{m} in [{section}] socket"),
                    );
                    None
                }
            },
        );
    let processes = processes_from_section(cx, section, &name);
    Some(GroupConfig {
        name,
        priority,
        kind: GroupKind::Fcgi(socket?),
        processes,
    })
}

fn parse_fcgi_socket(
    cx: &Ctx<'_>,
    sock: &str,
    proc_uid: Option<u32>,
    owner: Option<(u32, Option<u32>)>,
    mode: Option<u32>,
    backlog: u32,
) -> Result<FcgiSocketConfig, String> {
    if let Some(path) = sock.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(format!("Unix socket path {path} is not an absolute path"));
        }
        let path = paths::normalize(path, cx.cwd(), cx.env());
        let owner = owner.or_else(|| {
            let uid = proc_uid.filter(|u| *u != users::current_uid())?;
            Some((uid, users::gid_for_uid(uid)))
        });
        return Ok(FcgiSocketConfig {
            url: format!("unix://{}", path.display()),
            kind: FcgiSocketKind::Unix { path },
            backlog,
            owner,
            mode: Some(mode.unwrap_or(0o700)),
        });
    }
    if owner.is_some() || mode.is_some() {
        return Err(
            "socket_owner and socket_mode params should only be used with a Unix domain socket"
                .into(),
        );
    }
    let bad = || format!("Bad socket format {sock}");
    let rest = sock.strip_prefix("tcp://").ok_or_else(bad)?;
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(':') || crate::values::has_space(host) {
        return Err(bad());
    }
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| format!("{port} is out of range (1-65535)"))?;
    let host = host.to_lowercase();
    Ok(FcgiSocketConfig {
        url: format!("tcp://{host}:{port}"),
        kind: FcgiSocketKind::Tcp { host, port },
        backlog,
        owner: None,
        mode: None,
    })
}

/// Reads a logfile option: expanded by `get`, then once more with the per-process names
/// (supervisord 4.3.0 expands it twice; procd keeps the once-expanded text if the second
/// pass fails).
fn logfile_value(
    cx: &mut Ctx<'_>,
    section: &str,
    key: &str,
    names: &Names,
) -> Result<LogTarget, ()> {
    let Some(once) = cx.get(section, key, names)? else {
        return Ok(LogTarget::Auto);
    };
    let v = expand::expand(&once, names, key).unwrap_or(once);
    match v.to_lowercase().as_str() {
        "none" | "off" => Ok(LogTarget::None),
        "auto" => Ok(LogTarget::Auto),
        "syslog" => Ok(LogTarget::Syslog),
        _ => match paths::existing_dirpath(&v, cx.cwd(), cx.env()) {
            Ok(p) => Ok(LogTarget::Path(PathBuf::from(p))),
            Err(m) => {
                cx.error(section, Some(key), m);
                Err(())
            }
        },
    }
}

/// The most processes one section may ask for with `numprocs`. supervisord has no limit; a count above
/// this is a typo (an extra zero or two), and expanding it would take seconds and gigabytes before
/// any error could be shown (`numprocs=1000000`: 13 s and 779 MB for `procd --check`). Every
/// process needs its own pipes and pid, so no real machine runs anywhere near this many from one
/// section.
pub(crate) const MAX_NUMPROCS: i64 = 10_000;

/// `[program:x]`-like section → its processes (`numprocs` of them), sorted by (priority, name); none
/// when the section has an error. Options are read (and their errors reported) in supervisord's order:
/// the section-wide ones first, then per process its environment, directory, logs and command.
fn processes_from_section(
    cx: &mut Ctx<'_>,
    section: &str,
    group_name: &str,
) -> Vec<Arc<ProcessConfig>> {
    let errors_before = cx.errors.len();
    let Some((program_name, mut names)) = section_names(cx, section, group_name) else {
        return Vec::new();
    };
    let opts = SectionOptions::read(cx, section, &names);
    let mut out = Vec::new();
    let end = opts.numprocs_start.saturating_add(opts.numprocs.max(0));
    for process_num in opts.numprocs_start..end {
        let loop_errors = cx.errors.len();
        names.insert("process_num".into(), ExpVal::Int(process_num));
        names.insert("numprocs".into(), ExpVal::Int(opts.numprocs));
        names.extend(cx.environ.iter().map(|(k, v)| (k.clone(), v.clone())));
        let Some(process) = one_process(cx, section, &opts, &mut names) else {
            break;
        };
        out.push(Arc::new(ProcessConfig {
            group: group_name.to_string(),
            program_name: program_name.clone(),
            ..process
        }));
        if cx.errors.len() > loop_errors {
            break;
        }
    }
    if cx.errors.len() > errors_before {
        return Vec::new();
    }
    out.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    out
}

/// The program name from the section header and the expansion names every option of the section sees
/// (`here`, `program_name`, `host_node_name`, `group_name`); `None` after reporting a bad name.
fn section_names(cx: &mut Ctx<'_>, section: &str, group_name: &str) -> Option<(String, Names)> {
    let tail = section.split_once(':').map_or("", |(_, t)| t);
    let program_name = match values::process_or_group_name(tail) {
        Ok(n) => n,
        Err(m) => {
            cx.error(section, None, m);
            return None;
        }
    };
    let mut names: Names = cx.here_names();
    names.insert("program_name".into(), ExpVal::Str(program_name.clone()));
    names.insert(
        "host_node_name".into(),
        ExpVal::Str(cx.opts.host_node_name.clone()),
    );
    names.insert("group_name".into(), ExpVal::Str(group_name.to_string()));
    Some((program_name, names))
}

/// What a capture option pair (`*_capture_maxbytes`, `*_events_enabled`) says for one channel.
#[derive(Clone, Copy)]
struct Capture {
    maxbytes: u64,
    events: bool,
}

/// The options of a program-like section that every one of its processes shares.
struct SectionOptions {
    priority: i32,
    autostart: bool,
    autorestart: AutoRestart,
    startsecs: u64,
    startretries: u32,
    stopsignal: Signal,
    stopwaitsecs: u64,
    stopasgroup: bool,
    killasgroup: bool,
    exitcodes: Vec<i32>,
    redirect_stderr: bool,
    numprocs: i64,
    numprocs_start: i64,
    /// Expanded per process.
    environment_raw: String,
    stdout: Capture,
    stderr: Capture,
    serverurl: Option<String>,
    user: Option<UserSpec>,
    umask: Option<u32>,
    /// Expanded per process.
    process_name: String,
    /// Options neither supervisord nor procd knows, raw.
    extra: BTreeMap<String, String>,
    depends_on: Vec<DependsOn>,
    ready_timeout: Duration,
    ready_interval: Duration,
}

impl SectionOptions {
    /// Reads and checks the section-wide options, reporting errors in supervisord's order.
    fn read(cx: &mut Ctx<'_>, section: &str, names: &Names) -> SectionOptions {
        let priority = cx.typed(section, "priority", names, 999, values::signed32);
        let autostart = cx
            .typed_str(section, "autostart", names, "true", values::boolean)
            .unwrap_or(true);
        let autorestart = cx
            .typed_str(
                section,
                "autorestart",
                names,
                "unexpected",
                values::autorestart,
            )
            .unwrap_or(AutoRestart::Unexpected);
        let startsecs = cx.typed(section, "startsecs", names, 1, values::unsigned::<u64>);
        let startretries = cx.typed(section, "startretries", names, 3, values::unsigned::<u32>);
        let stopsignal = cx.typed(section, "stopsignal", names, Signal::TERM, |v| {
            Signal::parse(v).ok_or_else(|| {
                format!(
                    "value {} is not a valid signal name",
                    crate::pyrepr::repr(v)
                )
            })
        });
        let stopwaitsecs = cx.typed(section, "stopwaitsecs", names, 10, values::unsigned::<u64>);
        let stopasgroup = cx
            .typed_str(section, "stopasgroup", names, "false", values::boolean)
            .unwrap_or(false);
        let killasgroup = cx.typed(section, "killasgroup", names, stopasgroup, values::boolean);
        let exitcodes = cx
            .typed_str(section, "exitcodes", names, "0", values::exitcodes)
            .unwrap_or_else(|| vec![0]);
        let redirect_stderr = cx
            .typed_str(section, "redirect_stderr", names, "false", values::boolean)
            .unwrap_or(false);
        let mut numprocs = cx.typed(section, "numprocs", names, 1, values::integer);
        if numprocs > MAX_NUMPROCS {
            cx.error(
                section,
                Some("numprocs"),
                format!(
                    "numprocs={numprocs} is more than procd's limit of {MAX_NUMPROCS} processes per \
                     section (supervisord has no limit, but could not run that many either)"
                ),
            );
            numprocs = 0;
        }
        let numprocs_start = cx.typed(section, "numprocs_start", names, 0, values::integer);
        let environment_raw = cx.raw(section, "environment").unwrap_or_default();
        let stdout = Capture::read(cx, section, "stdout", names);
        let stderr = Capture::read(cx, section, "stderr", names);
        let serverurl = cx
            .get(section, "serverurl", names)
            .ok()
            .flatten()
            .filter(|u| !crate::ini::py_strip(u).eq_ignore_ascii_case("auto"));
        let user = match cx.get(section, "user", names) {
            Ok(Some(u)) => users::user_spec(&u)
                .map_err(|m| cx.error(section, Some("user"), m))
                .ok(),
            _ => None,
        };
        let umask = cx.typed(section, "umask", names, None, |v| {
            values::octal(v).map(Some)
        });
        let process_name = process_name(cx, section, numprocs);
        if stopasgroup && !killasgroup {
            cx.error(
                section,
                Some("killasgroup"),
                "Cannot set stopasgroup=true and killasgroup=false",
            );
        }
        let depends_on = cx.typed(
            section,
            "depends_on",
            names,
            Vec::new(),
            readiness::depends_on,
        );
        let ready_timeout = cx.typed(
            section,
            "ready_timeout",
            names,
            DEFAULT_READY_TIMEOUT,
            readiness::duration,
        );
        let ready_interval = cx.typed(
            section,
            "ready_interval",
            names,
            DEFAULT_READY_INTERVAL,
            readiness::duration,
        );
        let extra: BTreeMap<String, String> = cx
            .ini
            .options(section)
            .into_iter()
            .filter(|k| !crate::known::is_process_key(k))
            .filter_map(|k| cx.raw(section, &k).map(|v| (k, v)))
            .collect();
        SectionOptions {
            priority,
            autostart,
            autorestart,
            startsecs,
            startretries,
            stopsignal,
            stopwaitsecs,
            stopasgroup,
            killasgroup,
            exitcodes,
            redirect_stderr,
            numprocs,
            numprocs_start,
            environment_raw,
            stdout,
            stderr,
            serverurl,
            user,
            umask,
            process_name,
            extra,
            depends_on,
            ready_timeout,
            ready_interval,
        }
    }
}

impl Capture {
    /// `<chan>_capture_maxbytes` then `<chan>_events_enabled`.
    fn read(cx: &mut Ctx<'_>, section: &str, chan: &str, names: &Names) -> Capture {
        let maxbytes = cx
            .typed_str(
                section,
                &format!("{chan}_capture_maxbytes"),
                names,
                "0",
                values::byte_size,
            )
            .unwrap_or(0);
        let events = cx
            .typed_str(
                section,
                &format!("{chan}_events_enabled"),
                names,
                "false",
                values::boolean,
            )
            .unwrap_or(false);
        Capture { maxbytes, events }
    }
}

/// The raw `process_name` template (checked as a name; must hold `%(process_num)` when there are
/// several processes).
fn process_name(cx: &mut Ctx<'_>, section: &str, numprocs: i64) -> String {
    let raw = cx
        .raw(section, "process_name")
        .unwrap_or_else(|| "%(program_name)s".into());
    let name = match values::process_or_group_name(&raw) {
        Ok(n) => n,
        Err(m) => {
            cx.error(section, Some("process_name"), m);
            String::new()
        }
    };
    if numprocs > 1 && !name.contains("%(process_num)") {
        cx.error(
            section,
            Some("process_name"),
            "%(process_num) must be present within process_name when numprocs > 1",
        );
    }
    name
}

/// One process of the section with the per-process `names` (its `ENV_*` names are added); `None` when
/// the section has no command (the loop over processes stops there, like supervisord's).
/// `group` and `program_name` are left for the caller.
fn one_process(
    cx: &mut Ctx<'_>,
    section: &str,
    opts: &SectionOptions,
    names: &mut Names,
) -> Option<ProcessConfig> {
    let environment = cx
        .expand_with(
            section,
            "environment",
            &opts.environment_raw,
            names,
            "environment",
        )
        .and_then(|s| {
            shlex::key_value_pairs(&s)
                .map_err(|m| cx.error(section, Some("environment"), m))
                .ok()
        })
        .unwrap_or_default();
    for (k, v) in &environment {
        names.insert(format!("ENV_{k}"), ExpVal::Str(v.clone()));
    }
    let policies = crate::policies::read(cx, section, names);
    let directory = cx
        .get(section, "directory", names)
        .ok()
        .flatten()
        .map(PathBuf::from);
    let [stdout, mut stderr] =
        ["stdout", "stderr"].map(|chan| channel_log(cx, section, chan, names));
    if opts.redirect_stderr {
        if !matches!(stderr.file, LogTarget::Auto | LogTarget::None) {
            cx.warnings.push(format!(
                "For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
            ));
        }
        stderr.file = LogTarget::None;
    }
    let command = match cx.get(section, "command", names) {
        Ok(Some(c)) => c,
        Ok(None) => {
            cx.error(
                section,
                None,
                format!("program section {section} does not specify a command"),
            );
            return None;
        }
        Err(()) => String::new(),
    };
    let liveness = readiness::liveness(cx, section, names);
    let ready_check = match cx.get(section, "ready_check", names) {
        Ok(Some(v)) => readiness::ready_check(&v)
            .map_err(|m| cx.error(section, Some("ready_check"), m))
            .ok(),
        _ => None,
    };
    let name = cx
        .expand_with(
            section,
            "process_name",
            &opts.process_name,
            names,
            "process_name",
        )
        .unwrap_or_default();
    let (argv, command_error) = match shlex::split(&command) {
        Ok(a) => (a, None),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "can't parse command {}: {e}",
                crate::pyrepr::repr(&command)
            )),
        ),
    };
    let finish_log = |i: usize, log: LogConfig, capture: Capture| LogConfig {
        capture_maxbytes: capture.maxbytes,
        events_enabled: capture.events,
        timestamp: policies.timestamps[i],
        format: policies.formats[i],
        ..log
    };
    // kill_mode=process/group are spelled-out stopasgroup/killasgroup settings.
    let (stopasgroup, killasgroup) = match policies.kill_mode {
        Some(KillMode::Process) => (false, false),
        Some(KillMode::Group) => (true, true),
        Some(KillMode::Cgroup) | None => (opts.stopasgroup, opts.killasgroup),
    };
    Some(ProcessConfig {
        name,
        group: String::new(),
        program_name: String::new(),
        command,
        argv,
        command_error,
        priority: opts.priority,
        autostart: opts.autostart,
        startsecs: opts.startsecs,
        startretries: opts.startretries,
        autorestart: opts.autorestart,
        exitcodes: opts.exitcodes.clone(),
        stopsignal: opts.stopsignal,
        stopwaitsecs: opts.stopwaitsecs,
        stopasgroup,
        killasgroup,
        user: opts.user.clone(),
        directory,
        umask: opts.umask,
        environment,
        redirect_stderr: opts.redirect_stderr,
        stdout: finish_log(0, stdout, opts.stdout),
        stderr: finish_log(1, stderr, opts.stderr),
        serverurl: opts.serverurl.clone(),
        environment_files: policies.environment_files.clone(),
        restart: policies.restart,
        kill_mode: policies.kill_mode,
        extra: opts.extra.clone(),
        depends_on: opts.depends_on.clone(),
        ready_check,
        ready_timeout: opts.ready_timeout,
        ready_interval: opts.ready_interval,
        liveness,
    })
}

/// A channel's log options (`<chan>_logfile`, `_backups`, `_maxbytes`, `_syslog`) with supervisord's
/// warnings for `logfile=syslog` and AUTO logs without rollover; capture and procd's format options are set by the caller.
fn channel_log(cx: &mut Ctx<'_>, section: &str, chan: &str, names: &Names) -> LogConfig {
    let key = format!("{chan}_logfile");
    let mut file = logfile_value(cx, section, &key, names).unwrap_or(LogTarget::None);
    let backups = cx.typed(
        section,
        &format!("{chan}_logfile_backups"),
        names,
        10,
        values::unsigned::<u32>,
    );
    let maxbytes = cx
        .typed_str(
            section,
            &format!("{chan}_logfile_maxbytes"),
            names,
            "50MB",
            values::byte_size,
        )
        .unwrap_or(50 << 20);
    let mut syslog = cx
        .typed_str(
            section,
            &format!("{chan}_syslog"),
            names,
            "false",
            values::boolean,
        )
        .unwrap_or(false);
    if file == LogTarget::Syslog {
        cx.warnings.push(format!(
            "For [{section}], {key}=syslog but this is deprecated and will be removed.  Use {chan}_syslog=true to enable syslog instead."
        ));
        file = LogTarget::None;
        syslog = true;
    }
    if file == LogTarget::Auto && maxbytes == 0 {
        cx.warnings.push(format!(
            "For [{section}], AUTO logging used for {key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
        ));
    }
    LogConfig {
        file,
        maxbytes,
        backups,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog,
        timestamp: None,
        format: LogFormat::default(),
    }
}
