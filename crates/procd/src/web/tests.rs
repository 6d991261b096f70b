//! Request-level tests of the UI against a scripted [`Rpc`] that records every call.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use procd_protocol::ProcessState;

#[derive(Default)]
struct FakeRpc {
    infos: Vec<ProcessInfo>,
    faults: HashMap<&'static str, Fault>,
    log_text: String,
    calls: Mutex<Vec<(String, Vec<Value>)>>,
}

impl Rpc for FakeRpc {
    fn call(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<Value, Fault>> + Send {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((method.to_owned(), params));
        let result = match self.faults.get(method) {
            Some(fault) => Err(fault.clone()),
            None => Ok(match method {
                "supervisor.getAllProcessInfo" => {
                    Value::array(self.infos.iter().map(ProcessInfo::to_value))
                }
                "supervisor.readProcessStdoutLog" => Value::from(&self.log_text),
                _ => Value::from(true),
            }),
        };
        async move { result }
    }
}

impl FakeRpc {
    fn with_procs() -> Self {
        FakeRpc {
            infos: vec![
                info("web", "web", ProcessState::Running),
                info("g", "cat", ProcessState::Stopped),
            ],
            ..FakeRpc::default()
        }
    }

    fn fail(mut self, method: &'static str, code: FaultCode, extra: &str) -> Self {
        self.faults.insert(method, Fault::new(code, Some(extra)));
        self
    }

    /// Calls other than the lookups every page does.
    fn actions(&self) -> Vec<(String, Vec<Value>)> {
        let calls = self
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        calls
            .iter()
            .filter(|(m, _)| m != "supervisor.getAllProcessInfo")
            .cloned()
            .collect()
    }
}

fn info(group: &str, name: &str, state: ProcessState) -> ProcessInfo {
    ProcessInfo::new(group, name, state, "Not started")
}

fn get(path: &str, query: Option<&str>) -> UiRequest {
    UiRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.map(str::to_owned),
        host: Some("example.org:9001".into()),
        origin: None,
        fetch_site: None,
        body: Bytes::new(),
    }
}

/// A POST of `body` to `path`, with a browser's same-origin headers.
fn browser_post(path: &str, body: &str) -> UiRequest {
    UiRequest {
        method: "POST".into(),
        origin: Some("http://example.org:9001".into()),
        fetch_site: Some("same-origin".into()),
        body: Bytes::from(body.to_owned()),
        ..get(path, None)
    }
}

fn secret() -> Secret {
    Secret::from_bytes(b"0123456789abcdef")
}

async fn run(rpc: &FakeRpc, req: UiRequest) -> UiResponse {
    respond(rpc, &secret(), req).await.expect("a UI page")
}

fn header<'a>(resp: &'a UiResponse, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn body(resp: &UiResponse) -> String {
    match &resp.body {
        UiBody::Full(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        UiBody::Changes(_) => panic!("an event stream, not a page"),
    }
}

/// The message a redirect carries, decoded.
fn redirected_message(resp: &UiResponse) -> String {
    assert_eq!(resp.status, 301, "{}", body(resp));
    let location = header(resp, "Location").expect("Location");
    let quoted = location
        .strip_prefix("http://example.org:9001/?message=")
        .unwrap_or_else(|| panic!("unexpected location {location}"));
    form::form_unquote(quoted)
}

fn call(method: &str, params: Vec<Value>) -> (String, Vec<Value>) {
    (method.to_owned(), params)
}

fn named(ns: &str) -> Vec<Value> {
    vec![ns.into(), true.into()]
}

#[tokio::test]
async fn status_page_lists_processes_with_no_cache_headers() {
    let rpc = FakeRpc::with_procs();
    for path in ["/", "/index.html", "//index.html"] {
        let resp = run(&rpc, get(path, Some("message=Hello%20%3Cyou%3E"))).await;
        assert_eq!(resp.status, 200);
        assert_eq!(
            header(&resp, "Content-Type"),
            Some("text/html;charset=utf-8")
        );
        assert_eq!(header(&resp, "Pragma"), Some("no-cache"));
        assert_eq!(header(&resp, "Cache-Control"), Some("no-cache"));
        assert_eq!(
            header(&resp, "Expires"),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        let html = body(&resp);
        assert!(
            html.contains(">g:cat</a>") && html.contains(">web</a>"),
            "{html}"
        );
        assert!(html.find(">g:cat<") < html.find(">web<"), "sorted by group");
        assert!(html.contains("Hello &lt;you&gt;"));
    }
    assert!(rpc.actions().is_empty());
}

#[tokio::test]
async fn process_actions_run_and_redirect() {
    let cases = [
        (
            "stop",
            "web",
            "Process web stopped",
            vec![call("supervisor.stopProcess", named("web"))],
        ),
        (
            "start",
            "g:cat",
            "Process g:cat started",
            vec![call("supervisor.startProcess", named("g:cat"))],
        ),
        (
            "restart",
            "web",
            "Process web restarted",
            vec![
                call("supervisor.stopProcess", named("web")),
                call("supervisor.startProcess", named("web")),
            ],
        ),
        (
            "clearlog",
            "g:cat",
            "Log for g:cat cleared",
            vec![call("supervisor.clearProcessLogs", vec!["g:cat".into()])],
        ),
        ("start", "g:*", "No such process named g:*", vec![]),
        ("bogus", "nosuch", "No such process named nosuch", vec![]),
    ];
    for (action, ns, message, calls) in cases {
        let rpc = FakeRpc::with_procs();
        let query = format!("processname={}&action={action}", form::quote(ns));
        let resp = run(&rpc, get("/index.html", Some(&query))).await;
        assert_eq!(redirected_message(&resp), message, "{query}");
        assert_eq!(rpc.actions(), calls, "{query}");
        assert_eq!(header(&resp, "Content-Type"), Some("text/html"));
        assert_eq!(header(&resp, "Cache-Control"), Some("no-cache"));
        assert!(body(&resp).contains("Error code 301."));
    }
}

#[tokio::test]
async fn action_faults_become_messages() {
    let rpc = FakeRpc::with_procs().fail("supervisor.startProcess", FaultCode::SpawnError, "g:cat");
    let resp = run(&rpc, get("/", Some("processname=g:cat&action=start"))).await;
    assert_eq!(
        redirected_message(&resp),
        "ERROR: Process g:cat: spawn error"
    );

    let rpc = FakeRpc::with_procs().fail("supervisor.stopProcess", FaultCode::NotRunning, "g:cat");
    let resp = run(&rpc, get("/", Some("processname=g:cat&action=stop"))).await;
    assert_eq!(
        redirected_message(&resp),
        "unexpected rpc fault [70] NOT_RUNNING: g:cat"
    );

    let rpc = FakeRpc::with_procs().fail("supervisor.stopProcess", FaultCode::NotRunning, "g:cat");
    let resp = run(&rpc, get("/", Some("processname=g:cat&action=restart"))).await;
    assert_eq!(redirected_message(&resp), "Process g:cat restarted");
}

#[tokio::test]
async fn global_actions() {
    let rpc = FakeRpc::with_procs();
    let msg = redirected_message(&run(&rpc, get("/", Some("action=refresh"))).await);
    assert!(msg.starts_with("Page refreshed at "), "{msg}");
    assert!(rpc.actions().is_empty());

    let msg = redirected_message(&run(&rpc, get("/", Some("action=stopall"))).await);
    assert!(msg.starts_with("All stopped at "), "{msg}");
    let msg = redirected_message(&run(&rpc, get("/", Some("action=restartall"))).await);
    assert!(msg.starts_with("All restarted at "), "{msg}");
    let all = |m: &str| call(m, vec![true.into()]);
    assert_eq!(
        rpc.actions(),
        vec![
            all("supervisor.stopAllProcesses"),
            all("supervisor.stopAllProcesses"),
            all("supervisor.startAllProcesses")
        ]
    );
}

#[tokio::test]
async fn form_posts_and_bad_requests() {
    let rpc = FakeRpc::with_procs();
    let mut req = get("/index.html", Some("processname=web&action=start"));
    req.method = "POST".into();
    req.body = Bytes::from_static(b"action=stop");
    assert_eq!(
        redirected_message(&run(&rpc, req).await),
        "Process web stopped"
    );

    for query in [
        "action=start",
        "action=bogus",
        "processname=web&action=bogus",
    ] {
        let resp = run(&rpc, get("/", Some(query))).await;
        assert_eq!(resp.status, 500, "{query}");
        assert!(body(&resp).contains("Error code 500."));
    }
    let shutting = FakeRpc::with_procs().fail(
        "supervisor.getAllProcessInfo",
        FaultCode::ShutdownState,
        "x",
    );
    assert_eq!(run(&shutting, get("/", None)).await.status, 500);
}

#[tokio::test]
async fn other_paths_and_methods_are_not_the_ui() {
    let rpc = FakeRpc::with_procs();
    for path in ["/status", "/stylesheets/supervisor.css", "/index.htm"] {
        assert!(
            respond(&rpc, &secret(), get(path, None)).await.is_none(),
            "{path}"
        );
    }
    let mut req = get("/", None);
    req.method = "PUT".into();
    assert!(respond(&rpc, &secret(), req).await.is_none());
    // No change counter (the fake has none): no event stream.
    assert!(
        respond(&rpc, &secret(), get("/events", None))
            .await
            .is_none()
    );
    let ok = run(&rpc, get("//ok.html", None)).await;
    assert_eq!((ok.status, body(&ok).as_str()), (200, "OK"));
}

#[tokio::test]
async fn tail_page_reads_stdout() {
    let rpc = FakeRpc {
        log_text: "out <1>\n".into(),
        ..FakeRpc::with_procs()
    };
    let resp = run(
        &rpc,
        get("/tail.html", Some("processname=g%3Acat&limit=4096")),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(header(&resp, "Pragma"), Some("no-cache"));
    assert!(body(&resp).contains("<pre>out &lt;1&gt;\n</pre>"));
    assert!(body(&resp).contains("processname=g%3Acat&amp;limit=4096"));
    let read = |back: i32| {
        call(
            "supervisor.readProcessStdoutLog",
            vec!["g:cat".into(), Value::Int(-back), Value::Int(0)],
        )
    };
    assert_eq!(rpc.actions(), vec![read(4096)]);

    let resp = run(&rpc, get("/tail.html", None)).await;
    assert!(body(&resp).contains("<pre>No process name found</pre>"));

    let rpc =
        FakeRpc::with_procs().fail("supervisor.readProcessStdoutLog", FaultCode::NoFile, "/x");
    let resp = run(&rpc, get("/tail.html", Some("processname=web"))).await;
    assert!(body(&resp).contains("<pre>No file for web</pre>"));
    assert_eq!(
        rpc.actions(),
        vec![call(
            "supervisor.readProcessStdoutLog",
            vec!["web".into(), Value::Int(-1024), Value::Int(0)]
        )]
    );

    let rpc =
        FakeRpc::with_procs().fail("supervisor.readProcessStdoutLog", FaultCode::BadName, "x");
    let resp = run(&rpc, get("/tail.html", Some("processname=x"))).await;
    assert!(body(&resp).contains("<pre>ERROR: unexpected rpc fault [10] BAD_NAME: x</pre>"));
}

#[test]
fn tail_limits() {
    let cases = [
        (None, 1024),
        (Some("0"), 1024),
        (Some("10"), 1024),
        (Some("1024"), 1024),
        (Some("5000"), 5000),
        (Some("-5000"), 1024),
        (Some("5k"), 1024),
        (Some("99999999999999999999999"), u64::MAX),
    ];
    for (limit, want) in cases {
        assert_eq!(tail_limit(limit), want, "{limit:?}");
    }
}

/// A [`FakeRpc`] with a change counter, as the daemon's handle has.
struct CountingRpc {
    inner: FakeRpc,
    changes: tokio::sync::watch::Sender<u64>,
}

impl Rpc for CountingRpc {
    fn call(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<Value, Fault>> + Send {
        self.inner.call(method, params)
    }

    fn changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.changes.subscribe())
    }
}

#[tokio::test]
async fn events_stream_and_page_serial_follow_the_change_counter() {
    let rpc = CountingRpc {
        inner: FakeRpc::with_procs(),
        changes: tokio::sync::watch::Sender::new(17),
    };
    let resp = respond(&rpc, &secret(), get("/index.html", None))
        .await
        .expect("page");
    assert!(body(&resp).contains("<div id=\"procs\" data-serial=\"17\">"));
    assert!(body(&resp).contains("id=\"live\""));
    let resp = respond(&rpc, &secret(), get("/events", None))
        .await
        .expect("stream");
    assert_eq!(resp.status, 200);
    let UiBody::Changes(mut rx) = resp.body else {
        panic!("not a stream")
    };
    assert_eq!(*rx.borrow_and_update(), 17);
    rpc.changes.send_modify(|n| *n += 1);
    assert!(rx.has_changed().expect("open"));
    let mut post = get("/events", None);
    post.method = "POST".into();
    assert!(respond(&rpc, &secret(), post).await.is_none());
}

#[tokio::test]
async fn page_forms_carry_the_token_and_their_posts_run() {
    let rpc = FakeRpc::with_procs();
    let html = body(&run(&rpc, get("/", None)).await);
    let token = secret().token().to_owned();
    assert!(html.contains(&format!("name=\"csrf_token\" value=\"{token}\"")));
    let resp = run(
        &rpc,
        browser_post(
            "/index.html",
            &format!("csrf_token={token}&processname=g%3Acat&action=start"),
        ),
    )
    .await;
    assert_eq!(redirected_message(&resp), "Process g:cat started");
    let resp = run(
        &rpc,
        browser_post("/index.html", &format!("csrf_token={token}&action=stopall")),
    )
    .await;
    assert!(redirected_message(&resp).starts_with("All stopped at "));
    assert_eq!(
        rpc.actions(),
        vec![
            call("supervisor.startProcess", named("g:cat")),
            call("supervisor.stopAllProcesses", vec![true.into()]),
        ]
    );
}

#[tokio::test]
async fn cross_site_and_tokenless_browser_actions_are_refused() {
    let token = secret().token().to_owned();
    let with_token = format!("csrf_token={token}&processname=web&action=stop");
    let cross = |site: &str| UiRequest {
        fetch_site: Some(site.into()),
        ..get("/index.html", Some("processname=web&action=stop"))
    };
    let foreign = UiRequest {
        origin: Some("http://127.0.0.1:8000".into()),
        ..browser_post("/index.html", &with_token)
    };
    let cases = [
        (cross("cross-site"), "Sec-Fetch-Site"),
        (cross("same-site"), "Sec-Fetch-Site"),
        (
            foreign,
            "Origin http://127.0.0.1:8000 is not this server, Host ",
        ),
        (
            browser_post("/index.html", "processname=web&action=stop"),
            "token missing",
        ),
        (
            browser_post("/", "csrf_token=nope&processname=web&action=stop"),
            "invalid form token",
        ),
        (
            get("/", Some("csrf_token=nope&action=stopall")),
            "invalid form token",
        ),
        (
            UiRequest {
                fetch_site: Some("cross-site".into()),
                ..browser_post("/", "action=restartall")
            },
            "Sec-Fetch-Site",
        ),
    ];
    for (req, why) in cases {
        let rpc = FakeRpc::with_procs();
        let shown = format!("{req:?}");
        let resp = run(&rpc, req).await;
        assert_eq!(resp.status, 403, "{shown}");
        let text = body(&resp);
        assert!(
            text.contains("Error code 403.") && text.contains(why),
            "{text}"
        );
        assert_eq!(header(&resp, "Cache-Control"), Some("no-cache"));
        assert!(rpc.actions().is_empty(), "{shown}: nothing ran");
    }
}

#[tokio::test]
async fn scripts_and_page_views_pass_the_cross_site_checks() {
    // A script's GET (no browser headers, no token) runs, as in supervisord.
    let rpc = FakeRpc::with_procs();
    let resp = run(
        &rpc,
        get("/index.html", Some("processname=web&action=stop")),
    )
    .await;
    assert_eq!(redirected_message(&resp), "Process web stopped");
    // A URL the user typed (Sec-Fetch-Site: none) runs too.
    let typed = UiRequest {
        fetch_site: Some("none".into()),
        ..get("/index.html", Some("processname=web&action=stop"))
    };
    assert_eq!(
        redirected_message(&run(&rpc, typed).await),
        "Process web stopped"
    );
    // Showing or refreshing the page from another site's link changes nothing and is allowed.
    for query in [None, Some("message=hi"), Some("action=refresh")] {
        let req = UiRequest {
            fetch_site: Some("cross-site".into()),
            origin: Some("http://elsewhere.example".into()),
            ..get("/index.html", query)
        };
        let resp = run(&rpc, req).await;
        assert!(resp.status == 200 || resp.status == 301, "{query:?}");
    }
    let tail = UiRequest {
        fetch_site: Some("cross-site".into()),
        ..get("/tail.html", Some("processname=web"))
    };
    assert_eq!(run(&rpc, tail).await.status, 200);
    assert_eq!(
        rpc.actions().len(),
        3,
        "two stops and one log read: {:?}",
        rpc.actions()
    );
}
