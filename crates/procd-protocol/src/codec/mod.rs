//! XML-RPC codec (sans-IO): request/response documents to and from [`Value`]s.
//!
//! Encoding writes exactly the bytes Python's `xmlrpc.client.dumps(..., methodresponse=True)` writes, which
//! is what supervisord sends, with two deliberate differences that only matter for strings Python cannot
//! carry either:
//!
//! * a carriage return is written as `&#13;`; Python writes it raw, so an XML parser turns it into `\n`
//!   and the client never sees it. With the character reference it survives the round trip.
//! * characters XML 1.0 forbids (C0 controls other than tab, newline and CR; U+FFFE; U+FFFF) are replaced
//!   by U+FFFD. Python writes them raw and the client's parser then rejects the whole document (e.g. a log
//!   read containing an ANSI escape); a replacement character keeps every reply parseable.
//!
//! Decoding is a small hand-written reader on top of `quick-xml`: no DTD (a `<!DOCTYPE` is an error, so no
//! entity can be defined or expanded), only the five predefined entities and numeric character references,
//! element nesting bounded by [`MAX_DEPTH`] with an explicit stack, and no panics on any input. Request
//! size limits are the server's job.

mod decode;
mod encode;
#[cfg(test)]
mod tests;

use crate::fault::Fault;
use crate::value::Value;

pub use decode::{decode_call, decode_response};
pub use encode::{encode_call, encode_fault, encode_response};

/// Deepest element nesting the decoder accepts. A nested array or struct costs three levels
/// (`value`/`array`/`data` or `value`/`struct`/`member`), so this admits about 65 nested containers.
pub const MAX_DEPTH: usize = 200;

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub method: String,
    pub params: Vec<Value>,
}

impl MethodCall {
    pub fn new(method: impl Into<String>, params: Vec<Value>) -> Self {
        MethodCall {
            method: method.into(),
            params,
        }
    }
}

/// The outcome of a call as carried by a `<methodResponse>`.
pub type Response = Result<Value, Fault>;

/// Why a document could not be decoded. Texts quoted from the input are shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("document type declarations are not allowed")]
    Doctype,
    #[error("elements nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("no root element")]
    NoRoot,
    #[error("element <{0}> is not closed")]
    Unclosed(String),
    #[error("content outside the root element")]
    OutsideRoot,
    #[error("expected <{expected}> but found <{found}>")]
    UnexpectedElement {
        expected: &'static str,
        found: String,
    },
    #[error("<{parent}> lacks a <{child}> element")]
    Missing {
        parent: &'static str,
        child: &'static str,
    },
    #[error("missing or empty methodName")]
    NoMethodName,
    #[error("unknown value type <{0}>")]
    UnknownType(String),
    #[error("<value> holds more than one typed element")]
    AmbiguousValue,
    #[error("invalid {kind} value {text:?}")]
    InvalidScalar { kind: &'static str, text: String },
    #[error("integer {0} does not fit in 32 bits")]
    IntOutOfRange(String),
    #[error("a response must carry exactly one value, found {0}")]
    ResponseArity(usize),
    #[error("fault struct lacks an int faultCode or a string faultString")]
    BadFault,
}
