//! Command-line flags: supervisord's own (so init scripts keep working) plus procd's additions.

use clap::Parser;
use std::path::PathBuf;

/// procd: a process supervisor that reads supervisord.conf files and speaks supervisord's XML-RPC API.
#[derive(Debug, Parser)]
#[command(
    name = "procd",
    version,
    disable_version_flag = true,
    disable_help_flag = true
)]
pub struct Cli {
    /// Configuration file path (searched for in supervisord's locations if not given).
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    pub configuration: Option<PathBuf>,

    /// Run in the foreground (same as nodaemon=true).
    #[arg(short = 'n', long)]
    pub nodaemon: bool,

    /// Do not mirror the main log to stdout in the foreground (same as silent=true).
    #[arg(short = 's', long)]
    pub silent: bool,

    /// Print this help and exit.
    #[arg(short = 'h', long = "help", visible_short_alias = '?', action = clap::ArgAction::Help)]
    pub help: Option<bool>,

    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,

    /// Run procd as this user (name or numeric uid).
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Umask used when daemonized (octal, default 022).
    #[arg(short = 'm', long, value_name = "UMASK")]
    pub umask: Option<String>,

    /// Directory to change to when daemonized.
    #[arg(short = 'd', long, value_name = "DIRECTORY")]
    pub directory: Option<String>,

    /// Main log file path.
    #[arg(short = 'l', long, value_name = "FILENAME")]
    pub logfile: Option<String>,

    /// Main log size before rotation (e.g. 50MB).
    #[arg(short = 'y', long = "logfile_maxbytes", value_name = "BYTES")]
    pub logfile_maxbytes: Option<String>,

    /// Number of rotated main log files to keep.
    #[arg(short = 'z', long = "logfile_backups", value_name = "NUM")]
    pub logfile_backups: Option<String>,

    /// Main log level (critical, error, warn, info, debug, trace, blather).
    #[arg(short = 'e', long, value_name = "LEVEL")]
    pub loglevel: Option<String>,

    /// Pid file path.
    #[arg(short = 'j', long, value_name = "FILENAME")]
    pub pidfile: Option<String>,

    /// Identifier of this instance (getIdentification, event envelopes, AUTO log names).
    #[arg(short = 'i', long, value_name = "STR")]
    pub identifier: Option<String>,

    /// Directory for AUTO child log files.
    #[arg(short = 'q', long, value_name = "DIRECTORY")]
    pub childlogdir: Option<String>,

    /// Do not remove old AUTO child log files at startup.
    #[arg(short = 'k', long)]
    pub nocleanup: bool,

    /// Minimum number of file descriptors required to start.
    #[arg(short = 'a', long, value_name = "NUM")]
    pub minfds: Option<String>,

    /// Strip ANSI escape sequences from child output.
    #[arg(short = 't', long = "strip_ansi")]
    pub strip_ansi: bool,

    /// Minimum number of processes available required to start.
    #[arg(long, value_name = "NUM")]
    pub minprocs: Option<String>,

    /// Accepted for compatibility; procd has no Python profiler.
    #[arg(long = "profile_options", value_name = "OPTIONS", hide = true)]
    pub profile_options: Option<String>,

    /// Validate the configuration, print every problem, and exit (0 valid, 2 invalid).
    #[arg(long)]
    pub check: bool,

    /// Print the effective configuration as JSON and exit.
    #[arg(long = "print-config")]
    pub print_config: bool,

    /// Print an annotated sample configuration and exit.
    #[arg(long = "sample-config")]
    pub sample_config: bool,

    /// Run the built-in `supervisor_stdout` event listener on stdin/stdout (procd starts it itself
    /// for `command = supervisor_stdout`; see docs/compatibility.md).
    #[arg(long = "supervisor-stdout-listener", hide = true)]
    pub supervisor_stdout_listener: bool,

    /// supervisord rejects positional arguments; so does procd, with the same message.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = false)]
    pub positional: Vec<String>,
}
