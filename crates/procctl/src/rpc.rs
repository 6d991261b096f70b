//! The XML-RPC codec as the client uses it: a thin layer over `procd-protocol`.

pub use procd_protocol::{Fault, Value};

/// Encodes a `<methodCall>` document.
pub fn encode_call(method: &str, params: &[Value]) -> Vec<u8> {
    procd_protocol::encode_call(&procd_protocol::MethodCall::new(method, params.to_vec()))
}

/// Decodes a `<methodResponse>`: the value or the fault; `Err` when the document is malformed.
pub fn decode_response(data: &[u8]) -> Result<Result<Value, Fault>, String> {
    procd_protocol::decode_response(data).map_err(|e| e.to_string())
}
