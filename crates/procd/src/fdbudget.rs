//! File descriptors as a budget: how many a configuration needs, so the daemon can raise its soft
//! `RLIMIT_NOFILE` to that (never below `minfds`, as supervisord), fit the configuration into a hard
//! limit that is too low for it ([`Plan`]), and say clearly at start-up what it does then and which
//! programs will not fit anyway.
//!
//! A running program costs procd only the descriptors it uses (see `Supervisor::output_read`): the
//! write end of its stdin pipe (`sendProcessStdin`, event listeners), one pipe read end per output
//! channel that something reads (a log file, syslog, capture mode, PROCESS_LOG events, the main log at
//! debug level, a listener's protocol, a `log:` ready check) and that channel's log file. Output that
//! nothing reads goes to `/dev/null` in the child, costing procd nothing. When the limit cannot hold
//! all that, log files are opened on demand from a bounded set, and then stdin and stdout share one
//! socket per program (docs/performance.md, "Descriptors").

use procd_config::{
    Config, GroupConfig, GroupKind, LogConfig, LogLevel as Level, LogTarget, ProcessConfig,
    ReadyCheck,
};

/// Descriptors procd holds whatever the programs: the runtime (epoll, eventfd, signal pipe), the main
/// log, the listening sockets, the spawn slots and `/dev/null`, and room for HTTP clients.
pub const RESERVE: u64 = 64;

/// What one running program costs procd, in descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// Pipes (and sockets) procd holds: the write end of the child's stdin, the read end of each output
    /// channel something reads, the readiness socket.
    pub pipes: u64,
    /// Log files, held open while the program's logs are (all of them, unless [`Plan::open_logs`]
    /// bounds them).
    pub files: u64,
    /// Whether the child's stdin and stdout may share one socket under [`Plan::shared_stdio`] (saving
    /// one descriptor): both are procd's, stdout is read and the program is not an event listener.
    pub shareable: bool,
}

impl Cost {
    /// Descriptors held under `plan`, log files not counted when they are bounded.
    pub fn under(&self, plan: &Plan) -> u64 {
        let pipes = self.pipes - u64::from(plan.shared_stdio && self.shareable);
        if plan.open_logs.is_some() {
            pipes
        } else {
            pipes + self.files
        }
    }
}

/// What one running program costs procd (`fcgi`: its stdin is the group's socket, not a pipe).
pub fn program_cost(p: &ProcessConfig, listener: bool, fcgi: bool, debug: bool) -> Cost {
    // The write end of the child's stdin pipe (a FastCGI child gets the group's socket instead, which
    // counts once per group).
    let mut cost = Cost {
        pipes: u64::from(!fcgi),
        ..Cost::default()
    };
    let log_ready = matches!(p.ready_check, Some(ReadyCheck::Log { .. }));
    for (log, stdout) in [(&p.stdout, true), (&p.stderr, false)] {
        if !stdout && p.redirect_stderr {
            continue;
        }
        let file = has_file(log);
        let read = file
            || log.syslog
            || log.capture_maxbytes > 0
            || log.events_enabled
            || debug
            || (listener && stdout)
            || log_ready;
        cost.pipes += u64::from(read);
        cost.files += u64::from(file);
        if stdout {
            cost.shareable = read && !fcgi && !listener;
        }
    }
    if p.ready_check == Some(ReadyCheck::Notify) {
        cost.pipes += 1;
    }
    cost
}

fn has_file(log: &LogConfig) -> bool {
    matches!(log.file, LogTarget::Auto | LogTarget::Path(_))
}

/// What a configuration needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Need {
    /// Descriptors for every program running at once with every log file open, plus [`RESERVE`].
    pub total: u64,
    /// Of `total`, the log files.
    pub files: u64,
    /// Programs whose stdin and stdout could share one socket.
    pub shareable: u64,
    /// Programs started automatically, in start order, with what each costs.
    pub autostart: Vec<(String, Cost)>,
}

pub fn need(config: &Config) -> Need {
    need_of(config.groups.iter(), debug(config))
}

/// Whether the main log is at debug level (then every output channel is read).
pub fn debug(config: &Config) -> bool {
    config.supervisord.loglevel <= Level::Debug
}

/// What these groups need (the active ones, after `addProcessGroup`).
pub fn need_of<'a>(groups: impl Iterator<Item = &'a GroupConfig>, debug: bool) -> Need {
    let mut need = Need {
        total: RESERVE,
        files: 0,
        shareable: 0,
        autostart: Vec::new(),
    };
    for group in groups {
        let listener = matches!(group.kind, GroupKind::EventListener(_));
        let fcgi = matches!(group.kind, GroupKind::Fcgi(_));
        if fcgi {
            need.total += 1;
        }
        for p in &group.processes {
            let c = program_cost(p, listener, fcgi, debug);
            need.total += c.pipes + c.files;
            need.files += c.files;
            need.shareable += u64::from(c.shareable);
            if p.autostart {
                need.autostart.push((p.namespec(), c));
            }
        }
    }
    need
}

/// What one group adds to [`Need::total`] (a FastCGI group's socket included).
pub fn group_total(group: &GroupConfig, debug: bool) -> u64 {
    let listener = matches!(group.kind, GroupKind::EventListener(_));
    let fcgi = matches!(group.kind, GroupKind::Fcgi(_));
    let processes: u64 = group
        .processes
        .iter()
        .map(|p| program_cost(p, listener, fcgi, debug))
        .map(|c| c.pipes + c.files)
        .sum();
    u64::from(fcgi) + processes
}

/// The fewest log files kept open at once when they are bounded.
pub const MIN_OPEN_LOGS: u64 = 16;

/// How procd fits a configuration into its descriptor limit. The default (everything open, a pipe per
/// channel) is what supervisord does; the rest applies only when the limit cannot hold that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    /// At most this many child log files are open at once; the others are closed (least recently
    /// written first) and reopened in append mode at their next write. `None`: all stay open.
    pub open_logs: Option<u64>,
    /// A child whose stdin and stdout both go to procd gets one socket pair for both instead of two
    /// pipes: one descriptor in procd instead of two.
    pub shared_stdio: bool,
}

impl Plan {
    /// Descriptors needed under this plan (the bounded log files at their bound).
    pub fn total(&self, need: &Need) -> u64 {
        let mut total = need.total;
        if let Some(open) = self.open_logs {
            total = total - need.files + open.min(need.files);
        }
        if self.shared_stdio {
            total -= need.shareable;
        }
        total
    }
}

/// The cheapest way to run `need` within `limit` descriptors (procd's soft limit, once raised as far
/// as the hard limit allows): everything open when it fits; else a bounded set of open log files
/// (everything the limit leaves after the pipes, at least [`MIN_OPEN_LOGS`]); else that and one
/// socket per program for stdin and stdout.
pub fn plan(need: &Need, limit: u64) -> Plan {
    if need.total <= limit {
        return Plan::default();
    }
    let min_logs = need.files.min(MIN_OPEN_LOGS);
    let base = need.total - need.files;
    if base + min_logs <= limit {
        return Plan {
            open_logs: Some(limit - base),
            shared_stdio: false,
        };
    }
    let shared_base = base - need.shareable;
    Plan {
        open_logs: Some(limit.saturating_sub(shared_base).max(min_logs)),
        shared_stdio: true,
    }
}

/// The start-up warning when the plan is not the default: what procd does differently and why.
pub fn plan_message(need: &Need, plan: &Plan, limit: u64) -> Option<String> {
    let open = plan.open_logs?;
    let mut msg = format!(
        "this configuration needs {} file descriptors with every log file open but RLIMIT_NOFILE \
         allows {limit}: at most {open} of its {} log files stay open at once (the others are \
         reopened in append mode when written to)",
        need.total, need.files
    );
    if plan.shared_stdio {
        msg.push_str(&format!(
            ", and the stdin and stdout of {} programs share one socket instead of two pipes \
             (sendProcessStdin works; the child's fds 0 and 1 are a socket)",
            need.shareable
        ));
    }
    Some(msg)
}

/// The start-up warning when the hard limit cannot hold the configuration even under `plan`: the
/// numbers needed and the programs (in start order) beyond what the limit allows. `None` when
/// everything fits.
pub fn shortfall_message(need: &Need, plan: &Plan, hard: u64) -> Option<String> {
    let least = plan.total(need);
    if least <= hard {
        return None;
    }
    let mut used = RESERVE + plan.open_logs.map_or(0, |n| n.min(need.files));
    let mut left_out = Vec::new();
    for (name, cost) in &need.autostart {
        used += cost.under(plan);
        if used > hard {
            left_out.push(name.as_str());
        }
    }
    let mut msg = format!("this configuration needs {} file descriptors", need.total);
    if least != need.total {
        msg.push_str(&format!(" ({least} with the fewest log files open)"));
    }
    msg.push_str(&format!(
        " but the hard RLIMIT_NOFILE is {hard} and cannot be raised by procd"
    ));
    if left_out.is_empty() {
        msg.push_str("; not every program can run at once");
    } else {
        const SHOWN: usize = 20;
        let names = left_out[..left_out.len().min(SHOWN)].join(", ");
        let more = left_out.len().saturating_sub(SHOWN);
        msg.push_str(&format!(
            "; {} autostart programs will not fit and fail with \"too many open files\": {names}",
            left_out.len()
        ));
        if more > 0 {
            msg.push_str(&format!(" and {more} more"));
        }
    }
    msg.push_str(
        " (raise the hard limit, e.g. LimitNOFILE= or ulimit -Hn, or send less output to logs: \
         a program whose output is NONE costs one descriptor)",
    );
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.conf");
        std::fs::write(&path, text).unwrap();
        let mut opts = procd_config::LoadOptions::from_process();
        opts.cwd = dir.path().to_path_buf();
        procd_config::load(&path, &opts).unwrap().config
    }

    fn programs(n: usize, options: &str) -> String {
        let mut s = String::from("[supervisord]\n");
        for i in 0..n {
            s.push_str(&format!(
                "[program:p{i:03}]\ncommand=sleep 100\npriority={i}\n{options}\n"
            ));
        }
        s
    }

    fn total(c: &Config) -> u64 {
        need(c).total
    }

    #[test]
    fn unlogged_programs_cost_one_descriptor() {
        let need = need(&load(&programs(
            3,
            "stdout_logfile=NONE\nstderr_logfile=NONE",
        )));
        assert_eq!(need.total, RESERVE + 3);
        assert_eq!((need.files, need.shareable), (0, 0));
    }

    #[test]
    fn each_read_channel_costs_a_pipe_and_each_file_a_descriptor() {
        // Default: AUTO logs for stdout and stderr: stdin + 2 pipes + 2 files.
        assert_eq!(total(&load(&programs(1, ""))), RESERVE + 5);
        // redirect_stderr: one channel.
        assert_eq!(
            total(&load(&programs(1, "redirect_stderr=true"))),
            RESERVE + 3
        );
        // Capture mode without a file still needs the pipe.
        assert_eq!(
            total(&load(&programs(
                1,
                "stdout_logfile=NONE\nstderr_logfile=NONE\nstdout_capture_maxbytes=1MB"
            ))),
            RESERVE + 2
        );
        // The main log at debug level reads every channel.
        let mut c = load(&programs(1, "stdout_logfile=NONE\nstderr_logfile=NONE"));
        c.supervisord.loglevel = Level::Debug;
        assert_eq!(total(&c), RESERVE + 3);
    }

    #[test]
    fn the_plan_degrades_only_as_far_as_the_limit_needs() {
        // 100 programs with their own stdout log: stdin + stdout pipe + file each.
        let need = need(&load(&programs(100, "redirect_stderr=true")));
        assert_eq!(
            (need.total, need.files, need.shareable),
            (RESERVE + 300, 100, 100)
        );
        // Fits: everything open, pipes as supervisord.
        for limit in [RESERVE + 300, 100_000] {
            assert_eq!(plan(&need, limit), Plan::default());
            assert_eq!(plan_message(&need, &plan(&need, limit), limit), None);
        }
        // Pipes fit with at least MIN_OPEN_LOGS files: the rest of the limit goes to log files.
        let p = plan(&need, RESERVE + 250);
        assert_eq!(
            p,
            Plan {
                open_logs: Some(50),
                shared_stdio: false
            }
        );
        assert_eq!(p.total(&need), RESERVE + 250);
        assert_eq!(shortfall_message(&need, &p, RESERVE + 250), None);
        let msg = plan_message(&need, &p, RESERVE + 250).unwrap();
        assert!(msg.contains("at most 50 of its 100 log files"), "{msg}");
        assert!(!msg.contains("socket"), "{msg}");
        // Too few for the pipes: stdin and stdout share a socket, the rest goes to log files.
        let p = plan(&need, RESERVE + 150);
        assert_eq!(
            p,
            Plan {
                open_logs: Some(50),
                shared_stdio: true
            }
        );
        assert_eq!(p.total(&need), RESERVE + 150);
        assert_eq!(shortfall_message(&need, &p, RESERVE + 150), None);
        let msg = plan_message(&need, &p, RESERVE + 150).unwrap();
        assert!(
            msg.contains("stdin and stdout of 100 programs share"),
            "{msg}"
        );
        // Even that does not fit: the fewest log files, and a shortfall.
        let p = plan(&need, RESERVE + 110);
        assert_eq!(p.open_logs, Some(MIN_OPEN_LOGS));
        assert!(p.shared_stdio);
        let msg = shortfall_message(&need, &p, RESERVE + 110).unwrap();
        assert!(
            msg.contains("needs 364 file descriptors (180 with the fewest log files open)"),
            "{msg}"
        );
        // 64 + 16 + one per program: p000 .. p093 fit.
        assert!(msg.contains("6 autostart programs will not fit"), "{msg}");
        assert!(
            msg.contains(": p094, p095, p096, p097, p098, p099 ("),
            "{msg}"
        );
    }

    #[test]
    fn listeners_and_unread_stdout_never_share_a_socket() {
        let mut text = programs(2, "stdout_logfile=NONE\nstderr_logfile=%(here)s/e.log");
        text.push_str(
            "[eventlistener:l]\ncommand=cat\nevents=TICK_5\nstdout_logfile=%(here)s/l.log\n",
        );
        let need = need(&load(&text));
        // Programs: stdin + stderr pipe + file; the listener: stdin + stdout + file + stderr (AUTO).
        assert_eq!(need.files, 2 + 2);
        assert_eq!(need.shareable, 0);
    }

    #[test]
    fn shortfall_names_what_does_not_fit_in_start_order() {
        let need = need(&load(&programs(5, "redirect_stderr=true")));
        assert_eq!(need.total, RESERVE + 15);
        let p = plan(&need, RESERVE + 15);
        assert_eq!(shortfall_message(&need, &p, RESERVE + 15), None);
        // Sharing and 5 open log files need RESERVE + 10.
        let p = plan(&need, RESERVE + 9);
        let msg = shortfall_message(&need, &p, RESERVE + 9).unwrap();
        assert!(
            msg.contains("needs 79 file descriptors (74 with the fewest log files open)"),
            "{msg}"
        );
        assert!(msg.contains("1 autostart programs will not fit"), "{msg}");
        assert!(msg.contains(": p004 ("), "{msg}");
        // Without any plan, the full cost counts.
        let msg = shortfall_message(&need, &Plan::default(), RESERVE + 9).unwrap();
        assert!(msg.contains("2 autostart programs will not fit"), "{msg}");
        assert!(msg.contains(": p003, p004 ("), "{msg}");
    }
}
