//! Shared pieces of the event tests: the Python interpreter with `supervisor` installed, a recording
//! listener written with `supervisor.childutils`, and a reader for what it recorded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use crate::common::{Fixture, wait_until};

/// The reference Python (has `supervisor` and `superlance`); a missing one fails the test.
#[track_caller]
pub(crate) fn python() -> String {
    crate::common::reference("python").display().to_string()
}

/// A superlance script of the reference installation.
#[track_caller]
pub(crate) fn venv_bin(name: &str) -> PathBuf {
    crate::common::reference(name)
}

/// A listener built on `supervisor.childutils` that appends one JSON line per event to `argv[1]`:
/// `{"h": headers, "p": payload, "rpc": ...}`. `argv[2]` is a comma list of behaviours:
/// `fail1` answers FAIL the first time it sees a serial, `die1` exits without answering on its first
/// event ever (a marker file remembers), `gate` waits for `<out>.go` before its first READY,
/// `rpc` calls back over XML-RPC (SUPERVISOR_SERVER_URL) on REMOTE_COMMUNICATION events.
pub(crate) const RECORDER: &str = r#"
import json, os, signal, sys, time
from supervisor import childutils

out, modes = sys.argv[1], set(sys.argv[2].split(',')) if len(sys.argv) > 2 else set()
busy = False
def on_term(sig, frame):
    if not busy:
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
if 'gate' in modes:
    while not os.path.exists(out + '.go'):
        time.sleep(0.02)
seen = set()
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    busy = True
    rec = {'h': headers, 'p': payload, 'env': os.environ.get('SUPERVISOR_SERVER_URL')}
    if 'rpc' in modes and headers['eventname'] == 'REMOTE_COMMUNICATION':
        rpc = childutils.getRPCInterface(os.environ)
        rec['rpc'] = {'state': rpc.supervisor.getState()['statename'],
                      'pid': rpc.supervisor.getPID()}
    with open(out, 'a') as f:
        f.write(json.dumps(rec) + '\n')
    if 'die1' in modes and not os.path.exists(out + '.died'):
        open(out + '.died', 'w').close()
        os._exit(1)
    if 'fail1' in modes and headers['serial'] not in seen:
        seen.add(headers['serial'])
        childutils.listener.fail(sys.stdout)
    else:
        childutils.listener.ok(sys.stdout)
    busy = False
"#;

/// Writes the recorder script into the fixture; returns its path.
pub(crate) fn write_recorder(f: &Fixture) -> PathBuf {
    let p = f.path("recorder.py");
    std::fs::write(&p, RECORDER).expect("write recorder");
    p
}

/// One recorded envelope.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub headers: Json,
    pub payload: String,
    pub raw: Json,
}

impl Rec {
    pub(crate) fn name(&self) -> &str {
        self.header("eventname")
    }

    pub(crate) fn header(&self, key: &str) -> &str {
        self.headers.get(key).and_then(Json::as_str).unwrap_or("")
    }

    /// The payload's first-line `key:value` tokens (everything for payloads without data).
    pub(crate) fn tokens(&self) -> Vec<(String, String)> {
        let head = self.payload.split('\n').next().unwrap_or("");
        head.split(' ')
            .filter_map(|t| t.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    pub(crate) fn token(&self, key: &str) -> Option<String> {
        self.tokens()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The data after the first newline of the payload.
    pub(crate) fn data(&self) -> &str {
        self.payload.split_once('\n').map_or("", |(_, d)| d)
    }
}

/// Everything recorded so far in `path`.
pub(crate) fn read_recs(path: &Path) -> Vec<Rec> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .map(|raw| Rec {
            headers: raw.get("h").cloned().unwrap_or(Json::Null),
            payload: raw.get("p").and_then(Json::as_str).unwrap_or("").to_owned(),
            raw,
        })
        .collect()
}

/// Waits until a recorded event satisfies `pred`; returns every record at that moment.
#[track_caller]
pub(crate) fn wait_rec(
    path: &Path,
    deadline: Duration,
    what: &str,
    pred: impl Fn(&Rec) -> bool,
) -> Vec<Rec> {
    wait_until(deadline, what, || {
        let recs = read_recs(path);
        recs.iter().any(&pred).then_some(recs)
    })
}
