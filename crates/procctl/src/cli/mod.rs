//! The `procctl` / `supervisorctl` command line: options, config, then one action or the shell.

pub mod actions;
mod command;
pub mod config;
pub mod controller;
pub mod extras;
pub mod format;
pub mod getopt;
pub mod help;
pub mod input;
pub mod output;
pub mod select;
pub mod shell;
pub mod stream;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use controller::{Controller, Settings, exit};
use output::{Out, eprint_line};

fn usage_error(progname: &str, msg: &str) -> i32 {
    eprint_line(&format!("Error: {msg}"));
    eprint_line(&format!("For help, use {progname} -h"));
    exit::INVALID_ARGS
}

/// Resolves options and config into settings; `Err` is an exit status after the message was printed.
pub fn settings_from_args(argv: &[String], cwd: &Path) -> Result<(Settings, Vec<String>), i32> {
    let progname = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "procctl".to_string());
    let opts = match getopt::parse(argv.get(1..).unwrap_or_default()) {
        Ok(o) => o,
        Err(msg) => return Err(usage_error(&progname, &msg)),
    };
    if opts.help {
        let mut out = Out::stdout();
        out.raw(format!("{}\n", help::USAGE.replace("%s", &progname)).as_bytes());
        return Err(exit::SUCCESS);
    }
    let explicit = opts.configuration.as_deref().map(PathBuf::from);
    let file = match config::load_ctl(explicit.as_deref(), Path::new(&progname), cwd) {
        Ok(c) => c,
        Err(msg) => return Err(usage_error(&progname, &msg)),
    };
    let interactive = opts.interactive || opts.args.is_empty();
    let settings = Settings {
        progname,
        serverurl: opts.serverurl.unwrap_or(file.serverurl),
        username: opts.username.or(file.username),
        password: opts.password.or(file.password),
        prompt: file.prompt,
        history_file: opts
            .history_file
            .or_else(|| file.history_file.map(|p| p.display().to_string())),
        interactive,
    };
    Ok((settings, opts.args))
}

/// Runs the command line (argv including the program name) and returns the exit status.
pub fn main_with_args(argv: Vec<OsString>) -> i32 {
    let argv: Vec<String> = argv
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let (settings, args) = match settings_from_args(&argv, &cwd) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut ctl = match Controller::new(settings, Out::stdout(), input::Input) {
        Ok(c) => c,
        Err(e) => {
            eprint_line(&format!("Error: cannot start the async runtime: {e}"));
            return exit::GENERIC;
        }
    };
    // Called by the completion scripts of `procctl completions <shell>`.
    if let Some(word) = std::env::var_os(extras::COMPLETE_ENV) {
        shell::print_completions(&mut ctl, &args, &word.to_string_lossy());
        ctl.out.flush();
        return exit::SUCCESS;
    }
    if !args.is_empty() {
        ctl.onecmd(&args.join(" "));
        ctl.out.flush();
        return ctl.exitstatus;
    }
    shell::run(&mut ctl);
    exit::SUCCESS
}
