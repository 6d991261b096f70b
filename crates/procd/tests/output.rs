//! Child output end to end: real programs under a real procd, checked byte for byte on disk and over
//! XML-RPC / HTTP on the unix socket. Rotation, special targets, a full disk, stdin, read/tail/clear,
//! SIGUSR2 reopen, `/logtail` across rotation and `*_syslog`.

#[path = "common/mod.rs"]
mod common;

#[path = "output/diskfull.rs"]
mod diskfull;
#[path = "output/fds.rs"]
mod fds;
#[path = "output/files.rs"]
mod files;
#[path = "output/read.rs"]
mod read;
#[path = "output/rotation.rs"]
mod rotation;
#[path = "output/stdin.rs"]
mod stdin;
#[path = "output/syslog.rs"]
mod syslog;
#[path = "output/tail.rs"]
mod tail;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Fixture, wait_until};
use procd_protocol::{Fault, Value};

/// Generous: the machine is shared and tests run in parallel.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A `[program:x]` section that starts at once, counts as running immediately and is not restarted.
pub fn program(name: &str, command: &str, extra: &str) -> String {
    format!(
        "[program:{name}]\ncommand={command}\nautostart=true\nautorestart=false\nstartsecs=0\n{extra}\n"
    )
}

pub fn s(v: &str) -> Value {
    Value::String(v.into())
}

pub fn int(v: i32) -> Value {
    Value::Int(v)
}

/// The fault code of a call that must fail.
#[track_caller]
pub fn fault_code(r: Result<Value, Fault>) -> i32 {
    match r {
        Ok(v) => panic!("expected a fault, got {v:?}"),
        Err(f) => f.code,
    }
}

/// What `seq 1 n` prints.
pub fn seq_bytes(n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 1..=n {
        out.extend_from_slice(format!("{i}\n").as_bytes());
    }
    out
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Waits until `path` holds bytes satisfying `pred`; returns them.
#[track_caller]
pub fn wait_file(path: &Path, what: &str, pred: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    wait_until(DEADLINE, what, || {
        let data = read(path);
        pred(&data).then_some(data)
    })
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `path.N`.
pub fn backup(path: &Path, n: u32) -> PathBuf {
    PathBuf::from(format!("{}.{n}", path.display()))
}

/// Backups `.max` ... `.1` then the current file, concatenated.
pub fn rotated_set(path: &Path, max: u32) -> Vec<u8> {
    let mut all = Vec::new();
    for n in (1..=max).rev() {
        all.extend_from_slice(&read(&backup(path, n)));
    }
    all.extend_from_slice(&read(path));
    all
}

/// A fixture with `programs` as the config's sections, started.
pub(crate) fn start(programs: &str) -> (Fixture, common::Daemon) {
    let fx = Fixture::new();
    fx.write_conf("", programs);
    let d = fx.start();
    (fx, d)
}
