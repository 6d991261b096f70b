//! procctl's additions to supervisorctl (`wait`, `completions`, `manpage`; `status --json` lives with
//! `status`) and the clap description of the whole command line they are generated from.

use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, Command};

use crate::cli::controller::{CmdResult, Controller, exit};
use crate::cli::format::namespec;
use crate::cli::help::show_help;
use crate::cli::select::select;
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
        // supervisorctl has no version flag (`version` asks the server), and neither has procctl.
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .subcommand_value_name("ACTION")
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
            Command::new("check")
                .about("Health check: fail if a process is BACKOFF, FATAL, UNKNOWN or EXITED unexpectedly")
                .arg(names()),
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

/// The environment variable the completion scripts set to the word being completed; procctl then
/// prints candidates instead of running the action (see `shell::print_completions`).
pub const COMPLETE_ENV: &str = "PROCCTL_COMPLETE";

/// Options that take a value, as the completion scripts must skip them.
const VALUE_OPTIONS: &str =
    "-c --configuration -s --serverurl -u --username -p --password -r --history_file";
const ALL_OPTIONS: &str = "-c --configuration -s --serverurl -u --username -p --password \
    -r --history_file -i --interactive -h --help";

/// A completion script for bash, zsh or fish that completes actions, and process and group names
/// from the running server: it runs the command line typed so far with `PROCCTL_COMPLETE` set to the
/// word at the cursor. `None` for other shells (clap's static scripts serve them).
fn dynamic_script(shell: clap_complete::Shell, bin: &str) -> Option<String> {
    let func: String = bin
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let script = match shell {
        clap_complete::Shell::Bash => format!(
            r#"# bash completion for {bin}: actions, and process and group names from the running server
_{func}() {{
    local line="${{COMP_LINE:0:COMP_POINT}}" cur
    local -a words
    read -r -a words <<< "$line"
    if [[ -z "$line" || "$line" == *[[:space:]] ]]; then
        cur=""
    else
        cur="${{words[${{#words[@]}}-1]}}"
        unset 'words[${{#words[@]}}-1]'
    fi
    case " {VALUE_OPTIONS} " in
        *" ${{words[${{#words[@]}}-1]}} "*)
            case "${{words[${{#words[@]}}-1]}}" in
                -c|--configuration|-r|--history_file) COMPREPLY=($(compgen -f -- "$cur")) ;;
                *) COMPREPLY=() ;;
            esac
            return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "{ALL_OPTIONS}" -- "$cur"))
        return
    fi
    local IFS=$'
'
    COMPREPLY=($({COMPLETE_ENV}="$cur" "${{words[@]}}" 2>/dev/null))
    # bash splits words at ':', so only the part after the last one is replaced.
    if [[ "$cur" == *:* ]]; then
        local pre="${{cur%"${{cur##*:}}"}}"
        COMPREPLY=("${{COMPREPLY[@]#"$pre"}}")
    fi
}}
complete -F _{func} {bin}
"#
        ),
        clap_complete::Shell::Zsh => format!(
            r#"#compdef {bin}
# zsh completion for {bin}: actions, and process and group names from the running server
_{func}() {{
    local cur="${{words[CURRENT]}}"
    local -a before cands
    before=("${{(@Q)words[1,CURRENT-1]}}")
    case "${{words[CURRENT-1]}}" in
        -c|--configuration|-r|--history_file) _files; return ;;
        -s|--serverurl|-u|--username|-p|--password) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        compadd -- {ALL_OPTIONS}
        return
    fi
    cands=("${{(@f)$({COMPLETE_ENV}="$cur" "${{before[@]}}" 2>/dev/null)}}")
    cands=(${{cands:#}})
    compadd -- "${{cands[@]}}"
}}
compdef _{func} {bin}
"#
        ),
        clap_complete::Shell::Fish => format!(
            r#"# fish completion for {bin}: actions, and process and group names from the running server
function __{func}_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    switch "$words[-1]"
        case -c --configuration -r --history_file -s --serverurl -u --username -p --password
            return
    end
    env {COMPLETE_ENV}="$cur" $words 2>/dev/null
end
complete -c {bin} -f -a '(__{func}_complete)'
complete -c {bin} -s c -l configuration -r -F -d 'Configuration file'
complete -c {bin} -s s -l serverurl -x -d 'Server URL'
complete -c {bin} -s u -l username -x -d 'User name'
complete -c {bin} -s p -l password -x -d 'Password'
complete -c {bin} -s r -l history_file -r -F -d 'Shell history file'
complete -c {bin} -s i -l interactive -d 'Interactive mode'
complete -c {bin} -s h -l help -d 'Print help'
"#
        ),
        _ => return None,
    };
    Some(script)
}

/// `completions SHELL` (procd extension): prints the completion script for bash, zsh, fish, elvish or
/// powershell.
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
    if let Some(script) = dynamic_script(shell, &bin) {
        ctl.out.raw(script.as_bytes());
        return;
    }
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), bin, &mut buf);
    ctl.out.raw(&buf);
}

/// Escapes text for a roff line.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\\\").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The usage of one action: `start [NAME]...`, `wait [NAME]... [--timeout SECONDS]`.
fn action_usage(sub: &Command) -> String {
    let mut parts = vec![format!("\\fB{}\\fR", roff(sub.get_name()))];
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        let value = arg.get_value_names().and_then(|v| v.first()).map_or_else(
            || arg.get_id().to_string().to_uppercase(),
            ToString::to_string,
        );
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let text = match arg.get_long() {
            Some(long) => format!("[\\-\\-{} \\fI{}\\fR]", roff(long), roff(&value)),
            None if arg.is_required_set() => format!("\\fI{}\\fR", roff(&value)),
            None => format!("[\\fI{}\\fR]", roff(&value)),
        };
        parts.push(if many { format!("{text}...") } else { text });
    }
    parts.join(" ")
}

/// procctl's manual page: clap's title, name, synopsis, description and options, then the actions in
/// one section (there is no page per action) and where to read more.
pub fn manpage() -> std::io::Result<Vec<u8>> {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    let mut text = String::from(".SH ACTIONS\n");
    text.push_str(
        "Without an action, procctl runs \\fBstatus\\fR and opens an interactive shell. \
         \\fBhelp\\fR \\fIaction\\fR explains one action.\n",
    );
    for sub in cmd.get_subcommands() {
        text.push_str(&format!(
            ".TP\n{}\n{}\n",
            action_usage(sub),
            roff(&sub.get_about().map(ToString::to_string).unwrap_or_default())
        ));
    }
    text.push_str(
        ".SH \"SEE ALSO\"\nprocd(8), supervisorctl(1). procctl's extensions and its differences from \
         supervisorctl: docs/procctl.md in procd's source.\n",
    );
    buf.extend_from_slice(text.as_bytes());
    man.render_version_section(&mut buf)?;
    Ok(buf)
}

/// `manpage` (procd extension): prints procctl's man page (roff) on stdout.
pub fn do_manpage(ctl: &mut Controller, arg: &str) {
    if !arg.trim().is_empty() {
        ctl.output("Error: manpage accepts no arguments");
        ctl.exitstatus = exit::GENERIC;
        return;
    }
    match manpage() {
        Ok(buf) => ctl.out.raw(&buf),
        Err(_) => ctl.exitstatus = exit::GENERIC,
    }
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

/// Why `check` fails for a process in this state, or `None` when it is healthy. STARTING, RUNNING,
/// STOPPING, STOPPED and an expected EXITED are healthy (a stop is somebody's decision).
pub fn check_failure(
    state: ProcessState,
    exitstatus: i32,
    exitcodes: Option<&[i32]>,
    description: &str,
) -> Option<String> {
    match state {
        ProcessState::Backoff | ProcessState::Fatal | ProcessState::Unknown => {
            Some(description.to_owned())
        }
        ProcessState::Exited => {
            let expected = exitcodes.is_some_and(|codes| codes.contains(&exitstatus));
            (!expected).then(|| format!("exit status {exitstatus}; not expected"))
        }
        _ => None,
    }
}

/// `check [names]`: a container health check. Exit 0 when every selected process (default all) is
/// healthy, 1 when one is BACKOFF, FATAL, UNKNOWN or EXITED with a code not in its `exitcodes` (each
/// printed as `name: STATE (why)`) or when the server cannot be reached, 4 for an unknown name. Unlike
/// `status`, which answers 0 for BACKOFF as supervisorctl does.
pub fn do_check(ctl: &mut Controller, arg: &str) -> CmdResult {
    let names: Vec<&str> = arg.split_whitespace().collect();
    if !ctl.upcheck()? {
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    let client = ctl.client()?;
    let all = ctl.block(client.get_all_process_info())?;
    let configs = ctl.block(client.get_all_config_info())?;
    let (matching, bad) = select(ctl, &all, &names, false);
    if bad {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let mut failed = false;
    for info in matching {
        let codes = configs
            .iter()
            .find(|c| c.group == info.group && c.name == info.name)
            .map(|c| c.exitcodes.as_slice());
        if let Some(why) = check_failure(info.state, info.exitstatus, codes, &info.description) {
            let spec = namespec(&info.group, &info.name);
            ctl.output(&format!("{spec}: {} ({why})", info.state.name()));
            failed = true;
        }
    }
    if failed {
        ctl.exitstatus = exit::GENERIC;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_model_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn check_fails_on_backoff_fatal_unknown_and_unexpected_exits() {
        use ProcessState::*;
        let codes: &[i32] = &[0, 2];
        let table = [
            (Stopped, 0, true),
            (Starting, 0, true),
            (Running, 0, true),
            (Stopping, 0, true),
            (Exited, 0, true),
            (Exited, 2, true),
            (Exited, 1, false),
            (Backoff, 0, false),
            (Fatal, 0, false),
            (Unknown, 0, false),
        ];
        for (state, status, healthy) in table {
            let why = check_failure(state, status, Some(codes), "spawn error");
            assert_eq!(why.is_none(), healthy, "{state:?} exit {status}");
        }
        assert_eq!(
            check_failure(Exited, 1, Some(codes), "x").as_deref(),
            Some("exit status 1; not expected")
        );
        assert_eq!(
            check_failure(Fatal, 0, Some(codes), "Exited too quickly").as_deref(),
            Some("Exited too quickly")
        );
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
