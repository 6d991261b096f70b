//! Differential test: procd-config must read every config exactly as supervisord 4.3.0 does.
//!
//! Runs `tests/py/dump_supervisor_config.py` (the real Supervisor, interpreter from
//! `PROCD_TEST_PYTHON`, default `<workspace>/.venv/bin/python`) over a corpus and compares
//! the effective settings field by field with `procd_config::load`:
//! * good configs: `tests/corpus/*.conf`, `<workspace>/conf/*.conf`, Supervisor's
//!   `skel/sample.conf` and `tests/fixtures/*.conf` — both must load, identically;
//! * bad configs: `tests/corpus/bad/*.conf` — both must reject.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use procd_config::*;
use serde_json::{Value, json};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn python() -> String {
    std::env::var("PROCD_TEST_PYTHON").unwrap_or_else(|_| {
        workspace_root()
            .join(".venv/bin/python")
            .display()
            .to_string()
    })
}

/// The environment both implementations see.
fn test_env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), home.display().to_string()),
        ("PROCD_TEST_VAR".into(), "hello world".into()),
        ("LANG".into(), "C.UTF-8".into()),
    ]
}

fn supervisor_dir(py: &str) -> PathBuf {
    let out = Command::new(py)
        .args([
            "-c",
            "import os, supervisor; print(os.path.dirname(supervisor.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run Python interpreter {py:?} (set PROCD_TEST_PYTHON): {e}")
        });
    assert!(
        out.status.success(),
        "the Python interpreter {py:?} cannot import supervisor (set PROCD_TEST_PYTHON to a Python with supervisor 4.3.0 installed):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn conf_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn logfile(t: &LogTarget) -> Value {
    match t {
        LogTarget::None => Value::Null,
        LogTarget::Auto => json!("AUTO"),
        LogTarget::Syslog => json!("syslog"),
        LogTarget::Path(p) => json!(p.display().to_string()),
    }
}

fn env_map(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// procd's config in the dump script's schema.
fn schema(c: &Config, messages: &[Message]) -> Value {
    let s = &c.supervisord;
    let supervisord = json!({
        "logfile": logfile(&s.logfile),
        "logfile_maxbytes": s.logfile_maxbytes,
        "logfile_backups": s.logfile_backups,
        "loglevel": s.loglevel.number(),
        "pidfile": s.pidfile.display().to_string(),
        "umask": s.umask,
        "nodaemon": s.nodaemon,
        "silent": s.silent,
        "minfds": s.minfds,
        "minprocs": s.minprocs,
        "nocleanup": s.nocleanup,
        "childlogdir": s.childlogdir.display().to_string(),
        "uid": s.user.as_ref().map(|u| u.uid),
        "directory": s.directory.as_ref().map(|d| d.display().to_string()),
        "strip_ansi": s.strip_ansi,
        "environment": env_map(&s.environment),
        "identifier": s.identifier,
    });
    let mut servers: Vec<Value> = c
        .inet_servers
        .iter()
        .map(|i| {
            json!({"section": i.section, "family": "inet", "host": i.host, "port": i.port,
                   "username": i.username, "password": i.password})
        })
        .collect();
    servers.extend(c.unix_servers.iter().map(|u| {
        let chown = match u.chown {
            None => json!([-1, -1]),
            Some((uid, gid)) => json!([uid.map_or(-1, i64::from), gid.map_or(-1, i64::from)]),
        };
        json!({"section": u.section, "family": "unix", "file": u.file.display().to_string(), "chmod": u.chmod,
               "chown": chown, "username": u.username, "password": u.password})
    }));
    let groups: Vec<Value> = c
        .groups
        .iter()
        .map(|g| {
            let mut o = json!({"name": g.name, "priority": g.priority, "kind": "program"});
            match &g.kind {
                GroupKind::Program => {}
                GroupKind::EventListener(l) => {
                    let mut events = l.events.clone();
                    events.sort();
                    o["kind"] = json!("eventlistener");
                    o["events"] = json!(events);
                    o["buffer_size"] = json!(l.buffer_size);
                }
                GroupKind::Fcgi(f) => {
                    o["kind"] = json!("fcgi");
                    o["socket"] = json!({
                        "url": f.url,
                        "backlog": f.backlog,
                        "owner": f.owner.map(|(u, g)| json!([u, g.map_or(-1, i64::from)])),
                        "mode": f.mode,
                    });
                }
            }
            o["processes"] = Value::Array(
                g.processes
                    .iter()
                    .map(|p| {
                        let mut env = c.supervisord.environment.clone();
                        for (k, v) in &p.environment {
                            match env.iter_mut().find(|(x, _)| x == k) {
                                Some(slot) => slot.1 = v.clone(),
                                None => env.push((k.clone(), v.clone())),
                            }
                        }
                        let log = |l: &LogConfig| {
                            json!({"logfile": logfile(&l.file), "maxbytes": l.maxbytes, "backups": l.backups,
                                   "capture_maxbytes": l.capture_maxbytes, "events_enabled": l.events_enabled,
                                   "syslog": l.syslog})
                        };
                        json!({
                            "name": p.name,
                            "command": p.command,
                            "priority": p.priority,
                            "autostart": p.autostart,
                            "startsecs": p.startsecs,
                            "startretries": p.startretries,
                            "autorestart": match p.autorestart {
                                AutoRestart::Always => "always",
                                AutoRestart::Never => "never",
                                AutoRestart::Unexpected => "unexpected",
                            },
                            "exitcodes": p.exitcodes,
                            "stopsignal": p.stopsignal.number(),
                            "stopwaitsecs": p.stopwaitsecs,
                            "stopasgroup": p.stopasgroup,
                            "killasgroup": p.killasgroup,
                            "uid": p.user.as_ref().map(|u| u.uid),
                            "directory": p.directory.as_ref().map(|d| d.display().to_string()),
                            "umask": p.umask,
                            "environment": env_map(&env),
                            "redirect_stderr": p.redirect_stderr,
                            "serverurl": p.serverurl,
                            "stdout": log(&p.stdout),
                            "stderr": log(&p.stderr),
                        })
                    })
                    .collect(),
            );
            o
        })
        .collect();
    let rpc: Vec<Value> = c
        .rpcinterfaces
        .iter()
        .map(|r| json!({"name": r.name, "extras": r.extras}))
        .collect();
    let of = |level: LogLevel| -> Vec<&str> {
        messages
            .iter()
            .filter(|m| m.level == level)
            .map(|m| m.text.as_str())
            .collect()
    };
    json!({
        "supervisord": supervisord,
        "servers": servers,
        "groups": groups,
        "rpcinterfaces": rpc,
        "warnings": of(LogLevel::Warn),
        "infos": of(LogLevel::Info),
    })
}

/// Paths where two JSON values differ.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(
                    &format!("{path}.{k}"),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a != b => out.push(format!("{path}: supervisord={a} procd={b}")),
        _ => {}
    }
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn procd_reads_configs_like_supervisord() {
    let py = python();
    let sup = supervisor_dir(&py);
    let root = workspace_root();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut good = conf_files(&corpus);
    good.extend(conf_files(&root.join("conf")));
    good.push(sup.join("skel/sample.conf"));
    good.extend(conf_files(&sup.join("tests/fixtures")));
    let bad = conf_files(&corpus.join("bad"));
    assert!(
        good.len() >= 20 && bad.len() >= 20,
        "corpus too small: {} good, {} bad",
        good.len(),
        bad.len()
    );

    let cwd = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(&py)
        .arg(root.join("tests/py/dump_supervisor_config.py"))
        .args(good.iter().chain(&bad))
        .env_clear()
        .envs(test_env(home.path()))
        .current_dir(cwd.path())
        .output()
        .expect("run dump_supervisor_config.py");
    assert!(
        out.status.success(),
        "dump script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump: Value = serde_json::from_slice(&out.stdout).expect("dump JSON");
    let env: BTreeMap<String, String> =
        serde_json::from_value(dump["env"].clone()).expect("env map from the dump script");
    let opts = LoadOptions {
        env,
        cwd: cwd.path().to_path_buf(),
        host_node_name: dump["host_node_name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        overrides: SupervisordOverrides::default(),
    };

    let mut failures = Vec::new();
    for path in &good {
        let key = path.display().to_string();
        let theirs = &dump["results"][&key];
        let ours = load(path, &opts);
        match (theirs["ok"].as_bool(), ours) {
            (Some(true), Ok(loaded)) => {
                let mut d = Vec::new();
                diff(
                    "",
                    &theirs["config"],
                    &schema(&loaded.config, &loaded.messages),
                    &mut d,
                );
                if !d.is_empty() {
                    failures.push(format!("{key}: differs:\n  {}", d.join("\n  ")));
                }
            }
            (Some(true), Err(e)) => {
                failures.push(format!("{key}: supervisord loads it, procd rejects: {e}"));
            }
            (_, Ok(_)) => failures.push(format!(
                "{key}: supervisord rejects it ({}), procd loads it",
                theirs["error"]
            )),
            (_, Err(_)) => failures.push(format!(
                "{key}: expected to load, both reject: {}",
                theirs["error"]
            )),
        }
    }
    for path in &bad {
        let key = path.display().to_string();
        let theirs = &dump["results"][&key];
        assert_eq!(
            theirs["ok"].as_bool(),
            Some(false),
            "{key}: supervisord accepts a config in the bad corpus"
        );
        if let Ok(loaded) = load(path, &opts) {
            failures.push(format!(
                "{key}: supervisord rejects it ({}), procd loads it: {:?}",
                theirs["error"], loaded.config.groups
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bad_configs_report_every_error_with_location() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/bad");
    let opts = LoadOptions {
        cwd: corpus.clone(),
        ..LoadOptions::from_process()
    };
    let e = load(&corpus.join("bad_int.conf"), &opts).unwrap_err();
    assert_eq!(e.errors.len(), 1);
    let text = e.errors[0].to_string();
    assert!(
        text.ends_with(
            "bad_int.conf:4: [program:x] startsecs: invalid literal for int() with base 10: 'abc'"
        ),
        "{text}"
    );
}
