//! Restart backoff (procd extension, issue 18): the waits before automatic restarts, after systemd 254's
//! `RestartSec=` / `RestartSteps=` / `RestartMaxDelaySec=` and pm2's `exp_backoff_restart_delay`.
//!
//! Without any key ([`Backoff::is_set`] false) the state machine keeps supervisord's rules exactly: a
//! failed start waits 1, 2, 3 … s (the BACKOFF counter) and an autorestart after RUNNING happens at once.
//! With keys, every automatic restart (a BACKOFF retry or an autorestart) is attempt *n* of one sequence,
//! waiting [`Backoff::delay_for`]`(n)`; a run that lasted [`Backoff::reset_after`] starts the sequence
//! again.

use std::time::Duration;

/// The backoff keys of one program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backoff {
    /// `restart_delay`: the first wait (1 s when only `restart_max_delay` is set).
    pub delay: Option<Duration>,
    /// `restart_max_delay`: the cap.
    pub max_delay: Option<Duration>,
    /// `restart_steps`: waits from `delay` to `max_delay` (exponential interpolation, as systemd). 0 with a
    /// cap: the wait doubles each attempt up to the cap.
    pub steps: u32,
    /// `restart_reset_after`: uptime after which the sequence starts again (default: the cap).
    pub reset: Option<Duration>,
    /// `restart_forever`: failed starts are retried forever instead of ending in FATAL.
    pub forever: bool,
}

impl Backoff {
    /// Whether restart waits follow this sequence (otherwise supervisord's rules apply).
    pub fn is_set(&self) -> bool {
        self.delay.is_some() || self.max_delay.is_some()
    }

    fn base(&self) -> Duration {
        self.delay.unwrap_or(Duration::from_secs(1))
    }

    /// The wait before automatic restart `attempt` (1 for the first).
    pub fn delay_for(&self, attempt: u32) -> Duration {
        let base = self.base();
        let n = attempt.saturating_sub(1);
        let Some(max) = self.max_delay.filter(|m| *m > base) else {
            return base;
        };
        if base.is_zero() {
            return if n == 0 { base } else { max };
        }
        let secs = if self.steps == 0 {
            base.as_secs_f64() * 2f64.powi(i32::try_from(n.min(64)).unwrap_or(64))
        } else if n >= self.steps {
            max.as_secs_f64()
        } else {
            let ratio = max.as_secs_f64() / base.as_secs_f64();
            base.as_secs_f64() * ratio.powf(f64::from(n) / f64::from(self.steps))
        };
        let ms = (secs * 1000.0).round();
        Duration::from_millis(ms as u64).clamp(base, max)
    }

    /// The uptime that resets the sequence: `restart_reset_after`, else the longest wait.
    pub fn reset_after(&self) -> Duration {
        self.reset
            .unwrap_or_else(|| self.max_delay.unwrap_or(self.base()).max(self.base()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn seq(b: &Backoff, n: u32) -> Vec<u64> {
        (1..=n)
            .map(|a| u64::try_from(b.delay_for(a).as_millis()).unwrap())
            .collect()
    }

    #[test]
    fn delay_sequences() {
        let table: &[(Backoff, &[u64])] = &[
            // Fixed delay.
            (
                Backoff {
                    delay: Some(ms(500)),
                    ..Backoff::default()
                },
                &[500, 500, 500, 500],
            ),
            // Doubling up to the cap.
            (
                Backoff {
                    delay: Some(s(1)),
                    max_delay: Some(s(10)),
                    ..Backoff::default()
                },
                &[1000, 2000, 4000, 8000, 10_000, 10_000],
            ),
            // systemd: RestartSec=1 RestartSteps=4 RestartMaxDelaySec=16 -> 1, 2, 4, 8, 16, 16.
            (
                Backoff {
                    delay: Some(s(1)),
                    max_delay: Some(s(16)),
                    steps: 4,
                    ..Backoff::default()
                },
                &[1000, 2000, 4000, 8000, 16_000, 16_000],
            ),
            // Interpolated steps: 100 ms to 1 s in 2 steps -> 100, 316, 1000.
            (
                Backoff {
                    delay: Some(ms(100)),
                    max_delay: Some(s(1)),
                    steps: 2,
                    ..Backoff::default()
                },
                &[100, 316, 1000, 1000],
            ),
            // Only the cap: the first wait is 1 s.
            (
                Backoff {
                    max_delay: Some(s(3)),
                    ..Backoff::default()
                },
                &[1000, 2000, 3000],
            ),
            // A cap below the first wait never shortens it.
            (
                Backoff {
                    delay: Some(s(5)),
                    max_delay: Some(s(2)),
                    ..Backoff::default()
                },
                &[5000, 5000],
            ),
            // Zero first wait with a cap: at once, then the cap.
            (
                Backoff {
                    delay: Some(ms(0)),
                    max_delay: Some(s(2)),
                    steps: 3,
                    ..Backoff::default()
                },
                &[0, 2000, 2000],
            ),
        ];
        for (b, want) in table {
            assert_eq!(seq(b, want.len() as u32), *want, "{b:?}");
        }
    }

    #[test]
    fn huge_attempt_numbers_stay_at_the_cap() {
        let b = Backoff {
            delay: Some(s(1)),
            max_delay: Some(s(60)),
            ..Backoff::default()
        };
        assert_eq!(b.delay_for(u32::MAX), s(60));
        assert_eq!(b.delay_for(0), s(1));
    }

    #[test]
    fn set_and_reset() {
        assert!(!Backoff::default().is_set());
        let forever_only = Backoff {
            forever: true,
            ..Backoff::default()
        };
        assert!(!forever_only.is_set());
        let b = Backoff {
            delay: Some(s(2)),
            max_delay: Some(s(30)),
            ..Backoff::default()
        };
        assert!(b.is_set());
        assert_eq!(b.reset_after(), s(30));
        let fixed = Backoff {
            delay: Some(s(2)),
            ..Backoff::default()
        };
        assert_eq!(fixed.reset_after(), s(2));
        let explicit = Backoff {
            reset: Some(s(90)),
            ..b
        };
        assert_eq!(explicit.reset_after(), s(90));
    }
}
