//! Who goes first: supervisord's ordering rules (spec §4.4a), over any group/process types.
//!
//! Functions return indices into the slices they are given. Groups are passed in *insertion* order (the
//! order they were added to the running supervisor), processes in their group's config order. supervisord
//! sorts with Python's stable sort on priority alone at run time, so ties keep the given order; only the
//! config parser sorts by `(priority, name)`.

use crate::diff::Named;

/// Something with a `priority=` and a name.
pub trait Ranked: Named {
    /// `priority=` (default 999): lower starts earlier and stops later.
    fn priority(&self) -> i32;
}

impl<T: Ranked + ?Sized> Ranked for std::sync::Arc<T> {
    fn priority(&self) -> i32 {
        (**self).priority()
    }
}

/// A group of processes.
pub trait GroupLike: Ranked {
    /// The group's member type.
    type Proc: Ranked;
    /// The group's processes, in their config order (by `(priority, name)` as the config reader sorted
    /// them).
    fn processes(&self) -> &[Self::Proc];
}

/// Parse order: by `(priority, name)`. supervisord applies it to group configs and to the programs of each
/// group when it reads the configuration, so it is the insertion order at startup.
pub fn parse_order<T: Ranked>(items: &[T]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&a, &b| {
        (items[a].priority(), items[a].name()).cmp(&(items[b].priority(), items[b].name()))
    });
    idx
}

/// Ascending priority, ties in the given order.
pub fn ascending<T: Ranked>(items: &[T]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by_key(|&i| items[i].priority());
    idx
}

/// Descending priority, ties in reverse given order (the reverse of [`ascending`]).
pub fn descending<T: Ranked>(items: &[T]) -> Vec<usize> {
    let mut idx = ascending(items);
    idx.reverse();
    idx
}

/// `(group, process)` pairs with groups ascending by priority and, inside each, processes ascending by
/// priority. Startup/reload/`add`/`update` autostart, `startAllProcesses`, `stopAllProcesses`.
pub fn priority_order<G: GroupLike>(groups: &[G]) -> Vec<(usize, usize)> {
    ascending(groups)
        .into_iter()
        .flat_map(|g| {
            ascending(groups[g].processes())
                .into_iter()
                .map(move |p| (g, p))
        })
        .collect()
}

/// Shutdown/reload stop phase: groups one at a time in this order (descending priority, ties in reverse
/// insertion order). Inside a group use [`descending`] on its processes.
pub fn shutdown_order<G: GroupLike>(groups: &[G]) -> Vec<usize> {
    descending(groups)
}

/// `getAllProcessInfo`, `status`, web UI: by group name, then process name.
pub fn lexical_order<G: GroupLike>(groups: &[G]) -> Vec<(usize, usize)> {
    let mut gidx: Vec<usize> = (0..groups.len()).collect();
    gidx.sort_by(|&a, &b| groups[a].name().cmp(groups[b].name()));
    gidx.into_iter()
        .flat_map(|g| {
            let procs = groups[g].processes();
            let mut pidx: Vec<usize> = (0..procs.len()).collect();
            pidx.sort_by(|&a, &b| procs[a].name().cmp(procs[b].name()));
            pidx.into_iter().map(move |p| (g, p))
        })
        .collect()
}

/// `getAllConfigInfo` / `avail`: every process of every group (groups given in config order), sorted by
/// process name alone (stable, so equal names keep config order).
pub fn config_info_order<G: GroupLike>(groups: &[G]) -> Vec<(usize, usize)> {
    let mut all: Vec<(usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| (0..group.processes().len()).map(move |p| (g, p)))
        .collect();
    all.sort_by(|&(ga, pa), &(gb, pb)| {
        groups[ga].processes()[pa]
            .name()
            .cmp(groups[gb].processes()[pb].name())
    });
    all
}

/// Group names in `reread` output order.
pub fn sorted_names<T: Named>(items: &[T]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by_key(|&i| items[i].name().to_string());
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    struct P(&'static str, i32);
    impl Named for P {
        fn name(&self) -> &str {
            self.0
        }
    }
    impl Ranked for P {
        fn priority(&self) -> i32 {
            self.1
        }
    }
    struct G(&'static str, i32, Vec<P>);
    impl Named for G {
        fn name(&self) -> &str {
            self.0
        }
    }
    impl Ranked for G {
        fn priority(&self) -> i32 {
            self.1
        }
    }
    impl GroupLike for G {
        type Proc = P;
        fn processes(&self) -> &[P] {
            &self.2
        }
    }

    fn names(groups: &[G], pairs: &[(usize, usize)]) -> Vec<String> {
        pairs
            .iter()
            .map(|&(g, p)| format!("{}:{}", groups[g].0, groups[g].2[p].0))
            .collect()
    }

    /// Insertion order: `late` was added after startup with the same priority as `b`.
    fn sample() -> Vec<G> {
        vec![
            G("b", 10, vec![P("z", 1), P("y", 5), P("x", 5)]),
            G("a", 999, vec![P("m", 999)]),
            G("c", 5, vec![P("q", 999), P("p", 1)]),
            G("late", 10, vec![P("k", 1)]),
        ]
    }

    #[test]
    fn parse_order_by_priority_then_name() {
        let items = [P("web", 999), P("db", 1), P("api", 999), P("cache", 1)];
        let got: Vec<_> = parse_order(&items)
            .into_iter()
            .map(|i| items[i].0)
            .collect();
        assert_eq!(got, ["cache", "db", "api", "web"]);
    }

    #[test]
    fn start_and_stop_all_ascending_ties_keep_insertion() {
        let g = sample();
        assert_eq!(
            names(&g, &priority_order(&g)),
            ["c:p", "c:q", "b:z", "b:y", "b:x", "late:k", "a:m"]
        );
    }

    #[test]
    fn shutdown_descending_ties_reverse_insertion() {
        let g = sample();
        let order: Vec<_> = shutdown_order(&g).into_iter().map(|i| g[i].0).collect();
        assert_eq!(order, ["a", "late", "b", "c"]);
        let inside: Vec<_> = descending(&g[0].2)
            .into_iter()
            .map(|i| g[0].2[i].0)
            .collect();
        assert_eq!(inside, ["x", "y", "z"]);
    }

    #[test]
    fn lexical_and_config_info() {
        let g = sample();
        assert_eq!(
            names(&g, &lexical_order(&g)),
            ["a:m", "b:x", "b:y", "b:z", "c:p", "c:q", "late:k"]
        );
        assert_eq!(
            names(&g, &config_info_order(&g)),
            ["late:k", "a:m", "c:p", "c:q", "b:x", "b:y", "b:z"]
        );
        let dup = vec![
            G("g2", 1, vec![P("same", 1)]),
            G("g1", 1, vec![P("same", 1)]),
        ];
        assert_eq!(
            names(&dup, &config_info_order(&dup)),
            ["g2:same", "g1:same"]
        );
        let sorted: Vec<_> = sorted_names(&g).into_iter().map(|i| g[i].0).collect();
        assert_eq!(sorted, ["a", "b", "c", "late"]);
    }

    #[test]
    fn empty_inputs() {
        let none: Vec<G> = Vec::new();
        assert!(priority_order(&none).is_empty());
        assert!(shutdown_order(&none).is_empty());
        assert!(lexical_order(&none).is_empty());
    }
}
