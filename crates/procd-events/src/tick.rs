//! TICK_5 / TICK_60 / TICK_3600: wall-clock period boundaries.
//!
//! supervisord remembers, per period, the boundary `int(now - now % period)` it last saw (the first
//! observation only sets it) and emits a tick whenever a later observation falls in a different slice.
//! [`Ticker`] does the same with the time passed in, and tells the actor when the next wanted
//! boundary is, so a timer is armed only while some pool subscribes to a TICK type.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::types::Event;

/// The tick periods in seconds, with their event names, in supervisord's emission order.
pub const PERIODS: [(u64, &str); 3] = [(5, "TICK_5"), (60, "TICK_60"), (3600, "TICK_3600")];

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Start of the `period`-second slice containing `secs`.
pub fn timeslice(period: u64, secs: u64) -> u64 {
    secs - secs % period
}

/// Per-period last-seen boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticker {
    last: [u64; 3],
}

impl Ticker {
    /// Starts observing at `now` (no tick is due for the slices `now` is in).
    pub fn new(now: SystemTime) -> Self {
        let s = epoch_secs(now);
        Self {
            last: PERIODS.map(|(p, _)| timeslice(p, s)),
        }
    }

    /// Observes `now` and returns the tick events whose slice changed, TICK_5 first.
    pub fn poll(&mut self, now: SystemTime) -> Vec<Event> {
        let s = epoch_secs(now);
        let mut out = Vec::new();
        for (i, (period, _)) in PERIODS.iter().enumerate() {
            let this = timeslice(*period, s);
            if this != self.last[i] {
                self.last[i] = this;
                out.push(match period {
                    5 => Event::Tick5 { when: this },
                    60 => Event::Tick60 { when: this },
                    _ => Event::Tick3600 { when: this },
                });
            }
        }
        out
    }

    /// When to call [`Ticker::poll`] next: the earliest upcoming boundary among the periods `wanted`
    /// accepts (given the event name, e.g. `|n| bus.wants(n)`); `None` if none is wanted.
    pub fn next_wakeup(&self, wanted: impl Fn(&str) -> bool) -> Option<SystemTime> {
        PERIODS
            .iter()
            .zip(self.last)
            .filter(|((_, name), _)| wanted(name))
            .map(|((period, _), last)| last + period)
            .min()
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    fn names(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| format!("{} {}", e.name(), e.payload()))
            .collect()
    }

    #[test]
    fn first_observation_emits_nothing() {
        let mut t = Ticker::new(at(1_795_688_983, 500));
        assert!(t.poll(at(1_795_688_984, 999)).is_empty());
    }

    #[test]
    fn boundaries_table() {
        // start 3599.5 s: next 5-boundary 3600 crosses all three periods at once.
        let mut t = Ticker::new(at(3599, 500));
        assert_eq!(
            names(&t.poll(at(3600, 0))),
            [
                "TICK_5 when:3600",
                "TICK_60 when:3600",
                "TICK_3600 when:3600"
            ]
        );
        assert!(t.poll(at(3604, 999)).is_empty());
        assert_eq!(names(&t.poll(at(3605, 0))), ["TICK_5 when:3605"]);
        // A long sleep reports only the current slice, once.
        assert_eq!(
            names(&t.poll(at(3725, 100))),
            ["TICK_5 when:3725", "TICK_60 when:3720"]
        );
    }

    #[test]
    fn next_wakeup_only_for_wanted_periods() {
        let t = Ticker::new(at(1_000_003, 250));
        assert_eq!(t.next_wakeup(|_| false), None);
        assert_eq!(t.next_wakeup(|n| n == "TICK_5"), Some(at(1_000_005, 0)));
        assert_eq!(t.next_wakeup(|n| n == "TICK_60"), Some(at(1_000_020, 0)));
        assert_eq!(t.next_wakeup(|n| n == "TICK_3600"), Some(at(1_000_800, 0)));
        assert_eq!(t.next_wakeup(|_| true), Some(at(1_000_005, 0)));
    }
}
