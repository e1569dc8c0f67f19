//! What a person watches during a run (one live line) and reads after it
//! (the summary's key lines, `results.json`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::records::{percentile, Live, Records};
use crate::progress::Progress;

/// The run's live line on the shared progress display, fed from the records.
pub struct Ticker(Progress);

impl Ticker {
    /// Starts showing the line for `records`, with rates since `origin`.
    pub fn start(records: Arc<Records>, origin: Instant) -> Ticker {
        Ticker(Progress::live(move || {
            live_line(&records.live(), origin.elapsed())
        }))
    }

    /// Stops the line and clears it from the terminal.
    pub fn stop(self) {
        self.0.finish();
    }
}

fn ms(ns: Option<u64>) -> String {
    ns.map_or("-".into(), |v| format!("{:.1}", v as f64 / 1e6))
}

fn live_line(live: &Live, elapsed: Duration) -> String {
    format!(
        "{} samples done ({} errors), {:.0} tokens/s, TTFT p50/p99 {}/{} ms, TPOT p50/p99 {}/{} ms",
        live.done,
        live.errors,
        live.output_tokens as f64 / elapsed.as_secs_f64().max(1e-9),
        ms(percentile(&live.ttft_ns, 0.50)),
        ms(percentile(&live.ttft_ns, 0.99)),
        ms(percentile(&live.tpot_ns, 0.50)),
        ms(percentile(&live.tpot_ns, 0.99)),
    )
}

/// `results.json`: the client's own view, beside LoadGen's logs.
pub fn write_results(
    path: &Path,
    live: &Live,
    report: &loadgen::TestReport,
    elapsed: Duration,
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
