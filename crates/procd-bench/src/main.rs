//! procd-bench: runs the same workload against procd and supervisord and prints them side by side.
//!
//! Modules: `config` renders the daemons' configuration, `daemon` starts/stops them, `rpc` is the
//! XML-RPC client, `procfs` reads /proc, `scenarios` holds the measurements, `report` the output,
//! `children` the helper programs the daemons supervise (`procd-bench child-*`), `pattern` the
//! verifiable byte stream, `stats` percentiles. See docs/performance.md.

mod children;
mod config;
mod daemon;
mod pattern;
mod plot;
mod procfs;
mod report;
mod rpc;
mod scenarios;
mod stats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use daemon::{DaemonBin, Kind};
use report::{Outcome, Scenario};
use scenarios::Sizes;

#[derive(Parser, Debug)]
#[command(
    name = "procd-bench",
    about = "Benchmark procd against supervisord, side by side"
)]
struct Cli {
    /// Small sizes, finishes in well under a minute (CI smoke test; never fails on timing).
    #[arg(long)]
    quick: bool,
    /// procd binary [default: `procd` next to this binary, (re)built with cargo first].
    #[arg(long)]
    procd: Option<PathBuf>,
    /// supervisord binary [default: $PROCD_BENCH_SUPERVISORD, else <repo>/.venv/bin/supervisord].
    #[arg(long)]
    supervisord: Option<PathBuf>,
    /// Directory for the JSON results [default: <repo>/bench-results].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Benchmark only one of the daemons.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Keep the temporary directory (configs, daemon logs) and print its path.
    #[arg(long)]
    keep: bool,
    /// Scale mode instead of the scenarios: N `sleep` programs per daemon (see docs/performance.md).
    #[arg(long)]
    scale: bool,
    /// The program counts of `--scale` (each at least 3).
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000", value_parser = clap::value_parser!(u64).range(3..))]
    scale_n: Vec<u64>,
    /// Where `--scale` and `--scale-plot` draw their charts (one SVG per metric)
    /// [default: <repo>/bench-results].
    #[arg(long, value_name = "DIR")]
    scale_plot_dir: Option<PathBuf>,
    /// Redraw the charts (and print the table) of a saved `--scale` JSON file, without measuring.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["scale", "quick"])]
    scale_plot: Option<PathBuf>,
    #[command(subcommand)]
    child: Option<Child>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Procd,
    Supervisord,
}

/// Helper programs run by the daemons under test.
#[derive(Subcommand, Debug)]
enum Child {
    #[command(name = "child-write", hide = true)]
    Write {
        #[arg(long)]
        bytes: u64,
        /// Sleep instead while this file does not exist.
        #[arg(long)]
        gate: Option<PathBuf>,
    },
    #[command(name = "child-echo", hide = true)]
    Echo,
    #[command(name = "child-crash", hide = true)]
    Crash {
        #[arg(long)]
        stamp: PathBuf,
        #[arg(long)]
        after_ms: u64,
        /// Sleep instead while this file does not exist.
        #[arg(long)]
        gate: Option<PathBuf>,
    },
}

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.child {
        Some(Child::Write { bytes, gate }) => {
            children::wait_for_gate(gate.as_deref());
            children::write(*bytes).map(|()| true)
        }
        Some(Child::Echo) => children::echo().map(|()| true),
        Some(Child::Crash {
            stamp,
            after_ms,
            gate,
        }) => {
            children::wait_for_gate(gate.as_deref());
            children::crash(stamp, Duration::from_millis(*after_ms)).map(|()| true)
        }
        None => run(&cli),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("procd-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Finds (or builds) procd; `Err` carries the reason it is unavailable.
fn procd_path(cli: &Cli, bench: &Path) -> std::result::Result<PathBuf, String> {
    if let Some(p) = &cli.procd {
        return if p.exists() {
            Ok(p.clone())
        } else {
            Err(format!("{} does not exist", p.display()))
        };
    }
    let path = bench.with_file_name("procd");
    // Always through cargo (a no-op when procd is up to date), so the benchmark never measures a
    // daemon older than the tree it runs in. Without cargo an existing binary is used as it is.
    // Scale mode also runs `procctl status`.
    let mut args = vec!["build", "--release", "-p", "procd"];
    if cli.scale {
        args.extend(["-p", "procctl"]);
    }
    eprintln!("building procd: `cargo {}`", args.join(" "));
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(&args)
        .current_dir(repo_root())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        if !path.exists() {
            return Err(format!(
                "procd is missing and `cargo build --release -p procd` failed ({status:?})"
            ));
        }
        eprintln!(
            "warning: `cargo build --release -p procd` failed ({status:?}); using {} as it is",
            path.display()
        );
    }
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} does not exist", path.display()))
    }
}

fn run(cli: &Cli) -> Result<bool> {
    if let Some(file) = &cli.scale_plot {
        return redraw(cli, file);
    }
    let sizes = if cli.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let bench = std::env::current_exe().context("locating the benchmark binary")?;
    let supervisord = cli
        .supervisord
        .clone()
        .or_else(|| std::env::var_os("PROCD_BENCH_SUPERVISORD").map(PathBuf::from))
        .unwrap_or_else(|| repo_root().join(".venv/bin/supervisord"));
    let mut bins: Vec<std::result::Result<DaemonBin, (Kind, String)>> = Vec::new();
    if cli.only != Some(Only::Supervisord) {
        bins.push(
            procd_path(cli, &bench)
                .map(|path| DaemonBin {
                    kind: Kind::Procd,
                    path,
                })
                .map_err(|e| (Kind::Procd, e)),
        );
    }
    if cli.only != Some(Only::Procd) {
        bins.push(if supervisord.exists() {
            Ok(DaemonBin {
                kind: Kind::Supervisord,
                path: supervisord,
            })
        } else {
            Err((
                Kind::Supervisord,
                format!("{} does not exist", supervisord.display()),
            ))
        });
    }

    let mut work = tempfile::Builder::new().prefix("procd-bench").tempdir()?;
    if cli.keep {
        work.disable_cleanup(true);
        eprintln!("work directory (kept): {}", work.path().display());
    }
    if cli.scale {
        return run_scale(cli, &bins, work.path());
    }
    let mut failed = false;
    eprintln!("measuring the physical limit (writer | cat > file)");
    let limit = match scenarios::physical_limit(
        &bench,
        sizes.write_bytes,
        work.path(),
        sizes.write_repeats,
    ) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("physical limit: {e:#}");
            failed = true;
            None
        }
    };

    eprintln!(
        "measuring the spawn limit ({} `sleep` children started one after another)",
        sizes.mass_programs
    );
    let spawn_limit = match scenarios::spawn_limit(&sizes, work.path()) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("spawn limit: {e:#}");
            failed = true;
            None
        }
    };

    let mut per_daemon: BTreeMap<String, scenarios::Results> = BTreeMap::new();
    let mut ran: Vec<&str> = Vec::new();
    let mut daemons_json = Vec::new();
    for bin in &bins {
        match bin {
            Ok(bin) => {
                let name = bin.kind.name();
                ran.push(name);
                daemons_json.push(serde_json::json!({"name": name, "path": bin.path}));
                per_daemon.insert(name.to_owned(), Vec::new());
            }
            Err((kind, why)) => {
                let name = kind.name();
                ran.push(name);
                eprintln!("[{name}] not available: {why}");
                daemons_json.push(serde_json::json!({"name": name, "error": why}));
                let all = scenarios::TITLES
                    .iter()
                    .map(|(id, _)| {
                        (
                            *id,
                            Outcome::failed(format!("not available: {why}"), vec![]),
                        )
                    })
                    .collect();
                per_daemon.insert(name.to_owned(), all);
            }
        }
    }
    // Group by group, each daemon in turn: every daemon's mass group runs before any idle group (see
    // `scenarios::run_mass`).
    for idle_group in [false, true] {
        for bin in bins.iter().flatten() {
            let results = per_daemon.entry(bin.kind.name().to_owned()).or_default();
            if idle_group {
                scenarios::run_idle(bin, &sizes, &bench, work.path(), results)?;
            } else {
                scenarios::run_mass(bin, &sizes, work.path(), results)?;
            }
        }
    }

    let mut report = Vec::new();
    for (id, title) in scenarios::TITLES {
        let mut results = BTreeMap::new();
        for (daemon, list) in &per_daemon {
            if let Some((_, o)) = list.iter().find(|(i, _)| *i == id) {
                failed |= !o.ok;
                results.insert(daemon.clone(), o.clone());
            }
        }
        let mut limits = BTreeMap::new();
        if let (2, Some(v)) = (id, &spawn_limit) {
            limits.insert(v.first_name.clone(), v.first_ms);
            if let Some((name, ms)) = &v.repeated {
                limits.insert(name.clone(), *ms);
            }
        }
        if let (7, Some(v)) = (id, limit) {
            use scenarios::output_names::*;
            limits.insert(PLAIN_RATE.to_owned(), v.mib_s);
            limits.insert(ROTATED_RATE.to_owned(), v.mib_s);
            limits.insert(PLAIN_CPU.to_owned(), v.cat_cpu_s_per_gib);
            limits.insert(ROTATED_CPU.to_owned(), v.cat_cpu_s_per_gib);
            limits.insert(ROTATED10_RATE.to_owned(), v.mib_s);
            limits.insert(ROTATED10_CPU.to_owned(), v.cat_cpu_s_per_gib);
            limits.insert(STAMPED_RATE.to_owned(), v.mib_s);
            limits.insert(STAMPED_CPU.to_owned(), v.cat_cpu_s_per_gib);
        }
        report.push(Scenario {
            id,
            title: title.to_owned(),
            results,
            limits,
        });
    }

    println!(
        "procd-bench ({} run; {} CPUs; ratio = procd / supervisord)\n",
        if cli.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    for s in &report {
        println!("{}", report::table(s, &ran));
    }

    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| repo_root().join("bench-results"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let doc = serde_json::json!({
        "unix_time": now,
        "quick": cli.quick,
        "host": {
            "cpus": std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        },
        "sizes": {
            "idle_programs": sizes.idle_programs,
            "idle_window_s": sizes.idle_window.as_secs_f64(),
            "mass_programs": sizes.mass_programs,
            "start_repeats": sizes.start_repeats,
            "rpc_window_s": sizes.rpc_window.as_secs_f64(),
            "write_bytes": sizes.write_bytes,
            "write_repeats": sizes.write_repeats,
            "tail_samples": sizes.tail_samples,
            "respawn_samples": sizes.respawn_samples,
        },
        "daemons": daemons_json,
        "physical_limit_mib_s": limit.map(|l| l.mib_s),
        "physical_limit_cat_cpu_s_per_gib": limit.map(|l| l.cat_cpu_s_per_gib),
        "spawn_limit_first_ms": spawn_limit.as_ref().map(|l| l.first_ms),
        "spawn_limit_repeated_ms": spawn_limit.as_ref().and_then(|l| l.repeated.as_ref().map(|r| r.1)),
        "scenarios": report,
    });
    let text = serde_json::to_string_pretty(&doc)?;
    let file = out.join(format!(
        "results-{now}{}.json",
        if cli.quick { "-quick" } else { "" }
    ));
    std::fs::write(&file, &text)?;
    std::fs::write(out.join("latest.json"), &text)?;
    println!("results written to {}", file.display());
    if failed {
        eprintln!("procd-bench: some scenarios failed (see above)");
    }
    Ok(!failed)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn plot_dir(cli: &Cli) -> PathBuf {
    cli.scale_plot_dir
        .clone()
        .unwrap_or_else(|| repo_root().join("bench-results"))
}

/// Draws the charts of `rows` and lists them.
fn draw_charts(cli: &Cli, rows: &[scenarios::scale::Row]) -> Result<()> {
    let dir = plot_dir(cli);
    let files = plot::draw_all(rows, &dir)?;
    println!("{} charts written to {}", files.len(), dir.display());
    Ok(())
}

/// `--scale-plot FILE`: the table and the charts of a saved run.
fn redraw(cli: &Cli, file: &Path) -> Result<bool> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: scenarios::scale::Doc = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a --scale result", file.display()))?;
    let rows = doc.current_rows();
    print!("{}", scenarios::scale::table(&rows));
    draw_charts(cli, &rows)?;
    Ok(true)
}

fn run_scale(
    cli: &Cli,
    bins: &[std::result::Result<DaemonBin, (Kind, String)>],
    work: &Path,
) -> Result<bool> {
    use scenarios::scale;
    for (kind, why) in bins.iter().filter_map(|b| b.as_ref().err()) {
        eprintln!("[{}] not available: {why}", kind.name());
    }
    let bench = std::env::current_exe().context("locating the benchmark binary")?;
    let setups: Vec<scale::Setup> = bins
        .iter()
        .flatten()
        .map(|bin| {
            let ctl = bin.path.with_file_name(match bin.kind {
                Kind::Procd => "procctl",
                Kind::Supervisord => "supervisorctl",
            });
            if !ctl.exists() {
                eprintln!(
                    "[{}] {} is missing: ctl status not measured",
                    bin.kind.name(),
                    ctl.display()
                );
            }
            scale::Setup {
                bin,
                bench: &bench,
                ctl: ctl.exists().then_some(ctl),
            }
        })
        .collect();
    let ns: Vec<usize> = cli.scale_n.iter().map(|&n| n as usize).collect();
    let kinds: Vec<Kind> = setups.iter().map(|s| s.bin.kind).collect();
    eprintln!(
        "[scale] {} rows; estimated {:.0} min on a quiet 2-core machine (a daemon's series ends at \
         its first call over {:?} or row over {:?})",
        setups.len() * 2 * ns.len(),
        scale::estimate(&kinds, &ns).as_secs_f64() / 60.0,
        scale::CALL_LIMIT,
        scale::ROW_LIMIT,
    );
    println!("{}", scale::table_header());
    let (rows, baselines) = scale::run(&setups, &ns, work, &mut |row| {
        println!("{}", scale::table_row(row));
    });
    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| repo_root().join("bench-results"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let now = unix_now();
    let doc = scale::Doc::new(now, rows, baselines);
    let file = out.join(format!("scale-{now}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(&doc)?)?;
    println!("results written to {}", file.display());
    if let Err(e) = draw_charts(cli, &doc.rows) {
        eprintln!("procd-bench: charts: {e:#}");
    }
    // A daemon that fails at some N is a finding, not a benchmark error; procd failing is.
    Ok(!doc
        .rows
        .iter()
        .any(|r| r.daemon == "procd" && r.error.is_some()))
}
