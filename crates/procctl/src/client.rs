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
    Stdout,
    Stderr,
}

impl Channel {
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
    pub method: String,
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

    pub async fn get_api_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getAPIVersion", vec![]).await
    }

    /// Deprecated alias of `getAPIVersion`; supervisorctl's connection check uses it.
    pub async fn get_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getVersion", vec![]).await
    }

    pub async fn get_supervisor_version(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getSupervisorVersion", vec![])
            .await
    }

    pub async fn get_identification(&self) -> Result<String, ClientError> {
        self.call_str("supervisor.getIdentification", vec![]).await
    }

    pub async fn get_state(&self) -> Result<StateInfo, ClientError> {
        Ok(StateInfo::from_value(
            &self.call("supervisor.getState", vec![]).await?,
        )?)
    }

    pub async fn get_pid(&self) -> Result<i32, ClientError> {
        as_int(&self.call("supervisor.getPID", vec![]).await?)
    }

    pub async fn read_log(&self, offset: i32, length: i32) -> Result<String, ClientError> {
        self.call_str("supervisor.readLog", vec![offset.into(), length.into()])
            .await
    }

    pub async fn clear_log(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.clearLog", vec![]).await
    }

    pub async fn shutdown(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.shutdown", vec![]).await
    }

    pub async fn restart(&self) -> Result<bool, ClientError> {
        self.call_bool("supervisor.restart", vec![]).await
    }

    // ---- supervisor.* : process information ----

    pub async fn get_process_info(&self, name: &str) -> Result<ProcessInfo, ClientError> {
        Ok(ProcessInfo::from_value(
            &self
                .call("supervisor.getProcessInfo", vec![name.into()])
                .await?,
        )?)
    }

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

    pub async fn get_all_config_info(&self) -> Result<Vec<ConfigInfo>, ClientError> {
        list_of(
            &self.call("supervisor.getAllConfigInfo", vec![]).await?,
            ConfigInfo::from_value,
        )
    }

    // ---- supervisor.* : process control ----

    pub async fn start_process(&self, name: &str, wait: bool) -> Result<bool, ClientError> {
        self.call_bool("supervisor.startProcess", vec![name.into(), wait.into()])
            .await
    }

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

    pub async fn start_all_processes(&self, wait: bool) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.startAllProcesses", vec![wait.into()])
            .await
    }

    pub async fn stop_process(&self, name: &str, wait: bool) -> Result<bool, ClientError> {
        self.call_bool("supervisor.stopProcess", vec![name.into(), wait.into()])
            .await
    }

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

    pub async fn stop_all_processes(&self, wait: bool) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.stopAllProcesses", vec![wait.into()])
            .await
    }

    /// `signal` is a name (`HUP`, `SIGHUP`) or a number as text.
    pub async fn signal_process(&self, name: &str, signal: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.signalProcess", vec![name.into(), signal.into()])
            .await
    }

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

    pub async fn signal_all_processes(
        &self,
        signal: &str,
    ) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.signalAllProcesses", vec![signal.into()])
            .await
    }

    pub async fn send_process_stdin(&self, name: &str, chars: &str) -> Result<bool, ClientError> {
        self.call_bool(
            "supervisor.sendProcessStdin",
            vec![name.into(), chars.into()],
        )
        .await
    }

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

    pub async fn reload_config(&self) -> Result<ReloadResult, ClientError> {
        Ok(ReloadResult::from_value(
            &self.call("supervisor.reloadConfig", vec![]).await?,
        )?)
    }

    pub async fn add_process_group(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.addProcessGroup", vec![name.into()])
            .await
    }

    pub async fn remove_process_group(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.removeProcessGroup", vec![name.into()])
            .await
    }

    // ---- supervisor.* : process logs ----

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

    pub async fn read_process_stdout_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<String, ClientError> {
        self.read_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    pub async fn read_process_stderr_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<String, ClientError> {
        self.read_process_log(name, Channel::Stderr, offset, length)
            .await
    }

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

    pub async fn tail_process_stdout_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<TailChunk, ClientError> {
        self.tail_process_log(name, Channel::Stdout, offset, length)
            .await
    }

    pub async fn tail_process_stderr_log(
        &self,
        name: &str,
        offset: i32,
        length: i32,
    ) -> Result<TailChunk, ClientError> {
        self.tail_process_log(name, Channel::Stderr, offset, length)
            .await
    }

    pub async fn clear_process_logs(&self, name: &str) -> Result<bool, ClientError> {
        self.call_bool("supervisor.clearProcessLogs", vec![name.into()])
            .await
    }

    pub async fn clear_all_process_logs(&self) -> Result<Vec<ResultStruct>, ClientError> {
        self.call_results("supervisor.clearAllProcessLogs", vec![])
            .await
    }

    // ---- system.* ----

    pub async fn list_methods(&self) -> Result<Vec<String>, ClientError> {
        string_list(&self.call("system.listMethods", vec![]).await?)
    }

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
