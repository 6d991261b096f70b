//! End-to-end tests of procd's supervision engine with real processes: lifecycle timing, stopping,
//! groups and ordering, how children are spawned, reaping, the daemon's signals and main log, and a
//! differential run against the reference supervisord 4.3.0.
//!
//! Every wait has a deadline ([`common::wait_until`]); timing assertions use the main log's millisecond
//! timestamps with tolerances. Each test has its own temp dir, and the daemon guard kills the daemon and
//! every descendant when the test ends, passes or panics.

mod common;
#[path = "engine/daemon.rs"]
mod daemon;
#[path = "engine/diff.rs"]
mod diff;
#[path = "engine/lifecycle.rs"]
mod lifecycle;
#[path = "engine/measure.rs"]
mod measure;
#[path = "engine/readiness.rs"]
mod readiness;
#[path = "engine/spawn.rs"]
mod spawn;
#[path = "engine/stop.rs"]
mod stop;
