//! The reload diff (`reloadConfig`, supervisord's `diff_to_active`): which groups were added, changed or
//! removed between the running configuration and a freshly read one.

use std::collections::HashMap;

/// Something identified by a name (a group or a process).
pub trait Named {
    /// The name configs and requests use: a group's name or a process's (unqualified) name.
    fn name(&self) -> &str;
}

/// A reference names what it points to, so a diff can run over borrowed configs.
impl<T: Named + ?Sized> Named for &T {
    fn name(&self) -> &str {
        (**self).name()
    }
}

/// Shared configs (the daemon holds programs as `Arc<ProcessConfig>`) are named by what they share.
impl<T: Named + ?Sized> Named for std::sync::Arc<T> {
    fn name(&self) -> &str {
        (**self).name()
    }
}

/// Result of [`diff`]. `added` and `changed` follow the new config's order, `removed` the current order.
#[derive(Debug, PartialEq, Eq)]
pub struct Diff<'a, T> {
    /// In the new config only (`reloadConfig`'s first list; `update` adds them).
    pub added: Vec<&'a T>,
    /// In both under the same name but with a different config (second list; `update` stops, removes
    /// and re-adds them).
    pub changed: Vec<&'a T>,
    /// In the running config only (third list; `update` stops and removes them).
    pub removed: Vec<&'a T>,
}

impl<T> Diff<'_, T> {
    /// True when nothing changed (`update` prints nothing then).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Compares the active group configs with the new ones. Names are compared exactly; a group whose name is
/// in both lists is `changed` when the configs differ (`PartialEq`). Names are looked up in a map, so
/// the diff of N groups costs O(N), not O(N²).
pub fn diff<'a, T: Named + PartialEq>(current: &'a [T], new: &'a [T]) -> Diff<'a, T> {
    // With duplicate names the last one wins, as with the dicts supervisord builds.
    let by_name =
        |list: &'a [T]| -> HashMap<&'a str, &'a T> { list.iter().map(|c| (c.name(), c)).collect() };
    let (current_by_name, new_by_name) = (by_name(current), by_name(new));
    let added = new
        .iter()
        .filter(|n| !current_by_name.contains_key(n.name()))
        .collect();
    let removed = current
        .iter()
        .filter(|c| !new_by_name.contains_key(c.name()))
        .collect();
    let changed = new
        .iter()
        .filter(|n| current_by_name.get(n.name()).is_some_and(|c| *c != *n))
        .collect();
    Diff {
        added,
        changed,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Cfg(&'static str, u32);
    impl Named for Cfg {
        fn name(&self) -> &str {
            self.0
        }
    }

    fn names(list: &[&Cfg]) -> Vec<&'static str> {
        list.iter().map(|c| c.0).collect()
    }

    #[test]
    fn added_changed_removed_in_order() {
        let current = [Cfg("a", 1), Cfg("b", 1), Cfg("c", 1), Cfg("d", 1)];
        let new = [
            Cfg("z", 1),
            Cfg("d", 2),
            Cfg("a", 1),
            Cfg("y", 1),
            Cfg("b", 3),
        ];
        let d = diff(&current, &new);
        assert_eq!(names(&d.added), ["z", "y"]);
        assert_eq!(names(&d.changed), ["d", "b"]);
        assert_eq!(names(&d.removed), ["c"]);
        assert!(!d.is_empty());
    }

    #[test]
    fn identical_configs_give_nothing() {
        let current = [Cfg("a", 1), Cfg("b", 2)];
        let new = [Cfg("b", 2), Cfg("a", 1)];
        assert!(diff(&current, &new).is_empty());
        let empty: [Cfg; 0] = [];
        let d = diff(&empty, &current);
        assert_eq!(names(&d.added), ["a", "b"]);
        let d = diff(&current, &empty);
        assert_eq!(names(&d.removed), ["a", "b"]);
    }

    #[test]
    fn duplicate_names_compare_with_the_last_one() {
        let current = [Cfg("a", 1), Cfg("a", 2), Cfg("b", 1)];
        let new = [Cfg("a", 2), Cfg("b", 1), Cfg("a", 3)];
        let d = diff(&current, &new);
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.changed, [&Cfg("a", 3)]);
    }

    #[test]
    fn large_diffs_find_the_one_change() {
        let all: Vec<&'static str> = (0..5000)
            .map(|i| &*Box::leak(format!("g{i}").into_boxed_str()))
            .collect();
        let current: Vec<Cfg> = all.iter().map(|n| Cfg(n, 1)).collect();
        let mut new: Vec<Cfg> = all.iter().map(|n| Cfg(n, 1)).collect();
        new[1234].1 = 2;
        new.push(Cfg("extra", 1));
        let d = diff(&current[1..], &new);
        assert_eq!(names(&d.added), ["g0", "extra"]);
        assert_eq!(names(&d.changed), ["g1234"]);
        assert!(d.removed.is_empty());
    }
}
