//! `depends_on=` (procd extension): the conditions a process waits for before it starts, and the orders
//! that follow from the dependency graph.
//!
//! Nodes are indices chosen by the caller (procd-config uses them to find cycles; the daemon uses its
//! process table). `edges[i]` lists the nodes `i` depends on.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use procd_protocol::ProcessState;

use crate::process::DepStatus;

/// What a dependent waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// The dependency reached RUNNING (the default for a bare name, as in Go supervisord).
    Started,
    /// The dependency passed its ready check; the same as `Started` when it has none (with a check,
    /// RUNNING is only entered once the check passed).
    Ready,
    /// The dependency exited with an expected exit code and will not be restarted (one-shot jobs).
    Completed,
}

impl Condition {
    /// The config spelling.
    pub const fn name(self) -> &'static str {
        match self {
            Condition::Started => "started",
            Condition::Ready => "ready",
            Condition::Completed => "completed",
        }
    }

    /// The condition written after a name in `depends_on=` (`started`, `ready`, `completed`); `None` for
    /// anything else (the config reader reports it as an error).
    pub fn parse(s: &str) -> Option<Condition> {
        match s {
            "started" => Some(Condition::Started),
            "ready" => Some(Condition::Ready),
            "completed" => Some(Condition::Completed),
            _ => None,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a condition sees of one dependency (from [`crate::Process::dep_view`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepView {
    /// The dependency's current process state.
    pub state: ProcessState,
    /// EXITED and autorestart will not start it again.
    pub exited_for_good: bool,
    /// The last exit status is one of its `exitcodes`.
    pub exit_expected: bool,
    /// A start is pending (autostart, request or autorestart waiting to happen).
    pub will_start: bool,
}

/// One condition's verdict on one dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The condition holds now.
    Met,
    /// The condition does not hold yet but still can (the dependency is starting, or will be started).
    Waiting,
    /// Can no longer hold; the text completes `dependency <name> ...`.
    Failed(&'static str),
}

/// Whether `cond` holds for a dependency in the state `v`.
pub fn verdict(cond: Condition, v: &DepView) -> Verdict {
    use ProcessState::*;
    let idle = !v.will_start;
    match cond {
        Condition::Started | Condition::Ready => match v.state {
            Running => Verdict::Met,
            Fatal if idle => Verdict::Failed("is FATAL"),
            Exited if v.exited_for_good && idle => Verdict::Failed("has exited"),
            _ => Verdict::Waiting,
        },
        Condition::Completed => match v.state {
            Exited if v.exited_for_good && v.exit_expected => Verdict::Met,
            Exited if v.exited_for_good && idle => {
                Verdict::Failed("exited with an unexpected status")
            }
            Fatal if idle => Verdict::Failed("is FATAL"),
            _ => Verdict::Waiting,
        },
    }
}

/// One `depends_on=` entry, resolved to nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The name as written (`db`, `workers:*`, `web:web_01`).
    pub label: String,
    /// What must hold for each target (`:started` when the entry names no condition).
    pub condition: Condition,
    /// Every process the name stands for; the condition must hold for all of them.
    pub targets: Vec<usize>,
}

/// Evaluates a process's dependencies: the first that can no longer hold wins (a dependency `view`
/// does not find counts as one: `dependency db is not loaded`), else the first that does not hold yet
/// (`waiting for db (ready)`), else [`DepStatus::Met`].
pub fn evaluate<'a>(
    deps: &[Dependency],
    view: impl Fn(usize) -> Option<DepView>,
    name: impl Fn(usize) -> &'a str,
) -> DepStatus {
    let mut waiting = None;
    for d in deps {
        for &t in &d.targets {
            let Some(v) = view(t) else {
                // Not loaded (its group was removed, or not added yet by a partial `update`): nothing
                // can start it, so the condition cannot hold until it is added again.
                return DepStatus::Failed(format!("dependency {} is not loaded", d.label));
            };
            match verdict(d.condition, &v) {
                Verdict::Met => {}
                Verdict::Waiting => {
                    waiting.get_or_insert_with(|| {
                        format!("waiting for {} ({})", d.label, d.condition)
                    });
                }
                Verdict::Failed(why) => {
                    return DepStatus::Failed(format!("dependency {} {why}", name(t)));
                }
            }
        }
    }
    waiting.map_or(DepStatus::Met, DepStatus::Waiting)
}

/// A cycle in the graph, as the list of nodes `a, b, ..., a` (first node repeated), or `None`.
pub fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let n = edges.len();
    let mut mark = vec![Mark::New; n];
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative depth-first search: (node, next edge index).
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                if to >= n {
                    continue;
                }
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::OnPath;
                        path.push((to, 0));
                    }
                    Mark::OnPath => {
                        let start = path.iter().position(|&(p, _)| p == to).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[start..].iter().map(|&(p, _)| p).collect();
                        cycle.push(to);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                path.pop();
            }
        }
    }
    None
}

/// Start order: every node after what it depends on, otherwise in the preferred `order` (a permutation
/// of the nodes, e.g. ascending priority). Nodes on a cycle (rejected by the config) come last, in order.
pub fn start_order(edges: &[Vec<usize>], order: &[usize]) -> Vec<usize> {
    topo(edges, order, false)
}

/// Stop order: every node before what it depends on (dependents first), otherwise in the preferred
/// `order` (e.g. descending priority).
pub fn stop_order(edges: &[Vec<usize>], order: &[usize]) -> Vec<usize> {
    topo(edges, order, true)
}

fn topo(edges: &[Vec<usize>], order: &[usize], dependents_first: bool) -> Vec<usize> {
    let n = edges.len();
    if edges.iter().all(Vec::is_empty) {
        return order.to_vec();
    }
    let mut rank = vec![usize::MAX; n];
    for (pos, &node) in order.iter().enumerate() {
        if node < n {
            rank[node] = pos;
        }
    }
    let in_order = |node: usize| rank[node] != usize::MAX;
    // `after[a]` lists nodes that may only come after `a`; `blockers[b]` counts what must precede b.
    // Only edges between nodes of `order` count.
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut blockers = vec![0usize; n];
    for (node, deps) in edges.iter().enumerate().filter(|&(i, _)| in_order(i)) {
        for &dep in deps.iter().filter(|&&d| d < n && d != node && in_order(d)) {
            let (first, then) = if dependents_first {
                (node, dep)
            } else {
                (dep, node)
            };
            after[first].push(then);
            blockers[then] += 1;
        }
    }
    let mut heap: BinaryHeap<Reverse<(usize, usize)>> = (0..n)
        .filter(|&i| blockers[i] == 0 && in_order(i))
        .map(|i| Reverse((rank[i], i)))
        .collect();
    let mut out = Vec::with_capacity(order.len());
    let mut placed = vec![false; n];
    while let Some(Reverse((_, node))) = heap.pop() {
        out.push(node);
        placed[node] = true;
        for &then in &after[node] {
            blockers[then] -= 1;
            if blockers[then] == 0 && in_order(then) {
                heap.push(Reverse((rank[then], then)));
            }
        }
    }
    out.extend(order.iter().copied().filter(|&i| i < n && !placed[i]));
    out
}

#[cfg(test)]
mod tests;
