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

    /// Print procd's manual page (roff) and exit: `procd --manpage > /usr/local/share/man/man8/procd.8`.
    #[arg(long)]
    pub manpage: bool,

    /// Run the built-in `supervisor_stdout` event listener on stdin/stdout (procd starts it itself
    /// for `command = supervisor_stdout`; see docs/compatibility.md).
    #[arg(long = "supervisor-stdout-listener", hide = true)]
    pub supervisor_stdout_listener: bool,

    /// supervisord rejects positional arguments; so does procd, with the same message.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = false)]
    pub positional: Vec<String>,
}

/// The extra sections of procd's manual page, after clap's name, synopsis, description and options.
const MANPAGE_SECTIONS: &str = r#".SH "CONFIGURATION FILE"
procd reads supervisord.conf files unchanged (the INI dialect of Supervisor 4.3). Without \fB\-c\fR it
looks, like supervisord, for \fI../etc/supervisord.conf\fR and \fI../supervisord.conf\fR next to its
own executable, then \fIsupervisord.conf\fR and \fIetc/supervisord.conf\fR in the current directory,
then \fI/etc/supervisord.conf\fR and \fI/etc/supervisor/supervisord.conf\fR.
A \fB;\fR or \fB#\fR after a space starts a comment, also inside \fBcommand=\fR: write \fBsh \-c 'a;b'\fR
without spaces before the \fB;\fR.
\fBprocd \-\-check\fR prints every error (file, line, section and option) and warnings for unknown
options and sections ("did you mean ...") and commands that cannot be split;
\fBprocd \-\-sample\-config\fR prints an annotated example.
.SH SIGNALS
.TP
\fBSIGTERM\fR, \fBSIGINT\fR, \fBSIGQUIT\fR
Stop every program (in reverse priority order) and exit.
.TP
\fBSIGHUP\fR
Stop every program, read the configuration again and start them (as supervisord's restart).
.TP
\fBSIGUSR2\fR
Reopen the main log and the programs' log files (after an external rotation).
.SH "EXIT STATUS"
0 after a normal shutdown; 2 when the command line or the configuration is wrong or procd cannot
start (a port in use, a log that cannot be opened), as supervisord.
.SH "SEE ALSO"
procctl(1), supervisord(1), supervisorctl(1). The documentation in procd's source: README.md,
docs/compatibility.md (every difference from supervisord 4.3.0), docs/extensions.md (procd's
configuration keys) and docs/procctl.md.
"#;

/// procd's manual page (roff): the options from the flag definitions plus configuration, signals,
/// exit status and where the rest is documented.
pub fn manpage() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory as _;
    let man = clap_mangen::Man::new(Cli::command()).section("8");
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    let mut synopsis = Vec::new();
    man.render_synopsis_section(&mut synopsis)?;
    // The hidden catch-all for supervisord's "positional arguments are not supported" is no option.
    let synopsis = String::from_utf8_lossy(&synopsis).replace(" [\\fIPOSITIONAL\\fR]", "");
    buf.extend_from_slice(synopsis.as_bytes());
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    buf.extend_from_slice(MANPAGE_SECTIONS.as_bytes());
    man.render_version_section(&mut buf)?;
    Ok(buf)
}
