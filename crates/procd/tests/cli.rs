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
