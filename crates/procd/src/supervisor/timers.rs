//! The processes' deadlines, indexed: which processes are due now and when the loop must wake up next,
//! without looking at every process. A process's deadline (`procd_core::Process::next_deadline`)
//! depends only on its own state machine and the supervisor's state, so the actor refreshes one entry
//! after each input it applies to a process, and all of them when the supervisor's state changes.
//! With 10,000 processes a loop turn then costs the same as with ten.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::types::ProcId;

/// Deadlines (monotonic, since the actor's epoch) by process.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    by_time: BTreeSet<(Duration, ProcId)>,
    of: HashMap<ProcId, Duration>,
}

impl Deadlines {
    /// Records `id`'s deadline (`None`: it has none).
    pub(super) fn set(&mut self, id: ProcId, deadline: Option<Duration>) {
        match deadline {
            Some(at) => {
                if let Some(old) = self.of.insert(id, at) {
                    if old == at {
                        return;
                    }
                    self.by_time.remove(&(old, id));
                }
                self.by_time.insert((at, id));
            }
            None => {
                if let Some(old) = self.of.remove(&id) {
                    self.by_time.remove(&(old, id));
                }
            }
        }
    }

    /// The processes whose deadline is at or before `now` (in no particular order).
    pub(super) fn due(&self, now: Duration) -> Vec<ProcId> {
        self.by_time
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|&(_, id)| id)
            .collect()
    }

    /// The earliest deadline of any process.
    pub(super) fn earliest(&self) -> Option<Duration> {
        self.by_time.first().map(|&(at, _)| at)
    }

    pub(super) fn clear(&mut self) {
        self.by_time.clear();
        self.of.clear();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        debug_assert_eq!(self.by_time.len(), self.of.len());
        self.of.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn due_and_earliest_follow_every_update() {
        let mut d = Deadlines::default();
        assert_eq!(d.earliest(), None);
        assert!(d.due(ms(1_000_000)).is_empty());
        d.set(ProcId(1), Some(ms(30)));
        d.set(ProcId(2), Some(ms(10)));
        d.set(ProcId(3), Some(ms(20)));
        d.set(ProcId(4), None);
        assert_eq!(d.len(), 3);
        assert_eq!(d.earliest(), Some(ms(10)));
        assert_eq!(d.due(ms(9)), []);
        assert_eq!(d.due(ms(20)), [ProcId(2), ProcId(3)]);
        // Moving a deadline replaces the old one; setting the same one again changes nothing.
        d.set(ProcId(2), Some(ms(40)));
        d.set(ProcId(3), Some(ms(20)));
        assert_eq!(d.len(), 3);
        assert_eq!(d.earliest(), Some(ms(20)));
        assert_eq!(d.due(ms(30)), [ProcId(3), ProcId(1)]);
        d.set(ProcId(3), None);
        d.set(ProcId(3), None);
        assert_eq!(d.len(), 2);
        assert_eq!(d.due(ms(100)), [ProcId(1), ProcId(2)]);
        // Equal deadlines are all due.
        d.set(ProcId(5), Some(ms(30)));
        assert_eq!(d.due(ms(30)), [ProcId(1), ProcId(5)]);
        d.clear();
        assert_eq!(d.len(), 0);
        assert_eq!(d.earliest(), None);
    }
}
