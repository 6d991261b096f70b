//! File descriptors as a budget: how many a configuration needs, so the daemon can raise its soft
//! `RLIMIT_NOFILE` to that (never below `minfds`, as supervisord) and say clearly, at start-up, when the
//! hard limit is too low and which programs will not fit.
//!
//! A running program costs procd only the descriptors it uses (see `Supervisor::output_read`): the
//! write end of its stdin pipe (`sendProcessStdin`, event listeners), one pipe read end per output
//! channel that something reads (a log file, syslog, capture mode, PROCESS_LOG events, the main log at
//! debug level, a listener's protocol, a `log:` ready check) and that channel's log file. Output that
//! nothing reads goes to `/dev/null` in the child, costing procd nothing.

use procd_config::{
    Config, GroupKind, LogConfig, LogLevel as Level, LogTarget, ProcessConfig, ReadyCheck,
};

/// Descriptors procd holds whatever the programs: the runtime (epoll, eventfd, signal pipe), the main
/// log, the listening sockets, the spawn slots and `/dev/null`, and room for HTTP clients.
pub const RESERVE: u64 = 64;

/// Descriptors one running program holds in procd.
pub fn program_fds(p: &ProcessConfig, listener: bool, debug: bool) -> u64 {
    // The write end of the child's stdin pipe (a FastCGI child gets the group's socket instead, which
    // counts once per group).
    let mut n = 1;
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
        n += u64::from(read) + u64::from(file);
    }
    if p.ready_check == Some(ReadyCheck::Notify) {
        n += 1;
    }
    n
}

fn has_file(log: &LogConfig) -> bool {
    matches!(log.file, LogTarget::Auto | LogTarget::Path(_))
}

/// What a configuration needs.
#[derive(Debug, PartialEq, Eq)]
pub struct Need {
    /// Descriptors for every program running at once, plus [`RESERVE`].
    pub total: u64,
    /// Programs started automatically, in start order, with what each costs.
    pub autostart: Vec<(String, u64)>,
}

pub fn need(config: &Config) -> Need {
    let debug = config.supervisord.loglevel <= Level::Debug;
    let mut total = RESERVE;
    let mut autostart = Vec::new();
    for group in &config.groups {
        let listener = matches!(group.kind, GroupKind::EventListener(_));
        if matches!(group.kind, GroupKind::Fcgi(_)) {
            total += 1;
        }
        for p in &group.processes {
            let n = program_fds(p, listener, debug);
            total += n;
            if p.autostart {
                autostart.push((p.namespec(), n));
            }
        }
    }
    Need { total, autostart }
}

/// The start-up warning when the hard limit cannot hold the configuration: the number needed and the
/// programs (in start order) beyond what the limit allows. `None` when everything fits.
pub fn shortfall_message(need: &Need, hard: u64) -> Option<String> {
    if need.total <= hard {
        return None;
    }
    let mut used = RESERVE;
    let mut left_out = Vec::new();
    for (name, n) in &need.autostart {
        used += n;
        if used > hard {
            left_out.push(name.as_str());
        }
    }
    let mut msg = format!(
        "this configuration needs {} file descriptors but the hard RLIMIT_NOFILE is {hard} and \
         cannot be raised by procd",
        need.total
    );
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

    #[test]
    fn unlogged_programs_cost_one_descriptor() {
        let need = need(&load(&programs(
            3,
            "stdout_logfile=NONE\nstderr_logfile=NONE",
        )));
        assert_eq!(need.total, RESERVE + 3);
    }

    #[test]
    fn each_read_channel_costs_a_pipe_and_each_file_a_descriptor() {
        // Default: AUTO logs for stdout and stderr: stdin + 2 pipes + 2 files.
        assert_eq!(need(&load(&programs(1, ""))).total, RESERVE + 5);
        // redirect_stderr: one channel.
        assert_eq!(
            need(&load(&programs(1, "redirect_stderr=true"))).total,
            RESERVE + 3
        );
        // Capture mode without a file still needs the pipe.
        assert_eq!(
            need(&load(&programs(
                1,
                "stdout_logfile=NONE\nstderr_logfile=NONE\nstdout_capture_maxbytes=1MB"
            )))
            .total,
            RESERVE + 2
        );
        // The main log at debug level reads every channel.
        let mut c = load(&programs(1, "stdout_logfile=NONE\nstderr_logfile=NONE"));
        c.supervisord.loglevel = Level::Debug;
        assert_eq!(need(&c).total, RESERVE + 3);
    }

    #[test]
    fn shortfall_names_what_does_not_fit_in_start_order() {
        let need = need(&load(&programs(5, "redirect_stderr=true")));
        assert_eq!(need.total, RESERVE + 15);
        assert_eq!(shortfall_message(&need, RESERVE + 15), None);
        let msg = shortfall_message(&need, RESERVE + 9).unwrap();
        assert!(msg.contains("needs 79 file descriptors"), "{msg}");
        assert!(msg.contains("2 autostart programs will not fit"), "{msg}");
        assert!(msg.contains(": p003, p004 ("), "{msg}");
    }
}
