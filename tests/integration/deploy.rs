//! procd under the programs that keep services up: systemd's notification protocol (a fake
//! NOTIFY_SOCKET), the probe endpoints, `/metrics` read by a real Prometheus parser, procd as PID 1 of a
//! PID namespace running the container config from deploy/, and the shipped deployment files.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use procd_tests::{
    Daemon, Endpoint, Fixture, Kind, Value, build_request, env, http_request, run_with_timeout,
    wait_until,
};

const SECS: Duration = Duration::from_secs(20);

/// A fake systemd: the datagram socket named by NOTIFY_SOCKET, and every message it received.
struct FakeSystemd {
    _dir: tempfile::TempDir,
    path: PathBuf,
    socket: UnixDatagram,
    seen: Vec<String>,
}

impl FakeSystemd {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).expect("bind notify socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        FakeSystemd {
            _dir: dir,
            path,
            socket,
            seen: Vec::new(),
        }
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// Waits for the next message satisfying `want` (others are kept in `seen`) and returns it.
    #[track_caller]
    fn expect(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SECS;
        let mut buf = [0u8; 4096];
        loop {
            assert!(
                Instant::now() < deadline,
                "no {what} message; got {:?}",
                self.seen
            );
            if let Ok(n) = self.socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(msg.clone());
                if want(&msg) {
                    return msg;
                }
            }
        }
    }
}

fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).expect("signal the daemon");
}

#[test]
fn systemd_notifications_ready_status_reload_watchdog_stopping() {
    let mut systemd = FakeSystemd::new();
    let fixture = Fixture::new()
        .unix_server()
        .program("quick", "command=/bin/sleep 1000\nstartsecs=0")
        .program("slow", "command=/bin/sleep 1000\nstartsecs=1")
        .program(
            "envdump",
            "command=/bin/sh -c 'env; exec sleep 1000'\nstartsecs=0\nstdout_logfile={dir}/env.log",
        )
        .program("manual", "command=/bin/sleep 1000\nautostart=false");
    let notify = systemd.name();
    let mut d = Daemon::start_with_env(
        Kind::Procd,
        &fixture,
        &[
            ("NOTIFY_SOCKET", notify.as_str()),
            ("WATCHDOG_USEC", "300000"),
        ],
    );

    // READY=1 comes once every autostart program has left STARTING, with the first summary.
    let ready = systemd.expect("READY=1", |m| m.contains("READY=1"));
    assert_eq!(ready, "READY=1\nSTATUS=1 stopped, 3 running");
    assert_eq!(d.state_of("slow"), "RUNNING");
    // The watchdog is kept while the supervisor answers.
    systemd.expect("WATCHDOG=1", |m| m == "WATCHDOG=1");
    systemd.expect("WATCHDOG=1", |m| m == "WATCHDOG=1");

    // The variables meant for procd do not reach the programs.
    let env_log = d.dir.path().join("env.log");
    wait_until(SECS, "env dump", || {
        std::fs::read_to_string(&env_log).is_ok_and(|t| t.contains("SUPERVISOR_ENABLED=1"))
    });
    let dumped = std::fs::read_to_string(&env_log).expect("env log");
    for var in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
        assert!(
            !dumped.contains(&format!("{var}=")),
            "{var} leaked:\n{dumped}"
        );
    }

    // State changes give a new STATUS= line.
    d.ok("supervisor.stopProcess", vec![Value::from("quick")]);
    systemd.expect("STATUS after a stop", |m| {
        m == "STATUS=2 stopped, 2 running"
    });

    // SIGHUP: RELOADING=1 with the monotonic time, then READY=1 once the programs are back.
    let pid = d.pid().expect("pid");
    signal(pid, nix::sys::signal::Signal::SIGHUP);
    let reloading = systemd.expect("RELOADING=1", |m| m.starts_with("RELOADING=1"));
    let usec: u64 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
    assert!(usec > 0);
    let ready = systemd.expect("READY=1 after SIGHUP", |m| m.contains("READY=1"));
    assert_eq!(ready, "READY=1\nSTATUS=1 stopped, 3 running");

    // supervisor.restart does the same.
    wait_until(SECS, "RUNNING after reload", || {
        d.call("supervisor.getState", vec![])
            .is_ok_and(|r| r.is_ok())
    });
    d.ok("supervisor.restart", vec![]);
    systemd.expect("RELOADING=1 after restart", |m| {
        m.starts_with("RELOADING=1\nMONOTONIC_USEC=")
    });
    systemd.expect("READY=1 after restart", |m| m.contains("READY=1"));

    signal(pid, nix::sys::signal::Signal::SIGTERM);
    systemd.expect("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    let status = d.wait_exit(SECS);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn systemd_mainpid_after_daemonizing() {
    let mut systemd = FakeSystemd::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display().to_string();
    let conf = dir.path().join("supervisord.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nnodaemon=false\nlogfile={d}/main.log\npidfile={d}/procd.pid\n\
             childlogdir={d}\n\n[program:one]\ncommand=/bin/sleep 1000\nstartsecs=0\n"
        ),
    )
    .expect("write config");
    let out = run_with_timeout(
        {
            let mut c = Command::new(env::procd_bin());
            c.arg("-c").arg(&conf).env("NOTIFY_SOCKET", systemd.name());
            c
        },
        SECS,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mainpid = systemd.expect("MAINPID", |m| m.starts_with("MAINPID="));
    let pid: i32 = mainpid["MAINPID=".len()..].parse().expect("pid");
    let _guard = KillOnDrop(pid);
    wait_until(SECS, "pidfile", || {
        std::fs::read_to_string(dir.path().join("procd.pid"))
            .is_ok_and(|t| t.trim() == pid.to_string())
    });
    systemd.expect("READY=1", |m| m.starts_with("READY=1"));
    signal(pid, nix::sys::signal::Signal::SIGTERM);
    systemd.expect("STOPPING=1", |m| m.starts_with("STOPPING=1"));
    wait_until(SECS, "daemon gone", || {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
    });
}

/// Kills a daemonized procd and its process group if the test ends early.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0);
        if nix::sys::signal::kill(pid, None).is_ok() {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn get(
    ep: &Endpoint,
    path: &str,
    auth: Option<(&str, &str)>,
    accept: &str,
) -> (u16, String, String) {
    let mut req = String::from_utf8(build_request("GET", path, auth, b"")).expect("utf8");
    if !accept.is_empty() {
        req = req.replacen("\r\n\r\n", &format!("\r\nAccept: {accept}\r\n\r\n"), 1);
    }
    let reply = http_request(ep, req.as_bytes(), SECS).expect("http reply");
    (
        reply.status,
        reply.headers,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn health_endpoints_need_auth_unless_health_auth_is_false() {
    let fixture = Fixture::new()
        .inet_server_with_auth("user", "pw")
        .program("web", "command=/bin/sleep 1000\nstartsecs=0")
        .program("worker", "command=/bin/sleep 1000\nstartsecs=60")
        .program("manual", "command=/bin/sleep 1000\nautostart=false");
    let d = Daemon::start(Kind::Procd, &fixture);
    let ep = Endpoint::Tcp(d.port);
    let auth = Some(("user", "pw"));
    for path in ["/healthz", "/readyz", "/metrics", "/ok.html"] {
        assert_eq!(
            get(&ep, path, None, "").0,
            401,
            "{path} without credentials"
        );
    }
    let (status, headers, body) = get(&ep, "/healthz", auth, "");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(headers.to_lowercase().contains("content-type: text/plain"));

    d.wait_state(&["web"], "RUNNING");
    let (status, _, body) = get(&ep, "/readyz", auth, "");
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready\nworker STARTING\n")
    );
    let (status, headers, body) = get(&ep, "/readyz", auth, "application/json");
    assert_eq!(status, 503);
    assert!(
        headers
            .to_lowercase()
            .contains("content-type: application/json")
    );
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "ready": false,
            "supervisor": "RUNNING",
            "not_ready": [{"name": "worker", "state": "STARTING"}],
        })
    );
    // Only GET and HEAD.
    let reply =
        http_request(&ep, &build_request("POST", "/readyz", auth, b""), SECS).expect("reply");
    assert_eq!(reply.status, 405);

    // health_auth=false: the probes answer without credentials; everything else still needs them.
    let open = Fixture::new()
        .inet_server_with_auth("user", "pw")
        .server_lines("health_auth=false")
        .program("web", "command=/bin/sleep 1000\nstartsecs=0")
        .program("manual", "command=/bin/sleep 1000\nautostart=false");
    let d = Daemon::start(Kind::Procd, &open);
    let ep = Endpoint::Tcp(d.port);
    d.wait_state(&["web"], "RUNNING");
    assert_eq!(get(&ep, "/healthz", None, "").0, 200);
    assert_eq!(get(&ep, "/readyz", None, ""), get(&ep, "/readyz", auth, ""));
    let (status, _, body) = get(&ep, "/readyz", None, "");
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    let (status, _, body) = get(&ep, "/readyz", None, "application/json");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("json"),
        serde_json::json!({"ready": true, "supervisor": "RUNNING", "not_ready": []})
    );
    assert_eq!(get(&ep, "/metrics", None, "").0, 200);
    // supervisord's own pages keep their behaviour.
    assert_eq!(get(&ep, "/ok.html", None, "").0, 401);
    assert_eq!(get(&ep, "/index.html", None, "").0, 401);
    let rpc = procd_tests::xmlrpc(&ep, None, "supervisor.getState", vec![]);
    assert_eq!(rpc.err(), Some(401));

    // supervisord 4.3.0 loads the same file (it ignores health_auth).
    let reference = Daemon::start(Kind::Supervisord, &open);
    reference.wait_state(&["web"], "RUNNING");
}

/// `/metrics` parsed by prometheus_client's parser: family -> (type, samples).
fn scrape(d: &Daemon) -> serde_json::Value {
    let (status, headers, body) = get(&d.endpoint(), "/metrics", None, "");
    assert_eq!(status, 200);
    assert!(
        headers
            .to_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{headers}"
    );
    let mut cmd = Command::new(env::python());
    cmd.arg(env::py_script("parse_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("python");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), body.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("parse");
    assert!(
        out.status.success(),
        "prometheus_client could not parse:\n{}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The value of `family`'s sample `name` whose labels include `labels`.
fn sample(m: &serde_json::Value, family: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    m[family]["samples"]
        .as_array()?
        .iter()
        .find(|s| s[0] == name && labels.iter().all(|(k, v)| s[1][*k].as_str() == Some(*v)))
        .and_then(|s| s[2].as_f64())
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn metrics_parse_with_a_real_prometheus_parser() {
    let fixture = Fixture::new()
        .unix_server()
        .program(
            "talker",
            "command=/bin/sh -c 'printf 0123456789; printf \"abc\\n\" >&2; exec sleep 1000'\nstartsecs=0",
        )
        .program(
            "failer",
            "command=/bin/sh -c 'exit 3'\nstartsecs=0\nautorestart=false",
        )
        .program("manual", "command=/bin/sleep 1000\nautostart=false");
    let d = Daemon::start(Kind::Procd, &fixture);
    d.wait_state(&["talker"], "RUNNING");
    d.wait_state(&["failer"], "EXITED");
    let _ = d.call("supervisor.startProcess", vec![Value::from("nosuch")]);
    let who = |name: &'static str| [("name", name), ("group", name)];
    let mut m = serde_json::Value::Null;
    wait_until(SECS, "log byte counters", || {
        m = scrape(&d);
        sample(
            &m,
            "procd_process_log_bytes",
            "procd_process_log_bytes_total",
            &[("name", "talker"), ("channel", "stderr")],
        ) == Some(4.0)
            && sample(
                &m,
                "procd_process_log_bytes",
                "procd_process_log_bytes_total",
                &[("name", "talker"), ("channel", "stdout")],
            ) == Some(10.0)
    });
    // node_exporter / Go supervisord names and labels.
    let up = |n| sample(&m, "node_supervisord_up", "node_supervisord_up", &who(n));
    assert_eq!(
        (up("talker"), up("failer"), up("manual")),
        (Some(1.0), Some(0.0), Some(0.0))
    );
    let state = |n| {
        sample(
            &m,
            "node_supervisord_state",
            "node_supervisord_state",
            &who(n),
        )
    };
    assert_eq!(
        (state("talker"), state("failer"), state("manual")),
        (Some(20.0), Some(100.0), Some(0.0))
    );
    assert_eq!(
        sample(
            &m,
            "node_supervisord_exit_status",
            "node_supervisord_exit_status",
            &who("failer")
        ),
        Some(3.0)
    );
    let started = sample(
        &m,
        "node_supervisord_start_time_seconds",
        "node_supervisord_start_time_seconds",
        &who("talker"),
    )
    .expect("start time");
    let info = d.ok("supervisor.getProcessInfo", vec![Value::from("talker")]);
    assert_eq!(
        Some(started as i32),
        info.get("start").and_then(Value::as_int)
    );
    assert_eq!(
        sample(
            &m,
            "node_supervisord_start_time_seconds",
            "node_supervisord_start_time_seconds",
            &who("failer")
        ),
        None,
        "start time only while up, as node_exporter"
    );
    // Exits by reason, restarts, lost bytes.
    let exits = |n, reason| {
        sample(
            &m,
            "procd_process_exits",
            "procd_process_exits_total",
            &[("name", n), ("reason", reason)],
        )
    };
    assert_eq!(exits("failer", "unexpected"), Some(1.0));
    assert_eq!(exits("failer", "expected"), Some(0.0));
    assert_eq!(exits("talker", "unexpected"), Some(0.0));
    assert_eq!(
        sample(
            &m,
            "procd_process_restarts",
            "procd_process_restarts_total",
            &who("talker")
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &m,
            "procd_process_log_lost_bytes",
            "procd_process_log_lost_bytes_total",
            &[("name", "talker"), ("channel", "stdout")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &m,
            "procd_processes",
            "procd_processes",
            &[("state", "RUNNING")]
        ),
        Some(1.0)
    );
    // RPC calls and faults by method.
    assert!(
        sample(
            &m,
            "procd_rpc_calls",
            "procd_rpc_calls_total",
            &[("method", "supervisor.getState")]
        ) >= Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "procd_rpc_faults",
            "procd_rpc_faults_total",
            &[("method", "supervisor.startProcess"), ("fault", "BAD_NAME")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "procd_http_refused",
            "procd_http_refused_total",
            &[("reason", "connections")]
        ),
        Some(0.0)
    );
    // procd's own resource use under Prometheus' standard names.
    for family in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(sample(&m, family, family, &[]) > Some(0.0), "{family}");
    }
    assert_eq!(m["process_cpu_seconds"]["type"], "counter");
    for (family, kind) in [
        ("procd_process_exits", "counter"),
        ("node_supervisord_up", "gauge"),
    ] {
        assert_eq!(m[family]["type"], kind, "{family}");
    }
}

/// PID 1 of a new PID namespace: the container's config and entrypoint from deploy/.
struct Pid1 {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Pid1 {
    fn start(extra_programs: &str) -> Pid1 {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = env::workspace_root();
        std::fs::copy(
            root.join("deploy/supervisord.conf"),
            dir.path().join("supervisord.conf"),
        )
        .expect("copy deploy config");
        std::fs::create_dir(dir.path().join("conf.d")).expect("conf.d");
        std::fs::copy(
            root.join("deploy/conf.d/example.conf"),
            dir.path().join("conf.d/example.conf"),
        )
        .expect("copy example");
        std::fs::write(
            dir.path().join("conf.d/test.conf"),
            extra_programs.replace("{dir}", &dir.path().display().to_string()),
        )
        .expect("write programs");
        let reserved = procd_testkit::port::reserve();
        let port = reserved.get();
        // Append mode, like a pipe: procd and the programs each open /dev/stdout anew.
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("stdout"))
            .expect("stdout file");
        // /run is private to the namespace (the config keeps its socket and pidfile there).
        let child = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "sh", "-c"])
            .arg("mount -t tmpfs tmpfs /run && exec \"$@\"")
            .arg("sh")
            .arg(env::procd_bin())
            .args(["-n", "-c"])
            .arg(dir.path().join("supervisord.conf"))
            .env("PROCD_HTTP_PORT", port.to_string())
            .env("PROCD_HTTP_USER", "admin")
            .env("PROCD_HTTP_PASSWORD", "secret")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("unshare (needs root and util-linux)");
        Pid1 { child, dir, port }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout")).unwrap_or_default()
    }

    /// procd's pid outside the namespace (the child of `unshare --fork`).
    fn host_pid(&self) -> Option<i32> {
        let pid = children(i32::try_from(self.child.id()).ok()?)
            .into_iter()
            .next()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        // NSpid: <host pid> 1 once `sh` has exec'd procd.
        let ns_pid_1 = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .is_some_and(|l| l.split_whitespace().last() == Some("1"));
        (comm.trim() == "procd" && ns_pid_1).then_some(pid)
    }
}

impl Drop for Pid1 {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Some(pid) = self.host_pid() {
                // PID 1 going away takes the whole namespace with it.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|l| {
            l.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// The state letter of `pid` (`Z` for a zombie).
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

fn alive(pid: i32) -> bool {
    proc_state(pid).is_some_and(|s| s != 'Z')
}

fn wait_for(path: &Path) {
    wait_until(SECS, &format!("{}", path.display()), || path.exists());
}

#[test]
fn pid1_in_a_pid_namespace_reaps_orphans_and_stops_in_order() {
    for sig in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ] {
        // `orphans` double-forks: one grandchild exits soon (a zombie unless PID 1 reaps it), one lives on.
        let pid1 = Pid1::start(
            "[program:orphans]\n\
             command=/bin/sh -c '(sh -c \"sleep 0.3; touch {dir}/short-orphan-done\" &); (sleep 1000 &); exec sleep 1000'\n\
             priority=5\nstartsecs=0\nstopwaitsecs=3\n",
        );
        let mut host = None;
        wait_until(SECS, "procd as PID 1", || {
            host = pid1.host_pid();
            host.is_some()
        });
        let host = host.expect("host pid");
        // The namespace's /run, seen through procd's root: this very daemon's socket.
        let ep = Endpoint::Unix(PathBuf::from(format!("/proc/{host}/root/run/procd.sock")));
        wait_until(SECS, "readyz 200", || {
            http_request(&ep, &build_request("GET", "/readyz", None, b""), SECS)
                .is_some_and(|r| r.status == 200)
        });
        // The TCP server of the same config answers the probes without the password.
        let tcp = Endpoint::Tcp(pid1.port);
        let reply = http_request(&tcp, &build_request("GET", "/healthz", None, b""), SECS);
        assert_eq!(reply.map(|r| r.status), Some(200), "{}", pid1.output());
        assert!(
            pid1.output().contains("supervisord started with pid 1\n"),
            "{}",
            pid1.output()
        );

        wait_for(&pid1.dir.path().join("short-orphan-done"));
        // Everything procd's children left behind is now procd's child; none may stay a zombie.
        wait_until(SECS, "no zombie children of PID 1", || {
            children(host).iter().all(|&c| proc_state(c) != Some('Z'))
                && pid1.output().contains("reaped unknown pid")
        });
        let everyone = {
            let mut all = children(host);
            let grandchildren: Vec<i32> = all.iter().flat_map(|&c| children(c)).collect();
            all.extend(grandchildren);
            all
        };
        // app, worker, orphans (sleep) and the long-lived orphan (sleep 1000) at least.
        assert!(everyone.len() >= 4, "{everyone:?}\n{}", pid1.output());

        let t0 = Instant::now();
        signal(host, sig);
        let mut child = pid1;
        let status = loop {
            if let Some(s) = child.child.try_wait().expect("wait") {
                break s;
            }
            // The bound: groups stop one after another, each within its stopwaitsecs (3 + 10 + 10).
            assert!(t0.elapsed() < Duration::from_secs(25), "{}", child.output());
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "{sig:?}\n{}", child.output());
        let out = child.output();
        // Highest priority number first: app (20), worker (10), orphans (5).
        let at = |needle: &str| {
            out.find(needle)
                .unwrap_or_else(|| panic!("no {needle:?} in\n{out}"))
        };
        assert!(at("stopped: app") < at("stopped: worker"), "{out}");
        assert!(at("stopped: worker") < at("stopped: orphans"), "{out}");
        assert!(out.contains(&format!(
            "received {} indicating exit request",
            sig.as_str()
        )));
        // Nothing survives, and the main log is on stdout once.
        wait_until(SECS, "every process gone", || {
            everyone.iter().all(|&p| !alive(p))
        });
        assert_eq!(
            out.matches("supervisord started with pid 1").count(),
            1,
            "{out}"
        );
        assert_eq!(out.matches("app: ready").count(), 1, "{out}");
    }
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn deployment_files_parse_and_hold_what_the_docs_describe() {
    let root = env::workspace_root();
    let out = procd_tests::python(
        &env::py_script("check_deploy_files.py"),
        &[&root.display().to_string()],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{}",
        out.stdout
    );

    // The container config is valid for procd (without warnings about its own keys) ...
    let check = Command::new(env::procd_bin())
        .args(["--check", "-c"])
        .arg(root.join("deploy/supervisord.conf"))
        .env("PROCD_HTTP_PORT", "9001")
        .env("PROCD_HTTP_USER", "u")
        .env("PROCD_HTTP_PASSWORD", "p")
        .output()
        .expect("procd --check");
    assert!(check.status.success(), "{check:?}");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!stderr.contains("health_auth"), "{stderr}");
    // ... and the unit file passes systemd's own checks, apart from the binary it names.
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let unit = std::fs::read_to_string(root.join("conf/procd.service"))
            .expect("unit")
            .replace(
                "/usr/local/bin/procd",
                &env::procd_bin().display().to_string(),
            );
        let path = dir.path().join("procd.service");
        std::fs::write(&path, unit).expect("write unit");
        let verify = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("systemd-analyze");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        assert!(
            !text.contains("procd.service:"),
            "systemd-analyze verify:\n{text}"
        );
    }
}
