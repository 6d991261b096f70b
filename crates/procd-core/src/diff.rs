//! The reload diff (`reloadConfig`, supervisord's `diff_to_active`): which groups were added, changed or
//! removed between the running configuration and a freshly read one.

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
/// in both lists is `changed` when the configs differ (`PartialEq`).
pub fn diff<'a, T: Named + PartialEq>(current: &'a [T], new: &'a [T]) -> Diff<'a, T> {
    // With duplicate names the last one wins, as with the dicts supervisord builds.
    let find = |list: &'a [T], name: &str| list.iter().rev().find(|c| c.name() == name);
    let added = new
        .iter()
        .filter(|n| find(current, n.name()).is_none())
        .collect();
    let removed = current
        .iter()
        .filter(|c| find(new, c.name()).is_none())
        .collect();
    let changed = new
        .iter()
        .filter(|n| find(current, n.name()).is_some_and(|c| c != *n))
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
}
