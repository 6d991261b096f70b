//! Waiting on a condition with a deadline: the only way tests synchronise with a daemon.

use std::time::{Duration, Instant};

/// What a polled condition returns: `bool` (done or not) or `Option<T>` (done with a value).
pub trait Condition {
    /// What [`wait_until`] returns once the condition holds.
    type Output;
    /// `Some` once the condition holds.
    fn check(self) -> Option<Self::Output>;
}

impl Condition for bool {
    type Output = ();
    fn check(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Condition for Option<T> {
    type Output = T;
    fn check(self) -> Option<T> {
        self
    }
}

/// Polls `cond` every 10 ms until it holds, and returns its value; panics at the caller, naming
/// `what`, once `timeout` has passed.
#[track_caller]
pub fn wait_until<C: Condition>(
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut() -> C,
) -> C::Output {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = cond().check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_once_the_condition_holds() {
        let mut n = 0;
        let got = wait_until(Duration::from_secs(5), "n to reach 3", || {
            n += 1;
            (n >= 3).then_some(n)
        });
        assert_eq!(got, 3);
        let mut calls = 0;
        wait_until(Duration::from_secs(5), "two calls", || {
            calls += 1;
            calls == 2
        });
        assert_eq!(calls, 2);
    }

    #[test]
    #[should_panic(expected = "timed out after 30ms waiting for never")]
    fn panics_with_what_after_the_deadline() {
        wait_until(Duration::from_millis(30), "never", || false);
    }
}
