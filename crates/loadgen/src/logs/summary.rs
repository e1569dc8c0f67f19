//! `mlperf_log_summary.txt`, line for line as LoadGen writes it.

use std::fmt::Write as _;

use super::fmt::{f2, g6};
use crate::results::{PerformanceSummary, PERCENTILES};
use crate::settings::Scenario;

fn pct_label(p: f64) -> String {
    f2(p * 100.0)
}

/// The results part of the summary (everything before the footer).
pub fn write_summary(s: &PerformanceSummary) -> String {
    let mut o = String::new();
    let st = &s.settings;
    let tokens = st.requested.use_token_latencies;
    let mut line = |t: &str| {
        o.push_str(t);
        o.push('\n');
    };
    line("================================================\nMLPerf Results Summary\n================================================");
    line(&format!("SUT name : {}", s.sut_name));
    line(&format!("Scenario : {}", st.scenario));
    line(&format!("Mode     : {}", st.mode));
    match st.scenario {
        Scenario::SingleStream => line(&format!(
            "{}th percentile latency (ns) : {}",
            super::fmt::f1(st.target_latency_percentile * 100.0),
            s.latency.target
        )),
        Scenario::MultiStream => line(&format!(
            "{}th percentile latency (ns) : {}",
            super::fmt::f1(st.target_latency_percentile * 100.0),
            s.query_latency.target
        )),
        Scenario::Server => line(&format!(
            "Completed samples per second    : {}",
            f2(s.completed_samples_per_second())
        )),
        Scenario::Offline => line(&format!(
            "Samples per second: {}",
            g6(s.samples_per_second())
        )),
    }
    if tokens {
        match st.scenario {
            Scenario::Offline => line(&format!("Tokens per second: {}", g6(s.tokens_per_second()))),
            Scenario::Server => line(&format!(
                "Completed tokens per second: {}",
                f2(s.completed_tokens_per_second())
            )),
            _ => line(&format!(
                "{}th first token percentile latency (ns) : {}",
                super::fmt::f1(st.target_latency_percentile * 100.0),
                s.first_token.target
            )),
        }
    }
    let yes = |b: bool| if b { "Yes" } else { "NO" };
    line(&format!(
        "Result is : {}",
        if s.valid() { "VALID" } else { "INVALID" }
    ));
    if st.scenario == Scenario::Server {
        line(&format!(
            "  Performance constraints satisfied : {}",
            yes(s.perf_constraints_met)
        ));
    }
    line(&format!(
        "  Min duration satisfied : {}",
        yes(s.min_duration_met)
    ));
    line(&format!(
        "  Min queries satisfied : {}",
        yes(s.min_queries_met)
    ));
    line(&format!(
        "  Early stopping satisfied: {}",
        yes(s.early_stopping_met)
    ));
    if !s.valid() {
        line("Recommendations:");
        if !s.perf_constraints_met {
            line(&format!(" * {}", s.perf_constraints_recommendation));
        }
        if !s.min_duration_met {
            line(&format!(" * {}", s.min_duration_recommendation));
        }
        if !s.min_queries_met {
            line(" * The test exited early, before enough queries were issued.\n   See the detailed log for why this may have occurred.");
        }
    }
    if st.scenario != Scenario::Offline {
        if !tokens {
            line("Early Stopping Result:");
            line(&s.early_stopping);
        } else {
            line("TTFT Early Stopping Result:");
            line(&s.early_stopping_ttft);
            line("TPOT Early Stopping Result:");
            line(&s.early_stopping_tpot);
        }
    }
    line("\n================================================\nAdditional Stats\n================================================");
    match st.scenario {
        Scenario::SingleStream => {
            let w = (s.sample_count as f64 - 1.0) / s.pr.final_query_issued_time;
            let wo = 1.0 / (s.latency.mean as f64 / 1e9);
            line(&format!("QPS w/ loadgen overhead         : {}", f2(w)));
            line(&format!("QPS w/o loadgen overhead        : {}", f2(wo)));
            line("");
        }
        Scenario::Server => line(&format!(
            "Scheduled samples per second : {}",
            f2(s.scheduled_samples_per_second())
        )),
        Scenario::MultiStream => {
            line("Per-query latency:  ");
            stats(&mut line, &s.query_latency, "latency (ns)   : ");
        }
        Scenario::Offline => {}
    }
    if st.scenario != Scenario::MultiStream {
        line(&format!(
            "Min latency (ns)                : {}",
            s.latency.min
        ));
        line(&format!(
            "Max latency (ns)                : {}",
            s.latency.max
        ));
        line(&format!(
            "Mean latency (ns)               : {}",
            s.latency.mean
        ));
        for (p, v) in PERCENTILES.iter().zip(s.latency.percentiles) {
            line(&format!(
                "{} percentile latency (ns)   : {v}",
                pct_label(*p)
            ));
        }
    }
    if tokens {
        line("");
        if st.scenario == Scenario::Server {
            line(&format!(
                "Completed tokens per second                 : {}",
                f2(s.completed_tokens_per_second())
            ));
        }
        if st.scenario != Scenario::Offline {
            line(&format!(
                "Min First Token latency (ns)                : {}",
                s.first_token.min
            ));
            line(&format!(
                "Max First Token latency (ns)                : {}",
                s.first_token.max
            ));
            line(&format!(
                "Mean First Token latency (ns)               : {}",
                s.first_token.mean
            ));
            for (p, v) in PERCENTILES.iter().zip(s.first_token.percentiles) {
                line(&format!(
                    "{} percentile first token latency (ns)   : {v}",
                    pct_label(*p)
                ));
            }
            line("");
            line(&format!(
                "Min Time per Output Token (ns)                : {}",
                s.tpot.min
            ));
            line(&format!(
                "Max Time per Output Token (ns)                : {}",
                s.tpot.max
            ));
            line(&format!(
                "Mean Time per Output Token (ns)               : {}",
                s.tpot.mean
            ));
            for (p, v) in PERCENTILES.iter().zip(s.tpot.percentiles) {
                line(&format!(
                    "{} percentile time to output token (ns)   : {v}",
                    pct_label(*p)
                ));
            }
        }
    }
    line("\n================================================\nTest Parameters Used\n================================================");
    let b = |v: bool| u8::from(v);
    let r = &st.requested;
    line(&format!("samples_per_query : {}", st.samples_per_query));
    line(&format!("target_qps : {}", g6(st.target_qps)));
    if !tokens {
        line(&format!("target_latency (ns): {}", st.target_latency_ns));
    } else {
        line(&format!("ttft_latency (ns): {}", r.server_ttft_latency));
        line(&format!("tpot_latency (ns): {}", r.server_tpot_latency));
    }
    line(&format!("max_async_queries : {}", st.max_async_queries));
    line(&format!("min_duration (ms): {}", st.min_duration_ms));
    line(&format!("max_duration (ms): {}", st.max_duration_ms));
    line(&format!("min_query_count : {}", st.min_query_count));
    line(&format!("max_query_count : {}", st.max_query_count));
    line(&format!("qsl_rng_seed : {}", r.qsl_rng_seed));
    line(&format!(
        "sample_index_rng_seed : {}",
        r.sample_index_rng_seed
    ));
    line(&format!("schedule_rng_seed : {}", r.schedule_rng_seed));
    line(&format!(
        "accuracy_log_rng_seed : {}",
        r.accuracy_log_rng_seed
    ));
    line(&format!(
        "accuracy_log_probability : {}",
        g6(r.accuracy_log_probability)
    ));
    line(&format!(
        "accuracy_log_sampling_target : {}",
        r.accuracy_log_sampling_target
    ));
    line(&format!("print_timestamps : {}", b(r.print_timestamps)));
    line(&format!(
        "performance_issue_unique : {}",
        b(r.performance_issue_unique)
    ));
    line(&format!(
        "performance_issue_same : {}",
        b(r.performance_issue_same)
    ));
    line(&format!(
        "performance_issue_same_index : {}",
        r.performance_issue_same_index
    ));
    line(&format!(
        "performance_sample_count : {}",
        st.performance_sample_count
    ));
    line(&format!(
        "accuracy_sample_count : {}",
        st.accuracy_sample_count
    ));
    if st.sample_concatenate_permutation {
        line("WARNING: sample_concatenate_permutation was set to true. \nGenerated samples per query might be different as the one in the setting.\nCheck the generated_samples_per_query line in the detailed log for the real\nsamples_per_query value");
    }
    let _ = write!(o, "");
    o
}

fn stats(line: &mut impl FnMut(&str), l: &crate::results::LatencyStats, suffix: &str) {
    line(&format!("Min latency (ns)                : {}", l.min));
    line(&format!("Max latency (ns)                : {}", l.max));
    line(&format!("Mean latency (ns)               : {}", l.mean));
    for (p, v) in PERCENTILES.iter().zip(l.percentiles) {
        line(&format!("{} percentile {suffix}{v}", pct_label(*p)));
    }
}

/// The footer LoadGen appends when logging stops.
pub fn write_footer(warnings: u64, errors: u64) -> String {
    let w = match warnings {
        0 => "\nNo warnings encountered during test.\n".to_string(),
        1 => "\n1 warning encountered. See detailed log.\n".to_string(),
        n => format!("\n{n} warnings encountered. See detailed log.\n"),
    };
    let e = match errors {
        0 => "\nNo errors encountered during test.\n".to_string(),
        1 => "\n1 ERROR encountered. See detailed log.\n".to_string(),
        n => format!("\n{n} ERRORS encountered. See detailed log.\n"),
    };
    w + &e
}
