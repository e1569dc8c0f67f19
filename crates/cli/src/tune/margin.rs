//! How far below the highest passing QPS to set `target_qps`.
//!
//! The method: near the boundary a probe's p99 latency grows with QPS
//! roughly along a line, and scatters around that line because each probe
//! is a finite sample of a noisy system. Over the search probes near the
//! highest pass (QPS within −20 %/+10 % of it, failures included) we fit
//! `p99 = a + b·qps` by least squares, separately for TTFT and TPOT, and
//! take the spread σ as the root-mean-square residual (with n − 2 degrees
//! of freedom). The 600 s run and its audit reruns pass when their p99 stays
//! under the limit, so we want the *expected* p99 at the target to sit
//! [`Z`]·σ below the limit: `target = q_pass − max(0, p99(q_pass) + Zσ −
//! limit) / b`. The margin is `1 − target/q_pass`, the larger of TTFT's and
//! TPOT's, at least [`FLOOR`]. Without a usable fit (fewer than three
//! probes near the boundary, or a slope that does not rise) the margin is
//! the bracket's own width: the boundary lies somewhere in it.

/// One probe as the margin sees it.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    /// The probe's target QPS.
    pub qps: f64,
    /// Its p99 latency (ns).
    pub p99: f64,
}

/// Standard deviations of headroom: about 98 % one-sided.
pub const Z: f64 = 2.0;
/// The least margin reported (timer and scheduling noise of the final run).
pub const FLOOR: f64 = 0.01;
/// The most margin reported: beyond it, the search itself is in doubt.
const CEILING: f64 = 0.25;

/// The margin for one constraint (`limit` ns), or `None` without a usable fit.
pub fn for_constraint(points: &[Point], q_pass: f64, limit: f64) -> Option<f64> {
    let near: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.qps >= 0.8 * q_pass && p.qps <= 1.1 * q_pass && p.p99.is_finite())
        .collect();
    if near.len() < 3 {
        return None;
    }
    let n = near.len() as f64;
    let mx = near.iter().map(|p| p.qps).sum::<f64>() / n;
    let my = near.iter().map(|p| p.p99).sum::<f64>() / n;
    let sxx: f64 = near.iter().map(|p| (p.qps - mx).powi(2)).sum();
    let sxy: f64 = near.iter().map(|p| (p.qps - mx) * (p.p99 - my)).sum();
    if sxx <= 0.0 || sxy <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    let rss: f64 = near.iter().map(|p| (p.p99 - a - b * p.qps).powi(2)).sum();
    let sigma = (rss / (n - 2.0)).sqrt();
    let at_pass = a + b * q_pass;
    let cut = (at_pass + Z * sigma - limit).max(0.0) / b;
    Some(cut / q_pass)
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
    fn a_noiseless_line_needs_only_the_floor_or_the_distance_to_the_limit() {
        // p99 = 1 ms per QPS: at 50 QPS it is 50 ms, the limit is 50 ms.
        let pts: Vec<Point> = [45.0, 48.0, 50.0, 52.0]
            .iter()
            .map(|&q| Point {
                qps: q,
                p99: q * 1e6,
            })
            .collect();
        assert_eq!(for_constraint(&pts, 50.0, 50e6), Some(0.0));
        assert_eq!(margin(&[(pts, 50e6)], 50.0, Some(0.04)), FLOOR);
    }

    #[test]
    fn scatter_widens_the_margin() {
        // By hand: mean (47, 47), sxx 20, sxy 12, so b = 0.6 ms/QPS and
        // a = 18.8 ms; residuals 0.8, −2.4, 2.4, −0.8 ms give σ = √(12.8/2)
        // ms; at 50 QPS the fit is 48.8 ms, so the cut is (48.8 + 2σ − 50)/0.6
        // QPS out of 50.
        let pts = [(44.0, 46.0), (46.0, 44.0), (48.0, 50.0), (50.0, 48.0)].map(|(q, ms)| Point {
            qps: q,
            p99: ms * 1e6,
        });
        let m = for_constraint(&pts, 50.0, 50e6).unwrap();
        let want = (48.8 + 2.0 * 6.4f64.sqrt() - 50.0) / 0.6 / 50.0;
        assert!((m - want).abs() < 1e-9, "{m} vs {want}");
    }

    #[test]
    fn without_a_fit_the_bracket_is_the_margin() {
        let pts = [Point {
            qps: 50.0,
            p99: 1e6,
        }];
        assert_eq!(margin(&[(pts.to_vec(), 5e6)], 50.0, Some(0.03)), 0.03);
    }
}
