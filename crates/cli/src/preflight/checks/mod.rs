//! The verdicts: each check is a function from what the probes saw to a
//! [`Check`] with its evidence. A check that cannot be decided from what
//! came back says so (WARN), and one that depends on a failed check is
//! skipped rather than failed a second time for the same cause. The checks
//! of the ids are in `ids`, of the stream's timing in `stream`, of what the
//! model answered in `answers`.

mod answers;
mod ids;
mod stream;

use std::time::Duration;

use backend::{BackendError, Readiness};
use harmony::tokens;

use super::limits::Limits;
use super::probes::{Probe, Probes};
use super::report::{Check, Status};

/// The checks, in report order.
pub const NAMES: [&str; 10] = [
    "reachable",
    "token_ids",
    "stop_ids",
    "max_new_tokens",
    "sampling",
    "streaming",
    "token_counts",
    "harmony",
    "latency",
    "concurrency",
];

/// `reachable`: the readiness probe's answer and the served model names.
pub fn reachable(ready: &Result<Readiness, BackendError>) -> Check {
    match ready {
        Ok(r) => {
            let models = if r.models.is_empty() {
                "no model list at /v1/models".to_owned()
            } else {
                format!("model {}", r.models.join(", "))
            };
            Check::new(
                "reachable",
                Status::Pass,
                format!("GET {} answered; {models}", r.probe),
            )
        }
        Err(e) => Check::new("reachable", Status::Fail, e.to_string()),
    }
}

/// Every check after `reachable`, each skipped with `why`.
pub fn skipped(why: &str) -> Vec<Check> {
    NAMES[1..]
        .iter()
        .map(|name| Check::new(name, Status::Skip, why))
        .collect()
}

/// Every check after `reachable`, from the probes of a reachable server.
pub fn evaluate(ready: &Readiness, probes: &Probes, limits: &Limits) -> Vec<Check> {
    let first = ids::token_ids(probes);
    if probes.answers.first().is_none_or(|p| p.output.is_err()) {
        let mut checks = skipped("not checked: the first request failed (see token_ids)");
        checks[0] = first;
        return checks;
    }
    let streaming = stream::streaming(probes.streams());
    let latency = stream::latency(probes.streams(), limits, streaming.status == Status::Fail);
    vec![
        first,
        ids::stop_ids(probes.all()),
        ids::max_new_tokens(&probes.capped),
        answers::sampling(&probes.answers),
        streaming,
        ids::token_counts(probes.all()),
        answers::harmony(&probes.answers, &ready.models),
        latency,
        concurrency(&probes.parallel, probes.parallel_wall),
    ]
}

/// A token id as the evidence names it.
fn name(id: u32) -> String {
    match id {
        tokens::RETURN => "<|return|>".into(),
        tokens::END_OF_TEXT => "<|endoftext|>".into(),
        tokens::CALL => "<|call|>".into(),
        tokens::END => "<|end|>".into(),
        other => other.to_string(),
    }
}

/// The first few `items` joined, and how many more there were.
fn some_of(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = items[..items.len().min(SHOWN)].join("; ");
    if items.len() > SHOWN {
        text += &format!("; and {} more", items.len() - SHOWN);
    }
    text
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `concurrency`: every one of the concurrent requests finished.
fn concurrency(parallel: &[Probe], wall: Duration) -> Check {
    let check = |status, text: String| Check::new("concurrency", status, text);
    if parallel.is_empty() {
        return check(
            Status::Skip,
            "not checked: streamed requests fail (see streaming)".into(),
        );
    }
    let failed: Vec<&Probe> = parallel.iter().filter(|p| p.output.is_err()).collect();
    if let Some(first) = failed.first() {
        return check(
            Status::Fail,
            format!(
                "{} of {} concurrent requests failed; first, {}: {}",
                failed.len(),
                parallel.len(),
                first.label,
                first.output.as_ref().err().map_or("", String::as_str)
            ),
        );
    }
    let slowest = parallel.iter().map(|p| p.elapsed).max().unwrap_or_default();
    check(
        Status::Pass,
        format!(
            "{} concurrent requests all finished in {} (slowest {})",
            parallel.len(),
            ms(wall),
            ms(slowest)
        ),
    )
}

/// What the checks' unit tests build their probes from.
#[cfg(test)]
mod fixtures {
    use std::time::Duration;

    use backend::{FinishReason, GenerateOutput};

    use super::Probe;

    pub const MS: Duration = Duration::from_millis(1);
    pub const RETURN: u32 = harmony::tokens::RETURN;
    pub const END: u32 = harmony::tokens::END;

    /// A probe that returned `ids` with `finish`, counted as `ids.len()`.
    pub fn probe(ids: &[u32], finish: FinishReason, stream: bool) -> Probe {
        Probe {
            label: "p".into(),
            stream,
            max_new_tokens: 64,
            elapsed: 100 * MS,
            first_token: stream.then_some(10 * MS),
            last_token: stream.then_some(100 * MS),
            events: if stream { ids.len() } else { 0 },
            streamed_ids: if stream { ids.len() } else { 0 },
            output: Ok(GenerateOutput {
                output_ids: ids.to_vec(),
                finish_reason: finish,
                prompt_tokens: 5,
                completion_tokens: ids.len(),
                token_source: backend::TokenSource::Server,
            }),
        }
    }
}
