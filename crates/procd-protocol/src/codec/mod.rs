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
    /// The `<methodName>` text, e.g. `supervisor.getState`.
    pub method: String,
    /// The `<params>`, in order.
    pub params: Vec<Value>,
}

impl MethodCall {
    /// A call of `method` with `params`.
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
    /// quick-xml rejected the document (bad syntax, an undefined entity, invalid UTF-8); its message.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// A `<!DOCTYPE ...>`: refused so no entity can be declared (no "billion laughs").
    #[error("document type declarations are not allowed")]
    Doctype,
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("elements nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// An empty document, or one with only comments and whitespace.
    #[error("no root element")]
    NoRoot,
    /// The document ended inside this element.
    #[error("element <{0}> is not closed")]
    Unclosed(String),
    /// Text or a second element after the root element.
    #[error("content outside the root element")]
    OutsideRoot,
    /// An element where the XML-RPC grammar requires another.
    #[error("expected <{expected}> but found <{found}>")]
    UnexpectedElement {
        /// The element the grammar requires here.
        expected: &'static str,
        /// The element found.
        found: String,
    },
    /// A required child element is absent (e.g. a `<member>` without `<value>`).
    #[error("<{parent}> lacks a <{child}> element")]
    Missing {
        /// The enclosing element.
        parent: &'static str,
        /// The missing child.
        child: &'static str,
    },
    /// A `<methodCall>` without a `<methodName>` or with an empty one.
    #[error("missing or empty methodName")]
    NoMethodName,
    /// A `<value>` child that is none of XML-RPC's types (nor the common `nil` extension).
    #[error("unknown value type <{0}>")]
    UnknownType(String),
    /// A `<value>` with more than one typed child element.
    #[error("<value> holds more than one typed element")]
    AmbiguousValue,
    /// A scalar whose text does not parse as its type (`<boolean>2</boolean>`, a bad base64 body ...).
    #[error("invalid {kind} value {text:?}")]
    InvalidScalar {
        /// The element name (`boolean`, `double`, `dateTime.iso8601`, `base64`, ...).
        kind: &'static str,
        /// The text found (shortened).
        text: String,
    },
    /// An `<int>`/`<i4>` outside `i32` (XML-RPC ints are 32-bit; Python refuses to send larger ones).
    #[error("integer {0} does not fit in 32 bits")]
    IntOutOfRange(String),
    /// A `<methodResponse>` whose `<params>` does not hold exactly one value.
    #[error("a response must carry exactly one value, found {0}")]
    ResponseArity(usize),
    /// A `<fault>` whose struct lacks an int `faultCode` or a string `faultString`.
    #[error("fault struct lacks an int faultCode or a string faultString")]
    BadFault,
}
