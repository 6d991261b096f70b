//! `kill_mode = cgroup`: a double-forking daemon's escaped grandchild is killed with its program.

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, alive, wait_until};

const LONG: Duration = Duration::from_secs(20);

/// A program that double-forks a `sleep` out of its process group (`setsid`, parent exits: the
/// grandchild is orphaned), writes the grandchild's pid to `pidfile`, then keeps running as `sleep`.
fn double_forking(pidfile: &std::path::Path, keys: &str) -> String {
    format!(
        "[program:daemon]\ncommand=sh -c 'setsid sh -c \"sleep 1000 & echo \\$! > {}\"; exec sleep 1000'\n\
         startsecs=0\nstopwaitsecs=5\n{keys}\n",
        pidfile.display()
    )
}

/// Removes the instance's cgroups when the test ends (the daemon guard kills procd with SIGKILL, which,
/// by design, leaves them for the next start to inspect).
pub(crate) struct CgroupCleanup(Option<std::path::PathBuf>);

impl CgroupCleanup {
    pub(crate) fn new(f: &Fixture) -> Self {
        use procd::sys::cgroup;
        let root = cgroup::cgroup2_mount()
            .zip(cgroup::own_cgroup())
            .map(|(m, own)| {
                m.join(own.trim_start_matches('/'))
                    .join(cgroup::root_name("supervisor", &f.pidfile()))
            });
        CgroupCleanup(root)
    }
}

impl Drop for CgroupCleanup {
    fn drop(&mut self) {
        let Some(root) = &self.0 else { return };
        let _ = procd::sys::cgroup::kill(root);
        // Members die asynchronously after cgroup.kill; an rmdir of a busy cgroup fails, so retry.
        for _ in 0..100 {
            let mut dirs: Vec<std::path::PathBuf> = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(d) = stack.pop() {
                if let Ok(rd) = std::fs::read_dir(&d) {
                    for e in rd.flatten() {
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            stack.push(e.path());
                        }
                    }
                }
                dirs.push(d);
            }
            for d in dirs.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
            if !root.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn grandchild(pidfile: &std::path::Path) -> i32 {
    wait_until(LONG, "the grandchild's pid", || {
        std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()
    })
}

fn kill9(pid: i32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
}

fn stop(f: &Fixture, name: &str) {
    f.rpc("supervisor.stopProcess", vec![Value::String(name.into())])
        .expect("stop");
}

/// The cgroup v2 path a pid is in (`0::` line).
fn cgroup_of(pid: i32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_owned)
}

#[test]
fn stopping_kills_the_escaped_grandchild() {
    let f = Fixture::new();
    let gpid = f.path("grandchild.pid");
    f.write_conf("", &double_forking(&gpid, "kill_mode=cgroup"));
    let _cg = CgroupCleanup::new(&f);
    let _d = f.start();
    f.wait_state("daemon", "RUNNING", LONG);
    let g = grandchild(&gpid);
    assert!(alive(g));
    let main = f.pid_of("daemon");
    // Both run in the program's own cgroup, below procd's root cgroup for this instance.
    let cg = cgroup_of(main).expect("cgroup of the program");
    assert!(
        cg.contains("/procd-supervisor-") && cg.ends_with("/daemon/daemon"),
        "{cg}"
    );
    assert_eq!(cgroup_of(g).as_deref(), Some(cg.as_str()));
    stop(&f, "daemon");
    f.wait_state("daemon", "STOPPED", LONG);
    wait_until(LONG, "the grandchild to be gone", || {
        (!alive(g)).then_some(())
    });
    f.wait_log(LONG, "the cgroup kill line", |m| {
        m.starts_with("killed 1 process(es) left in the cgroup of daemon after it exited")
    });
    // It starts again, in the same cgroup.
    f.rpc(
        "supervisor.startProcess",
        vec![Value::String("daemon".into())],
    )
    .expect("start");
    let g2 = wait_until(LONG, "a new grandchild", || {
        let p = grandchild(&gpid);
        (p != g).then_some(p)
    });
    assert_eq!(cgroup_of(f.pid_of("daemon")).as_deref(), Some(cg.as_str()));
    stop(&f, "daemon");
    wait_until(LONG, "the second grandchild to be gone", || {
        (!alive(g2)).then_some(())
    });
}

#[test]
fn a_program_that_exits_leaves_nothing_behind() {
    let f = Fixture::new();
    let gpid = f.path("grandchild.pid");
    // The classic daemonizing program: forks a background copy and exits at once.
    f.write_conf(
        "",
        &format!(
            "[program:forker]\ncommand=sh -c 'setsid sh -c \"sleep 1000 & echo \\$! > {}\"'\n\
             startsecs=0\nautorestart=false\nkill_mode=cgroup\n",
            gpid.display()
        ),
    );
    let _cg = CgroupCleanup::new(&f);
    let _d = f.start();
    let g = grandchild(&gpid);
    f.wait_state("forker", "EXITED", LONG);
    wait_until(LONG, "the grandchild to be gone", || {
        (!alive(g)).then_some(())
    });
}

#[test]
fn without_cgroup_the_grandchild_escapes() {
    // The control: kill_mode=group (stopasgroup/killasgroup) cannot reach a process that left the group.
    let f = Fixture::new();
    let gpid = f.path("grandchild.pid");
    f.write_conf("", &double_forking(&gpid, "kill_mode=group"));
    let _d = f.start();
    f.wait_state("daemon", "RUNNING", LONG);
    let g = grandchild(&gpid);
    stop(&f, "daemon");
    f.wait_state("daemon", "STOPPED", LONG);
    // Every signal of the stop was sent before STOPPED was reported.
    let escaped = alive(g);
    kill9(g);
    assert!(
        escaped,
        "the grandchild should have survived kill_mode=group"
    );
}
