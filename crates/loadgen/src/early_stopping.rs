//! LoadGen's early-stopping criterion: how many queries a run needs so
//! that, with 99% confidence, the true over-latency rate is within the
//! target percentile. The floating-point steps (glibc `lgamma`, `log`,
//! `exp`, the 2F1 series cut at 2^-33) are those of LoadGen, because the
//! integers it prints must match.

extern "C" {
    // glibc's lgamma, the function LoadGen calls (Rust's std has none).
    fn lgamma(x: f64) -> f64;
}

fn ln_gamma(x: f64) -> f64 {
    // SAFETY: lgamma is a pure libm function; the only side effect is the
    // sign in `signgam`, which nothing here reads.
    unsafe { lgamma(x) }
}

fn lbeta(a: i64, b: i64) -> f64 {
    ln_gamma(a as f64) + ln_gamma(b as f64) - ln_gamma((a + b) as f64)
}

/// Gauss's hypergeometric 2F1 with a = 1, summed until a term is ≤ 2^-33.
fn hypergeometric_2f1_a1(b: i64, c: i64, x: f64) -> f64 {
    let tolerance = 1.0 / (1u64 << 33) as f64;
    let mut term = 1.0f64;
    let mut result = 1.0f64;
    let mut i: i64 = 0;
    while term.abs() > tolerance {
        term *= (b + i) as f64 * x / (c + i) as f64;
        result += term;
        i += 1;
    }
    result
}

fn beta_regularized(x: f64, a: i64, b: i64) -> f64 {
    (a as f64 * x.ln() + (b - 1) as f64 * (1.0 - x).ln() - lbeta(a, b)).exp() / a as f64
        * hypergeometric_2f1_a1(1 - b, 1 + a, x / (x - 1.0))
}

fn odds(h: i64, t: i64, p: f64, d: f64) -> f64 {
    beta_regularized(p - d, h, 1 + t)
}

fn find_min_passing(mut min_h: i64, max_h: i64, t: i64, p: f64, d: f64, c: f64) -> i64 {
    let mut count = max_h - min_h;
    while count > 0 {
        let step = count / 2;
        let h = min_h + step;
        if odds(h, t, p, d) < 1.0 - c {
            count = step;
        } else {
            min_h = h + 1;
            count -= step + 1;
        }
    }
    min_h
}

/// h(t): the fewest queries under latency needed next to `t` over-latency
/// ones, computed as LoadGen does with a fresh cache (one call per
/// `EarlyStopping`, as in the Server scenario).
pub fn min_passing_queries(t: i64, p: f64, d: f64, c: f64) -> i64 {
    let y1 = ((1.0 - c).ln() / (p - d).ln()).ceil() as i64;
    let (x0, y0, x1) = (-1i64, 0i64, 0i64);
    let min_slope = (p - d) / (1.0 - p + d);
    let max_slope = ((y1 - y0) * (x1 - x0)) as f64;
    let min_h = ((t - x1) as f64 * min_slope + y1 as f64) as i64;
    let max_h = ((t - x1) as f64 * max_slope + y1 as f64 + 1.0) as i64;
    find_min_passing(min_h, max_h, t, p, d, c)
}

/// The fewest queries a Server run must issue for early stopping to pass
/// when `over_latency` of them are over the latency limit at `percentile`
/// (LoadGen's h(t) + t, with its 99% confidence and no tolerance).
pub fn early_stopping_min_queries(over_latency: i64, percentile: f64) -> i64 {
    min_passing_queries(over_latency, percentile, 0.0, 0.99) + over_latency
}

/// Early stopping over one latency series, in numbers: how many queries
/// were over the bound, how many the run needed in all, and how many more it
/// would have needed (0 when it passed). The report shows these; the summary
/// text below is built from the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlyStoppingEstimate {
    /// Queries whose latency was over the bound.
    pub overlatency: i64,
    /// Queries the run needed to pass with these over-latency ones: h(t) + t.
    pub queries_needed: i64,
    /// Further queries, all under the bound, that passing would have taken.
    pub more_needed: i64,
}

impl EarlyStoppingEstimate {
    /// Computes the estimate as LoadGen's Server early stopping does
    /// (99% confidence, no tolerance) for `latencies` against `threshold_ns`.
    pub fn new(
        latencies: &[i64],
        threshold_ns: i64,
        queries_issued: i64,
        percentile: f64,
    ) -> EarlyStoppingEstimate {
        let t = latencies.iter().filter(|&&l| l > threshold_ns).count() as i64;
        let queries_needed = early_stopping_min_queries(t, percentile);
        EarlyStoppingEstimate {
            overlatency: t,
            queries_needed,
            more_needed: (queries_needed - queries_issued).max(0),
        }
    }

    /// The run had enough queries.
    pub fn passed(&self) -> bool {
        self.more_needed == 0
    }
}

/// The Server early-stopping verdict over `latencies` against `threshold`
/// ns: (passed, LoadGen's recommendation text).
pub fn server_early_stopping(
    latencies: &[i64],
    threshold_ns: i64,
    queries_issued: i64,
    percentile: f64,
) -> (bool, String) {
    let estimate = EarlyStoppingEstimate::new(latencies, threshold_ns, queries_issued, percentile);
    if estimate.passed() {
        (true, " * Run successful.".to_string())
    } else {
        (
            false,
            format!(
                " * Run unsuccessful.\n * Processed {queries_issued} queries.\n * Would need to run at least {} more queries,\n with the run being successful if every additional\n query were under latency.",
                estimate.more_needed
            ),
        )
    }
}

/// The early-stopping estimate of the `percentile` latency: the lowest
/// limit that `queries_issued` queries with these latencies would pass
/// Server early stopping against. It is the latency of rank `n − 1 − t`
/// (ascending), where `t` is the most over-latency queries `n` queries may
/// hold (`h(t) + t ≤ n`), so at most `t` latencies exceed it. `None` below
/// `h(0)` queries (459 for p99), where even a run with no over-latency
/// query fails.
pub fn early_stopping_estimate(
    latencies: &[i64],
    queries_issued: i64,
    percentile: f64,
) -> Option<i64> {
    let h = |t: i64| min_passing_queries(t, percentile, 0.0, 0.99);
    if latencies.is_empty() || queries_issued < h(0) {
        return None;
    }
    // The most over-latency queries n queries may hold: h(t) + t ≤ n.
    let fits = |t: i64| h(t) + t <= queries_issued;
    let mut t = 0i64;
    while t + 1 < latencies.len() as i64 && fits(t + 1) {
        t += 1;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    Some(sorted[sorted.len() - 1 - t as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_passes_early_stopping_and_one_less_would_not() {
        let latencies: Vec<i64> = (1..=1000).collect();
        let est = early_stopping_estimate(&latencies, 1000, 0.99).unwrap();
        assert!(server_early_stopping(&latencies, est, 1000, 0.99).0);
        assert!(!server_early_stopping(&latencies, est - 1, 1000, 0.99).0);
        assert_eq!(early_stopping_estimate(&latencies[..400], 400, 0.99), None);
    }

    #[test]
    fn y1_is_459() {
        assert_eq!(min_passing_queries(0, 0.99, 0.0, 0.99), 459);
    }
}
