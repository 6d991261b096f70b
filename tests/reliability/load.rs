//! Load: 8, 64 and 256 concurrent clients calling `getState` over the unix socket, a new connection
//! per call (as supervisorctl does). Figures: calls per second, failed calls, p99 latency, peak RSS.

use std::time::{Duration, Instant};

use procd_tests::{Endpoint, Kind};

use crate::{figure, guarded, ms, start, status_kb, timed_call};

fn load(kind: Kind, clients: usize, seconds: u64) -> (String, usize, usize, Duration) {
    let mut fixture = guarded();
    for i in 0..20 {
        fixture = fixture.program(&format!("p{i}"), "command=sleep 100000\nstartsecs=0");
    }
    let d = start(kind, &fixture);
    let pid = d.pid().expect("pid");
    let unix = Endpoint::Unix(d.socket());
    let end = Instant::now() + Duration::from_secs(seconds);
    let per_client: Vec<(usize, usize, Vec<Duration>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let (mut ok, mut failed, mut times) = (0, 0, Vec::new());
                    while Instant::now() < end {
                        let (good, took) = timed_call(&unix);
                        if good {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                        times.push(took);
                    }
                    (ok, failed, times)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let ok: usize = per_client.iter().map(|c| c.0).sum();
    let failed: usize = per_client.iter().map(|c| c.1).sum();
    let mut times: Vec<Duration> = per_client.into_iter().flat_map(|c| c.2).collect();
    times.sort();
    let p99 = times
        .get(times.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();
    let slowest = times.last().copied().unwrap_or_default();
    let summary = format!(
        "{kind:?}: {clients} clients, {seconds} s: {:.0} calls/s, {failed} failed, p99 {}, slowest {}, \
         peak RSS {} MiB",
        ok as f64 / seconds as f64,
        ms(p99),
        ms(slowest),
        status_kb(pid, "VmHWM") / 1024
    );
    (summary, ok, failed, slowest)
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn load_with_8_64_and_256_clients_fails_no_call() {
    let seconds = if crate::full() { 10 } else { 2 };
    for clients in [8, 64, 256] {
        let (summary, ok, failed, slowest) = load(Kind::Procd, clients, seconds);
        figure(&format!("load {clients} clients"), &summary);
        figure(
            &format!("load {clients} clients"),
            &load(Kind::Supervisord, clients, seconds).0,
        );
        assert!(ok > 0, "{summary}");
        assert_eq!(failed, 0, "{summary}");
        assert!(slowest < Duration::from_secs(5), "{summary}");
    }
}
