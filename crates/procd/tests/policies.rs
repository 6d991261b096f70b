//! End-to-end tests of procd's service-policy extensions (issue 18) with real processes: environment
//! files, timestamped and JSON child logs, restart backoff, `kill_mode = cgroup` and crash-safe restart.

#[path = "policies/backoff.rs"]
mod backoff;
#[path = "policies/cgroup.rs"]
mod cgroup;
mod common;
#[path = "policies/crash.rs"]
mod crash;
#[path = "policies/envfile.rs"]
mod envfile;
#[path = "policies/logs.rs"]
mod logs;
