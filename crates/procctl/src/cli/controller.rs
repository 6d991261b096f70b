//! The command interpreter: turns one command line into calls and output, keeps the exit status, and
//! reports failures the way supervisorctl does (fault lines, `error: <class ...>` lines, 401 handling).

use std::sync::Arc;

use tokio::runtime::Runtime;

use crate::cli::input::Input;
use crate::cli::output::Out;
use crate::client::Client;
use crate::error::ClientError;
use procd_protocol::FaultCode;
use procd_protocol::api::FromValueError;

/// LSB init-script exit statuses supervisorctl uses.
pub mod exit {
    /// LSB "success": every command succeeded.
    pub const SUCCESS: i32 = 0;
    /// LSB "generic or unspecified error": faults without a more specific status, uncaught errors.
    pub const GENERIC: i32 = 1;
    /// LSB "invalid or excess arguments": a command without its required name, an unknown group, a
    /// command-line usage error.
    pub const INVALID_ARGS: i32 = 2;
    /// LSB "unimplemented feature": the server does not know the `supervisor.*` namespace
    /// (`UNKNOWN_METHOD` from the version check).
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    /// LSB "insufficient privilege"; supervisorctl uses it when the server refuses the connection.
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    /// LSB "program is not installed"; supervisorctl uses it when the server's API version is not
    /// [`API_VERSION`](super::API_VERSION).
    pub const NOT_INSTALLED: i32 = 5;
    /// LSB "program is not running": the server's socket file does not exist, or a process result was
    /// `SPAWN_ERROR`, `ABNORMAL_TERMINATION` or `NOT_RUNNING`.
    pub const NOT_RUNNING: i32 = 7;
    /// `status` only.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status` only.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// The API version supervisorctl insists on.
pub const API_VERSION: &str = "3.0";

/// Effective settings: command line over `[supervisorctl]` over defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The program name used in usage and error lines: `argv[0]` as invoked, like Python's `sys.argv[0]`.
    pub progname: String,
    /// `-s` / `serverurl=` (default `http://localhost:9001`): `unix:///path` or `http://host:port`.
    pub serverurl: String,
    /// `-u` / `username=`: HTTP Basic user name; asked for interactively after a 401 in the shell.
    pub username: Option<String>,
    /// `-p` / `password=`: HTTP Basic password; asked for like the user name.
    pub password: Option<String>,
    /// `prompt=` (default `supervisor`): the shell shows `<prompt>> `.
    pub prompt: String,
    /// `-r` / `history_file=`: where the interactive shell loads and saves its line history.
    pub history_file: Option<String>,
    /// `-i`, or no command on the command line: run the interactive shell.
    pub interactive: bool,
}

/// What a command can fail with beyond its own error lines (supervisorctl's uncaught exceptions).
#[derive(Debug)]
pub enum Raised {
    /// The call failed: connection, HTTP status, fault or a response that does not decode.
    Client(ClientError),
    /// supervisorctl raises ValueError for result codes it does not know, and for bad server URLs.
    Value(String),
    /// Input ended while a question was asked.
    Eof,
}

impl From<ClientError> for Raised {
    fn from(e: ClientError) -> Self {
        Raised::Client(e)
    }
}

/// What a command returns: its own error lines are already printed; `Err` is what supervisorctl would
/// raise, reported the way supervisorctl reports an uncaught exception.
pub type CmdResult = Result<(), Raised>;

/// Python-style `repr` of a string.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

impl Raised {
    /// The `<class '...'>, <message>` part of supervisorctl's `error:` line.
    pub fn describe(&self) -> String {
        match self {
            Raised::Client(ClientError::Fault(f)) => {
                format!(
                    "<class 'xmlrpc.client.Fault'>, <Fault {}: {}>",
                    f.code,
                    py_repr(&f.string)
                )
            }
            Raised::Client(ClientError::Status { status, reason }) => {
                format!(
                    "<class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"
                )
            }
            Raised::Client(ClientError::ConnectionRefused { .. }) => {
                "<class 'ConnectionRefusedError'>, [Errno 111] Connection refused".to_string()
            }
            Raised::Client(ClientError::NoSuchFile { .. }) => {
                "<class 'FileNotFoundError'>, [Errno 2] No such file or directory".to_string()
            }
            Raised::Client(ClientError::Connect { source, .. }) => match source.raw_os_error() {
                Some(n) => format!("<class 'OSError'>, [Errno {n}] {source}"),
                None => format!("<class 'OSError'>, {source}"),
            },
            Raised::Client(ClientError::Http(e)) => {
                format!("<class 'http.client.HTTPException'>, {e}")
            }
            Raised::Client(ClientError::Protocol(m)) => {
                format!("<class 'xml.parsers.expat.ExpatError'>, {m}")
            }
            // supervisorctl indexes the result: a missing member is its KeyError, anything else a
            // TypeError.
            Raised::Client(ClientError::Decode(FromValueError::MissingKey(k))) => {
                format!("<class 'KeyError'>, '{k}'")
            }
            Raised::Client(ClientError::Decode(e)) => format!("<class 'TypeError'>, {e}"),
            Raised::Value(m) => format!("<class 'ValueError'>, {m}"),
            Raised::Eof => "<class 'EOFError'>, EOF when reading a line".to_string(),
        }
    }
}

/// Interprets commands against one server.
pub struct Controller {
    /// The effective settings (the shell changes the credentials when it asks for them).
    pub settings: Settings,
    /// The exit status so far (one of [`exit`]); the last failing command sets it.
    pub exitstatus: i32,
    /// Where command output goes.
    pub out: Out,
    /// Where questions (`Really shut the remote supervisord process down y/N?`, credentials) are
    /// answered.
    pub input: Input,
    rt: Arc<Runtime>,
    client: Option<Arc<Client>>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("settings", &self.settings)
            .field("exitstatus", &self.exitstatus)
            .finish()
    }
}

/// Result of splitting a command line (Python `cmd.Cmd.parseline`); `?x` means `help x`.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A blank line (the shell does nothing; supervisorctl does not repeat the last command).
    Empty,
    /// A command name and its argument text.
    Command {
        /// The command: the leading run of letters, digits and `_`.
        name: String,
        /// Everything after it, trimmed.
        arg: String,
        /// The whole trimmed line (with `?` already turned into `help `).
        line: String,
    },
    /// A line that does not start with a command name; the text is reported as `*** Unknown syntax`.
    Unknown(String),
}

/// Splits a command line the way Python's `cmd.Cmd.parseline` does.
pub fn parseline(line: &str) -> Parsed {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return Parsed::Empty;
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    if end == 0 {
        return Parsed::Unknown(line);
    }
    Parsed::Command {
        name: line[..end].to_string(),
        arg: line[end..].trim().to_string(),
        line,
    }
}

impl Controller {
    /// A controller with its own single-threaded tokio runtime; it connects on the first call.
    pub fn new(settings: Settings, out: Out, input: Input) -> std::io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Controller {
            settings,
            exitstatus: exit::SUCCESS,
            out,
            input,
            rt: Arc::new(rt),
            client: None,
        })
    }

    /// The runtime the client calls run on (shared with the streaming commands' tasks).
    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.rt)
    }

    /// Prints one line of command output.
    pub fn output(&mut self, text: &str) {
        self.out.line(text);
    }

    /// Runs a future on the controller's runtime.
    pub fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The client for the current server URL and credentials, created on first use.
    pub fn client(&mut self) -> Result<Arc<Client>, Raised> {
        if let Some(c) = &self.client {
            return Ok(Arc::clone(c));
        }
        let creds = match (&self.settings.username, &self.settings.password) {
            (Some(u), Some(p)) => Some((u.as_str(), p.as_str())),
            _ => None,
        };
        let client = Client::new(&self.settings.serverurl, creds).map_err(|_| {
            Raised::Value(format!(
                "Unknown protocol for serverurl {}",
                self.settings.serverurl
            ))
        })?;
        let client = Arc::new(client);
        self.client = Some(Arc::clone(&client));
        Ok(client)
    }

    /// Forgets the connection (server URL or credentials changed).
    pub fn reset_client(&mut self) {
        self.client = None;
    }

    /// Checks the server speaks API 3.0 (supervisorctl's `upcheck`); prints why not and sets the status.
    pub fn upcheck(&mut self) -> Result<bool, Raised> {
        let client = self.client()?;
        match self.block(client.get_version()) {
            Ok(api) if api == API_VERSION => Ok(true),
            Ok(api) => {
                self.output(&format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with API version {API_VERSION}, but the remote version is {api}."
                ));
                self.exitstatus = exit::NOT_INSTALLED;
                Ok(false)
            }
            Err(ClientError::Fault(f)) if f.code_enum() == Some(FaultCode::UnknownMethod) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace commands that \
                     supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is \
                     enabled in the configuration file (see sample.conf).",
                );
                self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(ClientError::ConnectionRefused { url }) => {
                self.output(&format!("{url} refused connection"));
                self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            Err(ClientError::NoSuchFile { url }) => {
                self.output(&format!("{url} no such file"));
                self.exitstatus = exit::NOT_RUNNING;
                Ok(false)
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                Err(e.into())
            }
        }
    }

    /// Exit status for a per-process result code (supervisorctl's `set_exitstatus_from_xmlrpc_fault`).
    pub fn status_from_fault(&mut self, code: i32, ignored: Option<i32>) {
        if Some(code) == ignored || code == FaultCode::Success.code() {
            return;
        }
        self.exitstatus = match FaultCode::from_code(code) {
            Some(
                FaultCode::SpawnError | FaultCode::AbnormalTermination | FaultCode::NotRunning,
            ) => exit::NOT_RUNNING,
            _ => exit::GENERIC,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_like_cmd() {
        let cmd = |n: &str, a: &str, l: &str| Parsed::Command {
            name: n.into(),
            arg: a.into(),
            line: l.into(),
        };
        assert_eq!(parseline("  "), Parsed::Empty);
        assert_eq!(
            parseline(" status a  b "),
            cmd("status", "a  b", "status a  b")
        );
        assert_eq!(
            parseline("status--json"),
            cmd("status", "--json", "status--json")
        );
        assert_eq!(parseline("!ls"), Parsed::Unknown("!ls".into()));
        assert_eq!(parseline("?start"), cmd("help", "start", "help start"));
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("BAD_NAME: x"), "'BAD_NAME: x'");
        assert_eq!(py_repr("it's"), "\"it's\"");
    }
}
