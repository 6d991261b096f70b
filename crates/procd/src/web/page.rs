//! HTML of the web UI: the status page, the tail page, and the plain error page. Pure functions of
//! their inputs; everything that comes from processes (names, descriptions, log text, messages) is
//! HTML-escaped here.
//!
//! The status page's actions are POST forms carrying the daemon's token (see [`super::csrf`]); the
//! log followers stay plain links. A small script (only what the page needs, no framework) offers the
//! "Live" switch: off by default; when on, it follows `/events` and fetches the table again when the
//! count there changes.

use std::fmt::Write as _;

use chrono::NaiveDateTime;
use procd_protocol::ProcessState;
use procd_protocol::api::{ProcessInfo, SUPERVISOR_VERSION};

use super::action::{ctime, namespec};
use super::csrf::TOKEN_FIELD;
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

/// One control of a row's action column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// A button of the row's form, posting `action=<action>`.
    Button {
        label: &'static str,
        action: &'static str,
    },
    /// A link opening a log follower in a new window; `href` is relative, not yet HTML-escaped.
    Link { label: &'static str, href: String },
}

impl Control {
    pub fn label(&self) -> &'static str {
        match self {
            Control::Button { label, .. } | Control::Link { label, .. } => label,
        }
    }
}

/// The five action slots of a row; `None` is an empty slot (keeps the columns aligned).
pub fn row_actions(state: ProcessState, namespec: &str) -> [Option<Control>; 5] {
    let q = quote(namespec);
    let op = |label, action| Control::Button { label, action };
    let (first, second) = match state {
        ProcessState::Running => (Some(op("Restart", "restart")), Some(op("Stop", "stop"))),
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
            (Some(op("Start", "start")), None)
        }
        _ => (None, None),
    };
    let tail = |label, href| Control::Link { label, href };
    [
        first,
        second,
        Some(op("Clear Log", "clearlog")),
        Some(tail("Tail -f Stdout", format!("logtail/{q}"))),
        Some(tail("Tail -f Stderr", format!("logtail/{q}/stderr"))),
    ]
}

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;background:#f4f6f9}
header{background:#22303f;color:#fff;padding:14px 28px;display:flex;align-items:baseline;gap:12px}
header h1{margin:0;font-size:20px;letter-spacing:.5px}
header span{color:#aebccb}
main{padding:20px 28px;max-width:1200px}
h2{margin:0 0 12px;font-size:17px;font-family:ui-monospace,Menlo,monospace;overflow-wrap:anywhere}
h2 small{font:13px system-ui,sans-serif;color:#6c7a89;margin-left:8px}
.message{background:#fff8d6;border:1px solid #e8d27a;border-radius:4px;padding:8px 12px;margin:0 0 14px;overflow-wrap:anywhere}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin-bottom:14px}
nav,.toolbar form{display:flex;flex-wrap:wrap;gap:8px;margin:0}
nav{margin-bottom:14px}
.button{display:inline-block;padding:5px 14px;border:1px solid #8596a8;border-radius:4px;background:#fff;color:#22303f;text-decoration:none;font:inherit;cursor:pointer}
.button:hover{background:#e6ebf1}
.live{display:inline-flex;align-items:center;gap:6px;color:#495057;cursor:pointer}
.live[hidden]{display:none}
.live.on{color:#1b5e20}
.live.off{color:#a4161a}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d3dae2}
th{text-align:left;background:#e6ebf1;padding:7px 10px;font-weight:600}
td{padding:6px 10px;border-top:1px solid #e3e8ee;vertical-align:middle}
tr.shade td{background:#f8fafc}
td.name a{color:#1d4f91;font-family:ui-monospace,Menlo,monospace;overflow-wrap:anywhere}
.state{display:inline-block;min-width:64px;padding:1px 8px;border-radius:10px;font-size:12px;text-align:center}
.statusrunning{background:#d8f3dc;color:#1b5e20}
.statuserror{background:#fde0e0;color:#a4161a}
.statusnominal{background:#e9ecef;color:#495057}
td.act form{margin:0}
ul.actions{list-style:none;margin:0;padding:0;display:flex;gap:10px}
ul.actions li{min-width:52px}
ul.actions a,ul.actions button{color:#1d4f91;text-decoration:none;white-space:nowrap;background:none;border:0;padding:0;font:inherit;cursor:pointer}
ul.actions a:hover,ul.actions button:hover{text-decoration:underline}
p.empty{padding:16px;background:#fff;border:1px solid #d3dae2}
pre{background:#fff;border:1px solid #d3dae2;padding:12px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
footer{padding:10px 28px;color:#6c7a89;font-size:12px}
@media (max-width:700px){
header,main,footer{padding-left:12px;padding-right:12px}
main{padding-top:12px}
table,tbody,tr,td{display:block}
thead{display:none}
table{background:none;border:0}
tr,tr.shade{display:grid;grid-template-columns:auto 1fr;gap:4px 10px;align-items:center;background:#fff;border:1px solid #d3dae2;border-radius:6px;padding:8px 10px;margin-bottom:8px}
tr.shade td,td{background:none;border:0;padding:0}
td.st{grid-column:1;grid-row:1}
td.name{grid-column:2;grid-row:1}
td.desc{grid-column:1/-1;color:#495057;font-size:13px;overflow-wrap:anywhere}
td.act{grid-column:1/-1}
ul.actions{flex-wrap:wrap;gap:6px}
ul.actions li{min-width:0}
ul.actions li:empty{display:none}
ul.actions a,ul.actions button{display:inline-block;padding:4px 10px;border:1px solid #c5d0dc;border-radius:14px;background:#f8fafc}
}
";

/// The "Live" switch: off by default (remembered per browser); when on, an `EventSource` on `events`
/// tells the page the table's change count, and the table is fetched again when it moves past the
/// count the page was rendered at (one fetch at a time, one more if a change came meanwhile).
const SCRIPT: &str = "
(function () {
  var box = document.getElementById('live'), procs = document.getElementById('procs');
  if (!box || !procs || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var label = box.parentNode, seen = procs.getAttribute('data-serial');
  var source = null, busy = false, again = false;
  label.hidden = false;
  function load() {
    if (busy) { again = true; return; }
    busy = true;
    fetch('index.html', { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        ['procs', 'clock'].forEach(function (id) {
          var next = doc.getElementById(id), cur = document.getElementById(id);
          if (next && cur) { cur.replaceWith(next); }
        });
      })
      .catch(function () { label.classList.add('off'); })
      .then(function () { busy = false; if (again) { again = false; load(); } });
  }
  function follow(on) {
    label.classList.remove('off', 'on');
    if (on && !source) {
      source = new EventSource('events');
      source.onmessage = function (e) {
        label.classList.remove('off');
        label.classList.add('on');
        if (e.data !== seen) { seen = e.data; load(); }
      };
      source.onerror = function () { label.classList.remove('on'); label.classList.add('off'); };
    } else if (!on && source) {
      source.close();
      source = null;
    }
  }
  try { box.checked = localStorage.getItem('procd.live') === 'on'; } catch (e) { box.checked = false; }
  box.addEventListener('change', function () {
    try { localStorage.setItem('procd.live', box.checked ? 'on' : 'off'); } catch (e) {}
    follow(box.checked);
  });
  follow(box.checked);
})();
";

fn head(out: &mut String, title: &str, subtitle: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header><h1>procd</h1><span>{}</span></header>\n<main>",
        escape(subtitle)
    );
}

fn footer(out: &mut String, now: Option<NaiveDateTime>) {
    out.push_str("</main>\n<footer id=\"clock\">procd ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    let _ = write!(
        out,
        " &middot; compatible with Supervisor {SUPERVISOR_VERSION}"
    );
    if let Some(now) = now {
        let _ = write!(out, " &middot; {}", escape(&ctime(now)));
    }
    out.push_str("</footer>\n");
}

/// What the status page shows.
#[derive(Debug, Clone, Copy)]
pub struct StatusPage<'a> {
    /// The rows, in any order (shown in (group, name) order).
    pub infos: &'a [ProcessInfo],
    /// Shown in a banner above the table.
    pub message: Option<&'a str>,
    /// Shown in the footer.
    pub now: NaiveDateTime,
    /// The form token every action carries.
    pub token: &'a str,
    /// The change count the table was read at; `None` offers no live updates.
    pub serial: Option<u64>,
}

/// The hidden token field of every form.
fn token_field(out: &mut String, token: &str) {
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"{TOKEN_FIELD}\" value=\"{}\">",
        escape(token)
    );
}

/// The status page: the toolbar (global actions, the live switch) and the table.
pub fn render_status(page: &StatusPage<'_>) -> String {
    let mut out = String::with_capacity(8192 + page.infos.len() * 1000);
    head(&mut out, "procd status", "process status");
    if let Some(message) = page.message {
        let _ = writeln!(out, "<p class=\"message\">{}</p>", escape(message));
    }
    out.push_str("<div class=\"toolbar\">\n<form method=\"post\" action=\"index.html\">");
    token_field(&mut out, page.token);
    out.push_str(
        "\n<button class=\"button\" name=\"action\" value=\"refresh\">Refresh</button>\n\
         <button class=\"button\" name=\"action\" value=\"restartall\">Restart All</button>\n\
         <button class=\"button\" name=\"action\" value=\"stopall\">Stop All</button>\n</form>\n",
    );
    if page.serial.is_some() {
        out.push_str(
            "<label class=\"live\" hidden title=\"Update the table when a process changes state\">\
             <input type=\"checkbox\" id=\"live\"> Live</label>\n",
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        "<div id=\"procs\" data-serial=\"{}\">",
        page.serial.unwrap_or_default()
    );
    let mut sorted: Vec<&ProcessInfo> = page.infos.iter().collect();
    sorted.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    if sorted.is_empty() {
        out.push_str("<p class=\"empty\">No programs to manage</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th>\
             </tr></thead>\n<tbody>\n",
        );
        for (i, info) in sorted.iter().enumerate() {
            row(&mut out, info, i % 2 == 1, page.token);
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</div>\n");
    footer(&mut out, Some(page.now));
    if page.serial.is_some() {
        let _ = writeln!(out, "<script>{SCRIPT}</script>");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn row(out: &mut String, info: &ProcessInfo, shade: bool, token: &str) {
    let spec = namespec(info);
    out.push_str(if shade {
        "<tr class=\"shade\">"
    } else {
        "<tr>"
    });
    let _ = write!(
        out,
        "<td class=\"st\"><span class=\"state {}\">{}</span></td><td class=\"desc\">{}</td>",
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
    out.push_str("<td class=\"act\"><form method=\"post\" action=\"index.html\">");
    token_field(out, token);
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"processname\" value=\"{}\"><ul class=\"actions\">",
        escape(&spec)
    );
    for slot in row_actions(info.state, &spec) {
        match slot {
            None => out.push_str("<li></li>"),
            Some(Control::Button { label, action }) => {
                let _ = write!(
                    out,
                    "<li><button name=\"action\" value=\"{action}\">{label}</button></li>"
                );
            }
            Some(Control::Link { label, href }) => {
                let _ = write!(
                    out,
                    "<li><a href=\"{}\" target=\"_blank\">{label}</a></li>",
                    escape(&href)
                );
            }
        }
    }
    out.push_str("</ul></form></td></tr>\n");
}

/// The tail page: the process name, `text` (log text or an error message) in a `<pre>`, and a refresh
/// link repeating the request when there is a process name.
pub fn render_tail(processname: Option<&str>, text: &str, limit: u64) -> String {
    let mut out = String::with_capacity(2048 + text.len() * 2);
    let title = match processname {
        Some(name) => format!("procd: tail of {name}"),
        None => "procd: tail".to_owned(),
    };
    head(&mut out, &title, "log tail");
    if let Some(name) = processname {
        let _ = writeln!(
            out,
            "<h2>{} <small>stdout, last {limit} bytes</small></h2>",
            escape(name)
        );
    }
    let _ = writeln!(out, "<pre>{}</pre>", escape(text));
    if let Some(name) = processname {
        let href = format!("tail.html?processname={}&limit={limit}", quote(name));
        let _ = writeln!(
            out,
            "<nav><a class=\"button\" href=\"{}\">Refresh</a> \
             <a class=\"button\" href=\"index.html\">Status</a></nav>",
            escape(&href)
        );
    }
    footer(&mut out, None);
    out.push_str("</body>\n</html>\n");
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

    const TOKEN: &str = "t0k3n";

    fn status(infos: &[ProcessInfo], message: Option<&str>) -> String {
        render_status(&StatusPage {
            infos,
            message,
            now: now(),
            token: TOKEN,
            serial: Some(42),
        })
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
        let labels = |state| row_actions(state, "g:a").map(|l| l.map(|l| l.label()));
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
        let button = |label, action| Some(Control::Button { label, action });
        let link = |label, href: &str| {
            Some(Control::Link {
                label,
                href: href.to_owned(),
            })
        };
        assert_eq!(
            row_actions(ProcessState::Running, "g:a b"),
            [
                button("Restart", "restart"),
                button("Stop", "stop"),
                button("Clear Log", "clearlog"),
                link("Tail -f Stdout", "logtail/g%3Aa%20b"),
                link("Tail -f Stderr", "logtail/g%3Aa%20b/stderr"),
            ]
        );
        assert_eq!(
            row_actions(ProcessState::Exited, "a")[0],
            button("Start", "start")
        );
    }

    #[test]
    fn status_rows_sorted_shaded_and_escaped() {
        let infos = [
            info("z", "z", ProcessState::Running, "pid 7, uptime 0:00:03"),
            info("g", "b", ProcessState::Fatal, "Exited too quickly <b>"),
            info("g", "a", ProcessState::Stopped, "Not started"),
        ];
        let html = status(&infos, Some("Process <x> stopped"));
        let rows = rows(&html);
        assert_eq!(rows.len(), 3, "{html}");
        assert!(
            rows[0].starts_with("<tr>") && rows[0].contains(">g:a</a>"),
            "{}",
            rows[0]
        );
        assert!(rows[0].contains("<span class=\"state statusnominal\">stopped</span>"));
        assert!(rows[0].contains("<input type=\"hidden\" name=\"processname\" value=\"g:a\">"));
        assert!(rows[0].contains("<button name=\"action\" value=\"start\">Start</button>"));
        assert!(rows[0].contains("<form method=\"post\" action=\"index.html\">"));
        assert!(
            rows[0].contains("<input type=\"hidden\" name=\"csrf_token\" value=\"t0k3n\">"),
            "{}",
            rows[0]
        );
        assert!(rows[1].starts_with("<tr class=\"shade\">") && rows[1].contains(">g:b</a>"));
        assert!(
            rows[1].contains("statuserror\">fatal<")
                && rows[1].contains("Exited too quickly &lt;b&gt;")
        );
        assert!(
            rows[2].starts_with("<tr>") && rows[2].contains("href=\"tail.html?processname=z\"")
        );
        assert!(rows[2].contains("statusrunning\">running<") && rows[2].contains("value=\"stop\""));
        assert!(!rows[2].contains("value=\"start\"") && !rows[2].contains("&action="));
        assert!(html.contains("<p class=\"message\">Process &lt;x&gt; stopped</p>"));
        for action in ["refresh", "restartall", "stopall"] {
            assert!(
                html.contains(&format!("name=\"action\" value=\"{action}\"")),
                "{action}"
            );
        }
        // One token per form: the toolbar's and one per row.
        assert_eq!(html.matches("value=\"t0k3n\"").count(), 4);
        assert!(!html.contains("href=\"index.html?"), "no action links");
        assert!(
            html.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert!(html.contains("<div id=\"procs\" data-serial=\"42\">"));
        assert!(html.contains("id=\"live\"") && html.contains("new EventSource('events')"));
        assert!(html.contains(&format!("procd {}", env!("CARGO_PKG_VERSION"))));
        assert!(html.contains("Supervisor 4.3.0") && html.contains("Fri Jan  2 03:04:05 2026"));
        assert!(!html.contains("No programs to manage"));
    }

    #[test]
    fn status_without_processes_or_message() {
        let html = status(&[], None);
        assert!(html.contains("No programs to manage"));
        assert!(!html.contains("<table") && !html.contains("class=\"message\""));
        let html = render_status(&StatusPage {
            infos: &[],
            message: None,
            now: now(),
            token: "<\"",
            serial: None,
        });
        assert!(
            !html.contains("id=\"live\"") && !html.contains("<script"),
            "no live switch"
        );
        assert!(html.contains("value=\"&lt;&quot;\""), "token escaped");
    }

    #[test]
    fn names_with_markup_are_escaped_everywhere() {
        let infos = [info("g<", "\"x&", ProcessState::Running, "")];
        let html = status(&infos, None);
        assert!(html.contains(">g&lt;:&quot;x&amp;</a>"), "{html}");
        assert!(html.contains("name=\"processname\" value=\"g&lt;:&quot;x&amp;\""));
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
        assert!(html.contains("<h2>g:a <small>stdout, last 2048 bytes</small></h2>"));
        assert!(html.contains("<meta name=\"viewport\""));
        let html = render_tail(Some("<b>"), "", 1024);
        assert!(html.contains("<h2>&lt;b&gt; <small>"), "{html}");
        let html = render_tail(None, "No process name found", 1024);
        assert!(html.contains("<pre>No process name found</pre>"));
        assert!(!html.contains("<h2>"));
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
