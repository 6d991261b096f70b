//! procctl: a client for supervisord-compatible servers (supervisord 4.3 and procd) and a command-line
//! interface that behaves like `supervisorctl` 4.3.0.
//!
//! The library part is [`Client`]: a typed async API for every `supervisor.*` and `system.*` XML-RPC
//! method over `unix://` and `http://` server URLs, with the log-tail HTTP streams. The [`cli`] module holds
//! the command interpreter used by the `procctl` binary.

#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod error;
pub mod rpc;
pub mod transport;
pub mod types;
pub mod url;

pub use client::{Call, Channel, Client};
pub use error::ClientError;
pub use procd_protocol::{Fault, FaultCode, ProcessState, SupervisorState, Value};
pub use transport::ByteStream;
pub use types::{ConfigInfo, ProcessInfo, ReloadResult, ResultStruct, StateInfo, TailChunk};
pub use url::{ServerUrl, UrlError};
