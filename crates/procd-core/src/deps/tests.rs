//! Table tests of dependency conditions, evaluation, cycles and orders.

use procd_protocol::ProcessState::{self, *};

use super::*;

fn view(
    state: ProcessState,
    exited_for_good: bool,
    exit_expected: bool,
    will_start: bool,
) -> DepView {
    DepView {
        state,
        exited_for_good,
        exit_expected,
        will_start,
    }
}

#[test]
fn condition_names_round_trip() {
    for c in [Condition::Started, Condition::Ready, Condition::Completed] {
        assert_eq!(Condition::parse(c.name()), Some(c));
        assert_eq!(c.to_string(), c.name());
    }
    assert_eq!(Condition::parse("healthy"), None);
    assert_eq!(Condition::parse("Started"), None);
}

#[test]
fn verdict_table() {
    use Condition::*;
    let w = Verdict::Waiting;
    let m = Verdict::Met;
    let f = Verdict::Failed;
    // (condition, state, exited_for_good, exit_expected, will_start) -> verdict
    let table: &[(Condition, ProcessState, bool, bool, bool, Verdict)] = &[
        (Started, Stopped, false, false, false, w.clone()),
        (Started, Stopped, false, false, true, w.clone()),
        (Started, Starting, false, false, false, w.clone()),
        (Started, Running, false, false, false, m.clone()),
        (Started, Backoff, false, false, false, w.clone()),
        (Started, Stopping, false, false, false, w.clone()),
        (Started, Fatal, false, false, false, f("is FATAL")),
        (Started, Fatal, false, false, true, w.clone()),
        (Started, Exited, true, true, false, f("has exited")),
        (Started, Exited, false, false, true, w.clone()),
        (Started, Unknown, false, false, false, w.clone()),
        (Ready, Running, false, false, false, m.clone()),
        (Ready, Starting, false, false, false, w.clone()),
        (Ready, Fatal, false, false, false, f("is FATAL")),
        (Completed, Running, false, false, false, w.clone()),
        (Completed, Starting, false, false, false, w.clone()),
        (Completed, Stopped, false, false, false, w.clone()),
        (Completed, Exited, true, true, false, m.clone()),
        (Completed, Exited, true, true, true, m.clone()),
        (Completed, Exited, false, true, true, w.clone()),
        (
            Completed,
            Exited,
            true,
            false,
            false,
            f("exited with an unexpected status"),
        ),
        (Completed, Exited, true, false, true, w.clone()),
        (Completed, Exited, false, false, true, w.clone()),
        (Completed, Fatal, false, false, false, f("is FATAL")),
        (Completed, Fatal, false, false, true, w.clone()),
        (Completed, Backoff, false, false, false, w.clone()),
    ];
    for (cond, state, good, expected, will, want) in table {
        assert_eq!(
            verdict(*cond, &view(*state, *good, *expected, *will)),
            *want,
            "{cond} on {state} for_good={good} expected={expected} will_start={will}"
        );
    }
}

#[test]
fn evaluate_reports_failure_first_then_first_waiting() {
    let names = ["db", "cache", "migrate", "w0", "w1"];
    let states = [Running, Starting, Exited, Running, Fatal];
    let lookup = |i: usize| (i < states.len()).then(|| view(states[i], i == 2, i == 2, false));
    let name = |i: usize| names[i];
    let dep = |label: &str, condition, targets: Vec<usize>| Dependency {
        label: label.into(),
        condition,
        targets,
    };
    assert_eq!(evaluate(&[], lookup, name), DepStatus::Met);
    assert_eq!(
        evaluate(
            &[
                dep("db", Condition::Started, vec![0]),
                dep("migrate", Condition::Completed, vec![2])
            ],
            lookup,
            name
        ),
        DepStatus::Met
    );
    assert_eq!(
        evaluate(
            &[
                dep("db", Condition::Ready, vec![0]),
                dep("cache", Condition::Ready, vec![1]),
                dep("migrate", Condition::Started, vec![2]),
            ],
            lookup,
            name
        ),
        DepStatus::Failed("dependency migrate has exited".into())
    );
    assert_eq!(
        evaluate(&[dep("cache", Condition::Ready, vec![1])], lookup, name),
        DepStatus::Waiting("waiting for cache (ready)".into())
    );
    // A group: every member must satisfy the condition; a FATAL member names the process.
    assert_eq!(
        evaluate(
            &[dep("workers:*", Condition::Started, vec![3, 4])],
            lookup,
            name
        ),
        DepStatus::Failed("dependency w1 is FATAL".into())
    );
    assert_eq!(
        evaluate(
            &[dep("workers:*", Condition::Started, vec![3, 1])],
            lookup,
            name
        ),
        DepStatus::Waiting("waiting for workers:* (started)".into())
    );
    // A dependency that is not loaded (its group was removed) can no longer hold, wherever it is listed.
    assert_eq!(
        evaluate(
            &[
                dep("cache", Condition::Ready, vec![1]),
                dep("gone", Condition::Started, vec![9])
            ],
            lookup,
            name
        ),
        DepStatus::Failed("dependency gone is not loaded".into())
    );
}

#[test]
fn cycles_are_found_and_printed_as_paths() {
    type Case = (&'static [&'static [usize]], Option<&'static [usize]>);
    let table: &[Case] = &[
        (&[], None),
        (&[&[]], None),
        (&[&[0]], Some(&[0, 0])),
        (&[&[1], &[]], None),
        (&[&[1], &[0]], Some(&[0, 1, 0])),
        (&[&[1], &[2], &[0]], Some(&[0, 1, 2, 0])),
        (&[&[1, 2], &[2], &[]], None),
        (&[&[], &[2], &[3], &[1]], Some(&[1, 2, 3, 1])),
        (&[&[1], &[2], &[3], &[1]], Some(&[1, 2, 3, 1])),
        (&[&[9]], None),
    ];
    for (edges, want) in table {
        let edges: Vec<Vec<usize>> = edges.iter().map(|e| e.to_vec()).collect();
        assert_eq!(find_cycle(&edges).as_deref(), *want, "{edges:?}");
    }
}

#[test]
fn start_and_stop_orders_respect_dependencies_then_preference() {
    // 0 app -> 1 db, 2 cache; 2 cache -> 1 db; 3 lone.
    let edges = vec![vec![1, 2], vec![], vec![1], vec![]];
    assert_eq!(start_order(&edges, &[0, 1, 2, 3]), vec![1, 2, 0, 3]);
    assert_eq!(start_order(&edges, &[3, 2, 1, 0]), vec![3, 1, 2, 0]);
    assert_eq!(stop_order(&edges, &[3, 2, 1, 0]), vec![3, 0, 2, 1]);
    assert_eq!(stop_order(&edges, &[1, 0, 2, 3]), vec![0, 2, 1, 3]);
    // A subset: edges to nodes outside it do not block.
    assert_eq!(stop_order(&edges, &[1, 2]), vec![2, 1]);
    assert_eq!(start_order(&edges, &[0]), vec![0]);
    // No edges: the preference as given.
    let none = vec![vec![]; 4];
    assert_eq!(stop_order(&none, &[2, 0, 3, 1]), vec![2, 0, 3, 1]);
    // A cycle (rejected by the config) still yields every node once.
    let cyc = vec![vec![1], vec![0], vec![]];
    assert_eq!(start_order(&cyc, &[0, 1, 2]), vec![2, 0, 1]);
}
