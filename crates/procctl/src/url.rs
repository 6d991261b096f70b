//! Server URLs as supervisorctl accepts them: `unix:///path/to/socket` or `http://host[:port]`.

use std::fmt;
use std::path::PathBuf;

/// Where a supervisord-compatible server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerUrl {
    /// A unix domain socket path (everything after `unix://`).
    Unix(PathBuf),
    /// A TCP endpoint; `authority` is the `host[:port]` text used for the `Host` header.
    Http {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// TCP port (80 when the URL names none).
        port: u16,
        /// `host[:port]` as written in the URL.
        authority: String,
    },
}

/// A server URL that is neither `unix://` nor `http://`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown protocol for serverurl {0}")]
pub struct UrlError(pub String);

impl ServerUrl {
    /// Parses `unix:///path` or `http://host[:port][/...]` (port defaults to 80).
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        if let Some(path) = text.strip_prefix("unix://") {
            return Ok(ServerUrl::Unix(PathBuf::from(path)));
        }
        let rest = text
            .strip_prefix("http://")
            .ok_or_else(|| UrlError(text.to_string()))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Credentials embedded in the URL are not used for the socket address.
        let hostport = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = split_host_port(hostport).ok_or_else(|| UrlError(text.to_string()))?;
        if host.is_empty() {
            return Err(UrlError(text.to_string()));
        }
        Ok(ServerUrl::Http {
            host,
            port,
            authority: hostport.to_string(),
        })
    }

    /// The value for the `Host` request header.
    pub fn host_header(&self) -> &str {
        match self {
            ServerUrl::Unix(_) => "localhost",
            ServerUrl::Http { authority, .. } => authority,
        }
    }
}

fn split_host_port(hostport: &str) -> Option<(String, u16)> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) if !p.is_empty() => p.parse().ok()?,
            _ => 80,
        };
        return Some((host.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => Some((host.to_string(), port.parse().ok()?)),
        Some((host, _)) => Some((host.to_string(), 80)),
        None => Some((hostport.to_string(), 80)),
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerUrl::Unix(p) => write!(f, "unix://{}", p.display()),
            ServerUrl::Http { authority, .. } => write!(f, "http://{authority}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_schemes() {
        assert_eq!(
            ServerUrl::parse("unix:///tmp/s.sock"),
            Ok(ServerUrl::Unix("/tmp/s.sock".into()))
        );
        let cases = [
            ("http://localhost:9001", "localhost", 9001),
            ("http://127.0.0.1", "127.0.0.1", 80),
            ("http://u:p@example.org:81/RPC2", "example.org", 81),
            ("http://[::1]:9001", "::1", 9001),
        ];
        for (text, host, port) in cases {
            match ServerUrl::parse(text) {
                Ok(ServerUrl::Http {
                    host: h, port: p, ..
                }) => {
                    assert_eq!((h.as_str(), p), (host, port), "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        for bad in [
            "https://x",
            "ftp://x",
            "localhost:9001",
            "http://",
            "http://h:port",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
