//! A small mutation fuzzer for bounded runs under `cargo test` (cargo-fuzz needs a nightly toolchain,
//! which this project does not assume).
//!
//! Each target gets a seed corpus and a dictionary of tokens. Every case takes one seed and applies one
//! to eight random mutations (bit flips, interesting bytes, deletions, duplications, dictionary
//! insertions, splices with another seed, truncation); inputs that reach new outcome classes (as the
//! target reports them) join the corpus, so the run drifts towards rarer paths. A panic, or a case
//! slower than [`SLOW_CASE`], is a finding: the input is saved under `target/fuzz-findings/` and the
//! test fails listing them.
//!
//! Budget: `PROCD_FUZZ_SECS=N` runs each target for N seconds; otherwise `PROCD_FUZZ_ITERS=N` cases, or
//! the target's small CI default. `PROCD_FUZZ_SEED` fixes the random seed (printed by every run).
//! `PROCD_FUZZ_REPLAY=target/fuzz-findings/<target>-<hash>.bin` re-runs one saved finding.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A case slower than this is reported (no input should take a parser or a request this long).
pub const SLOW_CASE: Duration = Duration::from_secs(2);

/// CPU time used by the calling thread (`/proc/thread-self/schedstat`), so that a run at `nice 19` on
/// a busy machine does not report stalls as slow inputs; the wall clock where that is unavailable.
/// Targets that wait on another process (the HTTP target) are timed by the wall clock instead.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    ThreadCpu,
    Wall,
}

impl Clock {
    fn now(self) -> Duration {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let wall = || START.get_or_init(Instant::now).elapsed();
        match self {
            Clock::Wall => wall(),
            Clock::ThreadCpu => std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .map_or_else(wall, Duration::from_nanos),
        }
    }
}

/// xorshift64*: fast, deterministic from its seed, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % (n.max(1) as u64)).unwrap_or(0)
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// How long a target runs.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    Cases(u64),
    Time(Duration),
}

impl Budget {
    /// From `PROCD_FUZZ_SECS` / `PROCD_FUZZ_ITERS`, else `default_cases`.
    pub fn from_env(default_cases: u64) -> Budget {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        if let Some(secs) = var("PROCD_FUZZ_SECS") {
            return Budget::Time(Duration::from_secs(secs));
        }
        Budget::Cases(var("PROCD_FUZZ_ITERS").unwrap_or(default_cases))
    }
}

/// What one run did.
#[derive(Debug, Default)]
pub struct Report {
    pub target: String,
    pub seed: u64,
    pub executions: u64,
    pub elapsed: Duration,
    pub corpus: usize,
    pub outcomes: usize,
    pub slowest: Duration,
    pub findings: Vec<String>,
}

impl Report {
    /// One line for the test output (figures are printed, never asserted).
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "fuzz {}: {} executions in {:.1} s ({:.0}/s), seed {}, corpus {}, outcome classes {}, \
             slowest case {:.1} ms, findings {}",
            self.target,
            self.executions,
            secs,
            self.executions as f64 / secs,
            self.seed,
            self.corpus,
            self.outcomes,
            self.slowest.as_secs_f64() * 1000.0,
            self.findings.len()
        )
    }
}

/// Mutates one input.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]], input: &mut Vec<u8>) {
    const INTERESTING: &[u8] = b"\0\x01\x7f\x80\xff\n\r\t \"'<>&%;=[]()/\\:#";
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                input.drain(start..end);
            }
            3 if len > 0 && len < 1 << 20 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let piece = input[start..end].to_vec();
                let times = if rng.chance(16) { 1 + rng.below(64) } else { 1 };
                let at = rng.below(len + 1);
                for _ in 0..times {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            4 | 5 if !dict.is_empty() => {
                let token = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(256)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[from..to].iter().copied());
                }
            }
            7 if len > 0 => input.truncate(rng.below(len)),
            _ => {
                let at = rng.below(len + 1);
                input.insert(at, u8::try_from(rng.below(256)).unwrap_or(0));
            }
        }
    }
}

fn findings_dir() -> PathBuf {
    crate::env::workspace_root()
        .join("target")
        .join("fuzz-findings")
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `PROCD_FUZZ_REPLAY=FILE`: runs one saved input (a finding named `<target>-<hash>.bin`) through
/// its target only, and reports its outcome and time.
fn replay_one(
    name: &str,
    file: &std::path::Path,
    target: &mut impl FnMut(&[u8]) -> Result<String, String>,
) -> Report {
    let mut report = Report {
        target: name.to_owned(),
        ..Report::default()
    };
    let for_this = file
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}-")));
    if !for_this {
        return report;
    }
    let input = std::fs::read(file).unwrap_or_default();
    let t0 = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| target(&input)));
    report.elapsed = t0.elapsed();
    report.slowest = report.elapsed;
    report.executions = 1;
    println!(
        "replay {}: {outcome:?} in {:?}",
        file.display(),
        report.elapsed
    );
    match outcome {
        Ok(Ok(_)) if report.elapsed <= SLOW_CASE => {}
        Ok(Ok(_)) => report.findings.push("slow case".into()),
        Ok(Err(e)) => report.findings.push(e),
        Err(_) => report.findings.push("panic".into()),
    }
    report
}

/// Runs `target` on mutated inputs within `budget`. The target returns an outcome class (any string
/// that tells results apart, e.g. the error variant); an input giving a new class joins the corpus.
/// `Err` from the target is a finding (a broken invariant), as is a panic or a slow case.
pub fn run(
    name: &str,
    seeds: Vec<Vec<u8>>,
    dict: &[&[u8]],
    budget: Budget,
    clock: Clock,
    mut target: impl FnMut(&[u8]) -> Result<String, String>,
) -> Report {
    let seed = std::env::var("PROCD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    if let Some(replay) = std::env::var_os("PROCD_FUZZ_REPLAY") {
        return replay_one(name, std::path::Path::new(&replay), &mut target);
    }
    let mut rng = Rng::new(seed);
    let mut corpus = seeds;
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut report = Report {
        target: name.to_owned(),
        seed,
        ..Report::default()
    };
    let start = Instant::now();
    let mut input = Vec::new();
    let mut case: u64 = 0;
    let initial = corpus.len();
    loop {
        let done = match budget {
            Budget::Cases(n) => case >= n,
            Budget::Time(t) => start.elapsed() >= t,
        };
        if done {
            break;
        }
        input.clear();
        // The seeds themselves run first, unmutated.
        if let Some(seed) = usize::try_from(case).ok().filter(|&i| i < initial) {
            input.extend_from_slice(&corpus[seed]);
        } else {
            input.extend_from_slice(&corpus[rng.below(corpus.len())]);
            mutate(&mut rng, &corpus, dict, &mut input);
        }
        case += 1;
        let t0 = clock.now();
        let outcome = catch_unwind(AssertUnwindSafe(|| target(&input)));
        let took = clock.now().saturating_sub(t0);
        report.slowest = report.slowest.max(took);
        let problem = match outcome {
            Ok(Ok(class)) => {
                if seen.insert(class) && corpus.len() < 4096 {
                    corpus.push(input.clone());
                }
                // A slow case is timed again: on a loaded machine (or at `nice 19`) one run can
                // stall for seconds without the input being at fault.
                (took > SLOW_CASE && {
                    let t1 = clock.now();
                    let _ = catch_unwind(AssertUnwindSafe(|| target(&input)));
                    clock.now().saturating_sub(t1) > SLOW_CASE
                })
                .then(|| format!("slow case: {:.2} s, twice", took.as_secs_f64()))
            }
            Ok(Err(broken)) => Some(broken),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            )),
        };
        if let Some(problem) = problem {
            let dir = findings_dir();
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{name}-{:016x}.bin", fnv(&input)));
            let _ = std::fs::write(&file, &input);
            report
                .findings
                .push(format!("{problem} (input saved as {})", file.display()));
        }
    }
    report.executions = case;
    report.elapsed = start.elapsed();
    report.corpus = corpus.len();
    report.outcomes = seen.len();
    report
}

#[cfg(test)]
mod tests {
    use super::{Rng, mutate};

    #[test]
    fn mutations_change_inputs_and_stay_bounded() {
        let mut rng = Rng::new(42);
        let seeds = vec![b"hello world".to_vec()];
        let mut changed = 0;
        for _ in 0..1000 {
            let mut input = seeds[0].clone();
            mutate(&mut rng, &seeds, &[b"TOKEN"], &mut input);
            if input != seeds[0] {
                changed += 1;
            }
            assert!(input.len() < 1 << 16);
        }
        assert!(changed > 900, "{changed} of 1000 inputs changed");
    }
}
