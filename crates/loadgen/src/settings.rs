//! `TestSettings`: the knobs a user requests, with LoadGen's defaults.
//!
//! Field names and defaults follow LoadGen's `TestSettings`, so that a
//! value read from a config file or printed in the detail log means the
//! same thing here as there. `effective` turns these into what a run uses.

use std::fmt;

/// LoadGen's test scenarios. "Interactive" is not one of them: it is
/// `Server` with the `<model>-interactive` config keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// One query of one sample at a time, the next issued when the last completes.
    SingleStream,
    /// One query of `multi_stream_samples_per_query` samples at a time.
    MultiStream,
    /// Queries of one sample at Poisson arrival times (`server_target_qps`).
    Server,
    /// Every sample in one query at the start.
    Offline,
}

impl Scenario {
    /// The spelling used in config keys and in `effective_scenario`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::SingleStream => "SingleStream",
            Scenario::MultiStream => "MultiStream",
            Scenario::Server => "Server",
            Scenario::Offline => "Offline",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// LoadGen's test modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Accuracy series, then the performance series.
    SubmissionRun,
    /// Every sample once, all responses logged; no performance result.
    AccuracyOnly,
    /// The timed series that yields the performance result.
    PerformanceOnly,
    /// Server QPS search; run here as one performance run.
    FindPeakPerformance,
}

impl Mode {
    /// The spelling in the logs (`requested_test_mode`, summary `Mode`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::SubmissionRun => "SubmissionRun",
            Mode::AccuracyOnly => "AccuracyOnly",
            Mode::PerformanceOnly => "PerformanceOnly",
            Mode::FindPeakPerformance => "FindPeakPerformance",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The requested settings (LoadGen's `TestSettings`). Durations in ms,
/// latencies in ns, percentiles as fractions, as in LoadGen.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSettings {
    /// Which scenario to run.
    pub scenario: Scenario,
    /// Which series to run (accuracy, performance or both).
    pub mode: Mode,
    /// SingleStream: expected latency, which sets the query count for the minimum duration.
    pub single_stream_expected_latency_ns: f64,
    /// SingleStream: the percentile reported as the result.
    pub single_stream_target_latency_percentile: f64,
    /// MultiStream: expected latency per query.
    pub multi_stream_expected_latency_ns: f64,
    /// MultiStream: the percentile reported as the result.
    pub multi_stream_target_latency_percentile: f64,
    /// MultiStream: samples in each query.
    pub multi_stream_samples_per_query: u64,
    /// Server: the Poisson arrival rate of queries.
    pub server_target_qps: f64,
    /// Server: the latency bound the target percentile must meet.
    pub server_target_latency_ns: u64,
    /// Server: the percentile held to the latency bound.
    pub server_target_latency_percentile: f64,
    /// Server: merge queries that are due together (not implemented here).
    pub server_coalesce_queries: bool,
    /// FindPeakPerformance: precision of the QPS search.
    pub server_find_peak_qps_decimals_of_precision: i32,
    /// FindPeakPerformance: step of the QPS search.
    pub server_find_peak_qps_boundary_step_size: f64,
    /// Server: end the run early when more queries than this are outstanding (0: no limit).
    pub server_max_async_queries: i32,
    /// Server: issuing threads (not implemented here; one thread issues).
    pub server_num_issue_query_threads: i32,
    /// Offline: expected throughput, which sets the sample count for the minimum duration.
    pub offline_expected_qps: f64,
    /// Issue whole permutations of the loaded set (equal issue).
    pub sample_concatenate_permutation: bool,
    /// The performance series lasts at least this long.
    pub min_duration_ms: u64,
    /// End the performance series after this long (0: no limit).
    pub max_duration_ms: u64,
    /// The performance series issues at least this many queries.
    pub min_query_count: u64,
    /// End the performance series after this many queries (0: no limit).
    pub max_query_count: u64,
    /// Seed of the loaded-set shuffle.
    pub qsl_rng_seed: u64,
    /// Seed of the sample order.
    pub sample_index_rng_seed: u64,
    /// Seed of the Server arrival times.
    pub schedule_rng_seed: u64,
    /// Seed of the accuracy-log sampling in performance runs.
    pub accuracy_log_rng_seed: u64,
    /// Probability that a performance sample's response is logged.
    pub accuracy_log_probability: f64,
    /// Number of performance responses to log; overrides the probability when not 0.
    pub accuracy_log_sampling_target: u64,
    /// Compliance TEST05: run with the `test05_*` seeds instead.
    pub test05: bool,
    /// TEST05's loaded-set seed.
    pub test05_qsl_rng_seed: u64,
    /// TEST05's sample-order seed.
    pub test05_sample_index_rng_seed: u64,
    /// TEST05's schedule seed.
    pub test05_schedule_rng_seed: u64,
    /// Logged only; LoadGen prints timestamps to the console.
    pub print_timestamps: bool,
    /// Compliance: issue each loaded sample at most once.
    pub performance_issue_unique: bool,
    /// Compliance: issue the same sample every time.
    pub performance_issue_same: bool,
    /// The sample `performance_issue_same` issues.
    pub performance_issue_same_index: u64,
    /// Loaded-set size instead of the QSL's performance count (0: the QSL's).
    pub performance_sample_count_override: u64,
    /// Samples in accuracy mode instead of the QSL's total (0: the QSL's).
    pub accuracy_sample_count_override: u64,
    /// Measure TTFT and TPOT from the SUT's first-token reports (LLM benchmarks).
    pub use_token_latencies: bool,
    /// Server: the TTFT bound at the target percentile.
    pub server_ttft_latency: u64,
    /// Server: the TPOT bound at the target percentile.
    pub server_tpot_latency: u64,
    /// Derive token latencies from `token_latency_scaling_factor` instead of measuring them.
    pub infer_token_latencies: bool,
    /// Uninitialised in C++; we start it at 0 (value-initialised).
    pub token_latency_scaling_factor: u64,
}

impl Default for TestSettings {
    fn default() -> Self {
        TestSettings {
            scenario: Scenario::SingleStream,
            mode: Mode::PerformanceOnly,
            single_stream_expected_latency_ns: 1_000_000.0,
            single_stream_target_latency_percentile: 0.90,
            multi_stream_expected_latency_ns: 8_000_000.0,
            multi_stream_target_latency_percentile: 0.99,
            multi_stream_samples_per_query: 8,
            server_target_qps: 1.0,
            server_target_latency_ns: 100_000_000,
            server_target_latency_percentile: 0.99,
            server_coalesce_queries: false,
            server_find_peak_qps_decimals_of_precision: 1,
            server_find_peak_qps_boundary_step_size: 1.0,
            server_max_async_queries: 0,
            server_num_issue_query_threads: 0,
            offline_expected_qps: 1.0,
            sample_concatenate_permutation: false,
            min_duration_ms: 10_000,
            max_duration_ms: 0,
            min_query_count: 100,
            max_query_count: 0,
            qsl_rng_seed: 0,
            sample_index_rng_seed: 0,
            schedule_rng_seed: 0,
            accuracy_log_rng_seed: 0,
            accuracy_log_probability: 0.0,
            accuracy_log_sampling_target: 0,
            test05: false,
            test05_qsl_rng_seed: 0,
            test05_sample_index_rng_seed: 0,
            test05_schedule_rng_seed: 0,
            print_timestamps: false,
            performance_issue_unique: false,
            performance_issue_same: false,
            performance_issue_same_index: 0,
            performance_sample_count_override: 0,
            accuracy_sample_count_override: 0,
            use_token_latencies: false,
            server_ttft_latency: 100_000_000,
            server_tpot_latency: 100_000_000,
            infer_token_latencies: false,
            token_latency_scaling_factor: 0,
        }
    }
}
