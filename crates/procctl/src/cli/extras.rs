//! procctl's additions to supervisorctl (`wait`, `completions`, `manpage`; `status --json` lives with
//! `status`) and the clap description of the whole command line they are generated from.

use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, Command};

use crate::cli::actions::{select, show_help};
use crate::cli::controller::{CmdResult, Controller, exit};
use crate::cli::format::namespec;
use procd_protocol::ProcessState;

/// The command line as a clap model: global options, then one subcommand per action.
pub fn command() -> Command {
    let names = || {
        Arg::new("names")
            .num_args(0..)
            .value_name("NAME")
            .help("process, group:*, group: or all")
    };
    let opt = |id: &'static str,
               short: char,
               long: &'static str,
               value: &'static str,
               help: &'static str| {
        Arg::new(id)
            .short(short)
            .long(long)
            .value_name(value)
            .help(help)
            .global(true)
    };
    Command::new("procctl")
        .about(
            "Control the programs of a supervisord-compatible server (a drop-in for supervisorctl)",
        )
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true)
        .arg(opt(
            "configuration",
            'c',
            "configuration",
            "FILE",
            "Configuration file (searched for when absent)",
        ))
        .arg(opt(
            "serverurl",
            's',
            "serverurl",
            "URL",
            "Server URL: http://host:port or unix:///path",
        ))
        .arg(opt(
            "username",
            'u',
            "username",
            "USER",
            "User name for authentication",
        ))
        .arg(opt(
            "password",
            'p',
            "password",
            "PASS",
            "Password for authentication",
        ))
        .arg(opt(
            "history_file",
            'r',
            "history_file",
            "FILE",
            "Shell history file",
        ))
        .arg(
            Arg::new("interactive")
                .short('i')
                .long("interactive")
                .action(ArgAction::SetTrue)
                .help("Interactive mode (shell when no action is given)"),
        )
        .subcommand(
            Command::new("add")
                .about("Activate config changes for groups")
                .arg(names()),
        )
        .subcommand(Command::new("avail").about("List configured processes"))
        .subcommand(
            Command::new("clear")
                .about("Clear process logs")
                .arg(names()),
        )
        .subcommand(Command::new("exit").about("Leave the shell"))
        .subcommand(
            Command::new("fg")
                .about("Attach to a running process")
                .arg(Arg::new("name").required(true)),
        )
        .subcommand(
            Command::new("maintail")
                .about("Show or follow the supervisord log")
                .arg(
                    Arg::new("modifier")
                        .value_name("-f|-N")
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(
            Command::new("open")
                .about("Switch server")
                .arg(Arg::new("url").required(true)),
        )
        .subcommand(Command::new("pid").about("Print pids").arg(names()))
        .subcommand(Command::new("quit").about("Leave the shell"))
        .subcommand(Command::new("reload").about("Restart supervisord"))
        .subcommand(
            Command::new("remove")
                .about("Remove groups from the running config")
                .arg(names()),
        )
        .subcommand(Command::new("reread").about("Re-read the configuration"))
        .subcommand(
            Command::new("restart")
                .about("Restart processes")
                .arg(names()),
        )
        .subcommand(Command::new("shutdown").about("Stop supervisord"))
        .subcommand(
            Command::new("signal")
                .about("Signal processes")
                .arg(Arg::new("signal").required(true).value_name("SIGNAL"))
                .arg(names()),
        )
        .subcommand(Command::new("start").about("Start processes").arg(names()))
        .subcommand(
            Command::new("status")
                .about("Show process states")
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(ArgAction::SetTrue)
                        .help("Print JSON"),
                )
                .arg(names()),
        )
        .subcommand(Command::new("stop").about("Stop processes").arg(names()))
        .subcommand(
            Command::new("tail")
                .about("Show or follow a process log")
                .arg(
                    Arg::new("modifier")
                        .short('f')
                        .action(ArgAction::SetTrue)
                        .help("Follow"),
                )
                .arg(Arg::new("name").required(true))
                .arg(Arg::new("channel").value_parser(["stdout", "stderr"])),
        )
        .subcommand(
            Command::new("update")
                .about("Apply config changes")
                .arg(names()),
        )
        .subcommand(Command::new("version").about("Print the server version"))
        .subcommand(
            Command::new("help")
                .about("List actions or explain one")
                .arg(Arg::new("action")),
        )
        .subcommand(
            Command::new("wait")
                .about("Wait until processes are RUNNING")
                .arg(names())
                .arg(Arg::new("timeout").long("timeout").value_name("SECONDS"))
                .arg(
                    Arg::new("ready")
                        .long("ready")
                        .action(ArgAction::SetTrue)
                        .help("Wait for readiness: procd enters RUNNING once a ready_check passed"),
                ),
        )
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script")
                .arg(
                    Arg::new("shell")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        )
        .subcommand(Command::new("manpage").about("Print the manual page"))
}

pub fn do_completions(ctl: &mut Controller, arg: &str) {
    let shell = arg.trim().parse::<clap_complete::Shell>();
    let Ok(shell) = shell else {
        ctl.output(&format!(
            "Error: unknown shell '{}' (bash, zsh, fish, elvish, powershell)",
            arg.trim()
        ));
        ctl.exitstatus = exit::GENERIC;
        return;
    };
    // Completion binds to the name procctl was run as, so `supervisorctl completions bash` serves a
    // procctl installed as `supervisorctl`.
    let bin = std::path::Path::new(&ctl.settings.progname)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("procctl")
        .to_string();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), bin, &mut buf);
    ctl.out.raw(&buf);
}

pub fn do_manpage(ctl: &mut Controller, arg: &str) {
    if !arg.trim().is_empty() {
        ctl.output("Error: manpage accepts no arguments");
        ctl.exitstatus = exit::GENERIC;
        return;
    }
    let mut buf = Vec::new();
    if clap_mangen::Man::new(command()).render(&mut buf).is_err() {
        ctl.exitstatus = exit::GENERIC;
        return;
    }
    ctl.out.raw(&buf);
}

/// Parses `wait` arguments: names, an optional `--timeout S` / `--timeout=S`, and `--ready`.
fn parse_wait(arg: &str) -> Result<(Vec<&str>, Option<Duration>, bool), String> {
    let mut names = Vec::new();
    let mut timeout = None;
    let mut ready = false;
    let mut words = arg.split_whitespace();
    while let Some(w) = words.next() {
        if w == "--ready" {
            ready = true;
            continue;
        }
        let value = if w == "--timeout" {
            Some(words.next().ok_or("--timeout requires a value")?)
        } else {
            w.strip_prefix("--timeout=")
        };
        match value {
            Some(v) => {
                let secs: f64 = v.parse().map_err(|_| format!("bad timeout '{v}'"))?;
                if !secs.is_finite() || secs < 0.0 {
                    return Err(format!("bad timeout '{v}'"));
                }
                timeout = Some(Duration::from_secs_f64(secs));
            }
            None => names.push(w),
        }
    }
    if names.is_empty() {
        return Err("wait requires a process name".into());
    }
    Ok((names, timeout, ready))
}

/// `wait NAME... [--timeout S] [--ready]`: returns when every named process is RUNNING; exit 7 as soon
/// as one is FATAL, 1 on timeout, 4 for an unknown name. A program with procd's `ready_check=` enters
/// RUNNING only once its check passed, so RUNNING is readiness; `--ready` also prints `NAME: ready`
/// for each process and, on timeout, what a start still waits for (`waiting for db (ready)`).
pub fn do_wait(ctl: &mut Controller, arg: &str) -> CmdResult {
    let (names, timeout, ready) = match parse_wait(arg) {
        Ok(x) => x,
        Err(msg) => {
            ctl.output(&format!("Error: {msg}"));
            ctl.exitstatus = exit::INVALID_ARGS;
            show_help(ctl, "wait");
            return Ok(());
        }
    };
    if !ctl.upcheck()? {
        return Ok(());
    }
    let client = ctl.client()?;
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let all = ctl.block(client.get_all_process_info())?;
        let (matching, bad) = select(ctl, &all, &names, false);
        if bad {
            ctl.exitstatus = exit::STATUS_UNKNOWN;
            return Ok(());
        }
        let mut pending = Vec::new();
        for info in matching {
            match info.state {
                ProcessState::Running => {}
                ProcessState::Fatal => {
                    let spec = namespec(&info.group, &info.name);
                    ctl.output(&format!("{spec}: ERROR (FATAL: {})", info.description));
                    ctl.exitstatus = exit::NOT_RUNNING;
                    return Ok(());
                }
                _ => pending.push(info),
            }
        }
        if pending.is_empty() {
            if ready {
                let (matching, _) = select(ctl, &all, &names, false);
                for info in matching {
                    ctl.output(&format!("{}: ready", namespec(&info.group, &info.name)));
                }
            }
            return Ok(());
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            for info in pending {
                let spec = namespec(&info.group, &info.name);
                if ready && info.description.starts_with("waiting for ") {
                    ctl.output(&format!(
                        "{spec}: ERROR (timed out in state {}, {})",
                        info.state.name(),
                        info.description
                    ));
                } else {
                    ctl.output(&format!(
                        "{spec}: ERROR (timed out in state {})",
                        info.state.name()
                    ));
                }
            }
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
        let pause = Duration::from_millis(200);
        let pause = deadline.map_or(pause, |d| {
            pause.min(d.saturating_duration_since(Instant::now()))
        });
        std::thread::sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_model_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn wait_arguments() {
        assert_eq!(parse_wait("a b"), Ok((vec!["a", "b"], None, false)));
        assert_eq!(
            parse_wait("a --timeout 1.5"),
            Ok((vec!["a"], Some(Duration::from_millis(1500)), false))
        );
        assert_eq!(
            parse_wait("--timeout=2 g:* --ready"),
            Ok((vec!["g:*"], Some(Duration::from_secs(2)), true))
        );
        assert!(parse_wait("--ready").is_err());
        assert!(parse_wait("--timeout 2").is_err());
        assert!(parse_wait("a --timeout").is_err());
        assert!(parse_wait("a --timeout -1").is_err());
    }
}
