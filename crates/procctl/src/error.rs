//! The client's error type: transport failures kept apart from supervisord faults.

use std::io;

use crate::rpc::Fault;

/// Everything a call to supervisord can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// TCP or unix connect got ECONNREFUSED (server not listening).
    #[error("{url} refused connection")]
    ConnectionRefused {
        /// The server URL, as configured.
        url: String,
    },
    /// The unix socket file does not exist (ENOENT).
    #[error("{url} no such file")]
    NoSuchFile {
        /// The server URL, as configured.
        url: String,
    },
    /// Any other failure while connecting.
    #[error("{url}: {source}")]
    Connect {
        /// The server URL, as configured.
        url: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The server answered with a non-200 status (401 when credentials are missing or wrong).
    #[error("{status} {reason}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The status line's reason phrase (`Unauthorized`).
        reason: String,
    },
    /// HTTP-level failure after connecting (connection reset, malformed response...).
    #[error("HTTP error: {0}")]
    Http(#[source] hyper::Error),
    /// The server returned an XML-RPC fault.
    #[error("{0}")]
    Fault(Fault),
    /// The response is not a well-formed XML-RPC document.
    #[error("unexpected response: {0}")]
    Protocol(String),
    /// The response decoded, but its value does not have the shape the method returns.
    #[error("unexpected response: {0}")]
    Decode(#[from] procd_protocol::api::FromValueError),
}

impl ClientError {
    pub(crate) fn from_connect(url: &str, e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ClientError::ConnectionRefused {
                url: url.to_string(),
            },
            io::ErrorKind::NotFound => ClientError::NoSuchFile {
                url: url.to_string(),
            },
            _ => ClientError::Connect {
                url: url.to_string(),
                source: e,
            },
        }
    }

    /// The fault code when this is a fault.
    pub fn fault_code(&self) -> Option<i32> {
        match self {
            ClientError::Fault(f) => Some(f.code),
            _ => None,
        }
    }

    /// The fault when this is a fault with a code supervisord defines.
    pub fn fault(&self) -> Option<procd_protocol::FaultCode> {
        match self {
            ClientError::Fault(f) => f.code_enum(),
            _ => None,
        }
    }

    /// The HTTP status when the server answered with a non-200 status.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
