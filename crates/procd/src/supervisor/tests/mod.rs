//! Actor tests without processes: the real actor over a [`FakeOs`], on tokio's paused clock. Timers
//! fire as soon as nothing else can happen, so startsecs, stopwaitsecs and shutdown sequences of many
//! seconds run in milliseconds, and the elapsed (virtual) time is exact.

mod fake;
mod scale;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use procd_config::{LoadOptions, SupervisordOverrides};
use procd_protocol::api::ProcessInfo;
use procd_protocol::{Fault, FaultCode, ProcessState, Signal, SupervisorCall, Value};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};

use super::{Exit, Handle, Loader, Supervisor};
use crate::logger::Logger;
use crate::logs::{MainLog, MainTarget};
use fake::{Act, FakeOs};
use procd_core::Level;

type Run = JoinHandle<(Supervisor, std::io::Result<Exit>)>;

struct Harness {
    dir: tempfile::TempDir,
    os: FakeOs,
    handle: Handle,
    run: Option<Run>,
}

/// `[supervisord]` for a test directory, then the given sections.
fn config_text(dir: &Path, sections: &str) -> String {
    format!(
        "[supervisord]\nlogfile={dir}/main.log\nchildlogdir={dir}\nloglevel=debug\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n{sections}",
        dir = dir.display()
    )
}

fn load(path: &Path) -> Result<procd_config::Config, String> {
    let opts = LoadOptions {
        env: std::collections::BTreeMap::new(),
        cwd: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        host_node_name: "test".to_owned(),
        overrides: SupervisordOverrides::default(),
    };
    procd_config::load(path, &opts)
        .map(|l| l.config)
        .map_err(|e| format!("{e:?}"))
}

/// A `[program:x]` that writes no logs.
fn program(name: &str, extra: &str) -> String {
    format!(
        "[program:{name}]\ncommand=/fake/{name}\nstdout_logfile=NONE\nstderr_logfile=NONE\n{extra}\n\n"
    )
}

impl Harness {
    /// Starts the actor on `sections` (its `run` loop in a task).
    async fn start(sections: &str) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("supervisord.conf");
        std::fs::write(&conf, config_text(dir.path(), sections)).expect("write config");
        let config = load(&conf).expect("valid config");
        let main_log = MainLog::new(
            Level::Debug,
            Some(MainTarget::File {
                path: dir.path().join("main.log"),
                maxbytes: 0,
                backups: 0,
            }),
            false,
        )
        .expect("main log");
        let reread = conf.clone();
        let loader: Loader = Arc::new(move || load(&reread));
        let os = FakeOs::new();
        let sup = Supervisor::with_os(
            Arc::new(config),
            Logger::new(main_log),
            loader,
            Box::new(os.clone()),
        );
        let handle = sup.handle();
        let mut h = Harness {
            dir,
            os,
            handle,
            run: None,
        };
        h.run = Some(Harness::spawn_run(sup));
        h.settled().await;
        h
    }

    /// Returns once the actor has served a call: its loop runs and has started the autostart programs.
    async fn settled(&self) {
        self.call(SupervisorCall::GetPid).await.expect("getPID");
    }

    fn spawn_run(mut sup: Supervisor) -> Run {
        tokio::spawn(async move {
            let r = sup.run().await;
            (sup, r)
        })
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("supervisord.conf")
    }

    fn rewrite(&self, sections: &str) {
        std::fs::write(self.conf(), config_text(self.dir.path(), sections)).expect("rewrite");
    }

    async fn call(&self, call: SupervisorCall) -> Result<Value, Fault> {
        self.handle.call(call).await
    }

    async fn info(&self, name: &str) -> ProcessInfo {
        let v = self
            .call(SupervisorCall::GetProcessInfo { name: name.into() })
            .await
            .expect("process info");
        ProcessInfo::from_value(&v).expect("a ProcessInfo")
    }

    async fn state(&self, name: &str) -> ProcessState {
        self.info(name).await.state
    }

    /// Waits for the actor's loop to end.
    async fn finished(&mut self) -> (Supervisor, Exit) {
        let run = self.run.take().expect("a running actor");
        let (sup, exit) = run.await.expect("actor task");
        (sup, exit.expect("actor loop"))
    }

    fn main_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("main.log")).unwrap_or_default()
    }
}

fn ok_true() -> Result<Value, Fault> {
    Ok(Value::Bool(true))
}

fn fault(code: FaultCode, extra: &str) -> Result<Value, Fault> {
    Err(Fault::new(code, Some(extra)))
}

fn start(name: &str, wait: bool) -> SupervisorCall {
    SupervisorCall::StartProcess {
        name: name.into(),
        wait,
    }
}

fn stop(name: &str, wait: bool) -> SupervisorCall {
    SupervisorCall::StopProcess {
        name: name.into(),
        wait,
    }
}

/// Result names of a multi-process reply, in reply order.
fn result_names(reply: Result<Value, Fault>) -> Vec<String> {
    reply
        .expect("results")
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `elapsed` is `expected`, give or take the timer's 1 ms granularity.
#[track_caller]
fn assert_after(elapsed: Duration, expected: Duration) {
    assert!(
        elapsed >= expected && elapsed <= expected + Duration::from_millis(2),
        "{elapsed:?} is not {expected:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn startsecs_promotes_starting_to_running() {
    let h = Harness::start(&program("web", "autostart=false\nstartsecs=3")).await;
    assert_eq!(h.state("web").await, ProcessState::Stopped);

    let t0 = Instant::now();
    assert_eq!(h.call(start("web", false)).await, ok_true());
    assert_eq!(t0.elapsed(), Duration::ZERO, "wait=false answers at once");
    assert_eq!(h.state("web").await, ProcessState::Starting);
    sleep(Duration::from_millis(2990)).await;
    assert_eq!(h.state("web").await, ProcessState::Starting);
    sleep(Duration::from_millis(20)).await;
    assert_eq!(h.state("web").await, ProcessState::Running);
    assert_eq!(
        h.os.acts(),
        [Act::Spawn {
            name: "web".into(),
            pid: 1001
        }]
    );
    assert!(h.main_log().contains(
        "success: web entered RUNNING state, process has stayed up for > than 3 seconds (startsecs)"
    ));
}

#[tokio::test(start_paused = true)]
async fn start_with_wait_replies_when_running_or_when_the_start_fails() {
    let h = Harness::start(&format!(
        "{}{}",
        program("web", "autostart=false\nstartsecs=2"),
        program("flaky", "autostart=false\nstartsecs=5\nstartretries=0")
    ))
    .await;

    // The reply is deferred until startsecs have passed; other calls are served meanwhile.
    let t0 = Instant::now();
    let pending = tokio::spawn({
        let handle = h.handle.clone();
        async move { handle.call(start("web", true)).await }
    });
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("web").await, ProcessState::Starting);
    assert!(!pending.is_finished());
    assert_eq!(pending.await.expect("call task"), ok_true());
    assert_after(t0.elapsed(), secs(2));

    // A child that exits before startsecs fails the waiting call when it exits, not before (with
    // SPAWN_ERROR, as supervisord: the early exit is recorded as the spawn error).
    let t1 = Instant::now();
    let os = h.os.clone();
    let (reply, ()) = tokio::join!(h.call(start("flaky", true)), async move {
        sleep(secs(1)).await;
        os.exit("flaky", 1);
    });
    assert_eq!(reply, fault(FaultCode::SpawnError, "flaky"));
    assert_after(t1.elapsed(), secs(1));
    assert_eq!(h.state("flaky").await, ProcessState::Fatal);

    // Starting a running process is refused at once.
    assert_eq!(
        h.call(start("web", true)).await,
        fault(FaultCode::AlreadyStarted, "web")
    );
}

#[tokio::test(start_paused = true)]
async fn stopwaitsecs_escalates_to_sigkill() {
    let h = Harness::start(&program("slow", "startsecs=0\nstopwaitsecs=7")).await;
    // RUNNING once a moment has passed (supervisord wants more than startsecs, even 0).
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("slow").await, ProcessState::Running);
    h.os.ignore("slow", Signal::TERM);

    let t0 = Instant::now();
    assert_eq!(h.call(stop("slow", true)).await, ok_true());
    assert_after(t0.elapsed(), secs(7));
    assert_eq!(
        h.os.killed(),
        [("slow".into(), Signal::TERM), ("slow".into(), Signal::KILL)]
    );
    let kill_at: Vec<Duration> =
        h.os.records()
            .iter()
            .filter(|r| matches!(r.act, Act::Kill { .. }))
            .map(|r| r.at - t0)
            .collect();
    assert_eq!(kill_at[0], Duration::ZERO);
    assert_after(kill_at[1], secs(7));
    assert_eq!(h.state("slow").await, ProcessState::Stopped);
    let log = h.main_log();
    assert!(log.contains("killing 'slow' (1001) with SIGKILL"), "{log}");
    assert!(
        log.contains("stopped: slow (terminated by SIGKILL)"),
        "{log}"
    );
}

#[tokio::test(start_paused = true)]
async fn stop_all_with_wait_replies_when_the_last_one_is_down() {
    let h = Harness::start(&format!(
        "{}{}",
        program("quick", "startsecs=0"),
        program("stubborn", "startsecs=0\nstopwaitsecs=4")
    ))
    .await;
    h.os.ignore("stubborn", Signal::TERM);

    let t0 = Instant::now();
    let pending = tokio::spawn({
        let handle = h.handle.clone();
        async move {
            let reply = handle
                .call(SupervisorCall::StopAllProcesses { wait: true })
                .await;
            (reply, Instant::now())
        }
    });
    sleep(secs(1)).await;
    assert_eq!(h.state("quick").await, ProcessState::Stopped);
    assert_eq!(h.state("stubborn").await, ProcessState::Stopping);
    let (reply, at) = pending.await.expect("call task");
    assert_after(at - t0, secs(4));
    assert_eq!(result_names(reply), ["quick", "stubborn"]);
    assert_eq!(h.state("stubborn").await, ProcessState::Stopped);
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_groups_by_descending_priority_one_group_at_a_time() {
    let mut h = Harness::start(&format!(
        "{}{}{}{}{}",
        program("first", "startsecs=0\npriority=10"),
        program("last", "startsecs=0\npriority=30\nstopwaitsecs=2"),
        program("m1", "startsecs=0\npriority=1"),
        program("m2", "startsecs=0\npriority=2"),
        "[group:mid]\nprograms=m1,m2\npriority=20\n\n"
    ))
    .await;
    h.os.ignore("last", Signal::TERM);
    // Started by ascending priority: group first (10), mid (20: m1 then m2), last (30).
    let spawned: Vec<String> =
        h.os.acts()
            .into_iter()
            .filter_map(|a| match a {
                Act::Spawn { name, .. } => Some(name),
                Act::Kill { .. } => None,
            })
            .collect();
    assert_eq!(spawned, ["first", "m1", "m2", "last"]);

    let t0 = Instant::now();
    h.os.signal(Signal::TERM);
    let (_, exit) = h.finished().await;
    assert_eq!(exit, Exit::Shutdown);
    assert_eq!(
        h.os.killed(),
        [
            ("last".into(), Signal::TERM),
            ("last".into(), Signal::KILL),
            ("m2".into(), Signal::TERM),
            ("m1".into(), Signal::TERM),
            ("first".into(), Signal::TERM),
        ]
    );
    // The next group is stopped only once `last` is gone (after its stopwaitsecs).
    let at: Vec<Duration> = h.os.records().iter().skip(4).map(|r| r.at - t0).collect();
    assert_eq!(at[0], Duration::ZERO);
    for later in &at[1..] {
        assert_after(*later, secs(2));
    }
    assert_eq!(
        h.call(SupervisorCall::GetState).await,
        Err(Fault::new(FaultCode::ShutdownState, None))
    );
    let log = h.main_log();
    assert!(
        log.contains("received SIGTERM indicating exit request"),
        "{log}"
    );
    // Like supervisord, the report names every process not yet stopped.
    assert!(
        log.contains("waiting for first, m1, m2, last to die"),
        "{log}"
    );
}

#[tokio::test(start_paused = true)]
async fn reload_config_diffs_and_restart_brings_up_the_new_config() {
    let mut h = Harness::start(&format!(
        "{}{}{}",
        program("keep", "startsecs=0"),
        program("change", "startsecs=0"),
        program("gone", "startsecs=0")
    ))
    .await;
    h.rewrite(&format!(
        "{}{}{}",
        program("keep", "startsecs=0"),
        program("change", "startsecs=0\nstopwaitsecs=3"),
        program("new", "startsecs=0")
    ));
    let names = |v: &[&str]| Value::array(v.iter().copied());
    assert_eq!(
        h.call(SupervisorCall::ReloadConfig).await,
        Ok(Value::Array(vec![Value::Array(vec![
            names(&["new"]),
            names(&["change"]),
            names(&["gone"]),
        ])]))
    );
    // Nothing is applied until asked for.
    assert_eq!(h.os.pid_of("new"), None);
    assert_eq!(
        h.call(SupervisorCall::RemoveProcessGroup {
            name: "gone".into()
        })
        .await,
        fault(FaultCode::StillRunning, "gone")
    );
    assert_eq!(
        h.call(SupervisorCall::AddProcessGroup { name: "new".into() })
            .await,
        ok_true()
    );
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("new").await, ProcessState::Running);
    assert_eq!(
        h.call(SupervisorCall::AddProcessGroup { name: "new".into() })
            .await,
        fault(FaultCode::AlreadyAdded, "new")
    );

    // A restart stops everything, then the actor starts again on the re-read configuration.
    assert_eq!(h.call(SupervisorCall::Restart).await, ok_true());
    let (mut sup, exit) = h.finished().await;
    assert_eq!(exit, Exit::Restart);
    for name in ["keep", "change", "gone", "new"] {
        assert_eq!(h.os.pid_of(name), None, "{name} still running");
    }
    let config = load(&h.conf()).expect("config");
    sup.reset(Arc::new(config));
    h.run = Some(Harness::spawn_run(sup));
    h.settled().await;
    let mut running: Vec<String> = ["keep", "change", "gone", "new"]
        .into_iter()
        .filter(|n| h.os.pid_of(n).is_some())
        .map(str::to_owned)
        .collect();
    running.sort();
    assert_eq!(running, ["change", "keep", "new"]);
    assert_eq!(
        h.call(SupervisorCall::GetProcessInfo {
            name: "gone".into()
        })
        .await,
        fault(FaultCode::BadName, "gone")
    );
}

#[tokio::test(start_paused = true)]
async fn early_exits_back_off_one_more_second_each_time_then_go_fatal() {
    let h = Harness::start(&program("crashy", "startsecs=10\nstartretries=3")).await;
    let mut exits = Vec::new();
    for attempt in 1..=4 {
        while h.os.pid_of("crashy").is_none() {
            sleep(Duration::from_millis(1)).await;
        }
        // Each attempt dies a second after it was spawned, well before startsecs.
        sleep(secs(1)).await;
        h.os.exit("crashy", 1);
        exits.push(Instant::now());
        sleep(Duration::from_millis(10)).await;
        let expected = if attempt < 4 {
            ProcessState::Backoff
        } else {
            ProcessState::Fatal
        };
        assert_eq!(h.state("crashy").await, expected, "after attempt {attempt}");
    }
    let spawns: Vec<Instant> =
        h.os.records()
            .iter()
            .filter(|r| matches!(r.act, Act::Spawn { .. }))
            .map(|r| r.at)
            .collect();
    assert_eq!(spawns.len(), 4);
    // The n-th retry comes n seconds after the exit before it.
    for (n, (spawn, exit)) in spawns[1..].iter().zip(&exits).enumerate() {
        assert_after(*spawn - *exit, secs(n as u64 + 1));
    }
    assert!(
        h.main_log()
            .contains("gave up: crashy entered FATAL state, too many start retries too quickly")
    );
}

// ----- depends_on (procd extension) ----------------------------------------------------------------

/// When the fake OS spawned `name` (virtual time).
fn spawned_at(h: &Harness, name: &str) -> Option<Instant> {
    h.os.records().into_iter().find_map(|r| match r.act {
        Act::Spawn { name: n, .. } if n == name => Some(r.at),
        _ => None,
    })
}

#[tokio::test(start_paused = true)]
async fn a_dependent_is_spawned_the_moment_its_dependency_is_running() {
    let t0 = Instant::now();
    let h = Harness::start(&format!(
        "{}{}",
        program("db", "startsecs=3"),
        program("app", "startsecs=0\ndepends_on=db")
    ))
    .await;
    let app = h.info("app").await;
    assert_eq!(app.state, ProcessState::Stopped);
    assert_eq!(app.description, "waiting for db (started)");
    sleep(secs(2)).await;
    assert_eq!(spawned_at(&h, "app"), None, "no spawn while db is STARTING");
    sleep(secs(2)).await;
    assert_eq!(h.state("db").await, ProcessState::Running);
    // db is promoted just past startsecs; app is spawned at that same instant, by no timer of its own.
    let app_at = spawned_at(&h, "app").expect("app spawned");
    assert_after(app_at - t0, secs(3));
    assert_eq!(h.state("app").await, ProcessState::Running);
}

#[tokio::test(start_paused = true)]
async fn start_with_wait_starts_the_dependency_first_and_waits_for_both() {
    let h = Harness::start(&format!(
        "{}{}",
        program("db", "autostart=false\nstartsecs=2"),
        program("app", "autostart=false\nstartsecs=1\ndepends_on=db")
    ))
    .await;
    let t0 = Instant::now();
    assert_eq!(h.call(start("app", true)).await, ok_true());
    assert_after(t0.elapsed(), secs(3));
    let db_at = spawned_at(&h, "db").expect("db spawned");
    let app_at = spawned_at(&h, "app").expect("app spawned");
    assert_eq!(db_at, t0, "db (Requires=) is started at once");
    assert_after(app_at - t0, secs(2));
    assert!(
        h.main_log().contains("starting db, which app depends on"),
        "{}",
        h.main_log()
    );
}

#[tokio::test(start_paused = true)]
async fn a_dependency_going_fatal_faults_the_waiting_start() {
    let h = Harness::start(&format!(
        "{}{}",
        program("db", "autostart=false\nstartsecs=5\nstartretries=0"),
        program("app", "autostart=false\ndepends_on=db:ready")
    ))
    .await;
    let t0 = Instant::now();
    let os = h.os.clone();
    let (reply, ()) = tokio::join!(h.call(start("app", true)), async move {
        sleep(secs(1)).await;
        os.exit("db", 1);
    });
    assert_eq!(
        reply,
        fault(FaultCode::SpawnError, "app: dependency db is FATAL")
    );
    assert_after(t0.elapsed(), secs(1));
    let app = h.info("app").await;
    assert_eq!(app.state, ProcessState::Fatal);
    assert_eq!(app.description, "dependency db is FATAL");
    assert_eq!(spawned_at(&h, "app"), None);
}

#[tokio::test(start_paused = true)]
async fn stop_all_signals_a_dependency_only_after_its_dependents_are_down() {
    let h = Harness::start(&format!(
        "{}{}",
        program("db", "startsecs=0"),
        program("app", "startsecs=0\nstopwaitsecs=4\ndepends_on=db")
    ))
    .await;
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("app").await, ProcessState::Running);
    h.os.ignore("app", Signal::TERM);
    let t0 = Instant::now();
    let reply = h
        .call(SupervisorCall::StopAllProcesses { wait: true })
        .await;
    assert_after(t0.elapsed(), secs(4));
    assert_eq!(
        reply.expect("results").as_array().map(<[Value]>::len),
        Some(2)
    );
    let kills: Vec<(String, Signal, Duration)> =
        h.os.records()
            .into_iter()
            .filter_map(|r| match r.act {
                Act::Kill { name, signal, .. } => Some((name, signal, r.at - t0)),
                _ => None,
            })
            .collect();
    let order: Vec<(&str, Signal)> = kills.iter().map(|(n, s, _)| (n.as_str(), *s)).collect();
    assert_eq!(
        order,
        [
            ("app", Signal::TERM),
            ("app", Signal::KILL),
            ("db", Signal::TERM)
        ]
    );
    assert_after(kills[2].2, secs(4));
}

// ----- exec ready checks (procd extension), through the fake OS ------------------------------------

/// When the fake OS spawned each child named `name` (virtual time).
fn spawns_of(h: &Harness, name: &str) -> Vec<Instant> {
    h.os.records()
        .into_iter()
        .filter_map(|r| match r.act {
            Act::Spawn { name: n, .. } if n == name => Some(r.at),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_exec_ready_check_failing_twice_holds_the_dependent_until_it_passes() {
    let h = Harness::start(&format!(
        "{}{}",
        program(
            "db",
            "autostart=false\nready_check=exec:/fake/probe --ping\nready_interval=2"
        ),
        program("app", "autostart=false\nstartsecs=1\ndepends_on=db:ready")
    ))
    .await;
    h.os.check_exits("db", &[1, 1, 0]);
    let t0 = Instant::now();
    let pending = tokio::spawn({
        let handle = h.handle.clone();
        async move { handle.call(start("app", true)).await }
    });
    // Attempts at 0 s and 2 s fail: db stays STARTING and app waits for it, spawned by nobody.
    sleep(secs(3)).await;
    assert_eq!(h.state("db").await, ProcessState::Starting);
    let app = h.info("app").await;
    assert_eq!(app.state, ProcessState::Stopped);
    assert_eq!(app.description, "waiting for db (ready)");
    assert!(spawns_of(&h, "app").is_empty());
    // The third attempt (4 s) passes: db RUNNING, app spawned at that instant, the reply a second later.
    assert_eq!(pending.await.expect("call task"), ok_true());
    assert_after(t0.elapsed(), secs(5));
    let checks: Vec<Duration> = spawns_of(&h, "check:db").iter().map(|t| *t - t0).collect();
    assert_eq!(checks.len(), 3, "{checks:?}");
    for (at, expected) in checks.iter().zip([0, 2, 4]) {
        assert_after(*at, secs(expected));
    }
    let app_at = spawns_of(&h, "app")[0];
    assert_after(app_at - t0, secs(4));
    assert_eq!(h.state("db").await, ProcessState::Running);
    let log = h.main_log();
    assert!(
        log.contains(
            "success: db entered RUNNING state, ready check exec:/fake/probe --ping passed"
        ),
        "{log}"
    );
    // The check children went to the check, not to the process table.
    assert!(!log.contains("reaped unknown pid"), "{log}");
}

// ----- restart backoff (procd extension): stops cancel a pending autorestart ------------------------

#[tokio::test(start_paused = true)]
async fn stop_all_and_stop_group_cancel_a_pending_backoff_restart() {
    let h = Harness::start(&format!(
        "{}{}{}",
        program("solo", "startsecs=0\nautorestart=true\nrestart_delay=5"),
        program("member", "startsecs=0\nautorestart=true\nrestart_delay=5"),
        "[group:grp]\nprograms=member\n\n"
    ))
    .await;
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("solo").await, ProcessState::Running);
    assert_eq!(h.state("grp:member").await, ProcessState::Running);
    h.os.exit("solo", 1);
    h.os.exit("member", 1);
    sleep(secs(1)).await;
    assert_eq!(h.state("solo").await, ProcessState::Exited);
    let info = h.info("grp:member").await;
    assert_eq!(info.state, ProcessState::Exited);
    assert!(info.description.starts_with("restarting in "), "{info:?}");

    // `stop all` and `stop grp:*` while both wait for their restart: neither comes back.
    assert!(
        h.call(SupervisorCall::StopAllProcesses { wait: true })
            .await
            .is_ok()
    );
    assert!(
        h.call(SupervisorCall::StopProcessGroup {
            name: "grp".into(),
            wait: true
        })
        .await
        .is_ok()
    );
    sleep(secs(10)).await;
    for name in ["solo", "member"] {
        let spawns =
            h.os.acts()
                .into_iter()
                .filter(|a| matches!(a, Act::Spawn { name: n, .. } if n == name))
                .count();
        assert_eq!(spawns, 1, "{name} was restarted after the stop");
    }
    for name in ["solo", "grp:member"] {
        let info = h.info(name).await;
        assert_eq!(info.state, ProcessState::Exited, "{name}");
        assert!(!info.description.starts_with("restarting"), "{info:?}");
    }
    // A start starts it again at once.
    assert_eq!(h.call(start("solo", false)).await, ok_true());
    assert_eq!(h.state("solo").await, ProcessState::Starting);
}

#[tokio::test(start_paused = true)]
async fn a_dependency_whose_group_was_removed_fails_the_start_instead_of_waiting_forever() {
    let h = Harness::start(&format!(
        "{}{}",
        program("db", "autostart=false\nstartsecs=1"),
        program("app", "autostart=false\nstartsecs=1\ndepends_on=db")
    ))
    .await;
    // `remove db` (what `update` does with a group gone from the file).
    assert_eq!(
        h.call(SupervisorCall::RemoveProcessGroup { name: "db".into() })
            .await,
        ok_true()
    );
    let reply = tokio::time::timeout(secs(60), h.call(start("app", true)))
        .await
        .expect("the start does not wait forever");
    assert_eq!(
        reply,
        fault(FaultCode::SpawnError, "app: dependency db is not loaded")
    );
    let app = h.info("app").await;
    assert_eq!(app.state, ProcessState::Fatal);
    assert_eq!(app.description, "dependency db is not loaded");
    assert!(
        h.main_log()
            .contains("gave up: app entered FATAL state, dependency db is not loaded"),
        "{}",
        h.main_log()
    );
    assert_eq!(spawned_at(&h, "app"), None);

    // Added back, the dependency is found again: the next start of app starts db first.
    assert_eq!(
        h.call(SupervisorCall::AddProcessGroup { name: "db".into() })
            .await,
        ok_true()
    );
    assert_eq!(h.call(start("app", true)).await, ok_true());
    assert_eq!(h.state("db").await, ProcessState::Running);
    assert_eq!(h.state("app").await, ProcessState::Running);
}
