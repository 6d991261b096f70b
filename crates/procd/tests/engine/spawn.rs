//! How children are spawned: process group, user, umask, directory, environment layering, PATH lookup,
//! signal dispositions; each compared with what the reference supervisord gives its children.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::common::{Fixture, PROCD, proc_status, stat_ids, str_field, supervisord, wait_until};

const LONG: Duration = Duration::from_secs(20);

/// What a child saw, as far as the tests care.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    pgid_is_pid: bool,
    uid: String,
    gid: String,
    groups: String,
    sig_ign: String,
    sig_blk: String,
    umask: String,
    cwd: String,
    env: BTreeMap<String, String>,
}

fn config(f: &Fixture) {
    let work = f.path("work");
    let out = f.path("out");
    for d in [&work, &out] {
        std::fs::create_dir_all(d).expect("mkdir");
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    std::fs::set_permissions(f.dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    f.write_conf(
        "environment=LAYER=\"supervisord\",BOTH=\"supervisord\"",
        &format!(
            "[program:probe]\n\
             command=sh -c 'env > {out}/env; umask > {out}/umask; pwd > {out}/cwd; exec sleep 1000'\n\
             user=nobody\numask=027\ndirectory={work}\nenvironment=BOTH=\"program\",ONLY=\"program\"\n\
             startsecs=0\n\n\
             [program:bare]\ncommand=sleep 1000\nstartsecs=0\n",
            out = out.display(),
            work = work.display()
        ),
    );
}

fn observe(f: &Fixture, bin: &Path, args: &[&str]) -> Observed {
    for name in ["env", "umask", "cwd"] {
        let _ = std::fs::remove_file(f.path("out").join(name));
    }
    let _d = f.start_with(bin, args);
    f.wait_state("probe", "RUNNING", LONG);
    f.wait_state("bare", "RUNNING", LONG);
    let read = |name: &str| {
        let p = f.path("out").join(name);
        wait_until(LONG, name, || {
            std::fs::read_to_string(&p)
                .ok()
                .filter(|s| s.ends_with('\n'))
        })
    };
    let probe = f.pid_of("probe");
    let bare = f.pid_of("bare");
    let field = |pid, name| proc_status(pid, name).unwrap_or_default();
    let env = read("env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Observed {
        pgid_is_pid: stat_ids(probe).map(|(_, pgid)| pgid) == Some(probe)
            && stat_ids(bare).map(|(_, pgid)| pgid) == Some(bare),
        uid: field(probe, "Uid"),
        gid: field(probe, "Gid"),
        groups: field(probe, "Groups"),
        // Standard signals only: glibc's internal real-time signals 32/33 are out of reach of both
        // daemons (their dispositions depend on what launched the daemon).
        sig_ign: format!(
            "{:016x}",
            u64::from_str_radix(&field(bare, "SigIgn"), 16).unwrap_or(0) & 0x7fff_ffff
        ),
        sig_blk: field(bare, "SigBlk"),
        umask: read("umask").trim().to_owned(),
        cwd: read("cwd").trim().to_owned(),
        env,
    }
}

#[test]
fn child_credentials_umask_directory_environment() {
    let f = Fixture::new();
    config(&f);
    let seen = observe(&f, Path::new(PROCD), &["-n"]);
    assert!(seen.pgid_is_pid, "children lead their own process group");
    assert_eq!(seen.uid, "65534\t65534\t65534\t65534");
    assert_eq!(seen.gid, "65534\t65534\t65534\t65534");
    assert_eq!(seen.groups, "65534");
    assert_eq!(seen.umask, "0027");
    assert_eq!(seen.cwd, f.path("work").display().to_string());
    let env = &seen.env;
    assert_eq!(env.get("SUPERVISOR_ENABLED").map(String::as_str), Some("1"));
    assert_eq!(
        env.get("SUPERVISOR_SERVER_URL"),
        Some(&format!("unix://{}", f.sock().display()))
    );
    assert_eq!(
        env.get("SUPERVISOR_PROCESS_NAME").map(String::as_str),
        Some("probe")
    );
    assert_eq!(
        env.get("SUPERVISOR_GROUP_NAME").map(String::as_str),
        Some("probe")
    );
    assert_eq!(env.get("LAYER").map(String::as_str), Some("supervisord"));
    assert_eq!(env.get("BOTH").map(String::as_str), Some("program"));
    assert_eq!(env.get("ONLY").map(String::as_str), Some("program"));
    // user= does not touch HOME/USER: they are the daemon's (the test's) values.
    assert_eq!(env.get("HOME"), std::env::var("HOME").ok().as_ref());
    assert_eq!(env.get("USER"), std::env::var("USER").ok().as_ref());
    // Python leaves SIGPIPE and SIGXFSZ ignored in its children; nothing blocked.
    let ign = u64::from_str_radix(&seen.sig_ign, 16).expect("SigIgn hex");
    let bit = |sig: i32| 1u64 << (sig - 1);
    assert_eq!(
        ign & bit(libc::SIGPIPE),
        bit(libc::SIGPIPE),
        "SIGPIPE ignored"
    );
    assert_eq!(
        ign & bit(libc::SIGXFSZ),
        bit(libc::SIGXFSZ),
        "SIGXFSZ ignored"
    );
    for sig in [
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGCHLD,
        libc::SIGUSR2,
        libc::SIGQUIT,
    ] {
        assert_eq!(ign & bit(sig), 0, "signal {sig} must not be ignored");
    }
    assert_eq!(seen.sig_blk, "0000000000000000");
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn children_match_supervisords_children() {
    let reference = supervisord();
    let f = Fixture::new();
    config(&f);
    let theirs = observe(&f, &reference, &["-n"]);
    let ours = observe(&f, Path::new(PROCD), &["-n"]);
    assert_eq!(ours, theirs);
}

#[test]
fn path_lookup_uses_the_programs_path() {
    let f = Fixture::new();
    let bin = f.path("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let tool = bin.join("mytool");
    std::fs::write(&tool, "#!/bin/sh\nexec /bin/sleep 1000\n").expect("script");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    f.write_conf(
        "",
        &format!(
            "[program:found]\ncommand=mytool\nenvironment=PATH=\"{}\"\nstartsecs=0\n\n\
             [program:hidden]\ncommand=sleep 1000\nenvironment=PATH=\"/nonexistent\"\nstartretries=0\n",
            bin.display()
        ),
    );
    let _d = f.start();
    f.wait_state("found", "RUNNING", LONG);
    let info = f.wait_state("hidden", "FATAL", LONG);
    assert_eq!(
        str_field(&info, "description"),
        "can't find command 'sleep'"
    );
}
