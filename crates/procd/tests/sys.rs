//! Real-process tests of `procd::sys`: spawning, process groups, pipes, reaping, failure reporting.
//!
//! This binary is the only place in the test suite that reaps with `waitpid(-1)`, so it has its own
//! test binary; every test waits through [`wait_for`], which shares one reaper like the daemon does.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use procd::sys::reaper::set_child_subreaper;
use procd::sys::{
    KillError, SpawnSpec, SpawnUser, Spawned, StdinMode, WaitStatus, kill, kill_group, reap_all,
    reap_pid, resolve_command, spawn,
};
use procd_protocol::Signal;

const DEADLINE: Duration = Duration::from_secs(10);

static REAPED: Mutex<Option<HashMap<i32, WaitStatus>>> = Mutex::new(None);
static SUBREAPER: Once = Once::new();

fn setup() {
    SUBREAPER.call_once(|| set_child_subreaper().expect("PR_SET_CHILD_SUBREAPER"));
}

/// Waits (with a deadline) until the shared reaper has collected `pid`.
#[track_caller]
fn wait_for(pid: i32) -> WaitStatus {
    let start = Instant::now();
    loop {
        {
            let mut guard = REAPED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let map = guard.get_or_insert_with(HashMap::new);
            map.extend(reap_all());
            if let Some(status) = map.remove(&pid) {
                return status;
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "pid {pid} was not reaped in time"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a non-blocking pipe until EOF (all writers closed), with a deadline.
#[track_caller]
fn read_to_eof(fd: OwnedFd) -> String {
    let mut file = File::from(fd);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    loop {
        match file.read(&mut buf) {
            Ok(0) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                assert!(
                    start.elapsed() < DEADLINE,
                    "pipe did not reach EOF; so far: {out:?}"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Reads one line from a non-blocking pipe (the pipe stays open).
#[track_caller]
fn read_line(file: &mut File) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    let start = Instant::now();
    loop {
        match file.read(&mut byte) {
            Ok(0) => panic!("EOF before a full line: {out:?}"),
            Ok(_) if byte[0] == b'\n' => return String::from_utf8_lossy(&out).into_owned(),
            Ok(_) => out.push(byte[0]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(start.elapsed() < DEADLINE, "no line in time");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

fn sh(script: &str) -> SpawnSpec {
    SpawnSpec {
        program: PathBuf::from("/bin/sh"),
        argv: vec!["sh".into(), "-c".into(), script.into()],
        env: vec![(OsString::from("PATH"), OsString::from("/usr/bin:/bin"))],
        directory: None,
        umask: None,
        user: None,
        redirect_stderr: false,
        stdout_pipe: true,
        stderr_pipe: true,
        stdin: StdinMode::Pipe,
        shared_stdio: false,
        minfds: 1024,
        cgroup_procs: None,
    }
}

fn run(spec: SpawnSpec) -> (WaitStatus, String, String) {
    setup();
    let Spawned {
        pid,
        stdout,
        stderr,
        ..
    } = spawn(spec).expect("spawn");
    let out = read_to_eof(stdout.expect("stdout pipe"));
    let err = stderr.map(read_to_eof).unwrap_or_default();
    (wait_for(pid), out, err)
}

#[test]
fn env_cwd_umask_and_argv0_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = sh("echo \"$FOO|$HOME|$0\"; pwd; umask");
    spec.env.push(("FOO".into(), "bar baz".into()));
    spec.argv[0] = "my-sh".into();
    spec.directory = Some(dir.path().to_path_buf());
    spec.umask = Some(0o027);
    let (status, out, err) = run(spec);
    assert_eq!(status, WaitStatus::Exited(0), "{err}");
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(
        out,
        format!("bar baz||my-sh\n{}\n0027\n", canonical.display())
    );
}

#[test]
fn child_leads_its_own_process_group() {
    setup();
    let spawned = spawn(sh("exec sleep 30")).expect("spawn");
    let pgid = nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(spawned.pid))).unwrap();
    assert_eq!(pgid.as_raw(), spawned.pid);
    assert_ne!(pgid, nix::unistd::getpgrp());
    kill(spawned.pid, Signal::KILL).unwrap();
    assert_eq!(
        wait_for(spawned.pid),
        WaitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
}

#[test]
fn stdout_and_stderr_pipes_are_separate() {
    let (status, out, err) = run(sh("echo out; echo err >&2; exit 3"));
    assert_eq!(status, WaitStatus::Exited(3));
    assert_eq!(out, "out\n");
    assert_eq!(err, "err\n");
}

#[test]
fn redirect_stderr_merges_into_stdout() {
    setup();
    let mut spec = sh("echo out; echo err >&2");
    spec.redirect_stderr = true;
    let spawned = spawn(spec).expect("spawn");
    assert!(spawned.stderr.is_none());
    assert_eq!(
        read_to_eof(spawned.stdout.expect("stdout pipe")),
        "out\nerr\n"
    );
    assert_eq!(wait_for(spawned.pid), WaitStatus::Exited(0));
}

#[test]
fn unread_output_goes_to_dev_null_without_pipes() {
    setup();
    // Both channels unread: no pipes; the child's fds 1 and 2 are /dev/null (fd 0, here a file,
    // receives the report).
    let mut spec = sh(
        "exec 3>&1; a=$(readlink /proc/self/fd/3); b=$(readlink /proc/self/fd/2); \
         c=$(readlink /proc/self/fd/0); printf '%s\\n' \"$a\" \"$b\" \"$c\" >&0",
    );
    spec.stdout_pipe = false;
    spec.stderr_pipe = false;
    let path = std::env::temp_dir().join(format!("procd-null-test-{}", std::process::id()));
    spec.stdin = StdinMode::Fd(File::create(&path).unwrap().into());
    let spawned = spawn(spec).expect("spawn");
    assert!(spawned.stdout.is_none() && spawned.stderr.is_none());
    assert_eq!(wait_for(spawned.pid), WaitStatus::Exited(0));
    let seen = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines[..2], ["/dev/null", "/dev/null"], "{seen}");
    assert_eq!(Path::new(lines[2]), path, "{seen}");

    // Only stderr unread: stdout is a pipe, stderr /dev/null.
    let mut spec = sh("echo out; echo err >&2; readlink /proc/self/fd/2");
    spec.stderr_pipe = false;
    let (status, out, err) = run(spec);
    assert_eq!(status, WaitStatus::Exited(0));
    assert_eq!((out.as_str(), err.as_str()), ("out\n/dev/null\n", ""));
}

#[test]
fn stdin_pipe_reaches_the_child() {
    setup();
    let spawned = spawn(sh("read line; echo \"got $line\"")).expect("spawn");
    let stdin = spawned.stdin.expect("stdin pipe");
    std::io::Write::write_all(&mut File::from(stdin), b"hello\n").unwrap();
    assert_eq!(
        read_to_eof(spawned.stdout.expect("stdout pipe")),
        "got hello\n"
    );
    assert_eq!(wait_for(spawned.pid), WaitStatus::Exited(0));
}

#[test]
fn killing_the_group_reaches_grandchildren_and_orphans_are_reaped() {
    setup();
    let spawned = spawn(sh("sleep 30 & echo $!; wait")).expect("spawn");
    let mut out = File::from(spawned.stdout.expect("stdout pipe"));
    let grandchild: i32 = read_line(&mut out).parse().expect("grandchild pid");
    kill_group(spawned.pid, Signal::TERM).unwrap();
    assert_eq!(
        wait_for(spawned.pid),
        WaitStatus::Signaled {
            signal: 15,
            core_dumped: false
        }
    );
    // The grandchild was re-parented to this (subreaper) process and is reaped like any unknown pid.
    assert_eq!(
        wait_for(grandchild),
        WaitStatus::Signaled {
            signal: 15,
            core_dumped: false
        }
    );
    assert!(matches!(
        kill(grandchild, Signal::TERM),
        Err(KillError::NoSuchProcess)
    ));
}

#[test]
fn orphan_exit_statuses_are_collected() {
    setup();
    // The background shell waits for stdin to close, which happens only after its parent has exited:
    // had it exited first, its parent shell could have collected the status itself. (An asynchronous
    // list's own stdin is /dev/null, hence the detour through fd 3.)
    let spawned = spawn(sh("exec 3<&0; sh -c 'read x; exit 7' <&3 & echo $!")).expect("spawn");
    let mut out = File::from(spawned.stdout.expect("stdout pipe"));
    let orphan: i32 = read_line(&mut out).parse().expect("orphan pid");
    assert_eq!(wait_for(spawned.pid), WaitStatus::Exited(0));
    drop(spawned.stdin);
    assert_eq!(wait_for(orphan), WaitStatus::Exited(7));
}

/// Whether `pid` is a zombie (exited, not yet reaped).
fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn reap_pid_collects_only_the_given_child() {
    setup();
    // Hold the shared reaper for the whole test, so no other test's `reap_all` takes these children.
    let mut guard = REAPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let a = spawn(sh("exit 3")).expect("spawn a").pid;
    let b = spawn(sh("exit 4")).expect("spawn b").pid;
    let c = spawn(sh("exec sleep 30")).expect("spawn c").pid;
    let start = Instant::now();
    while !(is_zombie(a) && is_zombie(b)) {
        assert!(start.elapsed() < DEADLINE, "children did not exit");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(reap_pid(a), Some(WaitStatus::Exited(3)));
    assert_eq!(reap_pid(a), None, "already collected");
    assert!(is_zombie(b), "another exited child is left alone");
    assert_eq!(reap_pid(c), None, "a running child is not waited for");
    assert_eq!(reap_pid(b), Some(WaitStatus::Exited(4)));
    kill(c, Signal::KILL).unwrap();
    let killed = loop {
        if let Some(status) = reap_pid(c) {
            break status;
        }
        assert!(start.elapsed() < DEADLINE, "killed child was not collected");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(
        killed,
        WaitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
    assert_eq!(reap_pid(0), None);
    assert_eq!(reap_pid(-1), None, "never a wildcard");
    guard.get_or_insert_with(HashMap::new);
}

#[test]
fn failed_chdir_is_reported_in_stderr_with_exit_127() {
    let mut spec = sh("echo never");
    spec.directory = Some(PathBuf::from("/nonexistent/dir"));
    let (status, out, err) = run(spec);
    assert_eq!(status, WaitStatus::Exited(127));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "supervisor: couldn't chdir to /nonexistent/dir: ENOENT\nsupervisor: child process was not spawned\n"
    );
}

#[test]
fn failed_exec_is_reported_in_stderr_with_exit_127() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus");
    std::fs::write(&bogus, [0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]).unwrap();
    std::fs::set_permissions(&bogus, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut spec = sh("");
    spec.program = bogus;
    spec.argv = vec!["bogus".into(), "arg".into()];
    spec.redirect_stderr = true;
    let (status, out, _) = run(spec);
    assert_eq!(status, WaitStatus::Exited(127));
    assert_eq!(
        out,
        "supervisor: couldn't exec bogus: ENOEXEC\nsupervisor: child process was not spawned\n"
    );
}

#[test]
fn children_inherit_supervisord_signal_dispositions_and_no_stray_fds() {
    setup();
    let file = File::open("/dev/null").unwrap();
    let raw = nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&file), 200).unwrap();
    // An fd without close-on-exec below the spawn slots too (the lowest free number).
    let low = nix::unistd::dup(std::os::fd::AsRawFd::as_raw_fd(&file)).unwrap();
    let (status, out, err) = run(sh(
        "grep -E '^Sig(Ign|Blk)' /proc/self/status; ls /proc/$$/fd",
    ));
    nix::unistd::close(raw).unwrap();
    nix::unistd::close(low).unwrap();
    assert_eq!(status, WaitStatus::Exited(0), "{err}");
    let ign = out
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .expect("SigIgn line")
        .trim();
    let ign = u64::from_str_radix(ign, 16).unwrap();
    assert_eq!(ign & (1 << (13 - 1)), 1 << (13 - 1), "SIGPIPE ignored");
    assert_eq!(ign & (1 << (25 - 1)), 1 << (25 - 1), "SIGXFSZ ignored");
    let blk = out
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .expect("SigBlk line")
        .trim();
    assert_eq!(u64::from_str_radix(blk, 16).unwrap(), 0);
    let fds: Vec<&str> = out
        .lines()
        .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(
        fds,
        ["0", "1", "2"],
        "the child holds only its stdio: {out}"
    );
}

#[test]
fn many_open_fds_in_the_parent_stay_out_of_children() {
    setup();
    // A daemon with hundreds of programs holds hundreds of pipes and log files. None of them may
    // reach a child, and each child's pipes must still reach the right child.
    let held: Vec<File> = (0..300).map(|_| File::open("/dev/null").unwrap()).collect();
    for i in 0..5 {
        let (status, out, err) = run(sh(&format!("echo out{i}; echo err{i} >&2; ls /proc/$$/fd")));
        assert_eq!(status, WaitStatus::Exited(0), "{err}");
        assert_eq!(err, format!("err{i}\n"));
        assert_eq!(out, format!("out{i}\n0\n1\n2\n"));
    }
    drop(held);
}

#[test]
fn setuid_switches_user_and_groups() {
    if !nix::unistd::Uid::current().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut spec = sh("id -u; id -g; id -G");
    spec.user = Some(SpawnUser {
        uid: 65534,
        gid: 65534,
        groups: vec![65534, 4242],
    });
    let (status, out, err) = run(spec);
    assert_eq!(status, WaitStatus::Exited(0), "{err}");
    assert_eq!(out, "65534\n65534\n65534 4242\n");
    // The child shares the parent's memory until exec: switching its credentials must not switch any
    // thread of the parent (glibc's setuid wrapper would broadcast to all of them).
    for task in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let uid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap_or_default();
        assert!(
            uid.split_whitespace().skip(1).all(|u| u == "0"),
            "thread changed uid: {uid}"
        );
    }
}

#[test]
fn setuid_then_chdir_failure_is_reported_as_the_new_user() {
    if !nix::unistd::Uid::current().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut spec = sh("pwd");
    spec.user = Some(SpawnUser {
        uid: 65534,
        gid: 65534,
        groups: vec![65534],
    });
    spec.directory = Some(private.clone());
    let (status, _, err) = run(spec);
    assert_eq!(status, WaitStatus::Exited(127));
    assert_eq!(
        err,
        format!(
            "supervisor: couldn't chdir to {}: EACCES\nsupervisor: child process was not spawned\n",
            private.display()
        )
    );
}

#[test]
fn resolve_command_matches_supervisord_texts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exe = d.join("tool");
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = d.join("plain");
    std::fs::write(&plain, "x").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = format!("/nonexistent:{}", d.display());

    assert_eq!(resolve_command("tool", Some(&path), None), Ok(exe.clone()));
    assert_eq!(resolve_command("tool", None, Some(&path)), Ok(exe.clone()));
    assert_eq!(
        resolve_command(exe.to_str().unwrap(), None, None),
        Ok(exe.clone())
    );
    assert_eq!(
        resolve_command("sh", None, Some("")),
        Ok(PathBuf::from("/bin/sh"))
    );
    assert_eq!(
        resolve_command("nope-xyz", Some(&path), None),
        Err("can't find command 'nope-xyz'".into())
    );
    assert_eq!(
        resolve_command("/no/such/file", None, None),
        Err("can't find command '/no/such/file'".into())
    );
    assert_eq!(
        resolve_command(d.to_str().unwrap(), None, None),
        Err(format!("command at '{}' is a directory", d.display()))
    );
    assert_eq!(
        resolve_command("plain", Some(&path), None),
        Err(format!(
            "command at '{}' is not executable",
            plain.display()
        ))
    );
}

#[test]
fn signalling_bad_targets_is_refused_or_reported() {
    assert!(matches!(
        kill(0, Signal::TERM),
        Err(KillError::InvalidPid(0))
    ));
    assert!(matches!(
        kill(-5, Signal::TERM),
        Err(KillError::InvalidPid(-5))
    ));
    assert!(matches!(
        kill_group(1, Signal::TERM),
        Err(KillError::InvalidPid(1))
    ));
    let (status, _, _) = run(sh("exit 0"));
    assert_eq!(status, WaitStatus::Exited(0));
}
