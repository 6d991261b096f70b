//! Cross-site request forgery defence for the status page's actions.
//!
//! supervisord runs an action for any request that names one, so a page on another site (or on another
//! port of the same host) could stop programs through an `<img>` or a form. procd keeps the GET URLs
//! scripts use (`index.html?processname=x&action=stop`) and refuses what only a browser sends on behalf
//! of another site:
//!
//! 1. a `Sec-Fetch-Site` other than `same-origin` or `none` (`none` is a URL the user typed or
//!    bookmarked): `cross-site`, and `same-site` (another port of the same host is the same *site*);
//! 2. an `Origin` that is not this server's (`Host` header; `null` is never ours);
//! 3. a `csrf_token` field that is not this daemon's token;
//! 4. a form POST that comes from a browser (it has `Origin` or `Sec-Fetch-Site`) without the token.
//!
//! The page's own buttons are POST forms carrying the token. Requests without `Origin`,
//! `Sec-Fetch-Site` and token (curl, scripts) run as in supervisord. Requests that only show the page
//! (no action, or `refresh`) are never refused: links from other sites to the status page keep working.

use std::fmt::Write as _;
use std::io::Read as _;

/// Form field carrying the token.
pub const TOKEN_FIELD: &str = "csrf_token";

/// The per-daemon secret the page's forms carry. Random at start-up, the same for the daemon's life
/// (reloads keep it, so a page open across a reload still works).
#[derive(Clone)]
pub struct Secret {
    token: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// 32 bytes from the kernel's random source, as 64 hex digits.
    pub fn generate() -> Secret {
        Secret::from_bytes(&random_bytes())
    }

    /// A secret from known bytes (tests).
    pub fn from_bytes(bytes: &[u8]) -> Secret {
        let mut token = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(token, "{b:02x}");
        }
        Secret { token }
    }

    /// The value the forms carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `candidate` is the token, in time that does not depend on where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(self.token.as_bytes(), candidate.as_bytes())
    }
}

/// `/dev/urandom`; if that cannot be read (a chroot without `/dev`), std's per-process hash keys, which
/// come from the same kernel source through `getrandom(2)`.
fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes
}

/// Compares two byte strings without stopping at the first difference (the length is not secret):
/// `subtle`, as the HTTP layer's credential check.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

/// What a request says about where it comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Provenance<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The `Host` header: the server's own name as the client sees it.
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub fetch_site: Option<&'a str>,
    /// The `csrf_token` form field.
    pub token: Option<&'a str>,
}

/// Why an action was refused (each answers 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Sec-Fetch-Site` says another site (or another origin of this site) sent it.
    CrossSite,
    /// `Origin` names another server.
    ForeignOrigin,
    /// The token is not this daemon's.
    BadToken,
    /// A browser's form post without the token.
    MissingToken,
}

impl Refusal {
    /// The explanation shown on the 403 page.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::CrossSite => "cross-site request refused (Sec-Fetch-Site)",
            Refusal::ForeignOrigin => "cross-site request refused (Origin is not this server)",
            Refusal::BadToken => "invalid form token (reload the status page and try again)",
            Refusal::MissingToken => "form token missing (reload the status page and try again)",
        }
    }
    /// The explanation with what the request said, for the 403 page: a foreign `Origin` names both
    /// headers, since the usual cause is a reverse proxy that rewrites `Host` (the page's own form then
    /// looks foreign).
    pub fn explain(self, req: &Provenance<'_>) -> String {
        match (self, req.origin) {
            (Refusal::ForeignOrigin, Some(origin)) => format!(
                "cross-site request refused (Origin {} is not this server, Host {}; behind a reverse \
                 proxy, pass the client's Host header)",
                origin.trim(),
                req.host.map_or("missing", str::trim)
            ),
            _ => self.reason().to_owned(),
        }
    }
}

/// Whether a request may run an action that changes processes (see the module docs for the rules).
pub fn check(req: &Provenance<'_>, secret: &Secret) -> Result<(), Refusal> {
    cross_site(req)?;
    match req.token {
        Some(token) if !secret.matches(token) => Err(Refusal::BadToken),
        Some(_) => Ok(()),
        None if req.method == "POST" && (req.origin.is_some() || req.fetch_site.is_some()) => {
            Err(Refusal::MissingToken)
        }
        None => Ok(()),
    }
}

/// Rules 1 and 2 alone: whether a browser sent the request on behalf of another site. The HTTP layer
/// applies them to `/RPC2` too (a page can post XML as `text/plain` without asking first).
pub fn cross_site(req: &Provenance<'_>) -> Result<(), Refusal> {
    if let Some(site) = req.fetch_site
        && !matches!(site.trim(), "same-origin" | "none")
    {
        return Err(Refusal::CrossSite);
    }
    if let Some(origin) = req.origin
        && !same_origin(origin, req.host)
    {
        return Err(Refusal::ForeignOrigin);
    }
    Ok(())
}

/// Whether an `Origin` header names the server the `Host` header names: same host and port, with the
/// scheme's default port implied (procd speaks plain HTTP; `https` is what a TLS proxy in front of it
/// shows the browser). `null` and anything unparsable are foreign.
pub fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let origin = origin.trim();
    let (authority, default_port) = if let Some(rest) = origin.strip_prefix("http://") {
        (rest, "80")
    } else if let Some(rest) = origin.strip_prefix("https://") {
        (rest, "443")
    } else {
        return false;
    };
    let norm = |authority: &str| -> String {
        let a = authority.trim().to_ascii_lowercase();
        match a.rsplit_once(':') {
            Some((name, port)) if port == default_port => name.to_owned(),
            _ => a,
        }
    };
    !authority.is_empty() && !authority.contains('/') && norm(authority) == norm(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_bytes(&[0xab; 32])
    }

    fn req<'a>(method: &'a str) -> Provenance<'a> {
        Provenance {
            method,
            host: Some("127.0.0.1:9001"),
            ..Provenance::default()
        }
    }

    #[test]
    fn token_is_hex_of_the_secret_and_generated_ones_differ() {
        assert_eq!(secret().token(), "ab".repeat(32));
        let (a, b) = (Secret::generate(), Secret::generate());
        assert_eq!(a.token().len(), 64);
        assert!(a.token().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.token(), b.token());
        assert!(a.matches(a.token()) && !a.matches(b.token()));
        assert_eq!(format!("{a:?}"), "Secret(..)");
    }

    #[test]
    fn a_foreign_origin_is_explained_with_both_headers() {
        let proxied = Provenance {
            method: "POST",
            host: Some("127.0.0.1:9001"),
            origin: Some("https://ops.example.com"),
            ..Provenance::default()
        };
        let refusal = check(&proxied, &secret()).expect_err("foreign origin");
        assert_eq!(refusal, Refusal::ForeignOrigin);
        let text = refusal.explain(&proxied);
        assert!(
            text.contains("Origin https://ops.example.com is not this server"),
            "{text}"
        );
        assert!(text.contains("Host 127.0.0.1:9001"), "{text}");
        assert!(text.contains("reverse proxy"), "{text}");
        let no_host = Provenance {
            host: None,
            ..proxied
        };
        assert!(
            Refusal::ForeignOrigin
                .explain(&no_host)
                .contains("Host missing")
        );
        assert_eq!(
            Refusal::BadToken.explain(&proxied),
            Refusal::BadToken.reason()
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"xbc"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn origin_must_name_this_server() {
        let cases = [
            ("http://127.0.0.1:9001", Some("127.0.0.1:9001"), true),
            ("http://127.0.0.1:9001/", Some("127.0.0.1:9001"), false),
            ("HTTP://Example.ORG", Some("example.org"), false),
            ("http://Example.ORG", Some("example.org"), true),
            ("http://example.org", Some("example.org:80"), true),
            ("http://example.org:80", Some("example.org"), true),
            ("https://example.org", Some("example.org"), true),
            ("https://example.org:443", Some("example.org"), true),
            ("https://example.org", Some("example.org:80"), false),
            ("http://[::1]:9001", Some("[::1]:9001"), true),
            ("http://127.0.0.1:8000", Some("127.0.0.1:9001"), false),
            ("http://localhost:9001", Some("127.0.0.1:9001"), false),
            (
                "http://127.0.0.1:9001.evil.example",
                Some("127.0.0.1:9001"),
                false,
            ),
            (
                "http://evil.example/127.0.0.1:9001",
                Some("127.0.0.1:9001"),
                false,
            ),
            ("null", Some("127.0.0.1:9001"), false),
            ("", Some("127.0.0.1:9001"), false),
            ("http://", Some(""), false),
            ("file://", Some("127.0.0.1:9001"), false),
            ("http://127.0.0.1:9001", None, false),
        ];
        for (origin, host, want) in cases {
            assert_eq!(same_origin(origin, host), want, "{origin} vs {host:?}");
        }
    }

    #[test]
    fn fetch_metadata_rules() {
        let s = secret();
        let cases = [
            (None, Ok(())),
            (Some("same-origin"), Ok(())),
            (Some("none"), Ok(())),
            (Some("cross-site"), Err(Refusal::CrossSite)),
            (Some("same-site"), Err(Refusal::CrossSite)),
            (Some("bogus"), Err(Refusal::CrossSite)),
        ];
        for (site, want) in cases {
            let r = Provenance {
                fetch_site: site,
                ..req("GET")
            };
            assert_eq!(check(&r, &s), want, "GET {site:?}");
            let r = Provenance {
                token: Some(s.token()),
                ..r
            };
            assert_eq!(
                check(
                    &Provenance {
                        method: "POST",
                        ..r
                    },
                    &s
                ),
                want,
                "POST {site:?}"
            );
        }
    }

    #[test]
    fn origin_rules() {
        let s = secret();
        let own = Provenance {
            origin: Some("http://127.0.0.1:9001"),
            token: Some(s.token()),
            ..req("POST")
        };
        assert_eq!(check(&own, &s), Ok(()));
        let other = Provenance {
            origin: Some("http://127.0.0.1:8000"),
            ..own
        };
        assert_eq!(check(&other, &s), Err(Refusal::ForeignOrigin));
        let null = Provenance {
            origin: Some("null"),
            ..own
        };
        assert_eq!(check(&null, &s), Err(Refusal::ForeignOrigin));
        // A same-origin Sec-Fetch-Site does not excuse a foreign Origin.
        let both = Provenance {
            fetch_site: Some("same-origin"),
            ..other
        };
        assert_eq!(check(&both, &s), Err(Refusal::ForeignOrigin));
        let get = Provenance {
            token: None,
            ..other
        };
        assert_eq!(
            check(
                &Provenance {
                    method: "GET",
                    ..get
                },
                &s
            ),
            Err(Refusal::ForeignOrigin)
        );
    }

    #[test]
    fn token_rules() {
        let s = secret();
        let wrong = "ab".repeat(31) + "ac";
        let browser = Provenance {
            fetch_site: Some("same-origin"),
            origin: Some("http://127.0.0.1:9001"),
            ..req("POST")
        };
        let cases = [
            // Scripts: no browser headers, no token; GET and POST run as in supervisord.
            (req("GET"), Ok(())),
            (req("POST"), Ok(())),
            // A token, when given, must be right, whoever sends it.
            (
                Provenance {
                    token: Some(s.token()),
                    ..req("GET")
                },
                Ok(()),
            ),
            (
                Provenance {
                    token: Some(&wrong),
                    ..req("GET")
                },
                Err(Refusal::BadToken),
            ),
            (
                Provenance {
                    token: Some("x"),
                    ..req("POST")
                },
                Err(Refusal::BadToken),
            ),
            // The page's own forms.
            (
                Provenance {
                    token: Some(s.token()),
                    ..browser
                },
                Ok(()),
            ),
            (
                Provenance {
                    token: Some(&wrong),
                    ..browser
                },
                Err(Refusal::BadToken),
            ),
            (browser, Err(Refusal::MissingToken)),
            (
                Provenance {
                    origin: None,
                    ..browser
                },
                Err(Refusal::MissingToken),
            ),
            (
                Provenance {
                    fetch_site: None,
                    ..browser
                },
                Err(Refusal::MissingToken),
            ),
            // A browser GET of a URL the user typed or a same-origin link: allowed without token.
            (
                Provenance {
                    method: "GET",
                    ..browser
                },
                Ok(()),
            ),
            (
                Provenance {
                    method: "GET",
                    fetch_site: Some("none"),
                    origin: None,
                    ..browser
                },
                Ok(()),
            ),
        ];
        for (r, want) in cases {
            assert_eq!(check(&r, &s), want, "{r:?}");
        }
    }

    #[test]
    fn cross_site_ignores_the_token() {
        let plain = req("POST");
        assert_eq!(cross_site(&plain), Ok(()));
        let own = Provenance {
            origin: Some("http://127.0.0.1:9001"),
            fetch_site: Some("same-origin"),
            ..plain
        };
        assert_eq!(cross_site(&own), Ok(()), "no token needed");
        let foreign = Provenance {
            origin: Some("http://127.0.0.1:8000"),
            ..plain
        };
        assert_eq!(cross_site(&foreign), Err(Refusal::ForeignOrigin));
        let cross = Provenance {
            fetch_site: Some("cross-site"),
            ..plain
        };
        assert_eq!(cross_site(&cross), Err(Refusal::CrossSite));
    }

    #[test]
    fn refusals_explain_themselves() {
        for r in [
            Refusal::CrossSite,
            Refusal::ForeignOrigin,
            Refusal::BadToken,
            Refusal::MissingToken,
        ] {
            assert!(!r.reason().is_empty());
        }
        assert!(Refusal::CrossSite.reason().contains("cross-site"));
    }
}
