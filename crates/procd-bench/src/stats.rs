//! Small sample statistics: median and percentiles over durations or plain numbers.

/// The `p`-th percentile (0..=100) of `samples`, linearly interpolated between the two nearest
/// ranks (the "linear" method of numpy). `None` for an empty slice or a `p` outside 0..=100.
pub(crate) fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The median (50th percentile).
pub(crate) fn median(samples: &[f64]) -> Option<f64> {
    percentile(samples, 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_table() {
        let cases: &[(&[f64], f64, Option<f64>)] = &[
            (&[], 50.0, None),
            (&[3.0], 50.0, Some(3.0)),
            (&[3.0], 90.0, Some(3.0)),
            (&[1.0, 2.0, 3.0], 50.0, Some(2.0)),
            (&[3.0, 1.0, 2.0, 4.0], 50.0, Some(2.5)),
            (
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                90.0,
                Some(9.1),
            ),
            (&[5.0, 1.0], 0.0, Some(1.0)),
            (&[5.0, 1.0], 100.0, Some(5.0)),
            (&[1.0, 2.0], 101.0, None),
            (&[f64::NAN, 4.0], 50.0, Some(4.0)),
        ];
        for (samples, p, want) in cases {
            let got = percentile(samples, *p);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{samples:?} p{p}: {g} != {w}"),
                _ => assert_eq!(got, *want, "{samples:?} p{p}"),
            }
        }
    }

    #[test]
    fn median_of_even_count_is_midpoint() {
        assert_eq!(median(&[10.0, 20.0]), Some(15.0));
    }
}
