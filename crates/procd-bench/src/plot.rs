//! The `--scale` charts: one SVG per metric against N (log scale), one series per daemon and log
//! mode. A value that was never measured (the row was not run, or failed before that measurement)
//! leaves a gap in its series, never a zero; what a failed row measured before it failed is drawn.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::scenarios::scale::{COLUMNS, Logs, Row, column_key};

/// One line of a chart: its label and a value (or a gap) at each N.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub label: String,
    pub points: Vec<(usize, Option<f64>)>,
}

/// The series a chart of column `col` gets: procd then supervisord, each with NONE then own logs
/// (only those with at least one row), each over every N of any row, ascending. A missing row or a
/// value not measured (also in a row that failed before measuring it) is `None`.
pub(crate) fn series(rows: &[Row], col: usize) -> Vec<Series> {
    let mut ns: Vec<usize> = rows.iter().map(|r| r.n).collect();
    ns.sort_unstable();
    ns.dedup();
    let mut out = Vec::new();
    for daemon in ["procd", "supervisord"] {
        for logs in [Logs::None, Logs::Own] {
            let mine: Vec<&Row> = rows
                .iter()
                .filter(|r| r.daemon == daemon && r.logs == logs)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let points = ns
                .iter()
                .map(|&n| {
                    let v = mine
                        .iter()
                        .find(|r| r.n == n)
                        .and_then(|r| r.values.get(col).copied().flatten())
                        .filter(|v| v.is_finite());
                    (n, v)
                })
                .collect();
            out.push(Series {
                label: format!("{daemon}, {}", logs.name()),
                points,
            });
        }
    }
    out
}

/// The unbroken runs of a series: a gap ends a segment.
pub(crate) fn segments(points: &[(usize, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for &(n, v) in points {
        match v {
            Some(v) => current.push((n as f64, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The chart's file name for column `col`: `scale-<name>.svg`, the name in lower case with runs of
/// other characters as one `-`.
pub(crate) fn file_name(col: usize) -> String {
    let mut slug = String::new();
    for c in COLUMNS[col].0.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("scale-{}.svg", slug.trim_end_matches('-'))
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
];

/// Draws one chart per column that has at least one value into `dir`; returns the files written.
pub(crate) fn draw_all(rows: &[Row], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for col in 0..COLUMNS.len() {
        let s = series(rows, col);
        let values: Vec<f64> = s
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
            .collect();
        if values.is_empty() {
            continue;
        }
        let path = dir.join(file_name(col));
        draw(&s, col, &values, &path)?;
        written.push(path);
    }
    Ok(written)
}

fn draw(series: &[Series], col: usize, values: &[f64], path: &Path) -> Result<()> {
    let ns: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0 as f64))
        .collect();
    let lo = ns.iter().copied().fold(f64::INFINITY, f64::min) / 1.5;
    let hi = ns.iter().copied().fold(0.0, f64::max) * 1.5;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    let title = format!("{} against N", column_key(col));
    let unit = match COLUMNS[col].1 {
        "" => "count",
        u => u,
    };
    // Values spanning more than 5x on a positive scale get a log y axis too.
    if min > 0.0 && max / min > 5.0 {
        // From a power of ten: plotters labels a log axis only from its first power of ten on.
        let floor = 10f64.powf((min / 1.5).log10().floor());
        let y = (floor..max * 1.5).log_scale();
        chart(series, &title, unit, lo..hi, y, path)
    } else {
        let top = if max > 0.0 { max * 1.15 } else { 1.0 };
        chart(series, &title, unit, lo..hi, 0.0..top, path)
    }
}

fn chart<Y>(
    series: &[Series],
    title: &str,
    unit: &str,
    x: std::ops::Range<f64>,
    y: Y,
    path: &Path,
) -> Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x.log_scale(), y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("N (programs, log scale)")
        .y_desc(unit)
        .y_labels(12)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| crate::report::fmt_value(*v))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut labelled = false;
        for seg in segments(&s.points) {
            let drawn = chart
                .draw_series(LineSeries::new(seg.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?;
            if !labelled {
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
                labelled = true;
            }
            chart
                .draw_series(seg.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::scale::col;

    fn row(daemon: &str, logs: Logs, n: usize, load: Option<f64>, failed: bool) -> Row {
        let mut values = vec![None; COLUMNS.len()];
        values[col::LOAD] = load;
        Row {
            daemon: daemon.into(),
            logs,
            n,
            values,
            error: failed.then(|| "over 60 s".to_owned()),
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row("procd", Logs::None, 100, Some(5.0), false),
            row("procd", Logs::None, 1000, Some(8.0), false),
            row("procd", Logs::None, 10_000, Some(30.0), false),
            row("supervisord", Logs::None, 100, Some(50.0), false),
            // Failed with nothing measured; 10,000 never tried.
            row("supervisord", Logs::None, 1000, None, true),
            row("supervisord", Logs::Own, 100, Some(60.0), false),
        ]
    }

    #[test]
    fn series_per_daemon_and_log_mode_over_every_n() {
        let s = series(&rows(), col::LOAD);
        let labels: Vec<&str> = s.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["procd, NONE", "supervisord, NONE", "supervisord, own log"]
        );
        assert_eq!(
            s[0].points,
            [(100, Some(5.0)), (1000, Some(8.0)), (10_000, Some(30.0))]
        );
        // The failed row and the row never run are gaps, not zeros.
        assert_eq!(
            s[1].points,
            [(100, Some(50.0)), (1000, None), (10_000, None)]
        );
        assert_eq!(
            s[2].points,
            [(100, Some(60.0)), (1000, None), (10_000, None)]
        );
    }

    #[test]
    fn a_failed_row_splits_the_line() {
        let mut r = rows();
        // procd fails at 1,000 but is measured at 10,000 again.
        r[1] = row("procd", Logs::None, 1000, None, true);
        let s = series(&r, col::LOAD);
        assert_eq!(
            segments(&s[0].points),
            vec![vec![(100.0, 5.0)], vec![(10_000.0, 30.0)]]
        );
        assert_eq!(
            segments(&[(1, None), (2, None)]),
            Vec::<Vec<(f64, f64)>>::new()
        );
        // What a failed row measured before it failed is drawn; what it did not is a gap.
        r[1].values[col::LOAD] = Some(9.0);
        let s = series(&r, col::LOAD);
        assert_eq!(s[0].points[1], (1000, Some(9.0)));
        assert_eq!(series(&r, col::SHUTDOWN)[0].points[1], (1000, None));
        // A value that is not a number is a gap too.
        r[0].values[col::LOAD] = Some(f64::NAN);
        assert_eq!(series(&r, col::LOAD)[0].points[0], (100, None));
    }

    #[test]
    fn file_names_are_slugs() {
        assert_eq!(file_name(col::START_ALL), "scale-startall-wait.svg");
        assert_eq!(file_name(col::READYZ), "scale-readyz.svg");
        assert_eq!(file_name(col::RESPAWN_P50), "scale-respawn-p50.svg");
        let mut all: Vec<String> = (0..COLUMNS.len()).map(file_name).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), COLUMNS.len(), "distinct files");
    }

    #[test]
    fn draws_svgs_for_measured_columns_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = draw_all(&rows(), dir.path()).expect("draw");
        assert_eq!(written, [dir.path().join(file_name(col::LOAD))]);
        let svg = std::fs::read_to_string(&written[0]).expect("svg");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("supervisord, own log"));
        assert!(svg.contains("N (programs, log scale)"));
    }
}
