//! What a person watches during a run (the live view's figures, computed
//! from the records and LoadGen's plan) and reads after it (the summary's
//! key lines, `results.json`).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use loadgen::{ConfigFiles, Scenario, TestSpec};

use super::interrupt::Interrupt;
use super::records::{percentile, Live, Records};
use crate::progress::{Lag, Latency, LiveState, Projection};

/// The rolling latency percentiles are taken over this many recent samples.
const WINDOW: usize = 1000;
/// The recent token rate is measured over this span.
const RECENT: Duration = Duration::from_secs(5);

/// What LoadGen will do in this run, from its own settings and plan.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// Samples it will issue.
    samples: Option<u64>,
    /// How long its schedule lasts (Server) or must at least last (Offline).
    duration: Option<Duration>,
    /// The percentile the latency limits apply to.
    percentile: f64,
    /// Server and Interactive: the TTFT and TPOT limits, and early stopping applies.
    limits: Option<(Duration, Duration)>,
}

impl Expectations {
    /// Resolves the spec's settings and plans the run as LoadGen will; when
    /// that fails the view shows no totals (LoadGen reports the error itself).
    pub fn of(spec: &TestSpec, qsl_samples: usize) -> Expectations {
        let files = ConfigFiles {
            mlperf_conf: spec.mlperf_conf.as_deref(),
            user_conf: spec.user_conf.as_deref(),
            audit_config: spec.audit_config.as_deref(),
        };
        let Ok(resolved) = loadgen::resolve_settings(spec.base.clone(), &spec.model, files) else {
            return Expectations::default();
        };
        let s = &resolved.settings;
        let n = qsl_samples as u64;
        let plan = loadgen::plan(s, n, n).ok();
        let samples = plan.as_ref().map(|plan| {
            plan.series
                .iter()
                .flat_map(|series| series.issued_queries())
                .map(|q| q.indices.len() as u64)
                .sum::<u64>()
        });
        let server = s.scenario == Scenario::Server;
        let duration = match (&plan, server) {
            (Some(plan), true) => plan
                .series
                .last()
                .and_then(|series| series.issued_queries().last())
                .map(|q| Duration::from_nanos(q.scheduled_ns)),
            _ => Some(Duration::from_millis(s.min_duration_ms)),
        };
        Expectations {
            samples,
            duration,
            percentile: s.server_target_latency_percentile,
            limits: server.then(|| {
                (
                    Duration::from_nanos(s.server_ttft_latency),
                    Duration::from_nanos(s.server_tpot_latency),
                )
            }),
        }
    }
}

/// Builds the live view's state from the records, every refresh.
pub struct LiveSource {
    /// Scenario, mode, sample count.
    pub title: String,
    /// The run's records.
    pub records: Arc<Records>,
    /// When the run started.
    pub origin: Instant,
    /// What LoadGen will do.
    pub expect: Expectations,
    /// Whether Ctrl-C was pressed.
    pub interrupt: &'static Interrupt,
    /// (when, output tokens so far), for the recent token rate.
    pub history: VecDeque<(Instant, usize)>,
}

impl LiveSource {
    /// The figures now.
    pub fn state(&mut self) -> LiveState {
        let now = Instant::now();
        let expect = &self.expect;
        let mut state = self.records.inspect(|live| figures(live, expect));
        state.title = self.title.clone();
        state.elapsed = now.duration_since(self.origin);
        state.interrupted = self.interrupt.requested();
        let tokens = self.records.inspect(|live| live.output_tokens);
        state.tokens_per_s = tokens as f64 / state.elapsed.as_secs_f64().max(1e-9);
        self.history.push_back((now, tokens));
        while self
            .history
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RECENT)
        {
            self.history.pop_front();
        }
        if let Some((at, before)) = self.history.front() {
            let span = now.duration_since(*at).as_secs_f64();
            state.recent_tokens_per_s = if span > 0.0 {
                (tokens - before) as f64 / span
            } else {
                0.0
            };
        }
        state
    }
}

/// The figures of the records so far against what LoadGen will do.
fn figures(live: &Live, expect: &Expectations) -> LiveState {
    let recent = |v: &[u64]| v[v.len().saturating_sub(WINDOW)..].to_vec();
    let rolling = |v: &[u64], limit: Option<Duration>| Latency {
        value: percentile(&recent(v), expect.percentile).map(Duration::from_nanos),
        limit,
        percentile: expect.percentile,
    };
    let lag = |p| percentile(&live.issue_lag_ns, p).map(Duration::from_nanos);
    let issue_lag = match (lag(0.99), live.issue_lag_ns.iter().max()) {
        (Some(p99), Some(&max)) => Some(Lag {
            p99,
            max: Duration::from_nanos(max),
        }),
        _ => None,
    };
    let (ttft_limit, tpot_limit) = expect.limits.unzip();
    let mut early_stopping = Vec::new();
    if let (Some((ttft, tpot)), Some(queries)) = (expect.limits, expect.samples) {
        early_stopping.push(project(
            "TTFT",
            &live.ttft_ns,
            ttft,
            queries,
            expect.percentile,
        ));
        early_stopping.push(project(
            "TPOT",
            &live.tpot_ns,
            tpot,
            queries,
            expect.percentile,
        ));
    }
    LiveState {
        expected_samples: expect.samples,
        expected_duration: expect.duration,
        issued: live.issued as u64,
        done: live.done as u64,
        failed: live.errors as u64,
        first_error: live.first_error.clone(),
        issue_lag,
        ttft: rolling(&live.ttft_ns, ttft_limit),
        tpot: rolling(&live.tpot_ns, tpot_limit),
        window: WINDOW,
        early_stopping,
        ..LiveState::default()
    }
}

/// LoadGen's early-stopping criterion at the end of the run (`queries`
/// issued), if the share of samples over `limit` so far holds.
fn project(
    metric: &'static str,
    latencies_ns: &[u64],
    limit: Duration,
    queries: u64,
    percentile: f64,
) -> Projection {
    let limit_ns = limit.as_nanos() as u64;
    let measured = latencies_ns.len() as u64;
    let over = latencies_ns.iter().filter(|&&l| l > limit_ns).count() as u64;
    let projected_over = if measured == 0 {
        0
    } else {
        (over as f64 / measured as f64 * queries as f64).round() as i64
    };
    Projection {
        metric,
        measured,
        over,
        at_queries: queries,
        needed: loadgen::early_stopping_min_queries(projected_over, percentile).max(0) as u64,
    }
}

/// `results.json`: the client's own view, beside LoadGen's logs.
pub fn write_results(
    path: &Path,
    live: &Live,
    report: &loadgen::TestReport,
    elapsed: Duration,
    energy: Option<&telemetry::EnergyReport>,
) -> anyhow::Result<()> {
    let pct = |v: &[u64]| {
        serde_json::json!({
            "p50_ms": percentile(v, 0.50).map(|n| n as f64 / 1e6),
            "p90_ms": percentile(v, 0.90).map(|n| n as f64 / 1e6),
            "p99_ms": percentile(v, 0.99).map(|n| n as f64 / 1e6),
        })
    };
    let perf = report.performance.as_ref();
    let results = serde_json::json!({
        "samples": live.done,
        "errors": live.errors,
        "first_error": live.first_error,
        "output_tokens": live.output_tokens,
        "wall_seconds": elapsed.as_secs_f64(),
        "output_tokens_per_second": live.output_tokens as f64 / elapsed.as_secs_f64().max(1e-9),
        "token_counts": {
            "re_tokenized": live.retokenized,
            "server_and_ours_disagree": live.counts_disagree,
            "counted": live.done - live.errors,
        },
        "ttft": pct(&live.ttft_ns),
        "tpot": pct(&live.tpot_ns),
        "loadgen": {
            "version": report.loadgen_version,
            "errors": report.errors,
            "warnings": report.warnings,
            "result_valid": report.result_valid,
            "min_duration_met": perf.map(|p| p.min_duration_met),
            "min_queries_met": perf.map(|p| p.min_queries_met),
            "perf_constraints_met": perf.map(|p| p.perf_constraints_met),
            "early_stopping_met": perf.map(|p| p.early_stopping_met),
            "sample_count": perf.map(|p| p.sample_count),
        },
        "energy": energy,
    });
    std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    Ok(())
}

/// How tokens were counted, when it is not simply the server's ids: how
/// many samples were re-tokenized from text, and how often the server's
/// count and ours disagree.
pub fn token_count_line(live: &Live) -> Option<String> {
    let counted = live.done - live.errors;
    (live.retokenized > 0 || live.counts_disagree > 0).then(|| {
        format!(
            "token counts: {} of {counted} samples re-tokenized from the server's text \
             (harmony o200k); the server's completion_tokens and ours disagree on {} of {counted}",
            live.retokenized, live.counts_disagree
        )
    })
}

/// The summary lines a person looks for first.
pub fn print_summary(outdir: &Path) {
    let Ok(summary) = std::fs::read_to_string(outdir.join("mlperf_log_summary.txt")) else {
        return;
    };
    const KEYS: [&str; 9] = [
        "Scenario :",
        "Mode     :",
        "per second",
        "Result is",
        "Early stopping",
        "Min duration satisfied",
        "Min queries satisfied",
        "Performance constraints satisfied",
        "TTFT Early",
    ];
    for line in summary
        .lines()
        .filter(|l| KEYS.iter().any(|k| l.contains(k)))
    {
        eprintln!("  {}", line.trim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_is_loadgens_verdict_at_the_projected_count() {
        // (latencies in ms, limit ms, queries at the end, passes): with no
        // sample over the limit LoadGen needs 459 queries at p99 (its own
        // number); 1 in 10 over the limit never passes at p99.
        let cases: [(&[u64], u64, u64, bool); 4] = [
            (&[10, 20, 30], 100, 459, true),
            (&[10, 20, 30], 100, 458, false),
            (
                &[10, 20, 30, 40, 50, 60, 70, 80, 90, 500],
                100,
                270_336,
                false,
            ),
            (&[], 100, 1000, true),
        ];
        for (ms, limit, queries, passes) in cases {
            let ns: Vec<u64> = ms.iter().map(|m| m * 1_000_000).collect();
            let p = project("TTFT", &ns, Duration::from_millis(limit), queries, 0.99);
            assert_eq!(p.passes(), passes, "{ms:?} at {queries}: {p:?}");
            let over = ms.iter().filter(|&&m| m > limit).count() as i64;
            let projected = if ms.is_empty() {
                0
            } else {
                (over as f64 * queries as f64 / ms.len() as f64).round() as i64
            };
            assert_eq!(
                p.needed as i64,
                loadgen::early_stopping_min_queries(projected, 0.99)
            );
        }
    }
}
