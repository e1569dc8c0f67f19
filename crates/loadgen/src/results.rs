//! Results of a performance series as LoadGen computes them: latency
//! statistics (integer means, `sorted[(size_t)(count * p)]` percentiles),
//! token metrics (TPOT by integer division), throughput and validity.

use crate::early_stopping::server_early_stopping;
use crate::effective::EffectiveSettings;
use crate::settings::Scenario;

/// The percentiles LoadGen reports.
pub const PERCENTILES: [f64; 6] = [0.50, 0.90, 0.95, 0.97, 0.99, 0.999];

/// Raw measurements of one performance series (LoadGen's
/// `PerformanceResult`); times in seconds, latencies in ns.
#[derive(Clone, Debug, Default)]
pub struct PerformanceResult {
    /// e2e latency per sample, in sample order.
    pub sample_latencies: Vec<i64>,
    /// Per-query latency (MultiStream only).
    pub query_latencies: Vec<i64>,
    /// TTFT per sample (token latencies, not Offline).
    pub first_token_latencies: Vec<i64>,
    /// TPOT per sample: (e2e − TTFT) / (tokens − 1).
    pub time_per_output_token: Vec<i64>,
    /// Output tokens per sample, as the SUT reported them.
    pub tokens_per_sample: Vec<i64>,
    /// How many queries were issued.
    pub queries_issued: u64,
    /// The largest sample latency, in seconds.
    pub max_latency: f64,
    /// When the last query was scheduled, from the start.
    pub final_query_scheduled_time: f64,
    /// When the last query was issued, from the start.
    pub final_query_issued_time: f64,
    /// When the last query's samples were all done, from the start.
    pub final_query_all_samples_done_time: f64,
}

/// Sorted statistics of one latency array.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyStats {
    /// The smallest value.
    pub min: i64,
    /// The largest value.
    pub max: i64,
    /// Integer mean over the sample count.
    pub mean: i64,
    /// Values at [`PERCENTILES`].
    pub percentiles: [i64; 6],
    /// Value at the target percentile.
    pub target: i64,
}

fn at(sorted: &[i64], count: usize, p: f64) -> i64 {
    let i = (count as f64 * p) as usize;
    sorted.get(i).or(sorted.last()).copied().unwrap_or(0)
}

/// Sorts `v` and computes LoadGen's statistics; the mean divides by
/// `count` (the sample count, also for TTFT and TPOT).
pub fn latency_stats(v: &mut [i64], count: usize, target_percentile: f64) -> LatencyStats {
    if v.is_empty() || count == 0 {
        return LatencyStats::default();
    }
    let sum: i64 = v.iter().fold(0i64, |a, &b| a.wrapping_add(b));
    v.sort_unstable();
    let mut percentiles = [0; 6];
    for (o, p) in percentiles.iter_mut().zip(PERCENTILES) {
        *o = at(v, count, p);
    }
    LatencyStats {
        min: v[0],
        max: v[v.len() - 1],
        mean: sum / count as i64,
        percentiles,
        target: at(v, count, target_percentile),
    }
}

/// Everything the summary and detail logs report (LoadGen's
/// `PerformanceSummary` after `ProcessLatencies`).
#[derive(Clone, Debug)]
pub struct PerformanceSummary {
    /// The SUT's name, as the summary prints it.
    pub sut_name: String,
    /// The settings of the series.
    pub settings: EffectiveSettings,
    /// The raw measurements.
    pub pr: PerformanceResult,
    /// Samples completed.
    pub sample_count: u64,
    /// e2e latency statistics.
    pub latency: LatencyStats,
    /// Per-query latency statistics (MultiStream).
    pub query_latency: LatencyStats,
    /// Queries over the latency bound.
    pub overlatency_query_count: u64,
    /// Output tokens over all samples.
    pub token_count: i64,
    /// TTFT statistics.
    pub first_token: LatencyStats,
    /// TPOT statistics.
    pub tpot: LatencyStats,
    /// The run lasted the minimum duration.
    pub min_duration_met: bool,
    /// What the summary recommends when the duration was too short.
    pub min_duration_recommendation: String,
    /// The run issued the minimum query count.
    pub min_queries_met: bool,
    /// The latency (and TTFT/TPOT) bounds were met.
    pub perf_constraints_met: bool,
    /// What the summary recommends when the bounds were missed.
    pub perf_constraints_recommendation: String,
    /// Early stopping allows the result.
    pub early_stopping_met: bool,
    /// The early-stopping text for e2e latency.
    pub early_stopping: String,
    /// The early-stopping text for TTFT.
    pub early_stopping_ttft: String,
    /// The early-stopping text for TPOT.
    pub early_stopping_tpot: String,
}

impl PerformanceSummary {
    /// Computes the statistics, validity and early-stopping texts of a
    /// series' measurements, as LoadGen's `ProcessLatencies` does.
    pub fn new(sut_name: String, settings: EffectiveSettings, pr: PerformanceResult) -> Self {
        let s = &settings;
        let n = pr.sample_latencies.len();
        let p = s.target_latency_percentile;
        let latency = latency_stats(&mut pr.sample_latencies.clone(), n, p);
        let query_latency = latency_stats(
            &mut pr.query_latencies.clone(),
            pr.queries_issued as usize,
            p,
        );
        let overlatency_query_count = if s.scenario == Scenario::Server {
            pr.sample_latencies
                .iter()
                .filter(|&&l| l > s.target_latency_ns as i64)
                .count() as u64
        } else {
            0
        };
        let use_tokens = s.requested.use_token_latencies;
        let token_count = pr
            .tokens_per_sample
            .iter()
            .filter(|&&t| t != i64::MIN)
            .sum();
        let (first_token, tpot) = if use_tokens && !pr.first_token_latencies.is_empty() {
            (
                latency_stats(&mut pr.first_token_latencies.clone(), n, p),
                latency_stats(&mut pr.time_per_output_token.clone(), n, p),
            )
        } else {
            Default::default()
        };
        let min_duration_s = s.min_duration_ms as f64 / 1000.0;
        let (min_duration_met, min_duration_recommendation) = match s.scenario {
            Scenario::Offline => (
                pr.max_latency >= min_duration_s,
                "Increase expected QPS so the loadgen pre-generates a larger (coalesced) query.",
            ),
            Scenario::Server => (
                pr.final_query_scheduled_time >= min_duration_s,
                "Increase the target QPS so the loadgen pre-generates more queries.",
            ),
            _ => (
                pr.final_query_issued_time >= min_duration_s,
                "Decrease the expected latency so the loadgen pre-generates more queries.",
            ),
        };
        let min_queries_met =
            pr.queries_issued >= s.min_query_count && n as u64 >= s.min_sample_count;
        let mut perf_constraints_met = true;
        let mut perf_rec = String::new();
        if s.scenario == Scenario::Server {
            if !use_tokens {
                if latency.target > s.target_latency_ns as i64 {
                    perf_rec = "Reduce target QPS to improve latency.".into();
                    perf_constraints_met = false;
                }
            } else {
                if first_token.target > s.requested.server_ttft_latency as i64 {
                    perf_rec =
                        "TTFT constrain not met: Reduce target QPS to improve latency.".into();
                    perf_constraints_met = false;
                }
                if tpot.target > s.requested.server_tpot_latency as i64 {
                    if perf_rec.is_empty() {
                        perf_rec =
                            "TPOT constrain not met: Reduce target QPS to improve latency.".into();
                    } else {
                        perf_rec.push_str(
                            "\n * TPOT constrain not met: Reduce target QPS to improve latency.",
                        );
                    }
                    perf_constraints_met = false;
                }
            }
        }
        let issued = pr.queries_issued as i64;
        let mut early_stopping = String::new();
        let mut early_stopping_ttft = String::new();
        let mut early_stopping_tpot = String::new();
        let early_stopping_met = if s.scenario != Scenario::Server {
            // Offline has none; SingleStream/MultiStream are not LLM
            // datacenter scenarios and are not implemented here.
            true
        } else if !use_tokens {
            let (ok, text) =
                server_early_stopping(&pr.sample_latencies, s.target_latency_ns as i64, issued, p);
            early_stopping = text;
            ok
        } else {
            let (ok, text) = server_early_stopping(
                &pr.time_per_output_token,
                s.requested.server_tpot_latency as i64,
                issued,
                p,
            );
            early_stopping_tpot = text;
            ok && {
                let (ok, text) = server_early_stopping(
                    &pr.first_token_latencies,
                    s.requested.server_ttft_latency as i64,
                    issued,
                    p,
                );
                early_stopping_ttft = text;
                ok
            }
        };
        PerformanceSummary {
            sut_name,
            sample_count: n as u64,
            latency,
            query_latency,
            overlatency_query_count,
            token_count,
            first_token,
            tpot,
            min_duration_met,
            min_duration_recommendation: min_duration_recommendation.to_string(),
            min_queries_met,
            perf_constraints_met,
            perf_constraints_recommendation: perf_rec,
            early_stopping_met,
            early_stopping,
            early_stopping_ttft,
            early_stopping_tpot,
            settings,
            pr,
        }
    }

    /// VALID iff every condition holds.
    pub fn valid(&self) -> bool {
        self.min_duration_met
            && self.min_queries_met
            && self.perf_constraints_met
            && self.early_stopping_met
    }

    /// Why the run is INVALID, one reason per failed condition.
    pub fn invalid_reasons(&self) -> Vec<String> {
        let mut r = Vec::new();
        if !self.perf_constraints_met {
            r.push(self.perf_constraints_recommendation.clone());
        }
        if !self.min_duration_met {
            r.push(self.min_duration_recommendation.clone());
        }
        if !self.min_queries_met {
            r.push("The test exited early, before enough queries were issued.".into());
        }
        if !self.early_stopping_met {
            r.push("Early stopping criterion not met.".into());
        }
        r
    }

    /// Offline samples/s: all samples over the run length.
    pub fn samples_per_second(&self) -> f64 {
        self.sample_count as f64 / self.pr.max_latency
    }
    /// Offline tokens/s.
    pub fn tokens_per_second(&self) -> f64 {
        self.token_count as f64 / self.pr.max_latency
    }
    /// Server: (samples − 1) over the last-issued query's completion time.
    pub fn completed_samples_per_second(&self) -> f64 {
        (self.sample_count as f64 - 1.0) / self.pr.final_query_all_samples_done_time
    }
    /// Server: tokens over the last-issued query's completion time (no −1).
    pub fn completed_tokens_per_second(&self) -> f64 {
        self.token_count as f64 / self.pr.final_query_all_samples_done_time
    }
    /// Server: (samples − 1) over the last query's scheduled time.
    pub fn scheduled_samples_per_second(&self) -> f64 {
        (self.sample_count as f64 - 1.0) / self.pr.final_query_scheduled_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_index_truncates() {
        let mut v: Vec<i64> = (0..6396).rev().collect();
        let s = latency_stats(&mut v, 6396, 0.99);
        assert_eq!(s.target, 6332);
        assert_eq!(s.mean, (0..6396i64).sum::<i64>() / 6396);
    }
}
