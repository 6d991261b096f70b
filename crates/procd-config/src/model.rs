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
    pub supervisord: SupervisordOptions,
    pub unix_servers: Vec<UnixServerConfig>,
    pub inet_servers: Vec<InetServerConfig>,
    pub supervisorctl: Option<CtlConfig>,
    /// Sorted by (priority, name), stable.
    pub groups: Vec<GroupConfig>,
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
    Path(PathBuf),
}

/// A resolved user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSpec {
    /// Name from the passwd entry.
    pub name: String,
    pub uid: u32,
    /// Primary group from the passwd entry.
    pub gid: u32,
}

/// `[supervisord]`, with command-line overrides applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupervisordOptions {
    /// Absolute path, or `Syslog`.
    pub logfile: LogTarget,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub loglevel: LogLevel,
    /// Absolute.
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<UserSpec>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    /// Only from `--profile_options` (supervisord ignores the config key).
    pub profile_options: Option<String>,
}

/// `[unix_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnixServerConfig {
    pub section: String,
    /// Absolute, normalised.
    pub file: PathBuf,
    pub chmod: u32,
    /// `chown=user[:group]` as (uid, gid); `None` when not set.
    pub chown: Option<(Option<u32>, Option<u32>)>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `health_auth` (procd extension, default true): `/healthz`, `/readyz` and `/metrics` need the
    /// credentials too; `false` exempts them.
    pub health_auth: bool,
}

/// `[inet_http_server]` (or any section whose name starts with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InetServerConfig {
    pub section: String,
    /// Lower-cased; `""` means all interfaces.
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `health_auth`, as for [`UnixServerConfig::health_auth`].
    pub health_auth: bool,
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CtlConfig {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
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
    pub factory: String,
    /// Other keys (passed as keyword arguments by supervisord).
    pub extras: BTreeMap<String, String>,
}

/// The supervisord factory that provides the `supervisor.*` namespace.
pub const MAIN_RPCINTERFACE_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";

/// A process group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i32,
    pub kind: GroupKind,
    /// In supervisord's order: sorted by (priority, name) per program section; a
    /// `[group:x]` concatenates its programs' lists in `programs=` order.
    /// Shared (not copied) by the running supervisor's groups and processes.
    pub processes: Vec<Arc<ProcessConfig>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GroupKind {
    Program,
    Fcgi(FcgiSocketConfig),
    EventListener(ListenerPoolConfig),
}

/// `[fcgi-program:x] socket=` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FcgiSocketConfig {
    /// `unix:///abs/path` (normalised) or `tcp://host:port`.
    pub url: String,
    pub kind: FcgiSocketKind,
    pub backlog: u32,
    /// (uid, gid) to chown a unix socket to; gid `None` = leave unchanged.
    pub owner: Option<(u32, Option<u32>)>,
    /// Mode of a unix socket (default 0700); `None` for TCP.
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FcgiSocketKind {
    Tcp { host: String, port: u16 },
    Unix { path: PathBuf },
}

/// `[eventlistener:x]` pool settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerPoolConfig {
    /// Upper-case event type names, deduplicated, in first-mention order.
    pub events: Vec<String>,
    pub buffer_size: usize,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AutoRestart {
    Always,
    Never,
    Unexpected,
}

/// One child log channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogConfig {
    pub file: LogTarget,
    pub maxbytes: u64,
    pub backups: u32,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    pub syslog: bool,
    /// `*_log_timestamp=` (procd extension): a stamp in front of each line in the log file.
    pub timestamp: Option<LogTimestamp>,
    /// `*_log_format=` (procd extension).
    pub format: LogFormat,
}

/// One process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessConfig {
    pub name: String,
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
    pub priority: i32,
    pub autostart: bool,
    pub startsecs: u64,
    pub startretries: u32,
    pub autorestart: AutoRestart,
    pub exitcodes: Vec<i32>,
    #[serde(serialize_with = "signal_number")]
    pub stopsignal: Signal,
    pub stopwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<UserSpec>,
    pub directory: Option<PathBuf>,
    pub umask: Option<u32>,
    /// This program's own `environment=` (not merged with `[supervisord]`'s).
    pub environment: Vec<(String, String)>,
    pub redirect_stderr: bool,
    pub stdout: LogConfig,
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
    Tcp { host: String, port: u16 },
    /// `http://HOST[:PORT]/PATH`: a GET answers 2xx.
    Http {
        host: String,
        port: u16,
        /// Starts with `/`.
        path: String,
    },
    /// `exec:COMMAND`: the command exits 0.
    Exec { command: String, argv: Vec<String> },
    /// `log:REGEX`: a line of the program's stdout or stderr matches.
    Log { pattern: String },
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
