//! procd's service-policy extension keys for program sections (issue 18): environment files, timestamped
//! or JSON child logs, restart backoff and `kill_mode`. supervisord 4.3.0 ignores them; without them a
//! program behaves exactly as under supervisord. `docs/extensions.md` documents each key.

use std::time::Duration;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::envfile::{self, EnvFile};
use crate::expand::Names;

/// The policy keys of program-like sections (known keys: they are not kept in `extra`).
pub const POLICY_KEYS: &[&str] = &[
    "environment_file",
    "stdout_log_timestamp",
    "stdout_log_format",
    "stderr_log_timestamp",
    "stderr_log_format",
    "restart_delay",
    "restart_max_delay",
    "restart_steps",
    "restart_reset_after",
    "restart_forever",
    "kill_mode",
];

/// `*_log_timestamp=`: the stamp put in front of each line written to a child log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogTimestamp {
    /// `2026-12-03T14:32:55.123Z` (UTC).
    Rfc3339,
    /// `2026-12-03T15:32:55.123+01:00` (local time with its offset).
    Iso8601,
    /// `1764772375.123` (Unix seconds).
    Epoch,
}

/// `*_log_format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum LogFormat {
    /// The bytes as written (with a timestamp per line if `*_log_timestamp` is set).
    #[default]
    Text,
    /// One JSON object per line: `{"time":...,"program":...,"stream":...,"line":...}`.
    Json,
}

/// How stopping kills a process's descendants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KillMode {
    /// Signals go to the process only (`stopasgroup=false`, `killasgroup=false`).
    Process,
    /// Signals go to the process group (`stopasgroup=true`, `killasgroup=true`).
    Group,
    /// Each process runs in its own cgroup v2; what is left after the stop is killed with `cgroup.kill`.
    Cgroup,
}

/// Restart backoff (systemd 254's `RestartSec=`/`RestartSteps=`/`RestartMaxDelaySec=`, pm2's
/// `exp_backoff_restart_delay`). All `None`/0/false: supervisord's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RestartBackoff {
    /// `restart_delay`: the first wait.
    pub delay: Option<Duration>,
    /// `restart_max_delay`: the cap the waits grow to.
    pub max_delay: Option<Duration>,
    /// `restart_steps`: how many waits it takes to grow from `delay` to `max_delay`.
    pub steps: u32,
    /// `restart_reset_after`: this much uptime starts the sequence again.
    pub reset_after: Option<Duration>,
    /// `restart_forever`: retry failed starts forever instead of entering FATAL after `startretries`.
    pub forever: bool,
}

impl RestartBackoff {
    /// Whether any backoff key is set (otherwise supervisord's 1, 2, 3 s sequence applies).
    pub fn is_set(&self) -> bool {
        self.delay.is_some() || self.max_delay.is_some() || self.reset_after.is_some()
    }
}

/// A duration: seconds (`5`, `0.25`) or a number with a unit: `ms`, `s`, `min` (or `m`), `h`.
pub fn duration(v: &str) -> Result<Duration, String> {
    let t = v.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "s" | "sec" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("not a duration: {}", crate::pyrepr::repr(v))),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {}", crate::pyrepr::repr(v)))?;
    Duration::try_from_secs_f64(n * scale)
        .map_err(|_| format!("not a duration: {}", crate::pyrepr::repr(v)))
}

fn timestamp(v: &str) -> Result<Option<LogTimestamp>, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "none" | "false" => Ok(None),
        "rfc3339" => Ok(Some(LogTimestamp::Rfc3339)),
        "iso8601" => Ok(Some(LogTimestamp::Iso8601)),
        "epoch" => Ok(Some(LogTimestamp::Epoch)),
        _ => Err(format!(
            "invalid log timestamp {} (rfc3339, iso8601, epoch or none)",
            crate::pyrepr::repr(v)
        )),
    }
}

fn format(v: &str) -> Result<LogFormat, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!(
            "invalid log format {} (text or json)",
            crate::pyrepr::repr(v)
        )),
    }
}

fn kill_mode(v: &str) -> Result<Option<KillMode>, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "process" => Ok(Some(KillMode::Process)),
        "group" => Ok(Some(KillMode::Group)),
        "cgroup" => Ok(Some(KillMode::Cgroup)),
        _ => Err(format!(
            "invalid kill_mode {} (process, group or cgroup)",
            crate::pyrepr::repr(v)
        )),
    }
}

/// The policy keys of one process, read with the same expansion and error reporting as the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Policies {
    pub environment_files: Vec<EnvFile>,
    /// `[stdout, stderr]`.
    pub timestamps: [Option<LogTimestamp>; 2],
    pub formats: [LogFormat; 2],
    pub restart: RestartBackoff,
    pub kill_mode: Option<KillMode>,
}

pub(crate) fn read(cx: &mut Ctx<'_>, section: &str, names: &Names) -> Policies {
    let environment_files = cx.typed(section, "environment_file", names, Vec::new(), |v| {
        envfile::parse_list(v)
    });
    let mut timestamps = [None, None];
    let mut formats = [LogFormat::Text; 2];
    for (i, chan) in ["stdout", "stderr"].into_iter().enumerate() {
        timestamps[i] = cx.typed(
            section,
            &std::format!("{chan}_log_timestamp"),
            names,
            None,
            timestamp,
        );
        formats[i] = cx.typed(
            section,
            &std::format!("{chan}_log_format"),
            names,
            LogFormat::Text,
            format,
        );
    }
    let some_duration = |v: &str| duration(v).map(Some);
    let restart = RestartBackoff {
        delay: cx.typed(section, "restart_delay", names, None, some_duration),
        max_delay: cx.typed(section, "restart_max_delay", names, None, some_duration),
        steps: cx.typed(
            section,
            "restart_steps",
            names,
            0,
            crate::values::unsigned::<u32>,
        ),
        reset_after: cx.typed(section, "restart_reset_after", names, None, some_duration),
        forever: cx.typed(
            section,
            "restart_forever",
            names,
            false,
            crate::values::boolean,
        ),
    };
    if let (Some(d), Some(m)) = (restart.delay, restart.max_delay)
        && m < d
    {
        cx.error(
            section,
            Some("restart_max_delay"),
            "restart_max_delay must not be less than restart_delay",
        );
    }
    if restart.steps > 0 && restart.max_delay.is_none() {
        cx.error(
            section,
            Some("restart_steps"),
            "restart_steps needs restart_max_delay (the delay the steps grow to)",
        );
    }
    let kill_mode = cx.typed(section, "kill_mode", names, None, kill_mode);
    Policies {
        environment_files,
        timestamps,
        formats,
        restart,
        kill_mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("5", 5000),
            ("0.25", 250),
            ("100ms", 100),
            ("2s", 2000),
            ("1.5 s", 1500),
            ("1min", 60_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("0", 0),
        ];
        for (text, ms) in ok {
            assert_eq!(duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for bad in ["", "x", "5 days", "-1", "1..2"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn value_words() {
        assert_eq!(timestamp("RFC3339"), Ok(Some(LogTimestamp::Rfc3339)));
        assert_eq!(timestamp("iso8601"), Ok(Some(LogTimestamp::Iso8601)));
        assert_eq!(timestamp("epoch"), Ok(Some(LogTimestamp::Epoch)));
        assert_eq!(timestamp("none"), Ok(None));
        assert!(timestamp("unix").is_err());
        assert_eq!(format("json"), Ok(LogFormat::Json));
        assert_eq!(format("text"), Ok(LogFormat::Text));
        assert!(format("xml").is_err());
        assert_eq!(kill_mode("cgroup"), Ok(Some(KillMode::Cgroup)));
        assert!(kill_mode("mixed").is_err());
    }
}
