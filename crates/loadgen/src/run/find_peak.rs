//! FindPeakPerformance (`mode = 3`), as LoadGen 6.0.17's `loadgen.cc` does
//! it: a run at the user's `target_qps` (the lower bound, which must meet
//! the performance constraints), then runs at `target_qps · (1 + step)ⁿ`
//! until one fails (the upper bound), then bisection until
//! `floor(l·10^d) + 1 ≥ floor(u·10^d)`. Each run is a whole performance
//! series; only the performance constraints (p99 TTFT/TPOT, or e2e) decide,
//! not early stopping, minimum duration or query count. Only the peak's (or
//! the failed base's) result is logged, as LoadGen does.

use super::Run;
use crate::effective::EffectiveSettings;
use crate::generate::{loadable_sets, GenerateError, LoadableSet};
use crate::results::PerformanceSummary;
use crate::settings::Scenario;

/// LoadGen's `find_peak_performance::kNotSupportedMsg`.
const NOT_SUPPORTED: &str = "Finding peak performance is only supported in Server scenarios.";

/// C++ `std::to_string(double)`: `%f`, six decimals.
fn field(s: &EffectiveSettings) -> String {
    format!("{:.6}", s.target_qps)
}

/// `WidenPerformanceField`: the next candidate upper bound.
fn widened(s: &EffectiveSettings) -> EffectiveSettings {
    let mut u = s.clone();
    u.target_qps = s.target_qps * (1.0 + s.requested.server_find_peak_qps_boundary_step_size);
    u
}

/// `MidOfBoundaries`.
fn mid(l: &EffectiveSettings, u: &EffectiveSettings) -> EffectiveSettings {
    let mut m = l.clone();
    m.target_qps = l.target_qps + (u.target_qps - l.target_qps) / 2.0;
    m
}

/// `IsFinished`: the bounds agree to `decimals_of_precision` decimals
/// (LoadGen holds the precision in a `uint8_t`).
fn finished(l: &EffectiveSettings, u: &EffectiveSettings) -> bool {
    let precision = l.requested.server_find_peak_qps_decimals_of_precision as u8;
    let scale = 10f64.powi(precision as i32);
    (l.target_qps * scale).floor() + 1.0 >= (u.target_qps * scale).floor()
}

impl Run<'_> {
    /// `FindPeakPerformanceMode`.
    pub(super) fn find_peak(&mut self, total: u64) -> Result<(), GenerateError> {
        self.logs
            .detail
            .message("Starting FindPeakPerformance mode");
        let base = self.settings;
        if base.scenario != Scenario::Server {
            self.logs
                .detail
                .error("error_invalid_config", NOT_SUPPORTED);
            return Ok(());
        }
        self.logs.detail.message(&format!(
            "FindPeakPerformance: Check validity of the base settings field: {}",
            field(base)
        ));
        let base_set = self.performance_set(base, total)?;
        self.load(&base_set);
        let base_summary = self.probe(base, &base_set)?;
        if !base_summary.perf_constraints_met {
            self.logs.detail.error(
                "error_runtime",
                &format!(
                    "FindPeakPerformance: Initial lower bound does not satisfy performance \
                     constraints, msg: {}",
                    base_summary.perf_constraints_recommendation
                ),
            );
            self.log_performance(base_summary);
            self.qsl.unload_samples(&base_set.set);
            return Ok(());
        }
        self.qsl.unload_samples(&base_set.set);

        let (lower, upper) = self.find_boundaries(base_summary, total)?;
        self.logs.detail.message(&format!(
            "FindPeakPerformance: Found boundaries: [{}, {})",
            field(&lower.settings),
            field(&upper.settings)
        ));
        let set = self.performance_set(&upper.settings, total)?;
        self.load(&set);
        let peak = self.bisect(&set, lower, upper)?;
        self.logs.detail.message(&format!(
            "FindPeakPerformance: Found peak performance field: {}",
            field(&peak.settings)
        ));
        self.log_performance(peak);
        self.qsl.unload_samples(&set.set);
        Ok(())
    }

    /// The first loadable set of `settings`, the performance set.
    fn performance_set(
        &self,
        settings: &EffectiveSettings,
        total: u64,
    ) -> Result<LoadableSet, GenerateError> {
        loadable_sets(settings, settings.performance_sample_count, total)
            .into_iter()
            .next()
            .ok_or(GenerateError::EmptySet)
    }

    /// One performance series at `settings` over the loaded `set`.
    fn probe(
        &mut self,
        settings: &EffectiveSettings,
        set: &LoadableSet,
    ) -> Result<PerformanceSummary, GenerateError> {
        Ok(self
            .issue_series(settings, set, false)?
            .expect("a performance series has a summary"))
    }

    /// `FindBoundaries`: widens from a passing lower bound until a run
    /// fails; each candidate loads and unloads its set, as in LoadGen.
    fn find_boundaries(
        &mut self,
        mut lower: PerformanceSummary,
        total: u64,
    ) -> Result<(PerformanceSummary, PerformanceSummary), GenerateError> {
        loop {
            let u_settings = widened(&lower.settings);
            self.logs.detail.message(&format!(
                "FindBoundaries: Checking fields [{}, {})",
                field(&lower.settings),
                field(&u_settings)
            ));
            let set = self.performance_set(&u_settings, total)?;
            self.load(&set);
            let upper = self.probe(&u_settings, &set)?;
            self.qsl.unload_samples(&set.set);
            if !upper.perf_constraints_met {
                return Ok((lower, upper));
            }
            lower = upper;
        }
    }

    /// `FindPeakPerformanceBinarySearch` over the loaded `set`.
    fn bisect(
        &mut self,
        set: &LoadableSet,
        mut lower: PerformanceSummary,
        mut upper: PerformanceSummary,
    ) -> Result<PerformanceSummary, GenerateError> {
        while !finished(&lower.settings, &upper.settings) {
            let m_settings = mid(&lower.settings, &upper.settings);
            self.logs.detail.message(&format!(
                "FindPeakPerformanceBinarySearch: Testing the mid value of bounds [{}, {}): {}",
                field(&lower.settings),
                field(&upper.settings),
                field(&m_settings)
            ));
            let m = self.probe(&m_settings, set)?;
            if m.perf_constraints_met {
                lower = m;
            } else {
                upper = m;
            }
        }
        Ok(lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::TestSettings;

    fn at(qps: f64, decimals: i32) -> EffectiveSettings {
        let requested = TestSettings {
            scenario: Scenario::Server,
            server_target_qps: qps,
            server_find_peak_qps_decimals_of_precision: decimals,
            ..TestSettings::default()
        };
        EffectiveSettings::new(&requested, 10, 10)
    }

    #[test]
    fn the_search_steps_as_loadgen_defines_them() {
        // Step size 1 doubles; the mid is the arithmetic mean.
        assert_eq!(widened(&at(3.0, 1)).target_qps, 6.0);
        assert_eq!(mid(&at(4.0, 1), &at(8.0, 1)).target_qps, 6.0);
        assert_eq!(field(&at(12.5, 1)), "12.500000");
        // One decimal: 12.3 and 12.4 are one step apart, so finished.
        assert!(finished(&at(12.31, 1), &at(12.4, 1)));
        assert!(!finished(&at(12.31, 1), &at(12.5, 1)));
        assert!(finished(&at(12.0, 0), &at(13.9, 0)));
        assert!(!finished(&at(12.0, 0), &at(14.0, 0)));
    }
}
