//! `/metrics` in SGLang's names (`sglang/srt/observability/metrics_collector.py`,
//! SGLang 0.5.23), so that clients which read SGLang's page (our own
//! `telemetry` crate included) read ours: request and token counters, and
//! the scheduler gauges running, queued, KV usage and generation throughput
//! taken from the backend's [`Load`] where it reports one.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use backend::Load;

use super::AppState;

/// Generated tokens per second, taken between `/metrics` reads at least
/// [`Throughput::SPAN`] apart (SGLang's scheduler likewise reports it over
/// its logging interval), so several scrapers do not shorten each other's.
#[derive(Default)]
pub(super) struct Throughput(Mutex<Option<(Instant, u64, f64)>>);

impl Throughput {
    const SPAN: Duration = Duration::from_secs(1);

    /// The rate given `generated` tokens so far; 0 until a span has passed.
    fn update(&self, generated: u64) -> f64 {
        let now = Instant::now();
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some((at, _, rate)) if now.duration_since(at) < Self::SPAN => rate,
            Some((at, before, _)) => {
                let rate =
                    generated.saturating_sub(before) as f64 / now.duration_since(at).as_secs_f64();
                *last = Some((now, generated, rate));
                rate
            }
            None => {
                *last = Some((now, generated, 0.0));
                0.0
            }
        }
    }
}

/// One series: name, Prometheus type, help, value.
type Line = (&'static str, &'static str, &'static str, f64);

fn lines(s: &AppState) -> [Line; 10] {
    let m = &s.metrics;
    let count = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed) as f64;
    // Without a load report, the requests inside the HTTP layer are the running ones.
    let load = s.backend.load().unwrap_or(Load {
        running: m.running.load(Ordering::Relaxed),
        generated_tokens: m.finished.generation_tokens.load(Ordering::Relaxed),
        ..Load::default()
    });
    let usage = if load.kv_capacity > 0 {
        load.kv_tokens as f64 / load.kv_capacity as f64
    } else {
        0.0
    };
    [
        (
            "sglang:num_requests_total",
            "counter",
            "Generation requests received.",
            count(&m.requests),
        ),
        (
            "sglang:num_finished_requests_total",
            "counter",
            "Generation requests finished.",
            count(&m.finished.requests),
        ),
        (
            "sglang:num_bad_requests_total",
            "counter",
            "Requests refused with a 4xx.",
            count(&m.bad_requests),
        ),
        (
            "sglang:prompt_tokens_total",
            "counter",
            "Prompt tokens of finished requests.",
            count(&m.finished.prompt_tokens),
        ),
        (
            "sglang:generation_tokens_total",
            "counter",
            "Generated tokens of finished requests.",
            count(&m.finished.generation_tokens),
        ),
        (
            "sglang:num_running_reqs",
            "gauge",
            "The number of running requests.",
            load.running as f64,
        ),
        (
            "sglang:num_queue_reqs",
            "gauge",
            "The number of requests in the waiting queue.",
            load.queued as f64,
        ),
        ("sglang:token_usage", "gauge", "The token usage.", usage),
        (
            "sglang:gen_throughput",
            "gauge",
            "The generation throughput (token/s).",
            m.throughput.update(load.generated_tokens),
        ),
        (
            "sglang:cache_hit_rate",
            "gauge",
            "The prefix cache hit rate.",
            0.0,
        ),
    ]
}

/// `GET /metrics`: Prometheus text format 0.0.4, every series labelled with the model name.
pub(super) async fn metrics(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    let name = s.info.model_name.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    for (metric, kind, help, value) in lines(&s) {
        out.push_str(&format!(
            "# HELP {metric} {help}\n# TYPE {metric} {kind}\n{metric}{{model_name=\"{name}\"}} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
