//! The clock readings the daemon hands to the core.
//!
//! Two clocks are carried on purpose. Every timing decision (startsecs, backoff, stopwaitsecs) uses the
//! monotonic reading, so wall-clock jumps cannot make a process look like it started in the future or ran
//! for hours. The wall-clock reading is only recorded for what supervisord reports over RPC (`start`, `stop`
//! in ProcessInfo), which are Unix seconds.
//!
//! The daemon chooses the monotonic epoch (typically the `Instant` at which it started) and converts the
//! deadlines returned by the core back with `epoch + deadline`.

use std::time::Duration;

/// One reading of both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time since an arbitrary epoch chosen by the daemon.
    pub mono: Duration,
    /// Wall-clock time in whole seconds since the Unix epoch.
    pub wall: i64,
}

impl Now {
    /// A reading of `mono` on the daemon's monotonic clock and `wall` Unix seconds.
    pub const fn new(mono: Duration, wall: i64) -> Self {
        Now { mono, wall }
    }

    /// The same reading moved forward by `by` on both clocks (wall-clock seconds are truncated sums).
    pub fn after(self, by: Duration) -> Self {
        let mono = self.mono + by;
        let wall_delta = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        Now {
            mono,
            wall: self.wall.saturating_add(wall_delta),
        }
    }
}
