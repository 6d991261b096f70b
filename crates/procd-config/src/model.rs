//! The typed, validated configuration: what the daemon and client consume.
//! Every value here has passed supervisord 4.3.0's checks and carries its default.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use procd_core::deps::Condition;

use procd_protocol::Signal;
use serde::Serialize;

pub use crate::envfile::EnvFile;
pub use crate::policies::{KillMode, LogFormat, LogTimestamp, RestartBackoff};

/// A whole `supervisord.conf` after loading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Absolute path of the main config file.
    pub path: PathBuf,
    /// The `[supervisord]` section (required, as in supervisord).
    pub supervisord: SupervisordOptions,
    /// Every `[unix_http_server*]` section, in file order; each one is a listening unix socket.
    pub unix_servers: Vec<UnixServerConfig>,
    /// Every `[inet_http_server*]` section, in file order; each one is a listening TCP port.
    pub inet_servers: Vec<InetServerConfig>,
    /// The `[supervisorctl]` section, `None` when the file has none.
    pub supervisorctl: Option<CtlConfig>,
    /// Every `[program:x]`, `[fcgi-program:x]`, `[eventlistener:x]` and `[group:x]`, as process groups.
    /// Sorted by (priority, name), stable.
    pub groups: Vec<GroupConfig>,
    /// Every `[rpcinterface:x]` section, in file order.
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
}

/// Main log level (`loglevel=`): the main-log vocabulary shared with the daemon.
pub use procd_protocol::Level as LogLevel;

/// Where a log goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LogTarget {
    /// `NONE` / `OFF`.
    None,
    /// `AUTO`: a file in `childlogdir` created when the group is added.
    Auto,
    /// `syslog` (for the main log; for child logs it is turned into `syslog = true`).
    Syslog,
    /// A file, absolute after `%(here)s` expansion and normalisation.
    Path(PathBuf),
}

/// A resolved user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSpec {
    /// Name from the passwd entry.
    pub name: String,
    /// The numeric user id (a `user=` given as a number is looked up by uid).
    pub uid: u32,
    /// Primary group from the passwd entry.
    pub gid: u32,
}

/// `[supervisord]`, with command-line overrides applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupervisordOptions {
    /// Absolute path, or `Syslog`.
    pub logfile: LogTarget,
    /// `logfile_maxbytes=` (bytes, default 50MB): the main log rotates past this size; 0 never rotates.
    pub logfile_maxbytes: u64,
    /// `logfile_backups=` (default 10): rotated main logs kept (`supervisord.log.1` ...); 0 keeps none.
    pub logfile_backups: u32,
    /// `loglevel=` (default `info`): the lowest level written to the main log.
    pub loglevel: LogLevel,
    /// `pidfile=` (default `supervisord.pid` in the current directory).
    /// Absolute.
    pub pidfile: PathBuf,
    /// `umask=` (octal, default 022): the daemon's umask, inherited by children without their own.
    pub umask: u32,
    /// `nodaemon=` (default false): stay in the foreground; the main log is also copied to stdout.
    pub nodaemon: bool,
    /// `silent=` (default false): with `nodaemon`, do not copy the main log to stdout.
    pub silent: bool,
    /// `minfds=` (default 1024): the soft `RLIMIT_NOFILE` is raised to at least this at start-up, or
    /// the daemon refuses to start.
    pub minfds: u64,
    /// `minprocs=` (default 200): the same for `RLIMIT_NPROC`.
    pub minprocs: u64,
    /// `nocleanup=` (default false): keep the old `AUTO` child log files in `childlogdir` at start-up
    /// instead of deleting them.
    pub nocleanup: bool,
    /// `childlogdir=` (default the system temporary directory): where `AUTO` child logs are created.
    pub childlogdir: PathBuf,
    /// `user=`: the user the daemon runs as: when started as root it switches at start-up, before it
    /// opens its log files and sockets.
    pub user: Option<UserSpec>,
    /// `directory=`: the daemon changes into this directory when it daemonizes.
    pub directory: Option<PathBuf>,
    /// `strip_ansi=` (default false): remove ANSI escape sequences from child log files.
    pub strip_ansi: bool,
    /// `environment=`: `KEY="value"` pairs added to every child's environment; a program's own
    /// `environment=` wins on conflicts.
    pub environment: Vec<(String, String)>,
    /// `identifier=` (default `supervisor`): what `supervisor.getIdentification` returns.
    pub identifier: String,
    /// Only from `--profile_options` (supervisord ignores the config key).
    pub profile_options: Option<String>,
}

/// `[unix_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnixServerConfig {
    /// The section name as written (errors and the config dump name it).
    pub section: String,
    /// `file=`: the socket's path (required).
    /// Absolute, normalised.
    pub file: PathBuf,
    /// `chmod=` (octal, default 0700): the socket file's mode.
    pub chmod: u32,
    /// `chown=user[:group]` as (uid, gid); `None` when not set.
    pub chown: Option<(Option<u32>, Option<u32>)>,
    /// `username=`: HTTP Basic authentication is required when set.
    pub username: Option<String>,
    /// `password=`: cleartext, or `{SHA}` followed by the hex SHA-1 of the password.
    pub password: Option<String>,
    /// `health_auth` (procd extension, default true): `/healthz`, `/readyz` and `/metrics` need the
    /// credentials too; `false` exempts them.
    pub health_auth: bool,
}

/// `[inet_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InetServerConfig {
    /// The section name as written.
    pub section: String,
    /// The host part of `port=host:port` (`*` or empty for all interfaces).
    /// Lower-cased; `""` means all interfaces.
    pub host: String,
    /// The port part of `port=` (required).
    pub port: u16,
    /// `username=`, as for [`UnixServerConfig::username`].
    pub username: Option<String>,
    /// `password=`, as for [`UnixServerConfig::password`].
    pub password: Option<String>,
    /// `health_auth`, as for [`UnixServerConfig::health_auth`].
    pub health_auth: bool,
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CtlConfig {
    /// `serverurl=` (default `http://localhost:9001`): `unix://path` or `http://host:port`.
    pub serverurl: String,
    /// `username=` sent with every request.
    pub username: Option<String>,
    /// `password=` sent with every request (cleartext: the server checks it).
    pub password: Option<String>,
    /// `prompt=` (default `supervisor`): the interactive prompt, shown as `<prompt>> `.
    pub prompt: String,
    /// `history_file=`: where the interactive shell keeps its line history; none when not set.
    pub history_file: Option<PathBuf>,
}

impl Default for CtlConfig {
    fn default() -> Self {
        CtlConfig {
            serverurl: "http://localhost:9001".into(),
            username: None,
            password: None,
            prompt: "supervisor".into(),
            history_file: None,
        }
    }
}

/// `[rpcinterface:x]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpcInterfaceConfig {
    /// Namespace name (text after `rpcinterface:`).
    pub name: String,
    /// `supervisor.rpcinterface_factory=`: the Python factory; procd serves only
    /// [`MAIN_RPCINTERFACE_FACTORY`].
    pub factory: String,
    /// Other keys (passed as keyword arguments by supervisord).
    pub extras: BTreeMap<String, String>,
}

/// The supervisord factory that provides the `supervisor.*` namespace.
pub const MAIN_RPCINTERFACE_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

/// A process group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupConfig {
    /// The group name: the section's name after `program:` (etc.), or `x` of `[group:x]`.
    pub name: String,
    /// `priority=` (default 999): lower groups start first and stop last.
    pub priority: i32,
    /// Which kind of section made the group.
    pub kind: GroupKind,
    /// In supervisord's order: sorted by (priority, name) per program section; a
    /// `[group:x]` concatenates its programs' lists in `programs=` order.
    /// Shared (not copied) by the running supervisor's groups and processes.
    pub processes: Vec<Arc<ProcessConfig>>,
}

/// The kind of a process group (supervisord's `ProcessGroupConfig`, `FastCGIGroupConfig`,
/// `EventListenerPoolConfig`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GroupKind {
    /// `[program:x]` or `[group:x]`: plain processes.
    Program,
    /// `[fcgi-program:x]`: processes sharing one listening socket as their stdin.
    Fcgi(FcgiSocketConfig),
    /// `[eventlistener:x]`: a pool of processes that receive events on stdin.
    EventListener(ListenerPoolConfig),
}

/// `[fcgi-program:x] socket=` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FcgiSocketConfig {
    /// `unix:///abs/path` (normalised) or `tcp://host:port`.
    pub url: String,
    /// The parsed `url`.
    pub kind: FcgiSocketKind,
    /// `socket_backlog=` (1-65535, default the system's `SOMAXCONN`): the `listen()` backlog.
    pub backlog: u32,
    /// (uid, gid) to chown a unix socket to; gid `None` = leave unchanged.
    pub owner: Option<(u32, Option<u32>)>,
    /// Mode of a unix socket (default 0700); `None` for TCP.
    pub mode: Option<u32>,
}

/// Where a FastCGI socket listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FcgiSocketKind {
    /// `tcp://host:port`.
    Tcp {
        /// The address to bind (a name is resolved when the socket is created).
        host: String,
        /// The TCP port.
        port: u16,
    },
    /// `unix:///path`.
    Unix {
        /// The socket file's path (absolute, normalised).
        path: PathBuf,
    },
}

/// `[eventlistener:x]` pool settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerPoolConfig {
    /// Upper-case event type names, deduplicated, in first-mention order.
    pub events: Vec<String>,
    /// `buffer_size=` (default 10, at least 1): events queued for the pool while no listener is READY;
    /// past it the oldest is dropped (and logged), as in supervisord.
    pub buffer_size: usize,
    /// `result_handler=` (default [`DEFAULT_RESULT_HANDLER`]): the Python import spec of the function
    /// that judges a listener's `RESULT` (see [`ResultHandler`]).
    pub result_handler: String,
}

/// supervisord's own result handler: `OK` accepts an event, anything else rejects it.
pub const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// The result handler of the `supervisor-stdout` package (0.1.1), which procd implements natively:
/// it prints each `PROCESS_LOG` event's data on the daemon's stdout as `<name> <channel> | <data>`.
pub const SUPERVISOR_STDOUT_HANDLER: &str = "supervisor_stdout:event_handler";

/// A listener pool's result handler: the Python import specs procd knows how to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultHandler {
    /// [`DEFAULT_RESULT_HANDLER`]
    Default,
    /// [`SUPERVISOR_STDOUT_HANDLER`]
    SupervisorStdout,
}

impl ResultHandler {
    /// The handler for a `result_handler=` value, `None` for Python code procd cannot run.
    pub fn from_spec(spec: &str) -> Option<Self> {
        match spec {
            DEFAULT_RESULT_HANDLER => Some(ResultHandler::Default),
            SUPERVISOR_STDOUT_HANDLER => Some(ResultHandler::SupervisorStdout),
            _ => None,
        }
    }
}

impl ListenerPoolConfig {
    /// The pool's result handler (loading refuses any other).
    pub fn handler(&self) -> ResultHandler {
        ResultHandler::from_spec(&self.result_handler).unwrap_or(ResultHandler::Default)
    }
}

/// Whether a listener's command is the `supervisor-stdout` package's listener (`supervisor_stdout`,
/// by name or path, without arguments). procd runs its own built-in equivalent instead (the package
/// is Python 2 code and need not be installed): see `docs/compatibility.md`.
pub fn is_supervisor_stdout_command(argv: &[String]) -> bool {
    matches!(argv, [cmd] if std::path::Path::new(cmd).file_name()
        .is_some_and(|n| n == "supervisor_stdout"))
}

/// `autorestart=`: whether a process that exits from RUNNING is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AutoRestart {
    /// `true`: after every exit.
    Always,
    /// `false`: never (the process stays EXITED).
    Never,
    /// `unexpected` (the default): when the exit status is not in `exitcodes`.
    Unexpected,
}

/// One child log channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogConfig {
    /// `stdout_logfile=` / `stderr_logfile=` (default `AUTO`).
    pub file: LogTarget,
    /// `*_logfile_maxbytes=` (bytes, default 50MB): the file rotates past this size; 0 never rotates.
    pub maxbytes: u64,
    /// `*_logfile_backups=` (default 10): rotated files kept; 0 keeps none.
    pub backups: u32,
    /// `*_capture_maxbytes=` (bytes, default 0 = off): the buffer of capture mode, the output between
    /// `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` sent as a PROCESS_COMMUNICATION event.
    pub capture_maxbytes: u64,
    /// `*_events_enabled=` (default false): emit a PROCESS_LOG_STDOUT/STDERR event for each output chunk.
    pub events_enabled: bool,
    /// `*_syslog=` (default false): also send each line to syslog, prefixed with the process name.
    pub syslog: bool,
    /// `*_log_timestamp=` (procd extension): a stamp in front of each line in the log file.
    pub timestamp: Option<LogTimestamp>,
    /// `*_log_format=` (procd extension).
    pub format: LogFormat,
}

/// One process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessConfig {
    /// `process_name=` after expansion (default `%(program_name)s`); unique in the group.
    pub name: String,
    /// The name of the group the process belongs to.
    pub group: String,
    /// Text after `program:` (etc.) in the section name.
    pub program_name: String,
    /// After expansion.
    pub command: String,
    /// POSIX shell-word split of `command`; empty when the command is empty or cannot
    /// be split (see `command_error`).
    pub argv: Vec<String>,
    /// `can't parse command '<c>': <err>` when `command` has unbalanced quotes; supervisord
    /// reports it at spawn time, not at load time.
    pub command_error: Option<String>,
    /// `priority=` (default 999): order within the group for start (ascending) and stop (descending).
    pub priority: i32,
    /// `autostart=` (default true): started when the daemon starts or the group is added.
    pub autostart: bool,
    /// `startsecs=` (seconds, default 1): how long the child must stay up to count as RUNNING.
    pub startsecs: u64,
    /// `startretries=` (default 3): failed starts in a row before the process is FATAL.
    pub startretries: u32,
    /// `autorestart=` (default `unexpected`).
    pub autorestart: AutoRestart,
    /// `exitcodes=` (default `0`): the exit statuses that count as expected.
    pub exitcodes: Vec<i32>,
    /// `stopsignal=` (default TERM): sent first by a stop. Serialised as the signal number.
    #[serde(serialize_with = "signal_number")]
    pub stopsignal: Signal,
    /// `stopwaitsecs=` (seconds, default 10): wait after `stopsignal` before SIGKILL.
    pub stopwaitsecs: u64,
    /// `stopasgroup=` (default false): send `stopsignal` to the process group; implies `killasgroup`.
    pub stopasgroup: bool,
    /// `killasgroup=` (default false): send SIGKILL to the process group.
    pub killasgroup: bool,
    /// `user=`: the child runs as this user (the daemon must be root to switch).
    pub user: Option<UserSpec>,
    /// `directory=`: the child's working directory; the daemon's when not set.
    pub directory: Option<PathBuf>,
    /// `umask=` (octal): the child's umask; the daemon's when not set.
    pub umask: Option<u32>,
    /// This program's own `environment=` (not merged with `[supervisord]`'s).
    pub environment: Vec<(String, String)>,
    /// `redirect_stderr=` (default false): the child's stderr goes to its stdout pipe and log.
    pub redirect_stderr: bool,
    /// The `stdout_*` options.
    pub stdout: LogConfig,
    /// The `stderr_*` options (unused for the file when `redirect_stderr` is set).
    pub stderr: LogConfig,
    /// `SUPERVISOR_SERVER_URL` for the child: explicit value, else the first unix server
    /// (`unix://path`), else the first inet server (`http://host:port`), else `None`.
    pub serverurl: Option<String>,
    /// `environment_file=` (procd extension): read at every spawn, before `environment=` is applied.
    pub environment_files: Vec<EnvFile>,
    /// `restart_*` (procd extension): restart backoff.
    pub restart: RestartBackoff,
    /// `kill_mode=` (procd extension); `None` when not set.
    pub kill_mode: Option<KillMode>,
    /// Keys supervisord does not know (tolerated and kept).
    pub extra: BTreeMap<String, String>,
    /// `depends_on=` (procd extension), resolved to process namespecs.
    pub depends_on: Vec<DependsOn>,
    /// `ready_check=` (procd extension).
    pub ready_check: Option<ReadyCheck>,
    /// `ready_timeout=` (procd extension, default 60 s).
    pub ready_timeout: Duration,
    /// `ready_interval=` (procd extension, default 1 s): polling interval of tcp/http/exec checks.
    pub ready_interval: Duration,
    /// `liveness_check=` and friends (procd extension).
    pub liveness: Option<Liveness>,
}

/// `liveness_check=` (procd extension): a check run on a RUNNING program, with what to do when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Liveness {
    /// tcp, http or exec (the `ready_check` kinds that can be repeated).
    pub check: ReadyCheck,
    /// `liveness_interval=` (default 10 s).
    pub interval: Duration,
    /// `liveness_timeout=` (default 5 s): the limit of one attempt.
    pub timeout: Duration,
    /// `liveness_failures=` (default 3): consecutive failures that trigger the action.
    pub failures: u32,
    /// `liveness_action=` (default `restart`).
    pub action: LivenessAction,
}

/// `liveness_action=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LivenessAction {
    /// Stop the process and start it again.
    Restart,
    /// Stop the process.
    Stop,
    /// Only write the failure to the main log.
    Log,
}

impl LivenessAction {
    /// The config spelling (`restart`, `stop`, `log`).
    pub const fn name(self) -> &'static str {
        match self {
            LivenessAction::Restart => "restart",
            LivenessAction::Stop => "stop",
            LivenessAction::Log => "log",
        }
    }
}

/// Default `ready_timeout`.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `ready_interval`.
pub const DEFAULT_READY_INTERVAL: Duration = Duration::from_secs(1);

/// One `depends_on=` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependsOn {
    /// The name as written: a program, a process (`group:name`), or `group:*`.
    pub name: String,
    /// The condition after the name (`:started` when none is written). Serialised by its name.
    #[serde(serialize_with = "condition_name")]
    pub condition: Condition,
    /// The namespecs of every process the name stands for (in config order).
    pub targets: Vec<String>,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `serialize_with` passes a reference"
)]
fn condition_name<S: serde::Serializer>(c: &Condition, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.name())
}

/// `ready_check=` (procd extension): when a STARTING program counts as up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReadyCheck {
    /// `tcp://HOST:PORT`: a connection succeeds.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// `http://HOST[:PORT]/PATH`: a GET answers 2xx.
    Http {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// TCP port (80 when the URL names none).
        port: u16,
        /// Starts with `/`.
        path: String,
    },
    /// `exec:COMMAND`: the command exits 0.
    Exec {
        /// The command as written.
        command: String,
        /// `command` split into words like `command=` (POSIX shell rules); run without a shell.
        argv: Vec<String>,
    },
    /// `log:REGEX`: a line of the program's stdout or stderr matches.
    Log {
        /// The regular expression (checked when the config is loaded).
        pattern: String,
    },
    /// `notify`: the program sends `READY=1` to its own `NOTIFY_SOCKET` (sd_notify).
    Notify,
}

impl ReadyCheck {
    /// The check as written, for log lines and descriptions.
    pub fn label(&self) -> String {
        match self {
            ReadyCheck::Tcp { host, port } => format!("tcp://{}:{port}", bracket(host)),
            ReadyCheck::Http { host, port, path } => {
                format!("http://{}:{port}{path}", bracket(host))
            }
            ReadyCheck::Exec { command, .. } => format!("exec:{command}"),
            ReadyCheck::Log { pattern } => format!("log:{pattern}"),
            ReadyCheck::Notify => "notify".into(),
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `serialize_with` passes a reference"
)]
fn signal_number<S: serde::Serializer>(sig: &Signal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i32(sig.number())
}

impl ProcessConfig {
    /// `group:name`, or the bare name when it equals the group name.
    pub fn namespec(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}:{}", self.group, self.name)
        }
    }
}
