//! The detail-log keys of a run, in LoadGen's order: version block,
//! requested and effective settings, results.

use super::detail::{DetailLog, Value};
use super::fmt::f2;
use crate::effective::EffectiveSettings;
use crate::results::{PerformanceSummary, PERCENTILES};
use crate::settings::{Scenario, TestSettings};

/// The LoadGen version this crate reproduces.
pub const LOADGEN_VERSION: &str = "6.0.17";

/// The version block. We say which implementation wrote the log; the
/// build and git keys are present (the checker looks them up) but empty.
pub fn log_version(d: &mut DetailLog) {
    let version = format!(
        "{LOADGEN_VERSION} @ mlperf-gptoss-loadgen-{}",
        env!("CARGO_PKG_VERSION")
    );
    d.log("loadgen_version", version.as_str());
    d.log("loadgen_build_date_local", "");
    d.log("loadgen_build_date_utc", "");
    d.log("loadgen_git_commit_date", "");
    d.log("loadgen_git_log_message", "");
    d.log("loadgen_git_status_message", "");
    d.log("loadgen_file_sha1", Value::Raw("{}"));
}

/// The keys LoadGen logs twice, as `requested_*` and as `effective_*`,
/// both from the requested settings: the seeds, accuracy-log sampling and
/// the compliance issue options.
fn log_passed_through(d: &mut DetailLog, prefix: &str, s: &TestSettings) {
    let key = |name: &str| format!("{prefix}_{name}");
    d.log(&key("qsl_rng_seed"), s.qsl_rng_seed);
    d.log(&key("sample_index_rng_seed"), s.sample_index_rng_seed);
    d.log(&key("schedule_rng_seed"), s.schedule_rng_seed);
    d.log(&key("accuracy_log_rng_seed"), s.accuracy_log_rng_seed);
    d.log(&key("accuracy_log_probability"), s.accuracy_log_probability);
    d.log(
        &key("accuracy_log_sampling_target"),
        s.accuracy_log_sampling_target,
    );
    d.log(&key("print_timestamps"), s.print_timestamps);
    d.log(&key("performance_issue_unique"), s.performance_issue_unique);
    d.log(&key("performance_issue_same"), s.performance_issue_same);
    d.log(
        &key("performance_issue_same_index"),
        s.performance_issue_same_index,
    );
}

/// `requested_*` keys.
pub fn log_requested(d: &mut DetailLog, s: &TestSettings) {
    d.log("requested_scenario", s.scenario.as_str());
    d.log("requested_test_mode", s.mode.as_str());
    match s.scenario {
        Scenario::SingleStream => {
            d.log(
                "requested_single_stream_expected_latency_ns",
                s.single_stream_expected_latency_ns,
            );
            d.log(
                "requested_single_stream_target_latency_percentile",
                s.single_stream_target_latency_percentile,
            );
        }
        Scenario::MultiStream => {
            d.log(
                "requested_multi_stream_expected_latency_ns",
                s.multi_stream_expected_latency_ns,
            );
            d.log(
                "requested_multi_stream_target_latency_percentile",
                s.multi_stream_target_latency_percentile,
            );
            d.log(
                "requested_multi_stream_samples_per_query",
                s.multi_stream_samples_per_query,
            );
        }
        Scenario::Server => {
            d.log("requested_server_target_qps", s.server_target_qps);
            d.log(
                "requested_server_target_latency_ns",
                s.server_target_latency_ns,
            );
            d.log(
                "requested_server_target_latency_percentile",
                s.server_target_latency_percentile,
            );
            d.log(
                "requested_server_coalesce_queries",
                s.server_coalesce_queries,
            );
            d.log(
                "requested_server_find_peak_qps_decimals_of_precision",
                i64::from(s.server_find_peak_qps_decimals_of_precision),
            );
            d.log(
                "requested_server_find_peak_qps_boundary_step_size",
                s.server_find_peak_qps_boundary_step_size,
            );
            d.log(
                "requested_server_max_async_queries",
                i64::from(s.server_max_async_queries),
            );
            d.log(
                "requested_server_num_issue_query_threads",
                i64::from(s.server_num_issue_query_threads),
            );
        }
        Scenario::Offline => d.log("requested_offline_expected_qps", s.offline_expected_qps),
    }
    d.log("requested_min_duration_ms", s.min_duration_ms);
    d.log("requested_max_duration_ms", s.max_duration_ms);
    d.log("requested_min_query_count", s.min_query_count);
    d.log("requested_max_query_count", s.max_query_count);
    log_passed_through(d, "requested", s);
    d.log(
        "requested_performance_sample_count_override",
        s.performance_sample_count_override,
    );
    d.log(
        "requested_accuracy_sample_count_override",
        s.accuracy_sample_count_override,
    );
    d.log(
        "requested_sample_concatenate_permutation",
        s.sample_concatenate_permutation,
    );
    if s.use_token_latencies {
        d.log("requested_use_token_latencies", true);
        if s.scenario != Scenario::Offline {
            d.log("requested_server_ttft_latency", s.server_ttft_latency);
            d.log("requested_server_tpot_latency", s.server_tpot_latency);
        }
    }
}

/// `effective_*` keys.
pub fn log_effective(d: &mut DetailLog, e: &EffectiveSettings) {
    let r = &e.requested;
    d.log("effective_scenario", e.scenario.as_str());
    d.log("effective_test_mode", e.mode.as_str());
    d.log("effective_samples_per_query", e.samples_per_query);
    d.log("effective_target_qps", e.target_qps);
    d.log("effective_target_latency_ns", e.target_latency_ns);
    d.log(
        "effective_target_latency_percentile",
        e.target_latency_percentile,
    );
    d.log("effective_max_async_queries", e.max_async_queries);
    d.log("effective_target_duration_ms", e.target_duration_ms);
    d.log("effective_min_duration_ms", e.min_duration_ms);
    d.log("effective_max_duration_ms", e.max_duration_ms);
    d.log("effective_min_query_count", e.min_query_count);
    d.log("effective_max_query_count", e.max_query_count);
    d.log("effective_min_sample_count", e.min_sample_count);
    log_passed_through(d, "effective", r);
    d.log(
        "effective_performance_sample_count",
        e.performance_sample_count,
    );
    d.log("effective_accuracy_sample_count", e.accuracy_sample_count);
    d.log(
        "effective_sample_concatenate_permutation",
        e.sample_concatenate_permutation,
    );
}

/// The result keys of a performance series.
pub fn log_results(d: &mut DetailLog, s: &PerformanceSummary) {
    let st = &s.settings;
    let tokens = st.requested.use_token_latencies;
    let valid = s.valid();
    d.log("result_validity", if valid { "VALID" } else { "INVALID" });
    if st.scenario == Scenario::Server {
        d.log("result_perf_constraints_met", s.perf_constraints_met);
    }
    d.log("result_min_duration_met", s.min_duration_met);
    d.log("result_min_queries_met", s.min_queries_met);
    d.log("early_stopping_met", s.early_stopping_met);
    if !valid {
        let mut reason = String::new();
        if !s.perf_constraints_met {
            reason += &(s.perf_constraints_recommendation.clone() + " ");
        }
        if !s.min_duration_met {
            reason += &(s.min_duration_recommendation.clone() + " ");
        }
        if !s.min_queries_met {
            reason += "The test exited early, before enough queries were issued.";
        }
        d.log("result_invalid_reason", reason.replace('\n', " ").as_str());
    }
    if !tokens {
        d.log(
            "early_stopping_result",
            s.early_stopping.replace('\n', " ").as_str(),
        );
    } else {
        d.log(
            "early_stopping_ttft_result",
            s.early_stopping_ttft.replace('\n', " ").as_str(),
        );
        d.log(
            "early_stopping_tpot_result",
            s.early_stopping_tpot.replace('\n', " ").as_str(),
        );
    }
    d.log("result_query_count", s.pr.queries_issued);
    if st.scenario == Scenario::Server {
        d.log("result_overlatency_query_count", s.overlatency_query_count);
    }
    match st.scenario {
        Scenario::Server => {
            d.log(
                "result_scheduled_samples_per_sec",
                s.scheduled_samples_per_second(),
            );
            d.log(
                "result_completed_samples_per_sec",
                s.completed_samples_per_second(),
            );
        }
        Scenario::Offline => d.log("result_samples_per_second", s.samples_per_second()),
        Scenario::SingleStream => {
            let w = (s.sample_count as f64 - 1.0) / s.pr.final_query_issued_time;
            d.log("result_qps_with_loadgen_overhead", w);
            d.log(
                "result_qps_without_loadgen_overhead",
                1.0 / (s.latency.mean as f64 / 1e9),
            );
        }
        Scenario::MultiStream => {
            d.log("result_min_query_latency_ns", s.query_latency.min);
            d.log("result_max_query_latency_ns", s.query_latency.max);
            d.log("result_mean_query_latency_ns", s.query_latency.mean);
            for (p, v) in PERCENTILES.iter().zip(s.query_latency.percentiles) {
                d.log(
                    &format!("result_{}_percentile_per_query_latency_ns", f2(p * 100.0)),
                    v,
                );
            }
        }
    }
    d.log("result_min_latency_ns", s.latency.min);
    d.log("result_max_latency_ns", s.latency.max);
    d.log("result_mean_latency_ns", s.latency.mean);
    for (p, v) in PERCENTILES.iter().zip(s.latency.percentiles) {
        d.log(
            &format!("result_{}_percentile_latency_ns", f2(p * 100.0)),
            v,
        );
    }
    if tokens {
        if st.scenario != Scenario::Offline {
            d.log("result_first_token_min_latency_ns", s.first_token.min);
            d.log("result_first_token_max_latency_ns", s.first_token.max);
            d.log("result_first_token_mean_latency_ns", s.first_token.mean);
            for (p, v) in PERCENTILES.iter().zip(s.first_token.percentiles) {
                d.log(
                    &format!("result_first_token_{}_percentile_latency_ns", f2(p * 100.0)),
                    v,
                );
            }
            let tc = s.token_count as f64;
            d.log(
                "result_token_throughput_with_loadgen_overhead",
                tc / s.pr.final_query_issued_time,
            );
            // LoadGen's unit bug (ns in the denominator) is reproduced.
            d.log(
                "result_token_throughput",
                tc / (s.latency.mean as f64 * s.sample_count as f64),
            );
            for (p, v) in PERCENTILES.iter().zip(s.tpot.percentiles) {
                d.log(
                    &format!(
                        "result_time_per_output_token_{}_percentile_ns",
                        f2(p * 100.0)
                    ),
                    v,
                );
            }
            d.log("result_time_to_output_token_min", s.tpot.min);
            d.log("result_time_to_output_token_max", s.tpot.max);
            d.log("result_time_to_output_token_mean", s.tpot.mean);
            d.log(
                "result_completed_tokens_per_second",
                s.completed_tokens_per_second(),
            );
        } else {
            d.log("result_tokens_per_second", s.tokens_per_second());
        }
    }
    let errors = d.errors;
    d.log("num_errors", errors);
}
