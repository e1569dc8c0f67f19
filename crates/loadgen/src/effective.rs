//! Effective settings (LoadGen's `TestSettingsInternal`): what a run uses
//! after per-scenario normalisation of the requested [`TestSettings`].

use crate::settings::{Scenario, TestSettings};

/// The normalised settings. Durations in ms, latencies in ns.
#[derive(Clone, Debug, PartialEq)]
pub struct EffectiveSettings {
    /// The settings these came from.
    pub requested: TestSettings,
    /// The scenario run.
    pub scenario: Scenario,
    /// The mode run.
    pub mode: crate::Mode,
    /// Samples in each query (MultiStream: several; Offline: all).
    pub samples_per_query: u64,
    /// The rate the query count and Server schedule are computed from.
    pub target_qps: f64,
    /// The latency bound of the result (Server).
    pub target_latency_ns: u64,
    /// The percentile the result reports.
    pub target_latency_percentile: f64,
    /// Queries that may be outstanding at once (0: no limit).
    pub max_async_queries: u64,
    /// The duration the generated queries cover.
    pub target_duration_ms: u64,
    /// The minimum duration for a valid result.
    pub min_duration_ms: u64,
    /// The run ends after this long (0: no limit).
    pub max_duration_ms: u64,
    /// The minimum number of queries for a valid result.
    pub min_query_count: u64,
    /// The run ends after this many queries (0: no limit).
    pub max_query_count: u64,
    /// The minimum number of samples for a valid result.
    pub min_sample_count: u64,
    /// Size of the loaded set in performance mode.
    pub performance_sample_count: u64,
    /// Samples issued in accuracy mode.
    pub accuracy_sample_count: u64,
    /// Whether whole permutations of the loaded set are issued.
    pub sample_concatenate_permutation: bool,
    /// `error_invalid_test_settings` messages LoadGen would log.
    pub errors: Vec<String>,
}

impl EffectiveSettings {
    /// Normalises `requested` for a QSL reporting these counts.
    pub fn new(requested: &TestSettings, qsl_performance_count: u64, qsl_total_count: u64) -> Self {
        let r = requested;
        let mut errors = Vec::new();
        let mut target_qps = 1.0;
        let mut target_latency_ns = 0;
        let max_async_queries: u64;
        let target_latency_percentile;
        let mut target_duration_ms = r.min_duration_ms;
        let mut min_query_count = r.min_query_count;
        let mut samples_per_query = 1u64;
        match r.scenario {
            Scenario::SingleStream => {
                target_qps = 1e9 / r.single_stream_expected_latency_ns;
                max_async_queries = 1;
                target_latency_percentile = r.single_stream_target_latency_percentile;
            }
            Scenario::MultiStream => {
                target_qps = 1e9 / r.multi_stream_expected_latency_ns;
                max_async_queries = 1;
                target_latency_percentile = r.multi_stream_target_latency_percentile;
            }
            Scenario::Server => {
                if r.server_target_qps >= 0.0 {
                    target_qps = r.server_target_qps;
                } else {
                    errors.push(format!(
                        "Invalid value for server_target_qps requested. requested: {} using: {}",
                        crate::logs::fmt::g6(r.server_target_qps),
                        crate::logs::fmt::g6(target_qps)
                    ));
                }
                target_latency_ns = r.server_target_latency_ns;
                target_latency_percentile = r.server_target_latency_percentile;
                max_async_queries = r.server_max_async_queries as i64 as u64;
            }
            Scenario::Offline => {
                target_latency_percentile = 0.99;
                if r.offline_expected_qps >= 0.0 {
                    target_qps = r.offline_expected_qps;
                } else {
                    errors.push(format!(
                        "Invalid value for offline_expected_qps requested. requested: {} using: {}",
                        crate::logs::fmt::g6(r.offline_expected_qps),
                        crate::logs::fmt::g6(target_qps)
                    ));
                }
                max_async_queries = 1;
            }
        }
        let performance_sample_count = if r.performance_sample_count_override == 0 {
            qsl_performance_count
        } else {
            r.performance_sample_count_override
        };
        let accuracy_sample_count = if r.accuracy_sample_count_override == 0 {
            qsl_total_count
        } else {
            r.accuracy_sample_count_override
        };
        if r.scenario == Scenario::MultiStream {
            samples_per_query = r.multi_stream_samples_per_query;
        }
        if r.scenario == Scenario::Offline {
            // LoadGen's 10% slack, evaluated left to right in double.
            let target_sample_count =
                (1.1 * (target_duration_ms as f64 / 1000.0) * target_qps) as u64;
            samples_per_query = if r.performance_issue_unique {
                performance_sample_count
            } else {
                min_query_count.max(target_sample_count)
            };
            min_query_count = 1;
            target_duration_ms = 0;
        }
        if r.sample_concatenate_permutation && r.scenario == Scenario::SingleStream {
            let expected = (2.0 * (target_duration_ms as f64 / 1000.0) * target_qps) as u64;
            min_query_count = min_query_count.max(expected);
            if qsl_performance_count > 0 {
                min_query_count +=
                    qsl_performance_count - (min_query_count % qsl_performance_count);
            }
        }
        let min_sample_count = min_query_count.wrapping_mul(samples_per_query);
        if r.performance_issue_same && r.performance_issue_same_index >= performance_sample_count {
            errors.push(format!(
                "Sample Idx to be repeated in performance_issue_same mode cannot be greater than loaded performance_sample_count. performance_issue_same_index: {} performance_sample_count: {}",
                r.performance_issue_same_index, performance_sample_count
            ));
        }
        EffectiveSettings {
            requested: r.clone(),
            scenario: r.scenario,
            mode: r.mode,
            samples_per_query,
            target_qps,
            target_latency_ns,
            target_latency_percentile,
            max_async_queries,
            target_duration_ms,
            min_duration_ms: r.min_duration_ms,
            max_duration_ms: r.max_duration_ms,
            min_query_count,
            max_query_count: r.max_query_count,
            min_sample_count,
            performance_sample_count,
            accuracy_sample_count,
            sample_concatenate_permutation: r.sample_concatenate_permutation,
            errors,
        }
    }
}
