//! Typed async client for every `supervisor.*` and `system.*` method, plus the log-tail streams.

use procd_protocol::Value;

use crate::error::ClientError;
use crate::rpc::{self, Fault};
use crate::transport::{ByteStream, Transport};
use crate::types::{
    ConfigInfo, ProcessInfo, ReloadResult, ResultStruct, StateInfo, TailChunk, as_bool, as_int,
    as_string, list_of, string_list,
};
use crate::url::{ServerUrl, UrlError};

/// Which log of a process to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The child's standard output (`stdout_logfile`).
    Stdout,
    /// The child's standard error (`stderr_logfile`; empty with `redirect_stderr=true`).
    Stderr,
}

impl Channel {
    /// The channel's name in supervisord's URLs and messages: `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// One call of a `system.multicall` batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The full method name, e.g. `supervisor.startProcess`.
    pub method: String,
    /// The positional parameters, as XML-RPC values.
    pub params: Vec<Value>,
}

/// A connection to one supervisord (or procd) server.
#[derive(Debug)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// `url` is `unix:///path` or `http://host:port`; Basic auth is sent when credentials are given.
    pub fn new(url: &str, credentials: Option<(&str, &str)>) -> Result<Self, UrlError> {
        let parsed = ServerUrl::parse(url)?;
        Ok(Client {
            transport: Transport::new(parsed, url, credentials),
        })
    }

    /// The server URL as given to [`Client::new`] (for messages such as `unix:///tmp/supervisor.sock refused
    /// connection`).
    pub fn server_url(&self) -> &str {
        self.transport.url_text()
    }

    /// Calls any method by name and returns the raw result value.
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, ClientError> {
        let body = rpc::encode_call(method, &params);
        let response = self.transport.post(body).await?;
        match rpc::decode_response(&response) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(fault)) => Err(ClientError::Fault(fault)),
            Err(e) => Err(ClientError::Protocol(e)),
        }
    }

    async fn call_str(&self, method: &str, params: Vec<Value>) -> Result<String, ClientError> {
        as_string(self.call(method, params).await?)
    }

    async fn call_bool(&self, method: &str, params: Vec<Value>) -> Result<bool, ClientError> {
        as_bool(&self.call(method, params).await?)
    }

    async fn call_results(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        list_of(&self.call(method, params).await?, ResultStruct::from_value)
    }

    // ---- supervisor.* : status and control of supervisord itself ----

    /// `supervisor.getAPIVersion`: the version of the RPC API (`3.0` for supervisord 3.x and 4.x, and procd).
    pub async fn get_api_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getAPIVersion", vec![]).await
    }

    /// Deprecated alias of `getAPIVersion`; supervisorctl's connection check uses it.
    pub async fn get_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getVersion", vec![]).await
    }

    /// `supervisor.getSupervisorVersion`: the server's package version (procd reports supervisord's, `4.3.0`).
    pub async fn get_supervisor_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getSupervisorVersion", vec![])
            .await
    }

    /// `supervisor.getIdentification`: the `[supervisord] identifier=` value (default `supervisor`).
    pub async fn get_identification(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getIdentification", vec![]).await
    }

    /// `supervisor.getState`: the daemon's state code and name (RUNNING, RESTARTING, SHUTDOWN, FATAL).
    pub async fn get_state(&self) -> Result<StateInfo, ClientError> {
        Ok(StateInfo::from_value(
            &self.call("supervisor.getState", vec![]).await?,
        )?)
    }

    /// `supervisor.getPID`: the daemon's own pid.
    pub async fn get_pid(&self) -> Result<i32, ClientError> {
        as_int(&self.call("supervisor.getPID", vec![]).await?)
    }

    /// `supervisor.readLog(offset, length)`: bytes of the main log. A negative `offset` counts from the end
    /// (then `length` must be 0); `length` 0 reads to the end. Faults: `NO_FILE` (no log file),
    /// `BAD_ARGUMENTS`.
    pub async fn read_log(&self, offset: i32, length: i32) -> Result<String, ClientError> {
        self.call_str("supervisor.readLog", vec![offset.into(), length.into()])
            .await
    }

    /// `supervisor.clearLog`: removes the main log file and reopens it empty (rotated backups
    /// are kept). Faults: `NO_FILE`, `FAILED`.
    pub async fn clear_log(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.clearLog", vec![]).await
    }

    /// `supervisor.shutdown`: the daemon stops every process (in reverse priority order) and exits;
    /// answered before the shutdown starts. Fault `SHUTDOWN_STATE` if it is already shutting down.
    pub async fn shutdown(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.shutdown", vec![]).await
    }

    /// `supervisor.restart`: the daemon stops every process, rereads its config and starts again, keeping
    /// its pid. Fault `SHUTDOWN_STATE` if it is already shutting down.
    pub async fn restart(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.restart", vec![]).await
    }

    // ---- supervisor.* : process information ----

    /// `supervisor.getProcessInfo(name)`: one process by namespec (`group:name`, or `name` when the group
    /// has the same name). Fault `BAD_NAME`.
    pub async fn get_process_info(&self, name: &str) -> Result<ProcessInfo, ClientError> {
        Ok(ProcessInfo::from_value(
            &self
                .call("supervisor.getProcessInfo", vec![name.into()])
                .await?,
        )?)
    }

    /// `supervisor.getAllProcessInfo`: every process, groups and their members in the server's order.
    pub async fn get_all_process_info(&self) -> Result<Vec<ProcessInfo>, ClientError> {
        list_of(
            &self.call("supervisor.getAllProcessInfo", vec![]).await?,
            ProcessInfo::from_value,
        )
    }

    /// Raw config entries (every key supervisord sends).
    pub async fn get_all_config_info_raw(&self) -> Result<Vec<Value>, ClientError> {
        self.call("supervisor.getAllConfigInfo", vec![])
            .await?
            .into_array()
            .map_err(|v| ClientError::Protocol(format!("expected array, got {}", v.type_name())))
    }

    /// `supervisor.getAllConfigInfo`: every process's configuration, typed (the fields supervisorctl's
    /// `avail` and procctl use; [`Client::get_all_config_info_raw`] has every key).
    pub async fn get_all_config_info(&self) -> Result<Vec<ConfigInfo>, ClientError> {
        list_of(
            &self.call("supervisor.getAllConfigInfo", vec![]).await?,
            ConfigInfo::from_value,
        )
    }

    // ---- supervisor.* : process control ----

    /// `supervisor.startProcess(name, wait)`: starts one process; with `wait`, the answer comes when it is
    /// RUNNING (after `startsecs`). Faults: `BAD_NAME`, `ALREADY_STARTED`, `NO_FILE`, `NOT_EXECUTABLE`,
    /// `SPAWN_ERROR`, `ABNORMAL_TERMINATION` (exited while starting).
    pub async fn start_process(&self, name: &str, wait: bool) -> Result<bool, ClientError> {
        self.call_bool("supervisor.startProcess", vec![name.into(), wait.into()])
            .await
    }

    /// `supervisor.startProcessGroup(name, wait)`: starts the group's stopped processes in priority order;
    /// one result per process. Fault `BAD_NAME`.
    pub async fn start_process_group(
        &self,
        name: &str,
        wait: bool,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results(
            "supervisor.startProcessGroup",
            vec![name.into(), wait.into()],
        )
        .await
    }

    /// `supervisor.startAllProcesses(wait)`: starts every stopped process, groups in priority order; one
    /// result per process.
    pub async fn start_all_processes(&self, wait: bool) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.startAllProcesses", vec![wait.into()])
            .await
    }

    /// `supervisor.stopProcess(name, wait)`: sends `stopsignal`, then SIGKILL after `stopwaitsecs`; with
    /// `wait`, the answer comes when it is stopped. Faults: `BAD_NAME`, `NOT_RUNNING`, `FAILED`.
    pub async fn stop_process(&self, name: &str, wait: bool) -> Result<bool, ClientError> {
        self.call_bool("supervisor.stopProcess", vec![name.into(), wait.into()])
            .await
    }

    /// `supervisor.stopProcessGroup(name, wait)`: stops the group's running processes in reverse priority
    /// order; one result per process. Fault `BAD_NAME`.
    pub async fn stop_process_group(
        &self,
        name: &str,
        wait: bool,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results(
            "supervisor.stopProcessGroup",
            vec![name.into(), wait.into()],
        )
        .await
    }

    /// `supervisor.stopAllProcesses(wait)`: stops every running process, groups in reverse priority
    /// order; one result per process.
    pub async fn stop_all_processes(&self, wait: bool) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.stopAllProcesses", vec![wait.into()])
            .await
    }

    /// `supervisor.signalProcess(name, signal)`: sends a signal to a running process without stopping it.
    /// `signal` is a name (`HUP`, `SIGHUP`) or a number as text. Faults: `BAD_NAME`, `BAD_SIGNAL`,
    /// `NOT_RUNNING`.
    pub async fn signal_process(&self, name: &str, signal: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.signalProcess", vec![name.into(), signal.into()])
            .await
    }

    /// `supervisor.signalProcessGroup(name, signal)`: signals the group's running processes; one result per
    /// process. Faults: `BAD_NAME`, `BAD_SIGNAL`.
    pub async fn signal_process_group(
        &self,
        name: &str,
        signal: &str,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results(
            "supervisor.signalProcessGroup",
            vec![name.into(), signal.into()],
        )
        .await
    }

    /// `supervisor.signalAllProcesses(signal)`: signals every running process; one result per process.
    /// Fault `BAD_SIGNAL`.
    pub async fn signal_all_processes(
        &self,
        signal: &str,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.signalAllProcesses", vec![signal.into()])
            .await
    }

    /// `supervisor.sendProcessStdin(name, chars)`: writes `chars` to the process's stdin. Faults:
    /// `BAD_NAME`, `NOT_RUNNING`, `NO_FILE` (its stdin is closed).
    pub async fn send_process_stdin(&self, name: &str, chars: &str) -> Result<bool, ClientError> {
        self.call_bool(
            "supervisor.sendProcessStdin",
            vec![name.into(), chars.into()],
        )
        .await
    }

    /// `supervisor.sendRemoteCommEvent(type, data)`: emits a REMOTE_COMMUNICATION event with this `type`
    /// and payload to the listeners that subscribe to it.
    pub async fn send_remote_comm_event(
        &self,
        kind: &str,
        data: &str,
    ) -> Result<bool, ClientError> {
        self.call_bool(
            "supervisor.sendRemoteCommEvent",
            vec![kind.into(), data.into()],
        )
        .await
    }

    // ---- supervisor.* : configuration ----

    /// `supervisor.reloadConfig`: rereads the config file and reports which groups were added, changed
    /// and removed; nothing is applied (supervisorctl's `reread`; `update` then adds and removes).
    /// Fault `CANT_REREAD` with the config errors.
    pub async fn reload_config(&self) -> Result<ReloadResult, ClientError> {
        Ok(ReloadResult::from_value(
            &self.call("supervisor.reloadConfig", vec![]).await?,
        )?)
    }

    /// `supervisor.addProcessGroup(name)`: starts managing a group from the last reread config (its
    /// `autostart` processes start). Faults: `BAD_NAME`, `ALREADY_ADDED`.
    pub async fn add_process_group(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.addProcessGroup", vec![name.into()])
            .await
    }

    /// `supervisor.removeProcessGroup(name)`: forgets a group whose processes are all stopped. Faults:
    /// `BAD_NAME`, `STILL_RUNNING`.
    pub async fn remove_process_group(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.removeProcessGroup", vec![name.into()])
            .await
    }

    // ---- supervisor.* : process logs ----

    /// `supervisor.readProcessStdoutLog` or `readProcessStderrLog` by `channel`: bytes of a process's log
    /// file, `offset` and `length` as in [`Client::read_log`]. Faults: `BAD_NAME`, `NO_FILE`,
    /// `BAD_ARGUMENTS`.
    pub async fn read_process_log(
        &self,
        name: &str,
        channel: Channel,
        offset: i32,
        length: i32,
    ) -> Result<String, ClientError> {
        let method = match channel {
            Channel::Stdout => "supervisor.readProcessStdoutLog",
            Channel::Stderr => "supervisor.readProcessStderrLog",
        };
        self.call_str(method, vec![name.into(), offset.into(), length.into()])
            .await
    }

    /// `supervisor.readProcessStdoutLog(name, offset, length)`.
    pub async fn read_process_stdout_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<String, ClientError> {
        self.read_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    /// `supervisor.readProcessStderrLog(name, offset, length)`.
    pub async fn read_process_stderr_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<String, ClientError> {
        self.read_process_log(name, Channel::Stderr, offset, length)
            .await
    }

    /// `supervisor.tailProcessStdoutLog` or `tailProcessStderrLog` by `channel`: up to `length` bytes of
    /// the log ending at its end, the offset to continue from, and whether bytes were skipped (overflow);
    /// `supervisorctl tail -f` polls this. Faults: `BAD_NAME`, `NO_FILE`.
    pub async fn tail_process_log(
        &self,
        name: &str,
        channel: Channel,
        offset: i32,
        length: i32,
    ) -> Result<TailChunk, ClientError> {
        let method = match channel {
            Channel::Stdout => "supervisor.tailProcessStdoutLog",
            Channel::Stderr => "supervisor.tailProcessStderrLog",
        };
        Ok(TailChunk::from_value(
            &self
                .call(method, vec![name.into(), offset.into(), length.into()])
                .await?,
        )?)
    }

    /// `supervisor.tailProcessStdoutLog(name, offset, length)`.
    pub async fn tail_process_stdout_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<TailChunk, ClientError> {
        self.tail_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    /// `supervisor.tailProcessStderrLog(name, offset, length)`.
    pub async fn tail_process_stderr_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<TailChunk, ClientError> {
        self.tail_process_log(name, Channel::Stderr, offset, length)
            .await
    }

    /// `supervisor.clearProcessLogs(name)`: removes both log files of a process and reopens them empty
    /// (rotated backups are kept). Faults: `BAD_NAME`, `FAILED`.
    pub async fn clear_process_logs(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.clearProcessLogs", vec![name.into()])
            .await
    }

    /// `supervisor.clearAllProcessLogs`: clears every process's logs; one result per process.
    pub async fn clear_all_process_logs(&self) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.clearAllProcessLogs", vec![])
            .await
    }

    // ---- system.* ----

    /// `system.listMethods`: every method name the server answers, sorted.
    pub async fn list_methods(&self) -> Result<Vec<String>, ClientError> {
        string_list(&self.call("system.listMethods", vec![]).await?)
    }

    /// `system.methodHelp(method)`: the method's documentation text. Fault `SIGNATURE_UNSUPPORTED` for
    /// an unknown method.
    pub async fn method_help(&self, method: &str) -> Result<String, ClientError> {
        self.call_str("system.methodHelp", vec![method.into()])
            .await
    }

    /// `[return type, param types...]` as supervisord reports them.
    pub async fn method_signature(&self, method: &str) -> Result<Vec<String>, ClientError> {
        string_list(
            &self
                .call("system.methodSignature", vec![method.into()])
                .await?,
        )
    }

    /// Runs calls in order on the server; each entry is the call's value or its fault.
    pub async fn multicall(
        &self,
        calls: &[Call],
    ) -> Result<Vec<Result<Value, Fault>>, ClientError> {
        let list = Value::Array(
            calls
                .iter()
                .map(|c| {
                    Value::structure([
                        ("methodName", Value::from(c.method.as_str())),
                        ("params", Value::Array(c.params.clone())),
                    ])
                })
                .collect(),
        );
        let results = self
            .call("system.multicall", vec![list])
            .await?
            .into_array()
            .map_err(|v| ClientError::Protocol(format!("expected array, got {}", v.type_name())))?;
        Ok(results
            .into_iter()
            .map(|v| match Fault::from_value(&v) {
                Some(f) if v.as_struct().is_some_and(|m| m.len() == 2) => Err(f),
                _ => Ok(v),
            })
            .collect())
    }

    // ---- HTTP streams ----

    /// Streams `/logtail/<name>/<channel>`: the last bytes of the log, then whatever is appended.
    pub async fn tail_stream(
        &self,
        name: &str,
        channel: Channel,
    ) -> Result<ByteStream, ClientError> {
        self.transport
            .get_stream(&format!("/logtail/{name}/{}", channel.as_str()))
            .await
    }

    /// Streams `/mainlogtail`, supervisord's own log.
    pub async fn main_log_stream(&self) -> Result<ByteStream, ClientError> {
        self.transport.get_stream("/mainlogtail").await
    }

    /// Streams any server path (used for custom log tail paths).
    pub async fn get_stream(&self, path: &str) -> Result<ByteStream, ClientError> {
        self.transport.get_stream(path).await
    }
}
