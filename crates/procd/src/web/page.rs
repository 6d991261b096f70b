//! HTML of the web UI: the status page, the tail page, and the plain error page. Pure functions of
//! their inputs; everything that comes from processes (names, descriptions, log text, messages) is
//! HTML-escaped here.

use std::fmt::Write as _;

use chrono::NaiveDateTime;
use procd_protocol::ProcessState;
use procd_protocol::api::{ProcessInfo, SUPERVISOR_VERSION};

use super::action::{ctime, namespec};
use super::form::quote;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSS class of a state's family (the names supervisord's page uses).
pub fn state_class(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "statusrunning",
        ProcessState::Fatal | ProcessState::Backoff => "statuserror",
        _ => "statusnominal",
    }
}

/// One link of a row's action column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub label: &'static str,
    /// Relative URL, not yet HTML-escaped.
    pub href: String,
    /// Opens in a new window (the log followers).
    pub new_window: bool,
}

/// The five action slots of a row; `None` is an empty slot (keeps the columns aligned).
pub fn row_actions(state: ProcessState, namespec: &str) -> [Option<Link>; 5] {
    let q = quote(namespec);
    let op = |label, action: &str| Link {
        label,
        href: format!("index.html?processname={q}&action={action}"),
        new_window: false,
    };
    let (first, second) = match state {
        ProcessState::Running => (Some(op("Restart", "restart")), Some(op("Stop", "stop"))),
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
            (Some(op("Start", "start")), None)
        }
        _ => (None, None),
    };
    let tail = |label, href: String| Link {
        label,
        href,
        new_window: true,
    };
    [
        first,
        second,
        Some(op("Clear Log", "clearlog")),
        Some(tail("Tail -f Stdout", format!("logtail/{q}"))),
        Some(tail("Tail -f Stderr", format!("logtail/{q}/stderr"))),
    ]
}

const STYLE: &str = "
body{margin:0;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;background:#f4f6f9}
header{background:#22303f;color:#fff;padding:14px 28px;display:flex;align-items:baseline;gap:12px}
header h1{margin:0;font-size:20px;letter-spacing:.5px}
header span{color:#aebccb}
main{padding:20px 28px;max-width:1200px}
.message{background:#fff8d6;border:1px solid #e8d27a;border-radius:4px;padding:8px 12px;margin:0 0 14px}
nav{display:flex;gap:8px;margin-bottom:14px}
a.button{display:inline-block;padding:5px 14px;border:1px solid #8596a8;border-radius:4px;background:#fff;color:#22303f;text-decoration:none}
a.button:hover{background:#e6ebf1}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d3dae2}
th{text-align:left;background:#e6ebf1;padding:7px 10px;font-weight:600}
td{padding:6px 10px;border-top:1px solid #e3e8ee;vertical-align:middle}
tr.shade td{background:#f8fafc}
td.name a{color:#1d4f91;font-family:ui-monospace,Menlo,monospace}
.state{display:inline-block;min-width:64px;padding:1px 8px;border-radius:10px;font-size:12px;text-align:center}
.statusrunning{background:#d8f3dc;color:#1b5e20}
.statuserror{background:#fde0e0;color:#a4161a}
.statusnominal{background:#e9ecef;color:#495057}
ul.actions{list-style:none;margin:0;padding:0;display:flex;gap:10px}
ul.actions li{min-width:52px}
ul.actions a{color:#1d4f91;text-decoration:none;white-space:nowrap}
ul.actions a:hover{text-decoration:underline}
p.empty{padding:16px;background:#fff;border:1px solid #d3dae2}
pre{background:#fff;border:1px solid #d3dae2;padding:12px;overflow:auto;white-space:pre-wrap}
footer{padding:10px 28px;color:#6c7a89;font-size:12px}
";

fn head(out: &mut String, title: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<header><h1>procd</h1><span>process status</span></header>\n<main>\n");
}

fn footer(out: &mut String, now: Option<NaiveDateTime>) {
    out.push_str("</main>\n<footer>procd ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    let _ = write!(
        out,
        " &middot; compatible with Supervisor {SUPERVISOR_VERSION}"
    );
    if let Some(now) = now {
        let _ = write!(out, " &middot; {}", escape(&ctime(now)));
    }
    out.push_str("</footer>\n</body>\n</html>\n");
}

/// The status page: `infos` in (group, name) order, `message` in a banner, `now` in the footer.
pub fn render_status(infos: &[ProcessInfo], message: Option<&str>, now: NaiveDateTime) -> String {
    let mut out = String::with_capacity(4096 + infos.len() * 800);
    head(&mut out, "procd status");
    if let Some(message) = message {
        let _ = writeln!(out, "<p class=\"message\">{}</p>", escape(message));
    }
    out.push_str(
        "<nav>\n<a class=\"button\" href=\"index.html?action=refresh\">Refresh</a>\n\
         <a class=\"button\" href=\"index.html?action=restartall\">Restart All</a>\n\
         <a class=\"button\" href=\"index.html?action=stopall\">Stop All</a>\n</nav>\n",
    );
    let mut sorted: Vec<&ProcessInfo> = infos.iter().collect();
    sorted.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    if sorted.is_empty() {
        out.push_str("<p class=\"empty\">No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th>\
             </tr></thead>\n<tbody>\n",
        );
        for (i, info) in sorted.iter().enumerate() {
            row(&mut out, info, i % 2 == 1);
        }
        out.push_str("</tbody>\n</table>\n");
    }
    footer(&mut out, Some(now));
    out
}

fn row(out: &mut String, info: &ProcessInfo, shade: bool) {
    let spec = namespec(info);
    out.push_str(if shade {
        "<tr class=\"shade\">"
    } else {
        "<tr>"
    });
    let _ = write!(
        out,
        "<td><span class=\"state {}\">{}</span></td><td>{}</td>",
        state_class(info.state),
        info.state.name().to_ascii_lowercase(),
        escape(&info.description),
    );
    let _ = write!(
        out,
        "<td class=\"name\"><a href=\"{}\" target=\"_blank\">{}</a></td>",
        escape(&format!("tail.html?processname={}", quote(&spec))),
        escape(&spec),
    );
    out.push_str("<td><ul class=\"actions\">");
    for slot in row_actions(info.state, &spec) {
        match slot {
            None => out.push_str("<li></li>"),
            Some(link) => {
                let target = if link.new_window {
                    " target=\"_blank\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<li><a href=\"{}\"{target}>{}</a></li>",
                    escape(&link.href),
                    link.label
                );
            }
        }
    }
    out.push_str("</ul></td></tr>\n");
}

/// The tail page: `text` (log text or an error message) in a `<pre>`, and a refresh link repeating the
/// request when there is a process name.
pub fn render_tail(processname: Option<&str>, text: &str, limit: u64) -> String {
    let mut out = String::with_capacity(2048 + text.len() * 2);
    let title = match processname {
        Some(name) => format!("procd: tail of {name}"),
        None => "procd: tail".to_owned(),
    };
    head(&mut out, &title);
    let _ = writeln!(out, "<pre>{}</pre>", escape(text));
    if let Some(name) = processname {
        let href = format!("tail.html?processname={}&limit={limit}", quote(name));
        let _ = writeln!(
            out,
            "<nav><a class=\"button\" href=\"{}\">Refresh</a></nav>",
            escape(&href)
        );
    }
    footer(&mut out, None);
    out
}

/// The plain HTML error page supervisord's HTTP server (medusa) answers errors and redirects with.
pub fn error_body(code: u16, reason: &str) -> String {
    format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code {code}.\r\n<p>Message: {reason}.\r\n</body>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: ProcessState, description: &str) -> ProcessInfo {
        ProcessInfo::new(group, name, state, description)
    }

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .expect("valid date")
    }

    fn rows(html: &str) -> Vec<&str> {
        html.lines().filter(|l| l.starts_with("<tr")).collect()
    }

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }

    #[test]
    fn state_classes_by_family() {
        let cases = [
            (ProcessState::Running, "statusrunning"),
            (ProcessState::Fatal, "statuserror"),
            (ProcessState::Backoff, "statuserror"),
            (ProcessState::Stopped, "statusnominal"),
            (ProcessState::Starting, "statusnominal"),
            (ProcessState::Stopping, "statusnominal"),
            (ProcessState::Exited, "statusnominal"),
            (ProcessState::Unknown, "statusnominal"),
        ];
        for (state, class) in cases {
            assert_eq!(state_class(state), class, "{state:?}");
        }
    }

    #[test]
    fn actions_per_state() {
        let labels = |state| row_actions(state, "g:a").map(|l| l.map(|l| l.label));
        let running = [
            Some("Restart"),
            Some("Stop"),
            Some("Clear Log"),
            Some("Tail -f Stdout"),
            Some("Tail -f Stderr"),
        ];
        let startable = [
            Some("Start"),
            None,
            Some("Clear Log"),
            Some("Tail -f Stdout"),
            Some("Tail -f Stderr"),
        ];
        let busy = [
            None,
            None,
            Some("Clear Log"),
            Some("Tail -f Stdout"),
            Some("Tail -f Stderr"),
        ];
        let cases = [
            (ProcessState::Running, running),
            (ProcessState::Stopped, startable),
            (ProcessState::Exited, startable),
            (ProcessState::Fatal, startable),
            (ProcessState::Starting, busy),
            (ProcessState::Backoff, busy),
            (ProcessState::Stopping, busy),
            (ProcessState::Unknown, busy),
        ];
        for (state, want) in cases {
            assert_eq!(labels(state), want, "{state:?}");
        }
        let hrefs =
            row_actions(ProcessState::Running, "g:a b").map(|l| l.map(|l| (l.href, l.new_window)));
        assert_eq!(
            hrefs,
            [
                Some((
                    "index.html?processname=g%3Aa%20b&action=restart".into(),
                    false
                )),
                Some(("index.html?processname=g%3Aa%20b&action=stop".into(), false)),
                Some((
                    "index.html?processname=g%3Aa%20b&action=clearlog".into(),
                    false
                )),
                Some(("logtail/g%3Aa%20b".into(), true)),
                Some(("logtail/g%3Aa%20b/stderr".into(), true)),
            ]
        );
    }

    #[test]
    fn status_rows_sorted_shaded_and_escaped() {
        let infos = [
            info("z", "z", ProcessState::Running, "pid 7, uptime 0:00:03"),
            info("g", "b", ProcessState::Fatal, "Exited too quickly <b>"),
            info("g", "a", ProcessState::Stopped, "Not started"),
        ];
        let html = render_status(&infos, Some("Process <x> stopped"), now());
        let rows = rows(&html);
        assert_eq!(rows.len(), 3, "{html}");
        assert!(
            rows[0].starts_with("<tr>") && rows[0].contains(">g:a</a>"),
            "{}",
            rows[0]
        );
        assert!(rows[0].contains("<span class=\"state statusnominal\">stopped</span>"));
        assert!(rows[0].contains("href=\"index.html?processname=g%3Aa&amp;action=start\""));
        assert!(rows[1].starts_with("<tr class=\"shade\">") && rows[1].contains(">g:b</a>"));
        assert!(
            rows[1].contains("statuserror\">fatal<")
                && rows[1].contains("Exited too quickly &lt;b&gt;")
        );
        assert!(
            rows[2].starts_with("<tr>") && rows[2].contains("href=\"tail.html?processname=z\"")
        );
        assert!(rows[2].contains("statusrunning\">running<") && rows[2].contains("action=stop"));
        assert!(!rows[2].contains("action=start"));
        assert!(html.contains("<p class=\"message\">Process &lt;x&gt; stopped</p>"));
        for action in ["refresh", "restartall", "stopall"] {
            assert!(
                html.contains(&format!("href=\"index.html?action={action}\"")),
                "{action}"
            );
        }
        assert!(html.contains(&format!("procd {}", env!("CARGO_PKG_VERSION"))));
        assert!(html.contains("Supervisor 4.3.0") && html.contains("Fri Jan  2 03:04:05 2026"));
        assert!(!html.contains("No programs to manage"));
    }

    #[test]
    fn status_without_processes_or_message() {
        let html = render_status(&[], None, now());
        assert!(html.contains("No programs to manage"));
        assert!(!html.contains("<table") && !html.contains("class=\"message\""));
    }

    #[test]
    fn names_with_markup_are_escaped_everywhere() {
        let infos = [info("g<", "\"x&", ProcessState::Running, "")];
        let html = render_status(&infos, None, now());
        assert!(html.contains(">g&lt;:&quot;x&amp;</a>"), "{html}");
        assert!(html.contains("processname=g%3C%3A%22x%26"));
        assert!(!html.contains("g<:"));
    }

    #[test]
    fn tail_page() {
        let html = render_tail(Some("g:a"), "line <1>\nline & 2\n", 2048);
        assert!(
            html.contains("<pre>line &lt;1&gt;\nline &amp; 2\n</pre>"),
            "{html}"
        );
        assert!(html.contains("href=\"tail.html?processname=g%3Aa&amp;limit=2048\""));
        assert!(html.contains("<title>procd: tail of g:a</title>"));
        let html = render_tail(None, "No process name found", 1024);
        assert!(html.contains("<pre>No process name found</pre>"));
        assert!(!html.contains("tail.html?"));
    }

    #[test]
    fn error_body_matches_medusa() {
        assert_eq!(
            error_body(301, "Moved Permanently"),
            "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
             <p>Error code 301.\r\n<p>Message: Moved Permanently.\r\n</body>\r\n"
        );
        assert_eq!(error_body(301, "Moved Permanently").len(), 142);
    }
}
