//! `depends_on=`, `ready_check=`, `ready_timeout=`, `ready_interval=` (procd extensions): resolution of
//! names and every graph error at once, with file and line.

use std::collections::BTreeMap;
use std::time::Duration;

use procd_config::*;

fn opts(dir: &std::path::Path) -> LoadOptions {
    LoadOptions {
        env: BTreeMap::new(),
        cwd: dir.to_path_buf(),
        host_node_name: "node1".into(),
        overrides: SupervisordOverrides::default(),
    }
}

fn load_text(text: &str) -> Result<Loaded, ConfigErrors> {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("supervisord.conf");
    std::fs::write(&p, text).expect("write");
    load(&p, &opts(dir.path()))
}

fn process<'a>(c: &'a Config, namespec: &str) -> &'a ProcessConfig {
    c.groups
        .iter()
        .flat_map(|g| g.processes.iter())
        .find(|p| p.namespec() == namespec)
        .unwrap_or_else(|| panic!("no {namespec}"))
}

const BASE: &str = "[supervisord]\n";

#[test]
fn names_resolve_to_programs_processes_and_groups() {
    let text = format!(
        "{BASE}\
[program:db]\ncommand=db\nready_check=tcp://127.0.0.1:5432\nready_timeout=90\nready_interval=250ms\n\
[program:migrate]\ncommand=m\nautorestart=false\n\
[program:worker]\ncommand=w\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n\
ready_check=http://localhost:80%(process_num)02d/health\n\
[group:web]\nprograms=front,api\n\
[program:front]\ncommand=f\n[program:api]\ncommand=a\n\
[program:app]\ncommand=app\ndepends_on = db:ready, migrate:completed, worker, web:*, web:api, worker_1\n"
    );
    let c = load_text(&text).unwrap().config;
    let app = process(&c, "app");
    let got: Vec<(&str, Condition, Vec<&str>)> = app
        .depends_on
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.condition,
                d.targets.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("db", Condition::Ready, vec!["db"]),
            ("migrate", Condition::Completed, vec!["migrate"]),
            (
                "worker",
                Condition::Started,
                vec!["worker:worker_0", "worker:worker_1"]
            ),
            ("web:*", Condition::Started, vec!["web:front", "web:api"]),
            ("web:api", Condition::Started, vec!["web:api"]),
            ("worker_1", Condition::Started, vec!["worker:worker_1"]),
        ]
    );
    let db = process(&c, "db");
    assert_eq!(db.ready_timeout, Duration::from_secs(90));
    assert_eq!(db.ready_interval, Duration::from_millis(250));
    assert_eq!(
        db.ready_check.as_ref().unwrap().label(),
        "tcp://127.0.0.1:5432"
    );
    let w1 = process(&c, "worker:worker_1");
    assert_eq!(
        w1.ready_check.as_ref().unwrap().label(),
        "http://localhost:8001/health"
    );
    // Defaults, and the keys are not "extra" (unknown) keys.
    assert_eq!(app.ready_check, None);
    assert_eq!(app.ready_timeout, DEFAULT_READY_TIMEOUT);
    assert_eq!(app.ready_interval, DEFAULT_READY_INTERVAL);
    assert!(app.extra.is_empty(), "{:?}", app.extra);
    let json = print_config_json(&c);
    assert!(json.contains("\"depends_on\""), "{json}");
    assert!(
        json.contains("\"ready_check\": \"tcp://127.0.0.1:5432\""),
        "{json}"
    );
}

#[test]
fn a_config_without_the_keys_prints_as_before() {
    let c = load_text(&format!("{BASE}[program:a]\ncommand=a\n"))
        .unwrap()
        .config;
    let json = print_config_json(&c);
    assert!(
        !json.contains("depends_on") && !json.contains("ready_"),
        "{json}"
    );
}

#[test]
fn every_graph_error_at_once_with_file_and_line() {
    let text = format!(
        "{BASE}\
[program:a]\ncommand=a\ndepends_on=b\n\
[program:b]\ncommand=b\ndepends_on=c\n\
[program:c]\ncommand=c\n\ndepends_on=a:ready\n\
[program:d]\ncommand=d\ndepends_on=nosuch, loop:completed\n\
[program:loop]\ncommand=l\nautorestart=true\n\
[program:e]\ncommand=e\nready_check=tcp://nohost\nready_timeout=0\nready_interval=soon\n\
[program:f]\ncommand=f\ndepends_on=f\n"
    );
    let errs = load_text(&text).unwrap_err().errors;
    let texts: Vec<String> = errs
        .iter()
        .map(|e| {
            format!(
                "{}:{} [{}] {}: {}",
                e.file.file_name().unwrap().to_string_lossy(),
                e.line.unwrap_or(0),
                e.section.as_deref().unwrap_or(""),
                e.option.as_deref().unwrap_or(""),
                e.message
            )
        })
        .collect();
    let want = [
        "supervisord.conf:21 [program:e] ready_timeout: \"0\" is not a positive duration (seconds, or a number with ms, s or m)",
        "supervisord.conf:22 [program:e] ready_interval: \"soon\" is not a positive duration (seconds, or a number with ms, s or m)",
        "supervisord.conf:20 [program:e] ready_check: malformed ready_check \"tcp://nohost\": the port is missing (expected tcp://HOST:PORT, http://HOST[:PORT]/PATH, exec:COMMAND, log:REGEX or notify)",
        "supervisord.conf:14 [program:d] depends_on: depends_on names nosuch, which is not a program, process or group",
        "supervisord.conf:14 [program:d] depends_on: depends_on loop:completed can never hold: loop has autorestart=true",
        "supervisord.conf:25 [program:f] depends_on: depends_on cycle: f -> f",
    ];
    for w in want {
        assert!(texts.iter().any(|t| t == w), "missing {w}\nin {texts:#?}");
    }
    // One cycle among a, b, c is printed as a path.
    let cycle: Vec<&String> = texts.iter().filter(|t| t.contains("cycle: a")).collect();
    assert_eq!(cycle.len(), 1, "{texts:#?}");
    assert!(
        cycle[0].ends_with("depends_on cycle: a -> b -> c -> a"),
        "{}",
        cycle[0]
    );
    assert!(
        cycle[0].starts_with("supervisord.conf:4 [program:a]"),
        "{}",
        cycle[0]
    );
}

#[test]
fn liveness_keys_and_their_errors() {
    let c = load_text(&format!(
        "{BASE}[program:web]\ncommand=w\nliveness_check=http://127.0.0.1:8080/healthz\n\
         liveness_interval=2s\nliveness_timeout=500ms\nliveness_failures=2\nliveness_action=stop\n\
         [program:plain]\ncommand=p\nliveness_check=exec:true\n"
    ))
    .unwrap()
    .config;
    let web = process(&c, "web").liveness.clone().unwrap();
    assert_eq!(web.check.label(), "http://127.0.0.1:8080/healthz");
    assert_eq!(web.interval, Duration::from_secs(2));
    assert_eq!(web.timeout, Duration::from_millis(500));
    assert_eq!(web.failures, 2);
    assert_eq!(web.action, LivenessAction::Stop);
    let plain = process(&c, "plain").liveness.clone().unwrap();
    assert_eq!(
        (plain.interval, plain.timeout, plain.failures, plain.action),
        (
            Duration::from_secs(10),
            Duration::from_secs(5),
            3,
            LivenessAction::Restart
        )
    );
    assert_eq!(process(&c, "plain").extra.len(), 0);

    let errs = load_text(&format!(
        "{BASE}[program:a]\ncommand=a\nliveness_check=notify\nliveness_failures=0\n\
         liveness_action=reboot\n"
    ))
    .unwrap_err()
    .errors;
    let texts: Vec<String> = errs.iter().map(|e| e.message.clone()).collect();
    for want in [
        "liveness_check \"notify\" must be tcp://HOST:PORT, http://HOST[:PORT]/PATH or exec:COMMAND",
        "liveness_failures must be at least 1",
        "liveness_action \"reboot\" is not one of restart, stop, log",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "missing {want}\nin {texts:#?}"
        );
    }
    assert!(errs.iter().all(|e| e.line.is_some()), "{errs:#?}");
}
