//! Helpers shared by the differential tests: start both daemons in parallel, compare transcripts.

use procd_testkit::e2e::{Daemon, Fixture, Kind};

/// Starts procd and supervisord on the same fixture, in parallel.
#[track_caller]
pub(crate) fn both(fixture: &Fixture) -> (Daemon, Daemon) {
    std::thread::scope(|s| {
        let p = s.spawn(|| Daemon::start(Kind::Procd, fixture));
        let r = Daemon::start(Kind::Supervisord, fixture);
        let p = p.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (p, r)
    })
}

/// Runs `f` on both daemons in parallel and returns (procd's, supervisord's) results.
pub(crate) fn on_both<T: Send>(p: &Daemon, r: &Daemon, f: impl Fn(&Daemon) -> T + Sync) -> (T, T) {
    std::thread::scope(|s| {
        let a = s.spawn(|| f(p));
        let b = f(r);
        (a.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// Compares JSON-line transcripts from tests/py scripts, skipping lines whose label is listed in `known`
/// (documented differences, each checked on its own by an ignored test).
#[track_caller]
pub(crate) fn assert_same_transcript(
    what: &str,
    procd: &str,
    reference: &str,
    known: &[(&str, &str)],
) {
    let keep = |t: &str| {
        t.lines()
            .filter(|l| {
                !known
                    .iter()
                    .any(|(label, _)| l.starts_with(&format!("{{\"label\": \"{label}\"")))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_same_lines(what, &keep(procd), &keep(reference));
}

/// Compares two line-based transcripts; on mismatch, lists every differing line with its neighbours
/// so a single failure shows all the differences at once.
#[track_caller]
pub(crate) fn assert_same_lines(what: &str, procd: &str, reference: &str) {
    if procd == reference {
        return;
    }
    let a: Vec<&str> = procd.lines().collect();
    let b: Vec<&str> = reference.lines().collect();
    let mut report = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or("<missing>"),
            b.get(i).copied().unwrap_or("<missing>"),
        );
        if x != y {
            report.push_str(&format!(
                "line {i}:\n  procd:       {x}\n  supervisord: {y}\n"
            ));
        }
    }
    panic!("{what}: procd differs from supervisord 4.3.0\n{report}");
}
