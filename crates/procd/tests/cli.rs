//! procd's command line: `--check`, `--print-config`, `--sample-config`, and supervisord's usage errors.

use std::path::Path;
use std::process::{Command, Output};

fn procd(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procd"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run procd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_reports_every_problem_with_file_line_section_and_option() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=/dev/null\n[program:a]\ncommand=sleep 1\nstartsecs=abc\nautostart=maybe\n[program:b]\n",
    )
    .unwrap();
    let out = procd(&["--check", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let path = conf.display().to_string();
    assert!(
        err.contains(&format!("Error: {path}:5: [program:a] startsecs:")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Error: {path}:6: [program:a] autostart: not a valid boolean value: 'maybe'"
        )),
        "{err}"
    );
    assert!(
        err.contains("program section program:b does not specify a command"),
        "{err}"
    );
    assert!(err.contains("For help, use "), "{err}");
}

#[test]
fn sample_config_is_valid_and_print_config_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let sample = procd(&["--sample-config"], dir.path());
    assert_eq!(sample.status.code(), Some(0));
    let conf = dir.path().join("sample.conf");
    std::fs::write(&conf, &sample.stdout).unwrap();
    let check = procd(&["--check", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));

    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/procd.conf");
    let printed = procd(
        &["--print-config", "-c", example.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed.stderr));
    let json: serde_json::Value = serde_json::from_slice(&printed.stdout).expect("JSON");
    let names: Vec<&str> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["clock", "flaky", "worker"]);
}

#[test]
fn usage_errors_exit_2_like_supervisord() {
    let dir = tempfile::tempdir().unwrap();
    let out = procd(&["extra"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("Error: positional arguments are not supported: ['extra']")
    );

    let out = procd(&["-c", "/nonexistent/procd.conf"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("Error: "),
        "{}",
        text(&out.stderr)
    );
}

/// A config with the mistakes people make that supervisord accepts silently.
const TYPOS: &str = "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/d.pid\n\n\
[progam:web]\ncommand=sleep 1000\n\n\
[program:api]\ncommand=sh -c \"sleep 1000 ; echo hi\"\nautorestrat=true\nstartsecs=0\n\n\
[program:ok]\ncommand=sleep 1000 ; the program\nstartsecs=0\n";

fn typo_warnings(path: &str) -> Vec<String> {
    vec![
        format!("{path}:5: unknown section [progam:web] is ignored (did you mean [program:web]?)"),
        format!(
            "{path}:9: [program:api] command cannot be split into arguments (No closing quotation): \
             the program will fail to start; note that ` ; echo hi\"` on line 9 was read as a comment \
             (a `;` or `#` after whitespace starts one)"
        ),
        format!(
            "{path}:10: [program:api] unknown option 'autorestrat' is ignored (did you mean 'autorestart'?)"
        ),
    ]
}

#[test]
fn check_warns_about_typos_and_unsplittable_commands() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("typos.conf");
    std::fs::write(&conf, TYPOS).unwrap();
    let path = conf.display().to_string();
    let out = procd(&["--check", "-c", &path], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want: Vec<String> = typo_warnings(&path)
        .iter()
        .map(|w| format!("WARN {w}"))
        .collect();
    assert_eq!(text(&out.stderr).lines().collect::<Vec<_>>(), want);
    assert_eq!(
        text(&out.stdout),
        format!("{path}: configuration is valid, with 3 warnings\n")
    );
}

#[test]
fn check_names_the_typo_behind_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("err.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=/dev/null\n[program:x]\ncomand=ls\n",
    )
    .unwrap();
    let path = conf.display().to_string();
    let out = procd(&["--check", "-c", &path], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!(
                "Error: {path}:3: [program:x] program section program:x does not specify a command"
            ),
            format!(
                "WARN {path}:4: [program:x] unknown option 'comand' is ignored (did you mean 'command'?)"
            ),
        ]
    );
}

#[test]
fn check_shows_the_rpcinterface_warning_and_accepts_known_names() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("rpc.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=/dev/null\n\n[rpcinterface:twiddler]\n\
         supervisor.rpcinterface_factory = supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface\n\
         retries = 3\n\n[inet_http_server2]\nport=127.0.0.1:9999\n",
    )
    .unwrap();
    let path = conf.display().to_string();
    let out = procd(&["--check", "-c", &path], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "WARN [rpcinterface:twiddler]: rpcinterface factory \
         supervisor_twiddler.rpcinterface:make_twiddler_rpcinterface cannot be loaded by procd; \
         namespace 'twiddler' is not available\n"
    );
    assert_eq!(
        text(&out.stdout),
        format!("{path}: configuration is valid, with 1 warning\n")
    );

    // The shipped example and the sample configuration have nothing to warn about.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/procd.conf");
    let out = procd(&["--check", "-c", example.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
    let sample = dir.path().join("sample.conf");
    std::fs::write(&sample, procd(&["--sample-config"], dir.path()).stdout).unwrap();
    let out = procd(&["--check", "-c", sample.to_str().unwrap()], dir.path());
    assert_eq!(text(&out.stderr), "");
    assert!(text(&out.stdout).ends_with(": configuration is valid\n"));
}

#[test]
fn startup_logs_the_check_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("typos.conf");
    std::fs::write(&conf, TYPOS).unwrap();
    let path = conf.display().to_string();
    // Guarded: the daemon and its program (`sleep`) are killed together when the guard drops (a bare
    // SIGKILL of the daemon left its program running after the test).
    let daemon = procd_testkit::DaemonProcess::new(
        Command::new(env!("CARGO_BIN_EXE_procd"))
            .args(["-n", "-s", "-c", &path])
            .current_dir(dir.path())
            .spawn()
            .expect("start procd"),
        procd_testkit::Teardown::Kill,
    );
    let log = dir.path().join("main.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let want = typo_warnings(&path);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("success: ok entered RUNNING") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(daemon);
    let warns: Vec<&str> = text
        .lines()
        .filter_map(|l| l.get(24..))
        .filter_map(|l| l.strip_prefix("WARN "))
        .collect();
    assert_eq!(warns, want, "{text}");
}

#[test]
fn only_known_result_handlers_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("l.conf");
    let listener = |handler: &str| {
        format!(
            "[supervisord]\nlogfile=/dev/null\n\n[eventlistener:out]\ncommand=supervisor_stdout\n\
             events=PROCESS_LOG\nresult_handler={handler}\n"
        )
    };
    std::fs::write(&conf, listener("supervisor_stdout:event_handler")).unwrap();
    let out = procd(&["--check", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");

    std::fs::write(&conf, listener("mypkg.handlers:handle")).unwrap();
    let out = procd(&["--check", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().next().unwrap_or_default(),
        format!(
            "Error: {}:7: [eventlistener:out] result_handler: mypkg.handlers:handle cannot be resolved \
             within [eventlistener:out] (procd cannot load Python code; it implements \
             supervisor.dispatchers:default_handler and supervisor_stdout:event_handler)",
            conf.display()
        )
    );
}

#[test]
fn start_up_errors_name_the_path_once() {
    let dir = tempfile::tempdir().unwrap();
    let first_line = |out: &Output| {
        text(&out.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };

    // A missing -c file: supervisord's line, with the path once.
    let out = procd(&["-c", "/nonexistent/procd.conf"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        "Error: could not find config file /nonexistent/procd.conf"
    );

    // A main log that cannot be opened (here a directory, which even root cannot open for writing).
    let logdir = dir.path().join("logs");
    std::fs::create_dir(&logdir).unwrap();
    let conf = dir.path().join("log.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={}\npidfile={}/d.pid\n",
            logdir.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let out = procd(&["-n", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        format!(
            "Error: could not open the main log {}: Is a directory (EISDIR)",
            logdir.display()
        )
    );

    // A socket in a directory that does not exist.
    let conf = dir.path().join("sock.conf");
    std::fs::write(
        &conf,
        format!(
            "[unix_http_server]\nfile=/nonexistent-procd-dir/s.sock\n\n[supervisord]\nlogfile={0}/main.log\npidfile={0}/d.pid\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = procd(&["-n", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        "Error: Cannot open an HTTP server: [unix_http_server] socket /nonexistent-procd-dir/s.sock: \
         No such file or directory (ENOENT): the directory /nonexistent-procd-dir does not exist"
    );

    // A port another program listens on.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let conf = dir.path().join("port.conf");
    std::fs::write(
        &conf,
        format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\n\n[supervisord]\nlogfile={0}/main.log\npidfile={0}/d.pid\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = procd(&["-n", "-c", conf.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        first_line(&out),
        format!(
            "Error: Another program is already listening on a port that one of our HTTP servers is \
             configured to use: [inet_http_server] port 127.0.0.1:{port} is in use (EADDRINUSE). \
             Shut this program down first before starting procd."
        )
    );
}

#[test]
fn manpage_lists_the_options_and_nothing_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let out = procd(&["--manpage"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(page.contains(".TH procd 8"), "{page}");
    for option in [
        "\\-\\-check",
        "\\-\\-sample\\-config",
        "\\-\\-nodaemon",
        ".SH SIGNALS",
    ] {
        assert!(page.contains(option), "{option}: {page}");
    }
    for hidden in [
        "POSITIONAL",
        "supervisor\\-stdout\\-listener",
        "profile_options",
    ] {
        assert!(!page.contains(hidden), "{hidden}: {page}");
    }
}

#[test]
fn readme_has_exactly_two_set_up_commands() {
    // A newcomer copies the blocks that are not marked as usage: they must be exactly these two.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README.md");
    let mut set_up: Vec<String> = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for line in readme.lines() {
        match (&mut block, line.trim_end()) {
            (None, "```sh") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                if lines.first() != Some(&"# usage") {
                    set_up.push(lines.join("\n"));
                }
                block = None;
            }
            (Some(lines), l) => lines.push(l),
            (None, _) => {}
        }
    }
    assert_eq!(
        set_up,
        [
            "cargo run --release -p procd -- -n -c conf/procd.conf",
            "./tests/run-all.sh"
        ]
    );
    // The Rust version the README names is the workspace's.
    let cargo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
            .expect("Cargo.toml");
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version");
    assert!(
        readme.contains(&format!("Rust {version} or newer")),
        "README names Rust {version}"
    );
}
