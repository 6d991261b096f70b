//! Efficiency figures, measured the same way for procd and the reference supervisord and printed (not
//! asserted: timing depends on the machine). Run with
//! `cargo test -p procd --test engine measure -- --ignored --nocapture`.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal as Sig;
use procd_protocol::Value;

use crate::common::{Fixture, PROCD, ctx_switches, proc_status, supervisord, wait_until};

/// Children of `pid` (all threads).
fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in rd.flatten() {
            let text = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            out.extend(
                text.split_whitespace()
                    .filter_map(|s| s.parse::<i32>().ok()),
            );
        }
    }
    out
}

fn programs(n: usize, extra: &str) -> String {
    (0..n)
        .map(|i| format!("[program:p{i}]\ncommand=sleep 100000\nstartsecs=0\n{extra}\n"))
        .collect()
}

fn idle_and_rss(bin: &Path) -> (u64, String) {
    let f = Fixture::new();
    f.write_conf("", &programs(200, ""));
    let conf = f.path("supervisord.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap_or_default()
        .replace("loglevel=debug", "loglevel=info");
    std::fs::write(&conf, text).expect("conf");
    let d = f.start_with(bin, &["-n"]);
    wait_until(Duration::from_secs(60), "200 running", || {
        let all = f.rpc("supervisor.getAllProcessInfo", vec![]).ok()?;
        let n = all
            .as_array()?
            .iter()
            .filter(|i| crate::common::str_field(i, "statename") == "RUNNING")
            .count();
        (n == 200).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let before = ctx_switches(d.pid());
    std::thread::sleep(Duration::from_secs(10));
    let woke = ctx_switches(d.pid()) - before;
    let rss = proc_status(d.pid(), "VmRSS").unwrap_or_default();
    d.signal(Sig::SIGTERM);
    (woke, rss)
}

fn respawn_latency(bin: &Path) -> Vec<Duration> {
    let f = Fixture::new();
    f.write_conf(
        "",
        "[program:c]\ncommand=sleep 100000\nstartsecs=0\nautorestart=true\n",
    );
    let d = f.start_with(bin, &["-n"]);
    f.wait_state("c", "RUNNING", Duration::from_secs(20));
    let mut out = Vec::new();
    for _ in 0..20 {
        let old = children(d.pid());
        let Some(&victim) = old.first() else { break };
        let t0 = Instant::now();
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), Sig::SIGKILL);
        loop {
            let now = children(d.pid());
            if now.iter().any(|p| !old.contains(p)) {
                out.push(t0.elapsed());
                break;
            }
            if t0.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        f.wait_state("c", "RUNNING", Duration::from_secs(20));
    }
    out.sort();
    out
}

fn spawn_500(bin: &Path) -> Duration {
    let f = Fixture::new();
    f.write_conf("", &programs(500, "autostart=false"));
    let conf = f.path("supervisord.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap_or_default()
        .replace("loglevel=debug", "loglevel=info");
    std::fs::write(&conf, text).expect("conf");
    let d = f.start_with(bin, &["-n"]);
    let t0 = Instant::now();
    let r = f.rpc("supervisor.startAllProcesses", vec![Value::Bool(true)]);
    let took = t0.elapsed();
    assert!(r.is_ok(), "{r:?}");
    d.signal(Sig::SIGTERM);
    took
}

#[test]
#[ignore = "measurement; run explicitly"]
fn measure_efficiency() {
    let mut bins = vec![("procd", Path::new(PROCD).to_path_buf())];
    bins.push(("supervisord", supervisord()));
    for (name, bin) in &bins {
        let (woke, rss) = idle_and_rss(bin);
        println!("{name}: idle context switches over 10 s with 200 programs: {woke}; VmRSS {rss}");
        let lat = respawn_latency(bin);
        if !lat.is_empty() {
            println!(
                "{name}: crash->respawn latency over {} runs: min {:?} median {:?} max {:?}",
                lat.len(),
                lat[0],
                lat[lat.len() / 2],
                lat[lat.len() - 1]
            );
        }
        println!(
            "{name}: startAllProcesses for 500 programs: {:?}",
            spawn_500(bin)
        );
    }
}
