//! procctl installed under the name `supervisorctl` (a symlink): it behaves as procctl does, and finds
//! `../etc/supervisord.conf` next to the link exactly as the real supervisorctl does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::fixture::{
    Daemon, Outcome, PROGRAMS, Server, mask, outcome, procctl_bin, python_bin_dir,
};

against_both!(
    // Marked ones compare procctl with the real supervisorctl: their procd test needs the reference too.
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    supervisorctl_symlink_behaves_like_procctl,
);

/// `<root>/bin/supervisorctl` linked to `target`, with the daemon's config as `<root>/etc/supervisord.conf`.
fn install(root: &Path, target: &Path, conf: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("bin")).expect("mkdir bin");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::copy(conf, root.join("etc/supervisord.conf")).expect("copy config");
    let link = root.join("bin/supervisorctl");
    std::os::unix::fs::symlink(target, &link).expect("symlink");
    link
}

/// Runs `bin` without `-c` from `cwd`, so the config is found through the program's own path.
fn run_found(bin: &Path, cwd: &Path, args: &[&str], stdin: &str) -> Outcome {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("output");
    let _ = writer.join();
    Outcome {
        stdout: mask(&String::from_utf8_lossy(&out.stdout), bin),
        stderr: mask(&String::from_utf8_lossy(&out.stderr), bin),
        code: out.status.code(),
    }
}

fn supervisorctl_symlink_behaves_like_procctl(server: Server) {
    let d = Daemon::start_on(server, PROGRAMS, "");
    d.wait_states(&[
        ("good", "RUNNING"),
        ("quick", "FATAL"),
        ("grp:a", "RUNNING"),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = install(&dir.path().join("ours"), &procctl_bin(), &d.conf);
    let real = install(
        &dir.path().join("real"),
        &python_bin_dir().join("supervisorctl"),
        &d.conf,
    );
    let elsewhere = dir.path().join("cwd");
    std::fs::create_dir(&elsewhere).expect("mkdir cwd");

    let cases: &[(&[&str], &str)] = &[
        (&["status"], ""),
        (&["status", "grp:*", "nosuch"], ""),
        (&["pid", "good"], ""),
        (&["version"], ""),
        (&["help"], ""),
        (&["tail", "good", "stderr"], ""),
        (&["foo"], ""),
        (&["-x"], ""),
        (&["-h"], ""),
        (&[], "version\nstatus quick\n"),
    ];
    for (args, stdin) in cases {
        let linked = run_found(&ours, &elsewhere, args, stdin);
        // The same as procctl under its own name, given the config explicitly...
        let direct = outcome(&procctl_bin(), &d.conf, args, Some(stdin));
        assert_eq!(linked, direct, "supervisorctl link vs procctl for {args:?}");
        // ...and the same as the real supervisorctl installed the same way (the usage text is procctl's
        // own words: only its usage line is compared).
        let reference = run_found(&real, &elsewhere, args, stdin);
        if args == &["-h"] {
            let usage = |o: &Outcome| {
                o.stdout
                    .lines()
                    .find(|l| l.starts_with("Usage: "))
                    .map(str::to_owned)
            };
            assert_eq!(usage(&linked), usage(&reference));
            assert!(usage(&linked).is_some());
            continue;
        }
        assert_eq!(linked, reference, "link vs real supervisorctl for {args:?}");
    }
    // Completion scripts bind to the name the program was run as.
    let script = run_found(&ours, &elsewhere, &["completions", "bash"], "");
    assert_eq!(script.code, Some(0));
    assert!(
        script.stdout.contains("complete -F _supervisorctl"),
        "{}",
        script.stdout
    );
    assert!(!script.stdout.contains("procctl"));
}
