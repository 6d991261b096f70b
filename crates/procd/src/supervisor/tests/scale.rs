//! The incremental structures that keep an operation's cost independent of the number of processes
//! (the deadline index, polling only the waiters whose process changed, the shutdown's report built
//! only when due) must not change what clients and the main log see: order, timing and results.

use super::*;

/// When each signal was sent, by process name.
fn kills(h: &Harness, t0: Instant) -> Vec<(String, Signal, Duration)> {
    h.os.records()
        .into_iter()
        .filter_map(|r| match r.act {
            Act::Kill { name, signal, .. } => Some((name, signal, r.at - t0)),
            Act::Spawn { .. } => None,
        })
        .collect()
}

fn spawns(h: &Harness) -> Vec<String> {
    h.os.acts()
        .into_iter()
        .filter_map(|a| match a {
            Act::Spawn { name, .. } => Some(name),
            Act::Kill { .. } => None,
        })
        .collect()
}

fn count(log: &str, line: &str) -> usize {
    log.lines().filter(|l| l.ends_with(line)).count()
}

#[tokio::test(start_paused = true)]
async fn stop_all_with_wait_reports_each_waiter_when_due_and_answers_in_completion_order() {
    let h = Harness::start(&format!(
        "{}{}{}",
        program("a", "startsecs=0"),
        program("b", "startsecs=0\nstopwaitsecs=6"),
        program("c", "startsecs=0\nstopwaitsecs=3"),
    ))
    .await;
    sleep(Duration::from_millis(10)).await;
    h.os.ignore("b", Signal::TERM);
    h.os.ignore("c", Signal::TERM);
    let t0 = Instant::now();
    let reply = h
        .call(SupervisorCall::StopAllProcesses { wait: true })
        .await;
    assert_after(t0.elapsed(), secs(6));
    // `a` stops at once, `c` after its SIGKILL at 3 s, `b` after its SIGKILL at 6 s.
    assert_eq!(result_names(reply), ["a", "c", "b"]);
    let k: Vec<(String, Signal)> = kills(&h, t0).into_iter().map(|(n, s, _)| (n, s)).collect();
    assert_eq!(
        k,
        [
            ("a".into(), Signal::TERM),
            ("b".into(), Signal::TERM),
            ("c".into(), Signal::TERM),
            ("c".into(), Signal::KILL),
            ("b".into(), Signal::KILL),
        ]
    );
    // Each waiter reports at once, then whenever the loop wakes up more than 2 s after its last
    // report: at 3 s (c's SIGKILL wakes it: b untouched but due) and at 6 s (b's SIGKILL).
    let log = h.main_log();
    assert_eq!(count(&log, "waiting for a to stop"), 0, "{log}");
    assert_eq!(count(&log, "waiting for b to stop"), 3, "{log}");
    assert_eq!(count(&log, "waiting for c to stop"), 2, "{log}");
}

#[tokio::test(start_paused = true)]
async fn start_all_with_wait_answers_when_the_last_is_running_in_completion_order() {
    let mut sections = String::new();
    for (i, secs) in [3, 1, 2, 0, 1].iter().enumerate() {
        sections.push_str(&program(
            &format!("p{i}"),
            &format!("autostart=false\nstartsecs={secs}"),
        ));
    }
    let h = Harness::start(&sections).await;
    let t0 = Instant::now();
    let reply = h
        .call(SupervisorCall::StartAllProcesses { wait: true })
        .await;
    assert_after(t0.elapsed(), secs(3));
    // p3 (startsecs=0) is RUNNING at once; the others as their startsecs pass, ties in start order.
    assert_eq!(result_names(reply), ["p3", "p1", "p4", "p2", "p0"]);
    assert_eq!(spawns(&h), ["p0", "p1", "p2", "p3", "p4"]);
}

#[tokio::test(start_paused = true)]
async fn due_timers_fire_in_group_then_config_order_and_removed_groups_leave_no_timer() {
    // Processes all due at once (autostart) are spawned in the groups' order (parse order: priority,
    // then name), each group's in its config order.
    let h = Harness::start(&format!(
        "{}{}{}{}{}{}",
        program("x2", "startsecs=2\npriority=2"),
        program("x1", "startsecs=2\npriority=1"),
        "[group:xs]\nprograms=x2,x1\npriority=20\n\n",
        program("early", "startsecs=4\npriority=5"),
        program("late", "startsecs=4\npriority=50"),
        program("mid", "startsecs=4\npriority=20"),
    ))
    .await;
    assert_eq!(spawns(&h), ["early", "mid", "x2", "x1", "late"]);
    let t0 = Instant::now();
    // Removing a group whose processes have pending timers forgets them; the others still fire on time.
    assert_eq!(
        h.call(SupervisorCall::StopProcessGroup {
            name: "xs".into(),
            wait: true
        })
        .await
        .map(|v| v.as_array().map(<[Value]>::len)),
        Ok(Some(2))
    );
    assert_eq!(
        h.call(SupervisorCall::RemoveProcessGroup { name: "xs".into() })
            .await,
        ok_true()
    );
    sleep(Duration::from_millis(3990)).await;
    assert_eq!(h.state("mid").await, ProcessState::Starting);
    sleep(Duration::from_millis(20)).await;
    for name in ["early", "mid", "late"] {
        assert_eq!(h.state(name).await, ProcessState::Running, "{name}");
    }
    assert!(t0.elapsed() < secs(5));
    // Added again, the group's processes start anew with timers of their own.
    assert_eq!(
        h.call(SupervisorCall::AddProcessGroup { name: "xs".into() })
            .await,
        ok_true()
    );
    sleep(Duration::from_millis(10)).await;
    assert_eq!(h.state("xs:x1").await, ProcessState::Starting);
    sleep(secs(2)).await;
    assert_eq!(h.state("xs:x1").await, ProcessState::Running);
    assert_eq!(h.state("xs:x2").await, ProcessState::Running);
}

#[tokio::test(start_paused = true)]
async fn shutdown_of_many_groups_keeps_the_order_and_ends_when_the_last_is_down() {
    // 40 one-process groups: priorities 1..=4 ten times each; ties stop in reverse insertion order.
    let mut sections = String::new();
    for i in 0..40 {
        sections.push_str(&program(
            &format!("g{i:02}"),
            &format!("startsecs=0\npriority={}\nstopwaitsecs=3", 1 + i % 4),
        ));
    }
    let mut h = Harness::start(&sections).await;
    sleep(Duration::from_millis(10)).await;
    h.os.ignore("g05", Signal::TERM);
    let t0 = Instant::now();
    h.os.signal(Signal::TERM);
    let (_, exit) = h.finished().await;
    assert_eq!(exit, Exit::Shutdown);
    // The config parser orders groups by (priority, name); shutdown goes by descending priority, and
    // within a priority in reverse of that order.
    let mut expected: Vec<(u32, String)> =
        (0..40).map(|i| (1 + i % 4, format!("g{i:02}"))).collect();
    expected.sort();
    expected.reverse();
    let mut want: Vec<(String, Signal)> = Vec::new();
    for (_, name) in expected {
        want.push((name.clone(), Signal::TERM));
        if name == "g05" {
            want.push((name, Signal::KILL));
        }
    }
    let got = kills(&h, t0);
    let order: Vec<(String, Signal)> = got.iter().map(|(n, s, _)| (n.clone(), *s)).collect();
    assert_eq!(order, want);
    // Nothing after g05 is signalled before g05 is gone (its SIGKILL after stopwaitsecs).
    let g05 = order
        .iter()
        .position(|(n, s)| n == "g05" && *s == Signal::KILL)
        .expect("g05 killed");
    for (name, _, at) in &got[..g05] {
        assert!(*at < secs(3), "{name} at {at:?}");
    }
    for (name, _, at) in &got[g05..] {
        assert!(*at >= secs(3), "{name} at {at:?}");
    }
    // The report lists every process still up when it is made (groups in parse order), at once and
    // then every 3 s while something is still up.
    let log = h.main_log();
    let reports: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("INFO waiting for ").nth(1))
        .filter_map(|r| r.strip_suffix(" to die"))
        .collect();
    let mut all: Vec<(u32, String)> = (0..40).map(|i| (1 + i % 4, format!("g{i:02}"))).collect();
    all.sort();
    let all: Vec<String> = all.into_iter().map(|(_, n)| n).collect();
    assert_eq!(reports.len(), 2, "{log}");
    assert_eq!(reports[0], all.join(", "));
    // At 3 s: every priority-1 group, and of the priority-2 groups (stopped g37, g33, ... down to g09
    // before g05 got stuck) g01 and g05.
    assert_eq!(
        reports[1],
        "g00, g04, g08, g12, g16, g20, g24, g28, g32, g36, g01, g05"
    );
}

#[tokio::test(start_paused = true)]
async fn an_exit_coalesced_with_a_stopping_one_is_still_collected() {
    // `stopping` ignores SIGTERM and is STOPPING; `crashy` crashes at the same moment it exits, and
    // the kernel sends one SIGCHLD for both. The targeted reap collects `stopping` at once; the sweep
    // that follows collects `crashy`, which is restarted.
    let h = Harness::start(&format!(
        "{}{}",
        program("stopping", "startsecs=0"),
        program("crashy", "startsecs=0\nautorestart=true"),
    ))
    .await;
    sleep(Duration::from_millis(10)).await;
    h.os.ignore("stopping", Signal::TERM);
    assert_eq!(h.call(stop("stopping", false)).await, ok_true());
    assert_eq!(h.state("stopping").await, ProcessState::Stopping);
    let crashed = h.os.pid_of("crashy").expect("crashy runs");
    let t0 = Instant::now();
    h.os.exit_together(&[("stopping", 0), ("crashy", 3)]);
    sleep(Duration::from_millis(1)).await;
    assert_eq!(h.state("stopping").await, ProcessState::Stopped);
    sleep(secs(1)).await;
    let info = h.info("crashy").await;
    assert_eq!(info.state, ProcessState::Running);
    assert_ne!(info.pid, crashed);
    let respawned =
        h.os.records()
            .into_iter()
            .filter(|r| matches!(&r.act, Act::Spawn { name, .. } if name == "crashy"))
            .map(|r| r.at - t0)
            .nth(1)
            .expect("crashy spawned again");
    assert!(respawned <= Duration::from_millis(25), "{respawned:?}");
    let log = h.main_log();
    assert!(
        log.contains("exited: crashy (exit status 3; not expected)"),
        "{log}"
    );
    // Nothing is left unreaped.
    assert_eq!(h.os.zombies(), 0);
}
