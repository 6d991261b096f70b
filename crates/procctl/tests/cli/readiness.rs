//! procd's dependency and readiness extensions as procctl shows them: `status --json` and
//! `wait NAME --ready`.

use crate::fixture::{Daemon, Server};

const PROGRAMS: &str = "\
[program:db]
command=sh -c 'sleep 1; echo up; exec sleep 1000'
ready_check=log:^up$

[program:app]
command=/bin/sleep 1000
startsecs=0
depends_on=db:ready

[program:plain]
command=/bin/sleep 1000
startsecs=0
";

fn json(d: &Daemon, name: &str) -> serde_json::Value {
    let out = d.ctl(&["status", "--json", name]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v[0].clone()
}

#[test]
fn status_json_shows_dependencies_and_wait_ready_waits_for_readiness() {
    let d = Daemon::start_on(Server::Procd, PROGRAMS, "");
    let app = json(&d, "app");
    assert_eq!(app["depends_on"], serde_json::json!(["db:ready"]));
    assert_eq!(app["ready_check"], serde_json::Value::Null);
    assert_eq!(app["ready"], serde_json::json!(false));
    assert_eq!(
        app["waiting_for"],
        serde_json::json!("waiting for db (ready)")
    );
    assert_eq!(app["statename"], serde_json::json!("STOPPED"));

    let out = d.ctl(&["wait", "app", "--ready", "--timeout", "20"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "app: ready\n");

    let db = json(&d, "db");
    assert_eq!(db["ready_check"], serde_json::json!("log:^up$"));
    assert_eq!(db["ready"], serde_json::json!(true));
    assert_eq!(db["waiting_for"], serde_json::Value::Null);
    assert_eq!(json(&d, "app")["ready"], serde_json::json!(true));
    // A program without the keys prints exactly supervisord's members.
    let plain = json(&d, "plain");
    assert!(
        plain.get("ready").is_none() && plain.get("depends_on").is_none(),
        "{plain}"
    );
}
