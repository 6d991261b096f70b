//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4), written by hand from the
//! [`Telemetry`] atomics. Each family is written whole (HELP, TYPE, then every sample) as the format
//! requires; label values are escaped (`\\`, `\"`, `\n`).
//!
//! Per-process families keep the names of node_exporter's supervisord collector and Go supervisord
//! (`node_supervisord_*`, labels `name` and `group`) so existing dashboards keep working; everything
//! procd adds is `procd_*`, and procd's own resource use is Prometheus' standard `process_*`.
//! docs/metrics.md lists every family.

use std::fmt::Write;

use procd_protocol::api::METHODS;
use procd_protocol::{FaultCode, ProcessState};

use super::{ExitReason, ProcStats, Refusal, Telemetry, method_label, selfstat};

/// The media type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes one family at a time.
struct Out {
    buf: String,
}

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.buf, "# HELP {name} {help}");
        let _ = writeln!(self.buf, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Value) {
        self.buf.push_str(name);
        if !labels.is_empty() {
            self.buf.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                self.buf.push_str(k);
                self.buf.push_str("=\"");
                escape_label(&mut self.buf, v);
                self.buf.push('"');
            }
            self.buf.push('}');
        }
        self.buf.push(' ');
        value.write(&mut self.buf);
        self.buf.push('\n');
    }

    /// A sample of a per-process family: `labels` is the process's escaped `name="..",group=".."`
    /// (see [`process_labels`]), `extra` one more label, if any.
    fn process_sample(
        &mut self,
        name: &str,
        labels: &str,
        extra: Option<(&str, &str)>,
        value: impl Value,
    ) {
        self.buf.push_str(name);
        self.buf.push('{');
        self.buf.push_str(labels);
        if let Some((k, v)) = extra {
            self.buf.push(',');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_label(&mut self.buf, v);
            self.buf.push('"');
        }
        self.buf.push_str("} ");
        value.write(&mut self.buf);
        self.buf.push('\n');
    }

    /// One sample per process of a family labelled `name` and `group`.
    fn per_process(
        &mut self,
        procs: &[(std::sync::Arc<ProcStats>, String)],
        name: &str,
        kind: &str,
        help: &str,
        value: impl Fn(&ProcStats) -> Option<i64>,
    ) {
        self.family(name, kind, help);
        for (p, labels) in procs {
            if let Some(v) = value(p) {
                self.process_sample(name, labels, None, v);
            }
        }
    }
}

/// A process's `name` and `group` labels, escaped once per scrape and shared by all its samples.
fn process_labels(p: &ProcStats) -> String {
    let mut s = String::with_capacity(16 + p.name.len() + p.group.len());
    s.push_str("name=\"");
    escape_label(&mut s, &p.name);
    s.push_str("\",group=\"");
    escape_label(&mut s, &p.group);
    s.push('"');
    s
}

trait Value {
    fn write(&self, buf: &mut String);
}

impl Value for i64 {
    fn write(&self, buf: &mut String) {
        let _ = write!(buf, "{self}");
    }
}

impl Value for u64 {
    fn write(&self, buf: &mut String) {
        let _ = write!(buf, "{self}");
    }
}

impl Value for f64 {
    fn write(&self, buf: &mut String) {
        if self.is_finite() {
            let _ = write!(buf, "{self}");
        } else if self.is_nan() {
            buf.push_str("NaN");
        } else if *self > 0.0 {
            buf.push_str("+Inf");
        } else {
            buf.push_str("-Inf");
        }
    }
}

fn escape_label(buf: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        buf.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '"' => buf.push_str("\\\""),
            '\n' => buf.push_str("\\n"),
            c => buf.push(c),
        }
    }
}

/// Whether node_exporter's collector counts a state as up (it treats STARTING and STOPPING as up too).
fn is_up(state: ProcessState) -> bool {
    matches!(
        state,
        ProcessState::Starting | ProcessState::Running | ProcessState::Stopping
    )
}

/// Renders every metric.
pub fn render(t: &Telemetry) -> String {
    let procs: Vec<_> = t
        .processes()
        .into_iter()
        .map(|p| {
            let labels = process_labels(&p);
            (p, labels)
        })
        .collect();
    let mut out = Out {
        buf: String::with_capacity(4096 + procs.len() * 1400),
    };

    out.per_process(
        &procs,
        "node_supervisord_up",
        "gauge",
        "Whether the process is up: 1 in STARTING, RUNNING and STOPPING, else 0.",
        |p| Some(i64::from(is_up(p.state()))),
    );
    out.per_process(
        &procs,
        "node_supervisord_state",
        "gauge",
        "The process state as supervisord's numeric code (0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN).",
        |p| Some(i64::from(p.state().code())),
    );
    out.per_process(
        &procs,
        "node_supervisord_exit_status",
        "gauge",
        "The exit status of the process's last child (0 before the first exit).",
        |p| Some(i64::from(p.exit_status())),
    );
    out.per_process(
        &procs,
        "node_supervisord_start_time_seconds",
        "gauge",
        "Start time of the running child in seconds since the epoch (only while the process is up).",
        |p| is_up(p.state()).then(|| p.start_time()),
    );
    out.per_process(
        &procs,
        "procd_process_restarts_total",
        "counter",
        "Spawns after the first one since the process was added (autorestart, retries, restarts).",
        |p| Some(i64::try_from(p.restarts()).unwrap_or(i64::MAX)),
    );
    out.per_process(
        &procs,
        "procd_process_spawn_errors_total",
        "counter",
        "Spawn attempts that failed before a child existed (missing command, bad user, ...).",
        |p| Some(i64::try_from(p.spawn_errors()).unwrap_or(i64::MAX)),
    );

    let name = "procd_process_exits_total";
    out.family(
        name,
        "counter",
        "Children that ended, by reason: expected or unexpected exit code, too quickly (before startsecs), stopped by procd.",
    );
    for (p, labels) in &procs {
        for reason in ExitReason::ALL {
            out.process_sample(
                name,
                labels,
                Some(("reason", reason.label())),
                p.exits(reason),
            );
        }
    }

    for (name, help, lost) in [
        (
            "procd_process_log_bytes_total",
            "Bytes of child output written to the process's log file, by channel.",
            false,
        ),
        (
            "procd_process_log_lost_bytes_total",
            "Bytes of child output that could not be written to the log file (disk full, I/O error), by channel.",
            true,
        ),
    ] {
        out.family(name, "counter", help);
        for (p, labels) in &procs {
            for (channel, c) in [("stdout", &p.stdout), ("stderr", &p.stderr)] {
                let v = if lost {
                    c.lost_total()
                } else {
                    c.written_total()
                };
                out.process_sample(name, labels, Some(("channel", channel)), v);
            }
        }
    }

    let name = "procd_processes";
    out.family(name, "gauge", "Processes in each state.");
    let counts = state_counts(&procs);
    for (state, n) in ProcessState::ALL.iter().zip(counts) {
        out.sample(name, &[("state", state.name())], n);
    }

    let name = "procd_supervisor_state";
    out.family(
        name,
        "gauge",
        "The supervisor's state as supervisord's numeric code (1 RUNNING, 0 RESTARTING, -1 SHUTDOWN).",
    );
    out.sample(name, &[], i64::from(t.mood().code()));

    let name = "procd_rpc_calls_total";
    out.family(
        name,
        "counter",
        "XML-RPC calls by method (calls inside system.multicall count too; unknown names as \"unknown\").",
    );
    for (i, c) in t.rpc.calls.iter().enumerate() {
        let n = c.load(std::sync::atomic::Ordering::Relaxed);
        if n > 0 || i < METHODS.len() && METHODS[i].name.starts_with("supervisor.") {
            out.sample(name, &[("method", method_label(i))], n);
        }
    }
    let name = "procd_rpc_faults_total";
    out.family(
        name,
        "counter",
        "XML-RPC calls answered with a fault, by method and fault name.",
    );
    let faults: Vec<((usize, i32), u64)> = t
        .rpc
        .faults
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect();
    for ((method, code), n) in faults {
        let fault =
            FaultCode::from_code(code).map_or_else(|| code.to_string(), |f| f.name().to_owned());
        out.sample(
            name,
            &[("method", method_label(method)), ("fault", &fault)],
            n,
        );
    }

    let name = "procd_http_refused_total";
    out.family(
        name,
        "counter",
        "HTTP connections or requests refused by procd's limits, by reason.",
    );
    for why in Refusal::ALL {
        out.sample(
            name,
            &[("reason", why.label())],
            t.refused[why as usize].load(std::sync::atomic::Ordering::Relaxed),
        );
    }

    let own = selfstat::read();
    let standard: [(&str, &str, &str, Option<f64>); 6] = [
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent by procd in seconds.",
            own.cpu_seconds,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "procd's resident memory size in bytes.",
            own.resident_bytes.map(|v| v as f64),
        ),
        (
            "process_virtual_memory_bytes",
            "gauge",
            "procd's virtual memory size in bytes.",
            own.virtual_bytes.map(|v| v as f64),
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors of procd.",
            own.open_fds.map(|v| v as f64),
        ),
        (
            "process_max_fds",
            "gauge",
            "procd's limit on open file descriptors.",
            own.max_fds.map(|v| v as f64),
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of procd since the epoch in seconds.",
            own.start_time_seconds,
        ),
    ];
    for (name, kind, help, value) in standard {
        if let Some(v) = value {
            out.family(name, kind, help);
            out.sample(name, &[], v);
        }
    }
    out.buf
}

fn state_counts(procs: &[(std::sync::Arc<ProcStats>, String)]) -> [u64; 8] {
    let mut counts = [0u64; 8];
    for (p, _) in procs {
        if let Some(i) = ProcessState::ALL.iter().position(|s| *s == p.state()) {
            counts[i] += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut buf = String::new();
        escape_label(&mut buf, "a\\b\"c\nd");
        assert_eq!(buf, "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn samples_are_well_formed() {
        let mut out = Out { buf: String::new() };
        out.family("x_total", "counter", "Help.");
        out.sample("x_total", &[("name", "web"), ("group", "g")], 3u64);
        out.sample("y", &[], f64::INFINITY);
        out.sample("z", &[], 0.5f64);
        assert_eq!(
            out.buf,
            "# HELP x_total Help.\n# TYPE x_total counter\nx_total{name=\"web\",group=\"g\"} 3\ny +Inf\nz 0.5\n"
        );
    }

    #[test]
    fn process_samples_match_generic_samples() {
        let stats = ProcStats::new("g\"1", "we\\b\n", false);
        let labels = process_labels(&stats);
        let mut fast = Out { buf: String::new() };
        fast.process_sample("a", &labels, None, 1i64);
        fast.process_sample("b", &labels, Some(("reason", "x\"y")), 2u64);
        let mut generic = Out { buf: String::new() };
        generic.sample("a", &[("name", &stats.name), ("group", &stats.group)], 1i64);
        generic.sample(
            "b",
            &[
                ("name", &stats.name),
                ("group", &stats.group),
                ("reason", "x\"y"),
            ],
            2u64,
        );
        assert_eq!(fast.buf, generic.buf);
        assert!(
            fast.buf
                .starts_with("a{name=\"we\\\\b\\n\",group=\"g\\\"1\"} 1\n")
        );
    }
}
