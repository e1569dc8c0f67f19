//! How far below the highest passing QPS to set `target_qps`.
//!
//! The method: near the boundary a probe's p99 latency grows with QPS
//! roughly exponentially (queueing near capacity), and scatters around that
//! curve because each probe is a finite sample of a noisy system. Over the
//! search probes near the highest pass (QPS within −15 %/+5 % of it,
//! failures included, each p99 capped at 1.25 times the limit: a failure
//! says the limit was crossed, and one stalled probe must not tilt the
//! line) we fit `ln p99 = a + b·qps` by least
//! squares, separately for TTFT and TPOT, and take the spread σ as the
//! root-mean-square residual of the VALID probes among them (the evidence
//! at and below the QPS we are about to recommend). The 600 s run and
//! its audit reruns pass when their p99 stays under the limit, so we want
//! the *expected* p99 at the target to sit [`Z`]·σ (in log terms) below the
//! limit: `target = min(q_pass, (ln limit − a − Zσ) / b)`. The margin is
//! `1 − target/q_pass`, the larger of TTFT's and TPOT's, at least
//! [`FLOOR`]. Without a usable fit (fewer than three probes near the
//! boundary, or a p99 that does not rise with QPS) the margin is the
//! bracket's own width: the boundary lies somewhere in it.

/// One probe as the margin sees it.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    /// The probe's target QPS.
    pub qps: f64,
    /// Its p99 latency (ns).
    pub p99: f64,
    /// LoadGen judged it VALID.
    pub valid: bool,
}

/// Standard deviations of headroom: about 98 % one-sided.
pub const Z: f64 = 2.0;
/// The least margin reported (timer and scheduling noise of the final run).
pub const FLOOR: f64 = 0.01;
/// The most margin reported: beyond it, the search itself is in doubt.
const CEILING: f64 = 0.25;

/// The margin for one constraint (`limit` ns), or `None` without a usable fit.
pub fn for_constraint(points: &[Point], q_pass: f64, limit: f64) -> Option<f64> {
    if limit <= 0.0 {
        return None;
    }
    let cap = (1.25 * limit).ln();
    let near: Vec<(f64, f64, bool)> = points
        .iter()
        .filter(|p| p.qps >= 0.85 * q_pass && p.qps <= 1.05 * q_pass)
        .filter(|p| p.p99.is_finite() && p.p99 > 0.0)
        .map(|p| (p.qps, p.p99.ln().min(cap), p.valid))
        .collect();
    if near.len() < 3 {
        return None;
    }
    let n = near.len() as f64;
    let mx = near.iter().map(|p| p.0).sum::<f64>() / n;
    let my = near.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = near.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = near.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 || sxy <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    let residuals: Vec<f64> = near
        .iter()
        .filter(|p| p.2)
        .map(|p| p.1 - a - b * p.0)
        .collect();
    let sigma = if residuals.is_empty() {
        0.0
    } else {
        (residuals.iter().map(|r| r * r).sum::<f64>() / residuals.len() as f64).sqrt()
    };
    let target = ((limit.ln() - a - Z * sigma) / b).min(q_pass);
    Some(1.0 - target / q_pass)
}

/// The margin over all constraints; `bracket` is `(lowest fail − highest pass) / highest pass`.
pub fn margin(constraints: &[(Vec<Point>, f64)], q_pass: f64, bracket: Option<f64>) -> f64 {
    let fitted: Vec<f64> = constraints
        .iter()
        .filter_map(|(points, limit)| for_constraint(points, q_pass, *limit))
        .collect();
    let m = if fitted.is_empty() {
        bracket.unwrap_or(super::search::RESOLUTION)
    } else {
        fitted.into_iter().fold(0.0, f64::max)
    };
    m.clamp(FLOOR, CEILING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_noiseless_curve_needs_only_the_floor() {
        // p99 = e^(qps/10) ms, the limit is its value at 50 QPS.
        let pts: Vec<Point> = [45.0, 48.0, 50.0, 52.0]
            .iter()
            .map(|&q: &f64| Point {
                qps: q,
                p99: (q / 10.0).exp() * 1e6,
                valid: q <= 50.0,
            })
            .collect();
        let limit = 5f64.exp() * 1e6;
        assert!(for_constraint(&pts, 50.0, limit).unwrap().abs() < 1e-9);
        assert_eq!(margin(&[(pts, limit)], 50.0, Some(0.04)), FLOOR);
    }

    #[test]
    fn scatter_widens_the_margin() {
        // ln p99 = 4.6, 4.4, 5.0, 4.8 at 44, 46, 48, 50 QPS, all VALID. By
        // hand: mean (47, 4.7), sxx 20, sxy 1.2, so b = 0.06 and a = 1.88;
        // residuals 0.08, −0.24, 0.24, −0.08 give σ = √(0.128/4); with ln
        // limit = 5 the target is (5 − 1.88 − 2σ)/0.06 QPS.
        let pts =
            [(44.0, 4.6), (46.0, 4.4), (48.0, 5.0), (50.0, 4.8)].map(|(q, ln): (f64, f64)| Point {
                qps: q,
                p99: ln.exp(),
                valid: true,
            });
        let m = for_constraint(&pts, 50.0, 5f64.exp()).unwrap();
        let want = 1.0 - (5.0 - 1.88 - 2.0 * 0.032f64.sqrt()) / 0.06 / 50.0;
        assert!((m - want).abs() < 1e-9, "{m} vs {want}");
    }

    #[test]
    fn one_stalled_failure_does_not_blow_the_margin_up() {
        // VALID probes on e^(qps/10) ms below the 60 ms limit's crossing;
        // the failure just above it stalled to 1.1 s and is capped at 75 ms.
        let mut pts: Vec<Point> = [38.0, 39.5, 40.5]
            .iter()
            .map(|&q: &f64| Point {
                qps: q,
                p99: (q / 10.0).exp() * 1e6,
                valid: true,
            })
            .collect();
        pts.push(Point {
            qps: 41.0,
            p99: 1.1e9,
            valid: false,
        });
        let m = for_constraint(&pts, 40.5, 60e6).unwrap();
        assert!(m < 0.05, "{m}");
    }

    #[test]
    fn without_a_fit_the_bracket_is_the_margin() {
        let pts = [Point {
            qps: 50.0,
            p99: 1e6,
            valid: true,
        }];
        assert_eq!(margin(&[(pts.to_vec(), 5e6)], 50.0, Some(0.03)), 0.03);
    }
}
