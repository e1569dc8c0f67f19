//! Energy integration on synthetic power traces whose joules are known
//! analytically: steps and ramps, sampled with jitter. Between readings the
//! trapezoid rule is exact on a ramp; a step costs at most its height times
//! the gap that holds it, so the expected error bound is computed here from
//! the trace itself.

use std::collections::BTreeMap;

use telemetry::{energy, EnergyReport, PowerSample, PowerTrace};

/// GPU 0's power: 100 W, a step to 400 W at 2 s, a ramp to 700 W until
/// 5 s, a step down to 200 W until the end.
fn gpu0(t: f64) -> f64 {
    match t {
        t if t < 2.0 => 100.0,
        t if t < 5.0 => 400.0 + 100.0 * (t - 2.0),
        _ => 200.0,
    }
}

/// GPU 1's power: a ramp from 50 W to 350 W over 0..6 s, then 350 W.
fn gpu1(t: f64) -> f64 {
    if t < 6.0 {
        50.0 + 50.0 * t
    } else {
        350.0
    }
}

/// ∫ gpu0 over [a, b], from its pieces.
fn exact0(a: f64, b: f64) -> f64 {
    let piece = |lo: f64, hi: f64, f: &dyn Fn(f64) -> f64| {
        let (lo, hi) = (lo.max(a), hi.min(b));
        if hi <= lo {
            0.0
        } else {
            f(hi) - f(lo)
        }
    };
    // Antiderivatives of each piece.
    piece(f64::MIN, 2.0, &|t| 100.0 * t)
        + piece(2.0, 5.0, &|t| 400.0 * t + 50.0 * (t - 2.0).powi(2))
        + piece(5.0, f64::MAX, &|t| 200.0 * t)
}

fn exact1(a: f64, b: f64) -> f64 {
    let f = |t: f64| {
        if t < 6.0 {
            50.0 * t + 25.0 * t * t
        } else {
            50.0 * 6.0 + 25.0 * 36.0 + 350.0 * (t - 6.0)
        }
    };
    f(b) - f(a)
}

/// Readings every `period` s over [0, 8] with a seeded jitter of up to
/// ±`jitter`·period, as a sampler thread delayed by the scheduler takes them.
fn trace(period: f64, jitter: f64, seed: u64) -> Vec<PowerSample> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = (8.0 / period).round() as usize;
    (0..=n)
        .map(|k| {
            let t = (k as f64 * period + (next() * 2.0 - 1.0) * jitter * period).clamp(0.0, 8.0);
            PowerSample {
                t_ns: (t * 1e9).round() as u64,
                watts: BTreeMap::from([("0".into(), gpu0(t)), ("1".into(), gpu1(t))]),
            }
        })
        .collect()
}

/// What the trapezoid rule may miss on these traces, from the gaps that
/// hold a step or a bend.
fn bound(samples: &[PowerSample]) -> f64 {
    let gap_around = |at: f64| {
        samples
            .windows(2)
            .map(|w| (w[0].t_ns as f64 / 1e9, w[1].t_ns as f64 / 1e9))
            .filter(|(a, b)| *a <= at && at <= *b)
            .map(|(a, b)| b - a)
            .fold(0.0, f64::max)
    };
    // Steps: 300 W at 2 s, 500 W at 5 s, at most half the step times the gap;
    // bends (slope changes of 100 W/s at 2 s and 5 s, 50 W/s at 6 s) at most
    // the change times gap² / 8.
    let (g2, g5, g6) = (gap_around(2.0), gap_around(5.0), gap_around(6.0));
    300.0 * g2 / 2.0 + 500.0 * g5 / 2.0 + (100.0 * (g2 * g2 + g5 * g5) + 50.0 * g6 * g6) / 8.0
}

#[test]
fn jittered_10hz_and_100hz_traces_give_the_analytic_joules_within_the_step_bound() {
    let (a, b) = (0.5, 7.5);
    let want = exact0(a, b) + exact1(a, b);
    for (period, seed) in [(0.1, 1), (0.1, 2), (0.01, 3)] {
        let samples = trace(period, 0.3, seed);
        let e = energy(&samples, (a * 1e9) as u64, (b * 1e9) as u64);
        let err = (e.joules - want).abs();
        let allowed = bound(&samples) + 1e-6;
        assert!(
            err <= allowed,
            "period {period}: {} J vs {want} J, error {err} > {allowed}",
            e.joules
        );
        assert!((e.window_s - 7.0).abs() < 1e-9);
        assert!((e.covered_s - 7.0).abs() < 1e-9);
        assert!((e.avg_watts - e.joules / 7.0).abs() < 1e-9);
        // Per GPU: each within its own bound, and they add up.
        let g0 = &e.gpus[0];
        assert!((g0.joules - exact0(a, b)).abs() <= bound(&samples) + 1e-6);
        assert!((e.gpus.iter().map(|g| g.joules).sum::<f64>() - e.joules).abs() < 1e-9);
        // Peaks: GPU 0's ramp tops out just before 5 s; together, the highest summed reading.
        let peak0 = samples
            .iter()
            .filter(|s| (500_000_000..=7_500_000_000).contains(&s.t_ns))
            .map(|s| s.watts["0"])
            .fold(0.0, f64::max);
        assert_eq!(g0.peak_watts, peak0);
        assert!(peak0 > 680.0 && peak0 < 700.0, "{peak0}");
        let peak = samples
            .iter()
            .filter(|s| (500_000_000..=7_500_000_000).contains(&s.t_ns))
            .map(|s| s.watts.values().sum::<f64>())
            .fold(0.0, f64::max);
        assert_eq!(e.peak_watts, peak);
    }
    // Denser sampling, smaller error.
    let coarse = (energy(&trace(0.1, 0.3, 1), 500_000_000, 7_500_000_000).joules - want).abs();
    let fine = (energy(&trace(0.01, 0.3, 1), 500_000_000, 7_500_000_000).joules - want).abs();
    assert!(fine < coarse, "{fine} vs {coarse}");
}

#[test]
fn ramps_alone_are_integrated_exactly_even_with_jitter() {
    let samples: Vec<PowerSample> = trace(0.1, 0.45, 9)
        .into_iter()
        .map(|s| PowerSample {
            t_ns: s.t_ns,
            watts: BTreeMap::from([("1".to_string(), s.watts["1"])]),
        })
        .filter(|s| s.t_ns <= 6_000_000_000)
        .collect();
    let (a, b) = (samples[0].t_ns, samples.last().unwrap().t_ns);
    let e = energy(&samples, a + 123_456_789, b - 98_765_432);
    let want = exact1(
        (a + 123_456_789) as f64 / 1e9,
        (b - 98_765_432) as f64 / 1e9,
    );
    assert!((e.joules - want).abs() < 1e-6, "{} vs {want}", e.joules);
}

#[test]
fn a_window_beyond_the_readings_counts_only_what_they_cover() {
    let samples = trace(0.1, 0.0, 1);
    let e = energy(&samples, 6_000_000_000, 10_000_000_000);
    assert!((e.window_s - 4.0).abs() < 1e-9);
    assert!((e.covered_s - 2.0).abs() < 1e-9);
    assert!((e.joules - (exact0(6.0, 8.0) + exact1(6.0, 8.0))).abs() < 1e-6);
}

#[test]
fn the_report_normalises_the_window_by_its_tokens() {
    let samples = trace(0.1, 0.3, 4);
    let trace = PowerTrace {
        source: "command test".into(),
        samples,
    };
    let tokens = 12_345;
    let r = EnergyReport::new(&trace, (1_000_000_000, 6_000_000_000), tokens);
    let e = energy(&trace.samples, 1_000_000_000, 6_000_000_000);
    assert_eq!(r.joules, e.joules);
    assert_eq!(r.window_s, 5.0);
    let per_token = r.joules_per_output_token.unwrap();
    assert!((per_token - e.joules / tokens as f64).abs() < 1e-12);
    // tokens/s per kW = (tokens / s) / (watts / 1000)
    let per_kw = r.tokens_per_s_per_kw.unwrap();
    assert!((per_kw - (tokens as f64 / 5.0) / (e.avg_watts / 1000.0)).abs() < 1e-9);
    // The whole run spans the first to the last reading.
    let first = trace.samples[0].t_ns;
    let last = trace.samples.last().unwrap().t_ns;
    assert!((r.run.window_s - (last - first) as f64 / 1e9).abs() < 1e-9);
    assert!(r.run.joules > r.joules);
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "source",
        "window_s",
        "joules",
        "avg_watts",
        "peak_watts",
        "joules_per_output_token",
        "tokens_per_s_per_kw",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
}
