//! The interactive shell fed through a pipe, compared with supervisorctl's.

use crate::fixture::{Daemon, PROGRAMS, Server, same_with_stdin};

against_both!(
    // Marked ones compare procctl with the real supervisorctl: their procd test needs the reference too.
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    piped_shell_matches,
    #[cfg_attr(
        not(feature = "reference"),
        ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
    )]
    prompt_comes_from_config,
    shell_asks_for_credentials_on_401,
);

fn piped_shell_matches(server: Server) {
    let d = Daemon::settled(server);
    let c = &d.conf;
    for script in [
        "",
        "version\n",
        "version\nfoo bar\n\nstatus grp:*\npid nosuch\n",
        "help\nhelp help\n?\nquit\nversion\n",
        "exit\n",
        "start nosuch\nstop manual\ntail -3 good\nEOF\nversion\n",
        "open ftp://x\nopen unix:///nonexistent/sock\nstatus\n",
    ] {
        let o = same_with_stdin(c, &[], Some(script));
        assert_eq!(o.code, Some(0), "shell exit status is always 0");
    }
    // -i with an action runs the action only.
    same_with_stdin(c, &["-i", "version"], Some("status\n"));
    // Interactive questions: declined and accepted answers never reach the daemon here (declined).
    same_with_stdin(c, &["-i", "shutdown"], Some("n\n"));
    same_with_stdin(c, &["-i", "reload"], Some("no\n"));
    same_with_stdin(c, &["-i", "reload"], Some(""));
}

fn prompt_comes_from_config(server: Server) {
    let d = Daemon::start_on(server, PROGRAMS, "prompt=box\n");
    d.wait_states(&[("good", "RUNNING")]);
    let o = same_with_stdin(&d.conf, &[], Some("version\n"));
    assert!(o.stdout.contains("box> "), "{}", o.stdout);
}

fn shell_asks_for_credentials_on_401(server: Server) {
    let (d, url) = Daemon::with_auth(server);
    d.wait_states(&[("good", "RUNNING")]);
    let bin = crate::fixture::procctl_bin();
    let none = std::path::Path::new("");
    let out = crate::fixture::run(&bin, none, &["-s", &url], Some("user\nsecret\nversion\n"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.starts_with("Server requires authentication\nUsername:\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\ngood                             RUNNING   pid "),
        "{stdout}"
    );
    assert!(stdout.contains("supervisor> 4.3.0\n"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Password:"));
}
