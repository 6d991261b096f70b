//! `help` output: the topic table (same layout as supervisorctl) and a help text per action. The command
//! syntax on the left of each line is supervisorctl's; the explanations are procctl's own.

use crate::cli::controller::Controller;

/// Actions listed by `help`, in the order the table is laid out.
pub const TOPICS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version",
];

/// Help lines for `help <action>`; None when there is no such topic.
pub fn topic(action: &str) -> Option<&'static [&'static str]> {
    let lines: &'static [&'static str] = match action {
        "add" => &["add <name> [...]\tActivate config changes for the named process/group"],
        "avail" => &["avail\t\t\tList every configured process and whether it is in use"],
        "clear" => &[
            "clear <name>\t\tEmpty the log files of one process.",
            "clear <name> <name>\tEmpty the log files of several processes",
            "clear all\t\tEmpty the log files of every process",
        ],
        "exit" => &["exit\tLeave the shell."],
        "quit" => &["quit\tLeave the shell."],
        "fg" => &[
            "fg <process>\tAttach to a process: show its output, send it your input",
            "\t\tCtrl-C to exit",
        ],
        "maintail" => &[
            "maintail -f \tFollow the supervisord main log as it grows (Ctrl-C to stop)",
            "maintail -100\tShow the final 100 *bytes* of the supervisord main log",
            "maintail\tShow the final 1600 *bytes* of the supervisord main log",
            "",
        ],
        "open" => &[
            "open <url>\tSwitch to the supervisord server at <url>.",
            "\t\t(a unix socket is given as unix:///socket/path)",
        ],
        "pid" => &[
            "pid\t\t\tPrint the process id of supervisord.",
            "pid <name>\t\tPrint the process id of one child process.",
            "pid all\t\t\tPrint the process id of each child process, one per line.",
        ],
        "reload" => &["reload \t\tRestart supervisord on the server side."],
        "remove" => {
            &["remove <name> [...]\tTake the process/group out of the running configuration"]
        }
        "reread" => &[
            "reread \t\t\tRe-read the configuration files, reporting changes without applying them",
        ],
        "restart" => &[
            "restart <name>\t\tStop, then start, one process",
            "restart <gname>:*\tStop, then start, every process of a group",
            "restart <name> <name>\tStop, then start, several processes or groups",
            "restart all\t\tStop, then start, every process",
            "Note: restart keeps the loaded configuration; use reread and update to apply config changes.",
        ],
        "shutdown" => &["shutdown \tStop supervisord on the server side."],
        "signal" => &[
            "signal <signal name> <name>\t\tSend a signal to one process",
            "signal <signal name> <gname>:*\t\tSend a signal to each process of a group",
            "signal <signal name> <name> <name>\tSend a signal to several processes or groups",
            "signal <signal name> all\t\tSend a signal to every process",
        ],
        "start" => &[
            "start <name>\t\tStart one process",
            "start <gname>:*\t\tStart every process of a group",
            "start <name> <name>\tStart several processes or groups",
            "start all\t\tStart every process",
        ],
        "status" => &[
            "status <name>\t\tShow the state of one process",
            "status <gname>:*\tShow the state of each process of a group",
            "status <name> <name>\tShow the state of several processes",
            "status\t\t\tShow the state of every process",
            "status --json\t\tThe same, as a JSON array (procctl extension)",
        ],
        "stop" => &[
            "stop <name>\t\tStop one process",
            "stop <gname>:*\t\tStop every process of a group",
            "stop <name> <name>\tStop several processes or groups",
            "stop all\t\tStop every process",
        ],
        "tail" => &[
            "tail [-f] <name> [stdout|stderr] (default stdout)",
            "Ex:",
            "tail -f <name>\t\tFollow the stdout log of a process as it grows",
            "\t\t\tCtrl-C to stop.",
            "tail -100 <name>\tShow the final 100 *bytes* of a process' stdout log",
            "tail <name> stderr\tShow the final 1600 *bytes* of a process' stderr log",
        ],
        "update" => &[
            "update\t\t\tRe-read the configuration, add/remove groups as needed, restarting changed programs",
            "update all\t\tRe-read the configuration, add/remove groups as needed, restarting changed programs",
            "update <gname> [...]\tApply configuration changes to the named groups only",
        ],
        "version" => &["version\t\t\tPrint the version of supervisord on the server side"],
        "help" => &[
            "help\t\tList the available actions",
            "help <action>\tExplain <action>",
        ],
        "wait" => &[
            "wait <name> [...] [--timeout S]\tWait until the processes are RUNNING (procctl extension)",
            "\t\t\t\tExits 7 if one becomes FATAL, 1 on timeout",
            "wait <name> [...] --ready\tThe same, printing '<name>: ready'; a program with a ready_check",
            "\t\t\t\tis RUNNING once its check passed (procd extension)",
        ],
        "check" => &[
            "check\t\t\tHealth check of every process (procctl extension)",
            "check <name> [...]\tHealth check of the named processes",
            "\t\t\tExits 1 if one is BACKOFF, FATAL, UNKNOWN or EXITED unexpectedly",
        ],
        "completions" => &[
            "completions <shell>\tPrint a completion script for bash, zsh, fish, elvish or powershell",
        ],
        "manpage" => &["manpage\t\t\tPrint procctl's manual page (roff)"],
        _ => return None,
    };
    Some(lines)
}

/// `-h` text; `%s` stands for the program name.
pub const USAGE: &str =
    "procctl -- control the programs of a supervisord-compatible server from the command line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- config file to read (searched for when not given)
-h/--help -- show this text and exit
-i/--interactive -- open the interactive shell after running the action
-s/--serverurl URL -- where the server listens
     (default \"http://localhost:9001\").
-u/--username USERNAME -- user name for the server's authentication
-p/--password PASSWORD -- password for the server's authentication
-r/--history-file -- file keeping the shell's command history

action [arguments] -- see below

Actions are commands such as \"tail\" or \"stop\". Without an action, an interactive
shell reads actions from the keyboard. The action \"help\" lists every action.
";

/// Prints the help lines of `action` (nothing for an unknown topic).
pub fn show_help(ctl: &mut Controller, action: &str) {
    if let Some(lines) = topic(action) {
        for l in lines {
            ctl.output(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_help() {
        for t in TOPICS {
            assert!(topic(t).is_some(), "{t}");
        }
        assert!(topic("nope").is_none());
        assert!(topic("EOF").is_none());
    }
}
