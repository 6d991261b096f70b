//! HTTP Basic authentication as supervisord checks it (`{SHA}` passwords included).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::config::Credentials;

/// Outcome of checking a request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthResult {
    Allowed,
    /// Missing header, unknown scheme or wrong credentials: 401.
    Denied,
    /// Basic credentials that are not base64 / UTF-8: 400.
    Malformed,
}

/// Checks `header` (the raw `Authorization` value, if any) against `expected`.
pub(crate) fn check(expected: &Credentials, header: Option<&[u8]>) -> AuthResult {
    let Some(header) = header else {
        return AuthResult::Denied;
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return AuthResult::Malformed;
    };
    let Some((scheme, cookie)) = header.split_once(' ') else {
        return AuthResult::Denied;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return AuthResult::Denied;
    }
    // Like Python's lenient base64 decoder: characters outside the alphabet are skipped.
    let cleaned: String = cookie
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let Ok(decoded) = STANDARD.decode(cleaned.as_bytes()) else {
        return AuthResult::Malformed;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return AuthResult::Malformed;
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return AuthResult::Denied;
    };
    let user_ok = user.as_bytes().ct_eq(expected.username.as_bytes());
    let password_ok = match expected.password.strip_prefix("{SHA}") {
        Some(hash) => {
            let digest = Sha1::digest(password.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            hex.as_bytes().ct_eq(hash.as_bytes())
        }
        None => password.as_bytes().ct_eq(expected.password.as_bytes()),
    };
    // Both comparisons always run; `Choice` keeps the combination free of branches.
    if bool::from(user_ok & password_ok) {
        AuthResult::Allowed
    } else {
        AuthResult::Denied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(password: &str) -> Credentials {
        Credentials {
            health_auth: true,
            username: "user".into(),
            password: password.into(),
        }
    }

    fn basic(text: &str) -> String {
        format!("Basic {}", STANDARD.encode(text))
    }

    #[test]
    fn table() {
        // sha1("123") = 40bd001563085fc35165329ea1ff5c5ecbdbbeef
        let sha = creds("{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef");
        let plain = creds("123");
        let cases: Vec<(Credentials, Option<String>, AuthResult)> = vec![
            (plain.clone(), Some(basic("user:123")), AuthResult::Allowed),
            (plain.clone(), Some(basic("user:1234")), AuthResult::Denied),
            (plain.clone(), Some(basic("other:123")), AuthResult::Denied),
            (plain.clone(), Some(basic("user:123:x")), AuthResult::Denied),
            (plain.clone(), Some(basic("user")), AuthResult::Denied),
            (
                plain.clone(),
                Some(basic("user:123").replace("Basic", "bAsIc")),
                AuthResult::Allowed,
            ),
            (plain.clone(), Some("Digest abc".into()), AuthResult::Denied),
            (plain.clone(), Some("Basic".into()), AuthResult::Denied),
            (
                plain.clone(),
                Some("Basic dXNlcjoxMjM".into()),
                AuthResult::Malformed,
            ),
            (plain.clone(), None, AuthResult::Denied),
            (sha.clone(), Some(basic("user:123")), AuthResult::Allowed),
            (
                sha.clone(),
                Some(basic("user:{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef")),
                AuthResult::Denied,
            ),
            (sha.clone(), Some(basic("user:124")), AuthResult::Denied),
            (
                creds("{SHA}40BD001563085FC35165329EA1FF5C5ECBDBBEEF"),
                Some(basic("user:123")),
                AuthResult::Denied,
            ),
            (creds("p:w"), Some(basic("user:p:w")), AuthResult::Allowed),
        ];
        for (expected, header, result) in &cases {
            assert_eq!(
                check(expected, header.as_deref().map(str::as_bytes)),
                *result,
                "{header:?}"
            );
        }
    }
}
