//! Request decoding for the web UI: supervisord's form rules (query string plus url-encoded POST body),
//! percent-encoding in both directions, and the absolute server URL redirects point at.

use std::collections::HashMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The request's form fields, merged the way supervisord merges them: from the query string the first
/// value of a repeated key wins; fields of a url-encoded POST body override those, the last one winning.
/// Fields without `=` or with an empty value are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    fields: HashMap<String, String>,
}

impl Form {
    /// Builds the form from the raw query string (without `?`) and the request body.
    pub fn parse(query: Option<&str>, body: &[u8]) -> Form {
        let mut fields = HashMap::new();
        for (k, v) in pairs(query.unwrap_or("")) {
            fields.entry(k).or_insert(v);
        }
        for (k, v) in pairs(&String::from_utf8_lossy(body)) {
            fields.insert(k, v);
        }
        Form { fields }
    }

    /// The value of `key`, never empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// `application/x-www-form-urlencoded` pairs, skipping blank values and fields without `=`.
fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter_map(|field| {
        let (name, value) = field.split_once('=')?;
        if value.is_empty() {
            return None;
        }
        Some((form_unquote(name), form_unquote(value)))
    })
}

/// Decodes one form component: `+` is a space, `%XX` a byte; malformed escapes stay as they are and
/// invalid UTF-8 becomes U+FFFD.
pub fn form_unquote(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// What [`quote`] leaves alone besides ASCII letters and digits (Python's `urllib.parse.quote` with its
/// default `safe='/'`).
const QUOTE_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes `text` for a URL the way supervisord does (Python's `urllib.parse.quote`): ASCII
/// letters, digits, `_.-~` and `/` stay, every other byte of the UTF-8 form becomes `%XX`.
pub fn quote(text: &str) -> String {
    utf8_percent_encode(text, QUOTE_ESCAPED).to_string()
}

/// `http://<host>` built from the `Host` header, with a `:80` port dropped (supervisord's
/// `get_server_url`). Without a header the server is named `localhost`.
pub fn server_url(host: Option<&str>) -> String {
    let host = host.map_or("localhost", str::trim);
    let host = match host.rsplit_once(':') {
        Some((name, "80")) => name,
        _ => host,
    };
    let url = format!("http://{host}");
    match url.strip_suffix('/') {
        Some(stripped) => stripped.to_owned(),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_first_value_wins_and_blanks_are_dropped() {
        let f = Form::parse(
            Some("action=stop&action=start&processname=&message&x=a+b%3Ac"),
            b"",
        );
        assert_eq!(f.get("action"), Some("stop"));
        assert_eq!(f.get("processname"), None);
        assert_eq!(f.get("message"), None);
        assert_eq!(f.get("x"), Some("a b:c"));
    }

    #[test]
    fn body_overrides_query_and_last_body_value_wins() {
        let f = Form::parse(
            Some("action=stop&processname=a"),
            b"action=start&action=restart",
        );
        assert_eq!(f.get("action"), Some("restart"));
        assert_eq!(f.get("processname"), Some("a"));
        assert_eq!(Form::parse(None, b""), Form::default());
    }

    #[test]
    fn unquote_tolerates_malformed_input() {
        let cases = [
            ("%41%62", "Ab"),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%+1", "% 1"),
            ("%E2%9C%93", "\u{2713}"),
            ("%FF", "\u{FFFD}"),
        ];
        for (input, want) in cases {
            assert_eq!(form_unquote(input), want, "{input}");
        }
    }

    #[test]
    fn quote_matches_python_urllib() {
        let cases = [
            ("g:cat", "g%3Acat"),
            ("a&b", "a%26b"),
            ("g:*", "g%3A%2A"),
            ("a b/c~d_e.f-g", "a%20b/c~d_e.f-g"),
            ("Process x stopped", "Process%20x%20stopped"),
            ("é", "%C3%A9"),
            ("[70] <b>", "%5B70%5D%20%3Cb%3E"),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input}");
        }
    }

    #[test]
    fn server_url_follows_host_header() {
        let cases = [
            (Some("foo:80"), "http://foo"),
            (Some("foo:81"), "http://foo:81"),
            (Some(" 127.0.0.1:9001 "), "http://127.0.0.1:9001"),
            (Some("foo"), "http://foo"),
            (Some("foo/"), "http://foo"),
            (None, "http://localhost"),
        ];
        for (host, want) in cases {
            assert_eq!(server_url(host), want, "{host:?}");
        }
    }
}
