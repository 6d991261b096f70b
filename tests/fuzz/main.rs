//! Fuzz targets run as bounded tests: the config reader, the XML-RPC decoder, the shlex splitter, and
//! the HTTP request path of a real procd (both servers, with auth). See `procd_tests::fuzz` for the
//! mutator and the budget variables; a long run outside CI is
//! `PROCD_FUZZ_SECS=600 cargo test -p procd-tests --test fuzz -- --nocapture --test-threads 4`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use procd_tests::fuzz::{self, Budget, Clock, Report};
use procd_tests::{Daemon, Endpoint, Fixture, Kind, Value, build_request, xmlrpc};

/// Saved inputs from earlier findings (`tests/fuzz/regressions/<target>-*`), run first as seeds.
fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = procd_tests::env::workspace_root().join("tests/fuzz/regressions");
    files_under(&dir, &[""])
        .iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{target}-")))
        })
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

#[track_caller]
fn finish(report: &Report) {
    println!("{}", report.summary());
    assert!(
        report.findings.is_empty(),
        "{} findings:\n{}",
        report.findings.len(),
        report.findings.join("\n")
    );
}

/// Every file under `dir` (recursively) whose name ends with one of `exts`.
fn files_under(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p, exts));
        } else if exts.iter().any(|x| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(x))
        }) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read corpus").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy corpus file");
        }
    }
}

/// A class name for an outcome: the message with digits and quoted parts blurred, first 48 chars.
fn class(prefix: &str, msg: &str) -> String {
    let mut out = String::from(prefix);
    let mut in_quote = false;
    for c in msg.chars().take(160) {
        if c == '\'' {
            in_quote = !in_quote;
            continue;
        }
        if in_quote {
            continue;
        }
        out.push(if c.is_ascii_digit() { '#' } else { c });
        if out.len() > 48 + prefix.len() {
            break;
        }
    }
    out
}

const CONFIG_DICT: &[&[u8]] = &[
    b"\n[program:x]\n",
    b"\n[program:%(ENV_HOME)s]\n",
    b"\n[group:g]\nprograms=x\n",
    b"\n[include]\nfiles=include.d/*.conf\n",
    b"\n[supervisord]\n",
    b"\n[eventlistener:e]\nevents=TICK_5\n",
    b"\n[fcgi-program:f]\nsocket=tcp://127.0.0.1:0\n",
    b"\n[unix_http_server]\nfile=/tmp/x.sock\n",
    b"\n[inet_http_server]\nport=127.0.0.1:0\n",
    b"\n[supervisorctl]\n",
    b"\n[rpcinterface:supervisor]\n",
    b"\ncommand=/bin/cat\n",
    b"\nnumprocs=",
    b"\nnumprocs_start=",
    b"\nprocess_name=%(program_name)s_%(process_num)02d\n",
    b"%(process_num)d",
    b"%(here)s",
    b"%(ENV_PATH)s",
    b"%(",
    b")s",
    b"%%",
    b"\nenvironment=A=\"1\",B='x y'\n",
    b"\nstopsignal=",
    b"\nexitcodes=0,2\n",
    b"\npriority=",
    b"\nstdout_logfile_maxbytes=1GB\n",
    b"\nuser=",
    b"\nbuffer_size=",
    b"\nautorestart=unexpected\n",
    b"\ndepends_on=",
    b"99999999999999999999",
    b"1000000",
    b"-1",
    b"\n  continued",
    b";",
    b"#",
    b"\\",
    b"\"",
    b"'",
    b"=",
    b":",
    b"\r\n",
];

/// The config reader: any bytes give a config or errors, never a panic or a slow load.
#[test]
fn fuzz_config_reader() {
    let corpus = procd_tests::env::workspace_root().join("crates/procd-config/tests/corpus");
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&corpus, tmp.path());
    let mut seeds = regressions("config");
    seeds.extend(
        files_under(&corpus, &[".conf"])
            .iter()
            .filter_map(|p| std::fs::read(p).ok()),
    );
    let path = tmp.path().join("fuzz.conf");
    let opts = procd_config::LoadOptions {
        env: [("HOME", "/root"), ("PATH", "/usr/bin:/bin")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        cwd: tmp.path().to_path_buf(),
        host_node_name: "fuzzhost".into(),
        overrides: procd_config::SupervisordOverrides::default(),
    };
    let report = fuzz::run(
        "config",
        seeds,
        CONFIG_DICT,
        Budget::from_env(800),
        Clock::ThreadCpu,
        |input| {
            std::fs::write(&path, input).map_err(|e| format!("write: {e}"))?;
            Ok(match procd_config::load(&path, &opts) {
                Ok(loaded) => format!(
                    "ok:{}:{}",
                    loaded.config.groups.len().min(4),
                    loaded.messages.len().min(4)
                ),
                Err(errs) => class("err:", &errs.to_string()),
            })
        },
    );
    finish(&report);
}

const XML_DICT: &[&[u8]] = &[
    b"<value>",
    b"</value>",
    b"<array><data>",
    b"</data></array>",
    b"<struct><member><name>a</name>",
    b"</member></struct>",
    b"<int>",
    b"</int>",
    b"<i4>2147483648</i4>",
    b"<i8>",
    b"<boolean>2</boolean>",
    b"<string>",
    b"</string>",
    b"<double>nan</double>",
    b"<double>1e309</double>",
    b"<base64>!!</base64>",
    b"<dateTime.iso8601>x</dateTime.iso8601>",
    b"<nil/>",
    b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
    b"&a;",
    b"&#x0;",
    b"&#1114112;",
    b"&amp;",
    b"<![CDATA[",
    b"]]>",
    b"<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    b"<methodName>system.multicall</methodName>",
    b"<member><name>methodName</name><value>system.multicall</value></member>",
    b"<params><param>",
    b"</param></params>",
    b"<fault>",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
];

fn xml_seeds() -> Vec<Vec<u8>> {
    let fixtures = procd_tests::env::workspace_root().join("crates/procd-protocol/tests/fixtures");
    let mut seeds: Vec<Vec<u8>> = files_under(&fixtures, &[".xml"])
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let calls = [
        ("supervisor.getState", vec![]),
        ("supervisor.getProcessInfo", vec![Value::from("web")]),
        (
            "supervisor.readProcessStdoutLog",
            vec![Value::from("web"), Value::Int(0), Value::Int(100)],
        ),
        (
            "supervisor.signalProcess",
            vec![Value::from("web"), Value::from("HUP")],
        ),
        (
            "system.multicall",
            vec![Value::Array(vec![Value::Struct(
                [
                    ("methodName".into(), Value::from("supervisor.getPID")),
                    ("params".into(), Value::Array(vec![])),
                ]
                .into_iter()
                .collect(),
            )])],
        ),
        (
            "supervisor.sendProcessStdin",
            vec![Value::from("web"), Value::from("hi\n")],
        ),
        (
            "system.methodSignature",
            vec![Value::from("supervisor.getState")],
        ),
        ("supervisor.getAllConfigInfo", vec![]),
    ];
    for (method, params) in calls {
        seeds.push(procd_protocol::encode_call(&procd_protocol::MethodCall {
            method: method.into(),
            params,
        }));
    }
    seeds
}

/// The XML-RPC decoder: any bytes decode or give an error; a decoded call checks its parameters
/// without panicking, and encodes back to a document that decodes to the same call.
#[test]
fn fuzz_xmlrpc_decoder() {
    let mut seeds = regressions("xmlrpc");
    seeds.extend(xml_seeds());
    let report = fuzz::run(
        "xmlrpc",
        seeds,
        XML_DICT,
        Budget::from_env(20_000),
        Clock::ThreadCpu,
        |input| {
            let resp = match procd_protocol::decode_response(input) {
                Ok(_) => "resp-ok",
                Err(_) => "resp-err",
            };
            match procd_protocol::decode_call(input) {
                Ok(call) => {
                    let checked = match procd_protocol::api::check_call(&call) {
                        Ok(_) => "ok".to_owned(),
                        Err(f) => format!("fault{}", f.code),
                    };
                    let again = procd_protocol::encode_call(&call);
                    let back = procd_protocol::decode_call(&again)
                        .map_err(|e| format!("re-decoding an encoded call failed: {e}"))?;
                    if procd_protocol::encode_call(&back) != again {
                        return Err("encode/decode round trip changed the call".into());
                    }
                    Ok(format!(
                        "{resp}:call:{checked}:{}",
                        call.params.len().min(3)
                    ))
                }
                Err(e) => Ok(class(&format!("{resp}:"), &e.to_string())),
            }
        },
    );
    finish(&report);
}

/// Python's `shlex.quote` for one word.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\"'\"'"))
}

/// The shlex splitters: no panic; words from `split` survive quoting and splitting again.
#[test]
fn fuzz_shlex_splitter() {
    let seeds: Vec<Vec<u8>> = [
        "/bin/sh -c 'echo \"hi there\"' x\\ y",
        "A=1,B=\"two words\",C='x'",
        "python -m http.server --bind 127.0.0.1 8000",
        "a\\\"b \"c\\\\d\" 'e\\f'",
        "KEY=$HOME,X=%(here)s",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let dict: &[&[u8]] = &[
        b"'",
        b"\"",
        b"\\",
        b" ",
        b"=",
        b",",
        b"\t",
        b"\n",
        b"\xc3\xa9",
    ];
    let report = fuzz::run(
        "shlex",
        seeds,
        dict,
        Budget::from_env(20_000),
        Clock::ThreadCpu,
        |input| {
            let text = String::from_utf8_lossy(input);
            let split = procd_config::shlex::split(&text);
            if let Ok(words) = &split {
                let joined: Vec<String> = words.iter().map(|w| quote(w)).collect();
                let again = procd_config::shlex::split(&joined.join(" "))
                    .map_err(|e| format!("re-split failed: {e}"))?;
                if &again != words {
                    return Err(format!("quote+split changed {words:?} into {again:?}"));
                }
            }
            let legacy = procd_config::shlex::legacy_tokens(&text).is_ok();
            let pairs = procd_config::shlex::key_value_pairs(&text).is_ok();
            Ok(format!(
                "{}:{}:{legacy}:{pairs}",
                split.is_ok(),
                split.as_ref().map_or(0, Vec::len).min(4)
            ))
        },
    );
    finish(&report);
}

const HTTP_DICT: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"Content-Length: 0\r\n",
    b"Content-Length: 99999999999\r\n",
    b"Content-Length: -1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"0\r\n\r\n",
    b"Expect: 100-continue\r\n",
    b"Connection: keep-alive\r\n",
    b"Authorization: Basic dXNlcjpwYXNz\r\n",
    b"Authorization: Basic !!!\r\n",
    b"Authorization: Basic \r\n",
    b"Authorization: Digest x\r\n",
    b"Host: x\r\n",
    b"POST /RPC2 HTTP/1.1\r\n",
    b"GET /logtail/web/stderr HTTP/1.0\r\n",
    b"GET /mainlogtail HTTP/1.1\r\n",
    b"GET /index.html?action=stop&processname=web HTTP/1.0\r\n",
    b"GET /tail.html?processname=%00 HTTP/1.0\r\n",
    b"/..%2f..%2fetc%2fpasswd",
    b"%ff%fe",
    b"HTTP/0.9",
    b"HTTP/2.0",
    b"<methodName>supervisor.getProcessInfo</methodName>",
    b"<value><int>5</int></value>",
];

/// Whether an input would stop or reload the daemon under test (that is not a finding).
fn stops_daemon(input: &[u8]) -> bool {
    let lower = input.to_ascii_lowercase();
    lower.windows(8).any(|w| w == b"shutdown") || lower.windows(7).any(|w| w == b"restart")
}

/// Sends raw bytes, half-closes, and reads until the reply's head is complete (or EOF / timeout).
fn exchange(ep: &Endpoint, input: &[u8]) -> String {
    fn go<S: Read + Write>(mut s: S, input: &[u8], shut: impl FnOnce(&S)) -> String {
        if s.write_all(input).is_err() {
            return "write-refused".into();
        }
        shut(&s);
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > 65536 {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return "timeout".into(),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return "timeout".into(),
                Err(_) => break,
            }
        }
        let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
        let status = String::from_utf8_lossy(line);
        if status.is_empty() {
            "closed".into()
        } else {
            status.chars().take(12).collect()
        }
    }
    let timeout = Some(Duration::from_secs(5));
    match ep {
        Endpoint::Unix(p) => match UnixStream::connect(p) {
            Ok(s) => {
                let _ = s.set_read_timeout(timeout);
                let _ = s.set_write_timeout(timeout);
                go(s, input, |s| {
                    let _ = s.shutdown(std::net::Shutdown::Write);
                })
            }
            Err(e) => format!("connect failed: {e}"),
        },
        Endpoint::Tcp(port) => match TcpStream::connect(("127.0.0.1", *port)) {
            Ok(s) => {
                let _ = s.set_read_timeout(timeout);
                let _ = s.set_write_timeout(timeout);
                go(s, input, |s| {
                    let _ = s.shutdown(std::net::Shutdown::Write);
                })
            }
            Err(e) => format!("connect failed: {e}"),
        },
    }
}

/// The HTTP request path of a real procd, on both servers with auth: raw mutated requests never
/// crash it, never make it hang, and it keeps answering a well-formed authenticated call.
#[test]
fn fuzz_http_request_path() {
    let fixture = Fixture::new()
        .unix_server_with_auth("user", "pass")
        .inet_server_with_auth("user", "pass")
        .program(
            "web",
            "command=/bin/sh -c 'echo started; exec sleep 100000'\nautostart=true\nstartsecs=0",
        );
    let d = Daemon::start(Kind::Procd, &fixture);
    let unix = Endpoint::Unix(d.socket());
    let tcp = Endpoint::Tcp(d.port);
    let auth = Some(("user", "pass"));
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for body in xml_seeds() {
        seeds.push(build_request("POST", "/RPC2", auth, &body));
    }
    for path in [
        "/logtail/web",
        "/logtail/web/stderr",
        "/mainlogtail",
        "/ok.html",
        "/",
        "/index.html",
        "/tail.html?processname=web",
        "/stylesheets/supervisor.css",
        "/nope",
    ] {
        seeds.push(build_request("GET", path, auth, b""));
        seeds.push(build_request("GET", path, None, b""));
    }
    seeds.push(
        b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<?xml\r\n0\r\n\r\n"
            .to_vec(),
    );
    seeds.push(
        b"GET /ok.html HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\nGET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n"
            .to_vec(),
    );
    let mut case = 0u64;
    let report = fuzz::run(
        "http",
        seeds,
        HTTP_DICT,
        Budget::from_env(600),
        Clock::Wall,
        |input| {
            if stops_daemon(input) {
                return Ok("skipped".into());
            }
            case += 1;
            let ep = if case.is_multiple_of(2) { &unix } else { &tcp };
            let status = exchange(ep, input);
            if case.is_multiple_of(100) {
                match xmlrpc(&unix, auth, "supervisor.getState", vec![]) {
                    Ok(Ok(_)) => {}
                    other => return Err(format!("the daemon stopped answering: {other:?}")),
                }
            }
            if status == "timeout" {
                return Err("no answer within 5 s after the request was complete".into());
            }
            Ok(status)
        },
    );
    let out = d.output();
    let mut report = report;
    if out.contains("panicked") {
        report.findings.push(format!("the daemon panicked:\n{out}"));
    }
    match xmlrpc(&unix, auth, "supervisor.getState", vec![]) {
        Ok(Ok(_)) => {}
        other => report
            .findings
            .push(format!("the daemon stopped answering: {other:?}")),
    }
    finish(&report);
}
