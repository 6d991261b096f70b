//! procd-protocol: the wire vocabulary shared by the daemon, the client and the tests.
//!
//! Sans-IO: XML-RPC values and their quick-xml codec, supervisord's fault codes, process and supervisor
//! states, signals, and the typed structures of supervisord's API.

#![warn(missing_docs)]

pub mod api;
pub mod codec;
pub mod fault;
pub mod level;
pub mod signal;
pub mod states;
pub mod value;

pub use api::{
    Call, ConfigInfo, FromValueError, METHODS, MethodSpec, Params, ProcessInfo, ReloadResult,
    ResultStruct, StateInfo, StreamConfigInfo, SupervisorCall, TailChunk, check_call, find_method,
    make_namespec, parse_params, split_namespec,
};
pub use codec::{
    DecodeError, MethodCall, Response, decode_call, decode_response, encode_call, encode_fault,
    encode_response,
};
pub use fault::{Fault, FaultCode};
pub use level::Level;
pub use signal::Signal;
pub use states::{ListenerState, ProcessState, SupervisorState};
pub use value::Value;
