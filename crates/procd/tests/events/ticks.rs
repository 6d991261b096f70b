//! A one-line shell listener that stops procd when a program goes FATAL, and TICK timers that only
//! wake procd while some pool subscribes to a TICK type.

use std::time::Duration;

use crate::common::{Fixture, ctx_switches, wait_until};
use crate::support::{python, read_recs, write_recorder};

const LONG: Duration = Duration::from_secs(20);

#[test]
fn shell_listener_stops_procd_when_a_program_goes_fatal() {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[eventlistener:fatal]\n\
         command=sh -c 'printf \"READY\\n\"; while read line; do kill -TERM $PPID; printf \"RESULT 2\\nOKREADY\\n\"; done'\n\
         events=PROCESS_STATE_FATAL\n\n\
         [program:doomed]\ncommand=sh -c 'exit 1'\nstartretries=0\n\n\
         [program:steady]\ncommand=sleep 1000\n",
    );
    let mut d = f.start();
    assert_eq!(d.wait_exit(LONG), Some(0), "procd exits cleanly");
    let log = f.log();
    let pos = |pred: &dyn Fn(&str) -> bool| log.iter().position(|(_, m)| pred(m));
    let gave_up = pos(&|m| m.starts_with("gave up: doomed entered FATAL state"));
    let term = pos(&|m| m == "received SIGTERM indicating exit request");
    assert!(
        gave_up.is_some() && gave_up < term,
        "FATAL then SIGTERM: {log:?}"
    );
    assert!(pos(&|m| m.starts_with("stopped: steady (terminated by SIGTERM)")).is_some());
    assert!(pos(&|m| m.starts_with("stopped: fatal (")).is_some());
    assert!(
        !f.sock().exists() && !f.pidfile().exists(),
        "socket and pidfile removed"
    );
}

/// Context switches of procd over 6 s (a TICK_5 boundary always falls inside), once it is settled.
fn wakeups(f: &Fixture, events: &str) -> (u64, usize) {
    let py = python();
    let rec = write_recorder(f);
    let out = f.path("events.jsonl");
    f.write_conf(
        "",
        &format!(
            "[program:idle]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [eventlistener:rec]\ncommand={py} -u {} {}\nevents={events}\nstartsecs=0\n",
            rec.display(),
            out.display()
        ),
    );
    let d = f.start();
    f.wait_log(LONG, "listener ready", |m| {
        m == "rec: ACKNOWLEDGED -> READY"
    });
    wait_until(LONG, "startup events delivered", || {
        f.log()
            .iter()
            .filter(|(_, m)| m == "rec: BUSY -> ACKNOWLEDGED")
            .count()
            .ge(&read_recs(&out).len())
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    let before_recs = read_recs(&out).len();
    let before = ctx_switches(d.pid());
    std::thread::sleep(Duration::from_secs(6));
    let woke = ctx_switches(d.pid()) - before;
    let ticks = read_recs(&out)[before_recs..]
        .iter()
        .filter(|r| r.name() == "TICK_5")
        .count();
    (woke, ticks)
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn tick_timer_runs_only_while_subscribed() {
    python();
    let (idle, idle_ticks) = wakeups(&Fixture::new(), "PROCESS_STATE");
    let (ticking, ticks) = wakeups(&Fixture::new(), "TICK_5");
    eprintln!("context switches over 6 s: no TICK subscriber {idle}, TICK_5 subscriber {ticking}");
    assert_eq!(idle_ticks, 0);
    assert!(ticks >= 1, "a TICK_5 was delivered in 6 s");
    assert!(idle <= 2, "idle procd woke up {idle} times");
    assert!(ticking > idle, "ticks wake procd: {ticking} vs {idle}");
}
