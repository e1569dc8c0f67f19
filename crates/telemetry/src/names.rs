//! The metric names of SGLang, vLLM and TensorRT-LLM mapped onto common
//! names, as data. Each row was read from the server's released source:
//!
//! * SGLang 0.5.23 (`pip download sglang==0.5.23`):
//!   `sglang/srt/observability/metrics_collector.py`, `SchedulerMetricsCollector`
//!   (labels `model_name`, `engine_type`, `tp_rank`, `pp_rank`, `moe_ep_rank`).
//! * vLLM 0.34.0 (`pip download vllm==0.34.0`): `vllm/v1/metrics/loggers.py`,
//!   `PrometheusStatLogger` (labels `model_name`, `engine`), and
//!   `vllm/v1/spec_decode/metrics.py`, `SpecDecodingProm` (its mean
//!   acceptance length is `1 + accepted / drafts`, "conventionally including
//!   the bonus token"). Counters are exposed with `_total` appended.
//! * TensorRT-LLM (`NVIDIA/TensorRT-LLM` at commit 050f80def8df, the
//!   1.2/1.3 line; the PyPI package is a stub that downloads from NVIDIA's
//!   index): `tensorrt_llm/metrics/collector.py`, `MetricsCollector`.
//!   `trtllm-serve` exposes them at `/prometheus/metrics`; its `/metrics`
//!   is JSON iteration statistics.
//!
//! The engine's own `serve` writes SGLang's names.

use serde::Serialize;

use crate::prom::Page;

/// Which server wrote a page, told by its metric names' prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Server {
    /// `sglang:` (and our `serve`).
    Sglang,
    /// `vllm:`.
    Vllm,
    /// `trtllm_`.
    Trtllm,
}

impl Server {
    /// The server whose names the page uses most, if any.
    pub fn detect(page: &Page) -> Option<Server> {
        let count = |prefix: &str| {
            page.series
                .iter()
                .filter(|s| s.name.starts_with(prefix))
                .count()
        };
        [
            (Server::Sglang, count("sglang:")),
            (Server::Vllm, count("vllm:")),
            (Server::Trtllm, count("trtllm_")),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .max_by_key(|&(_, n)| n)
        .map(|(server, _)| server)
    }
}

/// How a server's series give a common value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A gauge, summed over its label sets (ranks, engines).
    Sum(&'static str),
    /// A gauge already a ratio, averaged over its label sets.
    Mean(&'static str),
    /// A counter as is (cumulative since the server started).
    Total(&'static str),
    /// A counter's increase per second since the previous scrape.
    Rate(&'static str),
    /// The increase of the first counter over the increase of the second
    /// since the previous scrape.
    Ratio(&'static str, &'static str),
    /// One plus [`Rule::Ratio`]: a mean acceptance length that counts the
    /// bonus token, from accepted tokens and drafts.
    OnePlusRatio(&'static str, &'static str),
}

/// One row of the table: on `server`, the common name `common` comes from `rule`.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    /// The server.
    pub server: Server,
    /// The common name, a key of `metrics` in `server_metrics.jsonl`.
    pub common: &'static str,
    /// Where its value comes from.
    pub rule: Rule,
}

const fn row(server: Server, common: &'static str, rule: Rule) -> Mapping {
    Mapping {
        server,
        common,
        rule,
    }
}

/// The common names, what they mean, and their unit.
pub const COMMON: [(&str, &str); 9] = [
    ("running", "requests in the running batch"),
    ("queued", "requests waiting to be scheduled"),
    ("kv_usage", "fraction of the KV-cache pool in use (0 to 1)"),
    (
        "prefix_hit_rate",
        "fraction of prompt tokens (or blocks) served from the prefix cache (0 to 1)",
    ),
    ("gen_tokens_per_s", "generated tokens per second"),
    (
        "spec_accept_length",
        "tokens per verify step, the bonus token included",
    ),
    (
        "spec_accept_rate",
        "accepted draft tokens over proposed draft tokens (0 to 1)",
    ),
    (
        "preemptions",
        "requests preempted (SGLang: retracted) since the server started",
    ),
    (
        "paused",
        "requests paused now (TensorRT-LLM's in-flight batching)",
    ),
];

use Rule::*;
use Server::*;

/// The table. Where a server has a gauge for the value it is used as is
/// (SGLang's scheduler computes its rates over its own logging interval);
/// where it has only counters the rate or ratio is taken between scrapes.
pub const TABLE: &[Mapping] = &[
    row(Sglang, "running", Sum("sglang:num_running_reqs")),
    row(Sglang, "queued", Sum("sglang:num_queue_reqs")),
    row(Sglang, "kv_usage", Mean("sglang:token_usage")),
    row(Sglang, "prefix_hit_rate", Mean("sglang:cache_hit_rate")),
    row(Sglang, "gen_tokens_per_s", Sum("sglang:gen_throughput")),
    row(
        Sglang,
        "spec_accept_length",
        Mean("sglang:spec_accept_length"),
    ),
    row(Sglang, "spec_accept_rate", Mean("sglang:spec_accept_rate")),
    row(
        Sglang,
        "preemptions",
        Total("sglang:num_retracted_requests_total"),
    ),
    row(Vllm, "running", Sum("vllm:num_requests_running")),
    row(Vllm, "queued", Sum("vllm:num_requests_waiting")),
    row(Vllm, "kv_usage", Mean("vllm:kv_cache_usage_perc")),
    row(
        Vllm,
        "prefix_hit_rate",
        Ratio(
            "vllm:prefix_cache_hits_total",
            "vllm:prefix_cache_queries_total",
        ),
    ),
    row(
        Vllm,
        "gen_tokens_per_s",
        Rate("vllm:generation_tokens_total"),
    ),
    row(
        Vllm,
        "spec_accept_length",
        OnePlusRatio(
            "vllm:spec_decode_num_accepted_tokens_total",
            "vllm:spec_decode_num_drafts_total",
        ),
    ),
    row(
        Vllm,
        "spec_accept_rate",
        Ratio(
            "vllm:spec_decode_num_accepted_tokens_total",
            "vllm:spec_decode_num_draft_tokens_total",
        ),
    ),
    row(Vllm, "preemptions", Total("vllm:num_preemptions_total")),
    row(Trtllm, "running", Sum("trtllm_num_requests_running")),
    row(Trtllm, "queued", Sum("trtllm_num_requests_waiting")),
    row(Trtllm, "kv_usage", Mean("trtllm_kv_cache_utilization")),
    row(Trtllm, "prefix_hit_rate", Mean("trtllm_kv_cache_hit_rate")),
    row(
        Trtllm,
        "gen_tokens_per_s",
        Rate("trtllm_generation_tokens_total"),
    ),
    row(
        Trtllm,
        "spec_accept_length",
        Mean("trtllm_spec_decode_acceptance_length"),
    ),
    row(
        Trtllm,
        "spec_accept_rate",
        Ratio(
            "trtllm_spec_decode_num_accepted_tokens_total",
            "trtllm_spec_decode_num_draft_tokens_total",
        ),
    ),
    row(Trtllm, "paused", Sum("trtllm_num_paused_requests")),
];

/// Every series name the table reads, so that a raw copy of them is not
/// kept twice.
pub fn is_mapped(name: &str) -> bool {
    TABLE.iter().any(|m| match m.rule {
        Sum(n) | Mean(n) | Total(n) | Rate(n) => n == name,
        Ratio(a, b) | OnePlusRatio(a, b) => a == name || b == name,
    })
}

/// The common values of `page` (from `server`), given the previous page of
/// the same endpoint and the seconds between them for rates and ratios.
/// A value the page does not have, or a rate with no previous page (or no
/// increase of the denominator), is left out.
pub fn common_values(
    server: Server,
    page: &Page,
    previous: Option<(&Page, f64)>,
) -> Vec<(&'static str, f64)> {
    let delta = |name: &str| -> Option<f64> {
        let (before, _) = previous?;
        // A counter that went down means the server restarted: no rate.
        Some(page.sum(name)? - before.sum(name)?).filter(|d| *d >= 0.0)
    };
    let ratio = |num: &str, den: &str| -> Option<f64> {
        let d = delta(den)?;
        (d > 0.0).then(|| delta(num).map(|n| n / d)).flatten()
    };
    TABLE
        .iter()
        .filter(|m| m.server == server)
        .filter_map(|m| {
            let value = match m.rule {
                Sum(n) | Total(n) => page.sum(n),
                Mean(n) => page.mean(n),
                Rate(n) => {
                    let dt = previous.map(|(_, dt)| dt).filter(|dt| *dt > 0.0)?;
                    delta(n).map(|d| d / dt)
                }
                Ratio(a, b) => ratio(a, b),
                OnePlusRatio(a, b) => ratio(a, b).map(|r| 1.0 + r),
            };
            value.map(|v| (m.common, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_name_in_the_table_is_documented() {
        for m in TABLE {
            assert!(COMMON.iter().any(|(c, _)| *c == m.common), "{}", m.common);
        }
    }

    #[test]
    fn each_server_maps_a_common_name_once() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(
                    !(a.server == b.server && a.common == b.common),
                    "{a:?} twice"
                );
            }
        }
    }
}
