//! Results model, the text tables printed to stdout, and the JSON document written to `--out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Which direction of a metric is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Better {
    Lower,
    Higher,
    /// Context only (e.g. the benchmark client's own CPU use).
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Metric {
    pub name: String,
    pub unit: String,
    pub better: Better,
    pub value: f64,
}

impl Metric {
    pub(crate) fn new(name: &str, unit: &str, better: Better, value: f64) -> Self {
        Metric {
            name: name.into(),
            unit: unit.into(),
            better,
            value,
        }
    }
}

/// One daemon's outcome in one scenario. A failed result may still carry the metrics measured before
/// the failure.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Outcome {
    pub ok: bool,
    pub error: Option<String>,
    pub metrics: Vec<Metric>,
}

impl Outcome {
    pub(crate) fn ok(metrics: Vec<Metric>) -> Self {
        Outcome {
            ok: true,
            error: None,
            metrics,
        }
    }

    pub(crate) fn failed(error: impl Into<String>, metrics: Vec<Metric>) -> Self {
        Outcome {
            ok: false,
            error: Some(error.into()),
            metrics,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Scenario {
    pub id: u8,
    pub title: String,
    /// Outcome per daemon name.
    pub results: BTreeMap<String, Outcome>,
    /// Physical limits measured without any daemon, keyed by the metric name they bound.
    pub limits: BTreeMap<String, f64>,
}

/// The two daemons, in column order.
pub(crate) const COLUMNS: [&str; 2] = ["procd", "supervisord"];

/// `procd / supervisord`, when both exist and the divisor is not zero.
pub(crate) fn ratio(procd: Option<f64>, supervisord: Option<f64>) -> Option<f64> {
    match (procd, supervisord) {
        (Some(p), Some(s)) if s != 0.0 && p.is_finite() && s.is_finite() => Some(p / s),
        _ => None,
    }
}

/// A value with three significant digits (integers and values of 100 or more without decimals).
pub(crate) fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 100.0 || (v == v.trunc() && a < 1e15) {
        return format!("{v:.0}");
    }
    let decimals = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// The text table of one scenario; `daemons` are the columns that ran.
pub(crate) fn table(s: &Scenario, daemons: &[&str]) -> String {
    let mut names: Vec<(String, String, Better)> = Vec::new();
    for d in COLUMNS {
        for m in s
            .results
            .get(d)
            .map(|o| o.metrics.as_slice())
            .unwrap_or_default()
        {
            if !names.iter().any(|(n, _, _)| *n == m.name) {
                names.push((m.name.clone(), m.unit.clone(), m.better));
            }
        }
    }
    let cell = |d: &str, name: &str| -> Option<f64> {
        let o = s.results.get(d)?;
        o.metrics.iter().find(|m| m.name == name).map(|m| m.value)
    };
    let mut rows = vec![vec![
        "metric".to_owned(),
        "procd".to_owned(),
        "supervisord".to_owned(),
        "procd/supervisord".to_owned(),
        "limit".to_owned(),
    ]];
    for (name, unit, better) in &names {
        let label = match better {
            Better::Lower => format!("{name} [{unit}, lower=better]"),
            Better::Higher => format!("{name} [{unit}, higher=better]"),
            Better::Info => format!("{name} [{unit}]"),
        };
        let show = |d: &str| match (daemons.contains(&d), cell(d, name)) {
            (false, _) => "not run".to_owned(),
            (true, Some(v)) => fmt_value(v),
            (true, None) => match s.results.get(d) {
                Some(o) if !o.ok => "FAILED".to_owned(),
                _ => "-".to_owned(),
            },
        };
        let r = match better {
            Better::Info => None,
            _ => ratio(cell("procd", name), cell("supervisord", name)),
        };
        let r = r.map_or_else(|| "-".into(), |r| format!("{}x", fmt_value(r)));
        let limit = s
            .limits
            .get(name)
            .map_or_else(|| "-".into(), |v| fmt_value(*v));
        rows.push(vec![label, show("procd"), show("supervisord"), r, limit]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = format!("== {}. {} ==\n", s.id, s.title);
    for row in &rows {
        for (i, (w, c)) in widths.iter().zip(row).enumerate() {
            if i == 0 {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "  {c:>w$}");
            }
        }
        out.push('\n');
    }
    for d in COLUMNS {
        if let Some(Outcome {
            ok: false,
            error: Some(e),
            ..
        }) = s.results.get(d)
        {
            let _ = writeln!(out, "  {d} FAILED: {}", e.lines().next().unwrap_or(""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_cases() {
        assert_eq!(ratio(Some(2.0), Some(4.0)), Some(0.5));
        assert_eq!(ratio(Some(2.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
        assert_eq!(ratio(Some(1.0), None), None);
    }

    #[test]
    fn value_formatting() {
        for (v, s) in [
            (1234.56, "1235"),
            (12.345, "12.3"),
            (1.2345, "1.23"),
            (0.01234, "0.0123"),
            (0.000123456, "0.000123"),
            (-0.23, "-0.230"),
            (0.0, "0"),
            (3.0, "3"),
            (f64::NAN, "-"),
        ] {
            assert_eq!(fmt_value(v), s, "{v}");
        }
    }

    #[test]
    fn table_shows_values_ratio_limit_and_failures() {
        let mut results = BTreeMap::new();
        results.insert(
            "supervisord".to_owned(),
            Outcome::ok(vec![Metric::new(
                "throughput",
                "MiB/s",
                Better::Higher,
                100.0,
            )]),
        );
        results.insert(
            "procd".to_owned(),
            Outcome::failed(
                "bytes lost: 16",
                vec![Metric::new("throughput", "MiB/s", Better::Higher, 250.0)],
            ),
        );
        let mut limits = BTreeMap::new();
        limits.insert("throughput".to_owned(), 900.0);
        let s = Scenario {
            id: 7,
            title: "output".into(),
            results,
            limits,
        };
        let t = table(&s, &["procd", "supervisord"]);
        assert!(t.starts_with("== 7. output ==\n"), "{t}");
        let row = t
            .lines()
            .find(|l| l.starts_with("throughput"))
            .expect("row");
        let cells: Vec<&str> = row
            .split("  ")
            .filter(|c| !c.trim().is_empty())
            .map(str::trim)
            .collect();
        assert_eq!(
            cells,
            [
                "throughput [MiB/s, higher=better]",
                "250",
                "100",
                "2.50x",
                "900"
            ]
        );
        assert!(t.contains("procd FAILED: bytes lost: 16"));

        let t = table(&s, &["supervisord"]);
        assert!(t.contains("not run"), "{t}");
    }
}
