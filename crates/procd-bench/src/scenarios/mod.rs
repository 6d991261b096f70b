//! The benchmark scenarios, grouped by the daemon configuration they share.
//!
//! Group "mass" (one daemon with M stopped programs) runs scenarios 2, 3 and 4; group "idle" (one
//! daemon with N sleeping programs plus the helper programs) runs 1, 6, 7, 8 and 5, in that order.
//! `main` runs the mass group of every daemon first (see [`run_mass`]). Each scenario has its own
//! deadline; a failure is recorded and the next scenario still runs.

mod idle;
mod mass;
mod output;
mod respawn;
mod rpc_rate;
pub(crate) mod scale;
mod tail;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use procd_protocol::Value;

use crate::config::{DaemonConfig, Program};
use crate::daemon::{Daemon, DaemonBin, reserve_port};
use crate::report::{Metric, Outcome};
use crate::rpc::Client;

pub(crate) use mass::spawn_limit;
pub(crate) use output::physical_limit;

/// Metric names the physical limit applies to.
pub(crate) mod output_names {
    pub(crate) use super::output::{
        PLAIN_CPU, PLAIN_RATE, ROTATED_CPU, ROTATED_RATE, ROTATED10_CPU, ROTATED10_RATE,
        STAMPED_CPU, STAMPED_RATE,
    };
}

/// Problem sizes; `quick()` is the CI smoke test.
#[derive(Debug, Clone)]
pub(crate) struct Sizes {
    pub idle_programs: usize,
    pub idle_window: Duration,
    pub mass_programs: usize,
    /// How many more `startAllProcesses` calls follow the first one in scenario 2 (the log files exist
    /// by then); the table shows their median.
    pub start_repeats: usize,
    pub rpc_window: Duration,
    pub write_bytes: u64,
    /// How many times the plain-log and 10-backup runs (and the `cat` limit) are repeated; the table
    /// shows the median run. Single runs of these moved by up to 3x on a shared 2-core VM.
    pub write_repeats: usize,
    pub tail_samples: usize,
    pub respawn_samples: usize,
    pub crash_after: Duration,
    /// How long the unmeasured stop at the end of a group may take before the daemon and its children
    /// are killed (supervisord can need about a second per program to shut down).
    pub teardown: Duration,
}

impl Sizes {
    pub(crate) fn full() -> Self {
        Sizes {
            idle_programs: 200,
            idle_window: Duration::from_secs(10),
            mass_programs: 500,
            start_repeats: 3,
            rpc_window: Duration::from_secs(5),
            write_bytes: 1 << 30,
            write_repeats: 3,
            tail_samples: 50,
            respawn_samples: 20,
            crash_after: Duration::from_millis(200),
            teardown: Duration::from_secs(30),
        }
    }

    pub(crate) fn quick() -> Self {
        Sizes {
            idle_programs: 20,
            idle_window: Duration::from_secs(3),
            mass_programs: 5,
            start_repeats: 1,
            rpc_window: Duration::from_millis(500),
            write_bytes: 16 << 20,
            write_repeats: 1,
            tail_samples: 10,
            respawn_samples: 3,
            crash_after: Duration::from_millis(100),
            teardown: Duration::from_secs(3),
        }
    }
}

/// What a scenario gets to work with.
pub(crate) struct Ctx<'a> {
    pub daemon: &'a mut Daemon,
    pub sizes: &'a Sizes,
    pub deadline: Instant,
}

impl Ctx<'_> {
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Fails once the scenario's deadline has passed.
    pub(crate) fn check_deadline(&self, what: &str) -> Result<()> {
        if Instant::now() >= self.deadline {
            bail!("scenario timed out while {what}");
        }
        Ok(())
    }

    /// A unix-socket client whose calls may block until the deadline.
    pub(crate) fn client(&self) -> Client {
        let mut c = self.daemon.client();
        c.set_timeout(self.remaining());
        c
    }
}

/// Scenario ids and titles, in report order.
pub(crate) const TITLES: [(u8, &str); 8] = [
    (1, "idle daemon with sleeping programs"),
    (2, "startAllProcesses(wait=True)"),
    (3, "stopAllProcesses(wait=True)"),
    (4, "shutdown (SIGTERM to exit) with all programs running"),
    (5, "crash -> respawn latency (autorestart=true)"),
    (6, "RPC throughput"),
    (7, "stdout throughput to log files"),
    (8, "tailProcessStdoutLog latency of a fresh line"),
];

/// The command line of a helper program (`procd-bench child-...`).
fn helper(bench: &Path, args: &str) -> String {
    format!("{} {args}", bench.display())
}

/// The idle group's programs: sleepers plus the writer, rotated writer, echo and crash helpers.
pub(crate) fn idle_config(dir: &Path, port: u16, sizes: &Sizes, bench: &Path) -> DaemonConfig {
    let mut c = DaemonConfig::new(dir, port);
    let logs = c.log_dir();
    for i in 0..sizes.idle_programs {
        let mut p = Program::new(&format!("sleep_{i:03}"), "sleep 100000", &logs);
        p.autostart = true;
        c.programs.push(p);
    }
    let n = sizes.write_bytes;
    c.programs.push(Program::new(
        "writer",
        &helper(bench, &format!("child-write --bytes {n}")),
        &logs,
    ));
    let mut rot = Program::new(
        "writer_rot",
        &helper(bench, &format!("child-write --bytes {n}")),
        &logs,
    );
    rot.maxbytes = "1MB".into();
    rot.backups = output::backups_needed(n);
    c.programs.push(rot);
    let mut rot10 = Program::new(
        "writer_rot10",
        &helper(bench, &format!("child-write --bytes {n}")),
        &logs,
    );
    rot10.maxbytes = "1MB".into();
    rot10.backups = output::USUAL_BACKUPS;
    c.programs.push(rot10);
    let mut stamped = Program::new(
        "writer_ts",
        &helper(bench, &format!("child-write --bytes {n}")),
        &logs,
    );
    stamped.extra.push("stdout_log_timestamp=rfc3339".into());
    c.programs.push(stamped);
    c.programs
        .push(Program::new("echo", &helper(bench, "child-echo"), &logs));
    let stamp = dir.join("crash.stamps");
    let ms = sizes.crash_after.as_millis();
    let mut crash = Program::new(
        "crash",
        &helper(
            bench,
            &format!("child-crash --stamp {} --after-ms {ms}", stamp.display()),
        ),
        &logs,
    );
    crash.autorestart = true;
    c.programs.push(crash);
    c
}

/// The mass group's programs: stopped sleepers.
pub(crate) fn mass_config(dir: &Path, port: u16, sizes: &Sizes) -> DaemonConfig {
    let mut c = DaemonConfig::new(dir, port);
    let logs = c.log_dir();
    for i in 0..sizes.mass_programs {
        c.programs
            .push(Program::new(&format!("mass_{i:03}"), "sleep 100000", &logs));
    }
    c
}

/// Per-daemon outcome of each scenario id.
pub(crate) type Results = Vec<(u8, Outcome)>;

type ScenarioFn = fn(&mut Ctx<'_>) -> Result<Vec<Metric>>;

/// Runs scenarios against one daemon; a scenario returning an error is recorded as failed.
fn run_group(
    bin: &DaemonBin,
    config: DaemonConfig,
    sizes: &Sizes,
    list: &[(u8, Duration, ScenarioFn)],
    results: &mut Results,
) {
    let name = bin.kind.name();
    eprintln!(
        "[{name}] starting daemon ({} programs)",
        config.programs.len()
    );
    let mut daemon = match Daemon::start(bin, config, Duration::from_secs(60)) {
        Ok(d) => d,
        Err(e) => {
            for (id, _, _) in list {
                results.push((
                    *id,
                    Outcome::failed(format!("daemon did not start: {e:#}"), vec![]),
                ));
            }
            return;
        }
    };
    for (id, timeout, f) in list {
        eprintln!("[{name}] scenario {id}");
        let outcome = if daemon.alive() || *id == 4 {
            let mut ctx = Ctx {
                daemon: &mut daemon,
                sizes,
                deadline: Instant::now() + *timeout,
            };
            match f(&mut ctx) {
                Ok(metrics) => Outcome::ok(metrics),
                Err(e) => match e.downcast::<Partial>() {
                    Ok(p) => Outcome::failed(p.error, p.metrics),
                    Err(e) => Outcome::failed(format!("{e:#}"), vec![]),
                },
            }
        } else {
            Outcome::failed(
                format!("daemon is no longer running{}", daemon.diagnostics()),
                vec![],
            )
        };
        if let Some(e) = &outcome.error {
            eprintln!("[{name}] scenario {id} FAILED: {e}");
        }
        results.push((*id, outcome));
    }
    if daemon.alive() {
        match daemon.stop(sizes.teardown) {
            Ok(s) if s.killed => eprintln!(
                "[{name}] killed after {:?} (teardown, not measured)",
                s.elapsed
            ),
            Ok(_) => {}
            Err(e) => eprintln!("[{name}] stopping: {e:#}"),
        }
    }
}

/// A failure that still has measurements worth reporting.
#[derive(Debug)]
pub(crate) struct Partial {
    pub error: String,
    pub metrics: Vec<Metric>,
}

impl std::fmt::Display for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for Partial {}

/// The idle group's scenarios (1, 6, 7, 8, 5) against one daemon binary, appended to `results`.
pub(crate) fn run_idle(
    bin: &DaemonBin,
    sizes: &Sizes,
    bench: &Path,
    work: &Path,
    results: &mut Results,
) -> Result<()> {
    let s = sizes;
    let idle_dir = tempdir_in(work, "idle")?;
    let idle = idle_config(idle_dir.path(), reserve_port(), s, bench);
    // Plain and 10-backup runs repeated, one fully kept rotated run, then the timestamped runs (whose
    // file is 2.6 times the stream).
    let write_timeout =
        Duration::from_secs(30 + (s.write_bytes >> 20) / 2 * (5 * s.write_repeats as u64 + 1));
    run_group(
        bin,
        idle,
        s,
        &[
            (
                1,
                s.idle_window + Duration::from_secs(60),
                idle::run as ScenarioFn,
            ),
            (6, 3 * s.rpc_window + Duration::from_secs(30), rpc_rate::run),
            (7, write_timeout, output::run),
            (8, Duration::from_secs(60), tail::run),
            (
                5,
                Duration::from_secs(30) + 5 * s.respawn_samples as u32 * s.crash_after,
                respawn::run,
            ),
        ],
        results,
    );
    drop(idle_dir);
    Ok(())
}

/// The mass group's scenarios (2, 3, 4) against one daemon binary, appended to `results`.
///
/// `main` runs this group for every daemon before any idle group: the idle group's rotation cases free
/// thousands of inodes, and ext4 skips recently freed inodes when it allocates new ones, re-checking
/// each of them on every allocation (`recently_deleted`). Creating the 500 log files of the first
/// `startAllProcesses` right after that took 130 ms of extra CPU in either daemon.
pub(crate) fn run_mass(
    bin: &DaemonBin,
    sizes: &Sizes,
    work: &Path,
    results: &mut Results,
) -> Result<()> {
    let s = sizes;
    let mass_dir = tempdir_in(work, "mass")?;
    let mass = mass_config(mass_dir.path(), reserve_port(), s);
    // Scenario 2 starts and stops everything `start_repeats` more times.
    let t = Duration::from_secs(60 + s.mass_programs as u64 / 2);
    let t_start = t * (1 + s.start_repeats as u32);
    // supervisord stops one program per main-loop pass and may wait a 1 s poll tick for each.
    let t_shutdown = t + Duration::from_millis(1200 * s.mass_programs as u64);
    run_group(
        bin,
        mass,
        s,
        &[
            (2, t_start, mass::start_all as ScenarioFn),
            (3, t, mass::stop_all),
            (4, t_shutdown, mass::shutdown),
        ],
        results,
    );
    Ok(())
}

fn tempdir_in(work: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    // Removed together with `work` (unless the user asked to keep it).
    let mut dir = tempfile::Builder::new().prefix(prefix).tempdir_in(work)?;
    dir.disable_cleanup(true);
    Ok(dir)
}

// ---- helpers shared by scenarios ----

/// `getAllProcessInfo` as (name, statename, pid) triples.
pub(crate) fn process_states(client: &mut Client) -> Result<Vec<(String, String, i32)>> {
    let v = client.call("supervisor.getAllProcessInfo", vec![])?;
    let items = v
        .as_array()
        .ok_or_else(|| anyhow!("getAllProcessInfo did not return an array"))?;
    Ok(items
        .iter()
        .map(|p| {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (
                s("name"),
                s("statename"),
                p.get("pid").and_then(Value::as_int).unwrap_or(0),
            )
        })
        .collect())
}

/// Polls until every process whose name starts with `prefix` is in `state`.
pub(crate) fn wait_all_in(ctx: &Ctx<'_>, prefix: &str, state: &str, expected: usize) -> Result<()> {
    let mut client = ctx.client();
    loop {
        let all = process_states(&mut client)?;
        let matching: Vec<_> = all
            .iter()
            .filter(|(n, _, _)| n.starts_with(prefix))
            .collect();
        let done = matching.iter().filter(|(_, s, _)| s == state).count();
        if matching.len() == expected && done == expected {
            return Ok(());
        }
        ctx.check_deadline(&format!(
            "waiting for {prefix}* to be {state} ({done}/{expected})"
        ))?;
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Scratch directory for helper output.
pub(crate) fn scratch(ctx: &Ctx<'_>, name: &str) -> PathBuf {
    ctx.daemon.config.dir.join(name)
}
