//! Log methods: reading and clearing the main log, reading, tailing and clearing the processes' logs.

use std::path::PathBuf;

use procd_config::LogTarget;
use procd_protocol::api::{ResultStruct, Stream, capped_int};
use procd_protocol::{Fault, FaultCode, Value};

use super::super::Supervisor;
use super::super::faults::{bare, fault, no_file, read_error};
use super::R;
use crate::logs::read::{ReadError, read_file, tail_file};

impl Supervisor {
    fn main_log_path(&self) -> Option<PathBuf> {
        match &self.config.supervisord.logfile {
            LogTarget::Path(p) => Some(p.clone()),
            _ => None,
        }
    }

    /// `readLog` (and its alias `readMainLog`).
    pub(super) fn read_main_log(&self, offset: i32, length: i32) -> R {
        let path = self.main_log_path();
        let Some(path) = path.filter(|p| p.exists()) else {
            return Err(no_file(self.main_log_path().as_deref()));
        };
        read_result(read_file(&path, offset.into(), length.into()))
    }

    /// `clearLog`.
    pub(super) fn clear_main_log(&self) -> R {
        if !self.main_log_path().is_some_and(|p| p.exists()) {
            return Err(bare(FaultCode::NoFile));
        }
        self.logger.clear().map_err(|_| bare(FaultCode::Failed))?;
        Ok(Value::Bool(true))
    }

    /// The log file of a process's stream, if it has one.
    fn stream_path(&self, namespec: &str, stream: Stream) -> Result<Option<PathBuf>, Fault> {
        let id = self.resolve_process(namespec)?;
        let Some(proc) = self.procs.get(&id) else {
            return Err(super::super::faults::bad_name(namespec));
        };
        Ok(match stream {
            Stream::Stderr => proc.stderr_path.clone(),
            Stream::Stdout => proc.stdout_path.clone(),
        })
    }

    /// `readProcessStdoutLog`, `readProcessStderrLog` (and the alias `readProcessLog`).
    pub(super) fn read_process_log(
        &self,
        name: &str,
        stream: Stream,
        offset: i32,
        length: i32,
    ) -> R {
        let path = self.stream_path(name, stream)?;
        let Some(path) = path.filter(|p| p.exists()) else {
            return Err(no_file(self.stream_path(name, stream)?.as_deref()));
        };
        read_result(read_file(&path, offset.into(), length.into()))
    }

    /// `tailProcessStdoutLog`, `tailProcessStderrLog` (and the alias `tailProcessLog`).
    pub(super) fn tail_process_log(
        &self,
        name: &str,
        stream: Stream,
        offset: i32,
        length: i32,
    ) -> R {
        let path = self.stream_path(name, stream)?;
        let empty = || Value::Array(vec![Value::from(""), Value::Int(0), Value::Bool(false)]);
        let Some(path) = path.filter(|p| p.exists()) else {
            return Ok(empty());
        };
        let tail = tail_file(&path, offset.into(), length.into());
        Ok(Value::Array(vec![
            Value::String(String::from_utf8_lossy(&tail.data).into_owned()),
            Value::Int(capped_int(tail.offset)),
            Value::Bool(tail.overflow),
        ]))
    }

    /// `clearProcessLogs` (and its alias `clearProcessLog`).
    pub(super) fn clear_process_logs(&self, namespec: &str) -> Result<(), Fault> {
        let id = self.resolve_process(namespec)?;
        let Some(proc) = self.procs.get(&id) else {
            return Err(super::super::faults::bad_name(namespec));
        };
        proc.clear_logs()
            .map_err(|_| fault(FaultCode::Failed, namespec))
    }

    /// `clearAllProcessLogs`: one result struct per process, in priority order.
    pub(super) fn clear_all_process_logs(&self) -> Value {
        let results: Vec<ResultStruct> = self
            .ascending()
            .into_iter()
            .filter_map(|id| self.procs.get(&id))
            .map(|proc| {
                let (name, group) = (proc.config.name.clone(), proc.config.group.clone());
                match self.clear_process_logs(&proc.namespec()) {
                    Ok(()) => ResultStruct::success(name, group),
                    Err(f) => ResultStruct::from_fault(name, group, &f),
                }
            })
            .collect();
        super::results_value(&results)
    }
}

fn read_result(r: Result<Vec<u8>, ReadError>) -> R {
    match r {
        Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => Err(read_error(&e)),
    }
}
