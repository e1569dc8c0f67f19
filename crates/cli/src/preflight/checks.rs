//! The verdicts: each check is a function from what the probes saw to a
//! [`Check`] with its evidence. A check that cannot be decided from what
//! came back says so (WARN), and one that depends on a failed check is
//! skipped rather than failed a second time for the same cause.

use std::collections::BTreeMap;
use std::time::Duration;

use backend::settings::{reference_sampling, STOP_TOKEN_IDS};
use backend::{BackendError, FinishReason, Readiness};
use harmony::tokens;

use super::limits::Limits;
use super::probes::{Probe, Probes, CAP};
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

/// A stream counts as buffered when its chunks arrive within this share of
/// the request's time…
const BUFFERED_SHARE: f64 = 0.1;
/// …and less than this apart on average (parsing chunks that arrived
/// together takes microseconds; a real decode step takes milliseconds).
const BUFFERED_GAP: Duration = Duration::from_millis(1);

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
    let first = token_ids(probes);
    if probes.answers.first().is_none_or(|p| p.output.is_err()) {
        let mut checks = skipped("not checked: the first request failed (see token_ids)");
        checks[0] = first;
        return checks;
    }
    let streaming = streaming(probes.streams());
    let latency = latency(probes.streams(), limits, streaming.status == Status::Fail);
    vec![
        first,
        stop_ids(probes.all()),
        max_new_tokens(&probes.capped),
        sampling(&probes.answers),
        streaming,
        token_counts(probes.all()),
        harmony(&probes.answers, &ready.models),
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

/// `token_ids`: the first (plain) request came back with generated ids
/// inside the vocabulary.
fn token_ids(probes: &Probes) -> Check {
    let check = |status, text: String| Check::new("token_ids", status, text);
    let Some(first) = probes.answers.first() else {
        return check(Status::Fail, "no request was sent".into());
    };
    let out = match &first.output {
        Ok(out) => out,
        Err(e) => return check(Status::Fail, format!("{}: {e}", first.label)),
    };
    if let Some(bad) = out.output_ids.iter().find(|&&id| id >= harmony::VOCAB_SIZE) {
        return check(
            Status::Fail,
            format!(
                "{}: output id {bad} is outside the {}-id vocabulary: not GPT-OSS token ids",
                first.label,
                harmony::VOCAB_SIZE
            ),
        );
    }
    if out.output_ids.is_empty() {
        return check(
            Status::Fail,
            format!(
                "{}: the reply carried no output ids (finish_reason {})",
                first.label,
                out.finish_reason.as_str()
            ),
        );
    }
    let streamed: Vec<String> = probes
        .streams()
        .filter_map(|p| p.ids().map(|ids| ids.len().to_string()))
        .collect();
    check(
        Status::Pass,
        format!(
            "{} ids in the plain reply; streamed replies: {} ids",
            out.output_ids.len(),
            if streamed.is_empty() {
                "none".into()
            } else {
                streamed.join(", ")
            }
        ),
    )
}

/// `stop_ids`: replies end on the reference's stop ids, never on `<|end|>`,
/// and never go on past a stop id.
fn stop_ids<'a>(probes: impl Iterator<Item = &'a Probe>) -> Check {
    let check = |status, text: String| Check::new("stop_ids", status, text);
    let mut stopped_on: BTreeMap<u32, usize> = BTreeMap::new();
    let mut on_end = Vec::new();
    let mut past_stop = Vec::new();
    let (mut end_inside, mut trimmed, mut replies) = (0, 0, 0);
    for p in probes {
        let Ok(out) = &p.output else { continue };
        replies += 1;
        let ids = &out.output_ids;
        let body = &ids[..ids.len().saturating_sub(1)];
        if let Some(i) = body.iter().position(|id| STOP_TOKEN_IDS.contains(id)) {
            past_stop.push(format!(
                "{}: {} at position {i} of {}",
                p.label,
                name(ids[i]),
                ids.len()
            ));
        }
        end_inside += usize::from(body.contains(&tokens::END));
        if out.finish_reason != FinishReason::Stop {
            continue;
        }
        match ids.last() {
            Some(&tokens::END) => on_end.push(format!("{} ({} ids)", p.label, ids.len())),
            Some(id) if STOP_TOKEN_IDS.contains(id) => *stopped_on.entry(*id).or_default() += 1,
            _ => trimmed += 1,
        }
    }
    if !on_end.is_empty() {
        return check(
            Status::Fail,
            format!(
                "{} of {replies} replies ended on <|end|> ({}), which closes the analysis \
                 message, not the answer: the server stops on it (first: {}). Remove {} from \
                 the server's stop / eos ids; the reference stops only on {}",
                on_end.len(),
                tokens::END,
                on_end[0],
                tokens::END,
                stop_list()
            ),
        );
    }
    if !past_stop.is_empty() {
        return check(
            Status::Fail,
            format!(
                "generation went on past a stop id ({}): the server ignores stop_token_ids {}",
                some_of(&past_stop),
                stop_list()
            ),
        );
    }
    let stops: Vec<String> = stopped_on
        .iter()
        .map(|(id, n)| format!("{} x{n}", name(*id)))
        .collect();
    let mut text = format!("requests send stop_token_ids {}", stop_list());
    if !stops.is_empty() {
        text += &format!("; replies ended on {}", stops.join(", "));
    }
    if end_inside > 0 {
        text += &format!("; <|end|> inside {end_inside} replies did not end them");
    }
    if trimmed > 0 {
        text += &format!(
            "; {trimmed} replies said finish_reason stop but left the stop id out of their ids"
        );
    }
    let status = match (stops.is_empty(), end_inside > 0) {
        (false, true) => Status::Pass,
        (false, false) => {
            text += "; no reply held <|end|>, so that it never stops one was not seen";
            Status::Warn
        }
        (true, _) => {
            text += "; no reply ended on a stop id, so that they stop one was not seen";
            Status::Warn
        }
    };
    check(status, text)
}

/// The reference's stop ids with their names.
fn stop_list() -> String {
    let named: Vec<String> = STOP_TOKEN_IDS
        .iter()
        .map(|&id| format!("{id} {}", name(id)))
        .collect();
    format!("[{}]", named.join(", "))
}

/// `max_new_tokens`: no reply is longer than it asked for, and one reply
/// that could have gone on was cut exactly there.
fn max_new_tokens(capped: &[Probe]) -> Check {
    let check = |status, text: String| Check::new("max_new_tokens", status, text);
    let mut at_cap = Vec::new();
    let mut short = Vec::new();
    for p in capped {
        let out = match &p.output {
            Ok(out) => out,
            Err(e) => {
                return check(
                    Status::Fail,
                    format!(
                        "{} (max_new_tokens {}) failed: {e}",
                        p.label, p.max_new_tokens
                    ),
                )
            }
        };
        let (n, reason) = (out.output_ids.len(), out.finish_reason.as_str());
        if n > p.max_new_tokens as usize {
            return check(
                Status::Fail,
                format!(
                    "{}: asked for at most {} new tokens, got {n} (finish_reason {reason}): the \
                     server ignores max_new_tokens (max_tokens on /v1/completions)",
                    p.label, p.max_new_tokens
                ),
            );
        }
        let line = format!("{}: {n} ids, finish_reason {reason}", p.label);
        if n == p.max_new_tokens as usize && out.finish_reason == FinishReason::Length {
            at_cap.push(line);
        } else {
            short.push(line);
        }
    }
    let asked = format!("asked for at most {CAP} new tokens");
    if at_cap.is_empty() {
        return check(
            Status::Warn,
            format!(
                "{asked}; no reply reached the limit ({}), so being cut there was not seen",
                short.join("; ")
            ),
        );
    }
    check(
        Status::Pass,
        format!("{asked}; {}", [at_cap, short].concat().join("; ")),
    )
}

/// `sampling`: what every request sends, and whether replies to the same
/// prompt differ, as they must at temperature 1 (servers echo neither
/// setting, so the replies are the only evidence of what was applied).
fn sampling(answers: &[Probe]) -> Check {
    let s = reference_sampling(1);
    let sent = format!(
        "requests send temperature {}, top_p {}, top_k {} explicitly (the reference's; \
         explicit values override server defaults)",
        s.temperature, s.top_p, s.top_k
    );
    let replies: Vec<&[u32]> = answers.iter().filter_map(Probe::ids).collect();
    let mut distinct = replies.clone();
    distinct.sort();
    distinct.dedup();
    let (status, seen) = match (replies.len(), distinct.len()) {
        (0 | 1, _) => (Status::Warn, "too few replies to compare".to_owned()),
        (n, 1) => (
            Status::Warn,
            format!(
                "all {n} replies to the same prompt were identical: at temperature 1 the \
                 server samples greedily or with a fixed seed (a server-side override, or a \
                 deterministic test model)"
            ),
        ),
        (n, d) => (
            Status::Pass,
            format!("{d} different replies to the same prompt out of {n}, so it samples"),
        ),
    };
    Check::new("sampling", status, format!("{sent}; {seen}"))
}

/// `streaming`: streamed ids arrive while the reply is generated, the first
/// well before the last, not all at once at the end (a buffering proxy, or
/// a server that ignores `stream`).
fn streaming<'a>(streams: impl Iterator<Item = &'a Probe>) -> Check {
    let check = |status, text: String| Check::new("streaming", status, text);
    let mut buffered = Vec::new();
    let mut good: Option<(&Probe, Duration, Duration)> = None;
    for p in streams {
        let out = match &p.output {
            Ok(out) => out,
            Err(e) => return check(Status::Fail, format!("{}: {e}", p.label)),
        };
        let n = out.output_ids.len();
        if n < 2 {
            continue;
        }
        let (Some(first), Some(last)) = (p.first_token, p.last_token) else {
            buffered.push(format!(
                "{}: no ids before the final reply of {n} ids at {}",
                p.label,
                ms(p.elapsed)
            ));
            continue;
        };
        if p.events < 2 {
            buffered.push(format!(
                "{}: all {} ids in one chunk at {}",
                p.label,
                p.streamed_ids,
                ms(first)
            ));
            continue;
        }
        let spread = last - first;
        let gap = spread / (p.events as u32 - 1);
        if spread.as_secs_f64() < BUFFERED_SHARE * last.as_secs_f64() && gap < BUFFERED_GAP {
            buffered.push(format!(
                "{}: {} chunks, the first at {} and the last at {}",
                p.label,
                p.events,
                ms(first),
                ms(last)
            ));
        } else if good.is_none_or(|(_, f, l)| last - first > l - f) {
            good = Some((p, first, last));
        }
    }
    if !buffered.is_empty() {
        return check(
            Status::Fail,
            format!(
                "the stream arrives all at once at the end ({}): something buffers it (a \
                 proxy: turn its buffering off, e.g. nginx proxy_buffering off), so TTFT \
                 would be measured as the whole request",
                some_of(&buffered)
            ),
        );
    }
    match good {
        Some((p, first, last)) => check(
            Status::Pass,
            format!(
                "{}: first of {} chunks at {}, last at {} ({} ids)",
                p.label,
                p.events,
                ms(first),
                ms(last),
                p.streamed_ids
            ),
        ),
        None => check(
            Status::Warn,
            "no streamed reply had two or more ids, so streaming could not be seen".into(),
        ),
    }
}

/// `token_counts`: each reply's `completion_tokens` (SGLang's
/// `meta_info`, OpenAI's `usage`) equals its ids, and a stream's ids are
/// the final reply's ids.
fn token_counts<'a>(probes: impl Iterator<Item = &'a Probe>) -> Check {
    let check = |status, text: String| Check::new("token_counts", status, text);
    let (mut plain, mut streamed) = (0, 0);
    let mut wrong = Vec::new();
    let mut counts_hidden_stop = Vec::new();
    for p in probes {
        let Ok(out) = &p.output else { continue };
        let (n, c) = (out.output_ids.len(), out.completion_tokens);
        if p.stream {
            streamed += 1;
            if p.streamed_ids != n {
                wrong.push(format!(
                    "{}: {} ids streamed, {n} in the final reply",
                    p.label, p.streamed_ids
                ));
            }
        } else {
            plain += 1;
        }
        let hidden_stop = out.finish_reason == FinishReason::Stop
            && out
                .output_ids
                .last()
                .is_none_or(|id| !STOP_TOKEN_IDS.contains(id));
        if c == n + 1 && hidden_stop {
            counts_hidden_stop.push(p.label.clone());
        } else if c != n {
            wrong.push(format!(
                "{}: completion_tokens {c}, output ids {n}",
                p.label
            ));
        }
    }
    if !wrong.is_empty() {
        return check(
            Status::Fail,
            format!(
                "the counts disagree ({}): the server's own count is not the ids it sent; \
                 find out which is wrong before trusting its token throughput",
                some_of(&wrong)
            ),
        );
    }
    let all = format!(
        "completion_tokens equals the ids in all {} replies ({plain} plain, {streamed} streamed)",
        plain + streamed
    );
    if !counts_hidden_stop.is_empty() {
        return check(
            Status::Warn,
            format!(
                "{all} but {}, which count a stop id they leave out of their ids \
                 (the ids are what is counted)",
                counts_hidden_stop.join(", ")
            ),
        );
    }
    check(Status::Pass, all)
}

/// True when a served model name says it is GPT-OSS itself, which must
/// answer in harmony; test models (our `tiny`, `sim`) need not.
fn claims_gpt_oss(models: &[String]) -> bool {
    models.iter().any(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("gpt-oss-120b") || m.contains("gpt-oss-20b")
    })
}

/// `harmony`: each finished answer parses into an analysis and a final
/// message (`harmony::parse_completion`, the official parser).
fn harmony(answers: &[Probe], models: &[String]) -> Check {
    let check = |status, text: String| Check::new("harmony", status, text);
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut cut = 0;
    let mut cut_at_end = 0;
    for p in answers {
        let Ok(out) = &p.output else { continue };
        let ids = &out.output_ids;
        if out.finish_reason == FinishReason::Stop && ids.last() == Some(&tokens::END) {
            cut_at_end += 1;
            continue;
        }
        let parsed = match harmony::parse_completion(ids) {
            Ok(parsed) => parsed,
            Err(e) => {
                bad.push(format!("{}: {e}", p.label));
                continue;
            }
        };
        let has = |channel: &str, complete: bool| {
            parsed
                .messages
                .iter()
                .any(|m| m.channel.as_deref() == Some(channel) && (m.complete || !complete))
        };
        match (has("analysis", false), has("final", true)) {
            (true, true) => good.push(parsed.final_text().unwrap_or_default().to_owned()),
            // Cut by the budget inside its analysis: well-formed so far.
            (true, false)
                if out.finish_reason == FinishReason::Length && parsed.error.is_none() =>
            {
                cut += 1
            }
            (analysis, final_) => bad.push(format!(
                "{}: {}{}",
                p.label,
                match (analysis, final_) {
                    (false, false) => "neither an analysis nor a final message",
                    (false, true) => "no analysis message",
                    _ => "no complete final message",
                },
                parsed
                    .error
                    .map(|e| format!(" (not harmony: {e})"))
                    .unwrap_or_default()
            )),
        }
    }
    if !bad.is_empty() {
        let is_gpt_oss = claims_gpt_oss(models);
        let (status, why) = if is_gpt_oss {
            (
                Status::Fail,
                "a GPT-OSS server must answer in harmony: send token ids (no chat template) \
                 and keep special tokens (skip_special_tokens false)"
                    .to_owned(),
            )
        } else {
            (
                Status::Warn,
                format!(
                    "the server serves {}, not gpt-oss-120b or gpt-oss-20b, so harmony is \
                     not required of it",
                    if models.is_empty() {
                        "an unnamed model".to_owned()
                    } else {
                        models.join(", ")
                    }
                ),
            )
        };
        let more = match bad.len() {
            1 => String::new(),
            n => format!(" (and {} more replies)", n - 1),
        };
        return check(status, format!("{}{more}; {why}", bad[0]));
    }
    if let Some(final_text) = good.first() {
        return check(
            Status::Pass,
            format!(
                "{} of {} replies parse into analysis + final (final: {:?})",
                good.len(),
                good.len() + cut,
                final_text.chars().take(60).collect::<String>()
            ),
        );
    }
    if cut_at_end > 0 && cut == 0 {
        return check(
            Status::Skip,
            "every reply was cut at <|end|> (see stop_ids)".into(),
        );
    }
    check(
        Status::Warn,
        format!(
            "all {cut} replies reached max_new_tokens before their final message; raise \
             --max-new-tokens"
        ),
    )
}

/// The median and the largest of `values`.
fn median_max(mut values: Vec<Duration>) -> Option<(Duration, Duration)> {
    values.sort();
    Some((*values.get(values.len() / 2)?, *values.last()?))
}

/// `latency`: TTFT and TPOT of the streamed answers, one at a time, against
/// the scenario's limits. LoadGen holds the 99th percentile under load to
/// them; a server over them with nothing else to do cannot pass.
fn latency<'a>(
    streams: impl Iterator<Item = &'a Probe>,
    limits: &Limits,
    stream_failed: bool,
) -> Check {
    let check = |status, text: String| Check::new("latency", status, text);
    if stream_failed {
        return check(
            Status::Skip,
            "the stream is not real (see streaming), so first-token times would be wrong".into(),
        );
    }
    let (mut ttfts, mut tpots) = (Vec::new(), Vec::new());
    for p in streams {
        let (Some(first), Ok(out)) = (p.first_token, &p.output) else {
            continue;
        };
        ttfts.push(first);
        let n = out.output_ids.len();
        if n >= 2 {
            tpots.push(p.elapsed.saturating_sub(first) / (n as u32 - 1));
        }
    }
    let Some((ttft, ttft_max)) = median_max(ttfts.clone()) else {
        return check(Status::Skip, "no streamed reply to time".into());
    };
    let mut rows = vec![("TTFT", ttft, ttft_max, limits.ttft_ms)];
    if let Some((tpot, tpot_max)) = median_max(tpots) {
        rows.push(("TPOT", tpot, tpot_max, limits.tpot_ms));
    }
    let mut status = Status::Pass;
    let mut text = Vec::new();
    for (what, median, max, limit) in rows {
        let mut line = format!("{what} median {} (max {})", ms(median), ms(max));
        if let Some(limit) = limit {
            let limit = Duration::from_secs_f64(limit / 1e3);
            line += &format!(", limit {}", ms(limit));
            if median > limit {
                status = Status::Fail;
                line += " EXCEEDED with no other load";
            } else if max > limit {
                status = status.max(Status::Warn);
                line += " exceeded by one probe";
            }
        }
        text.push(line);
    }
    let mut text = format!("{} over {} streamed probes", text.join("; "), ttfts.len());
    if limits.ttft_ms.is_none() {
        text += &format!("; {} has no latency limits", limits.scenario);
        return check(Status::Skip, text);
    }
    text += &format!(" ({})", limits.source);
    check(status, text)
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

#[cfg(test)]
mod tests {
    use backend::GenerateOutput;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A probe that returned `ids` with `finish`, counted as `ids.len()`.
    fn probe(ids: &[u32], finish: FinishReason, stream: bool) -> Probe {
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
            }),
        }
    }

    const RETURN: u32 = tokens::RETURN;
    const END: u32 = tokens::END;

    #[test]
    fn stop_ids_tell_a_stop_on_end_from_an_end_inside() {
        use FinishReason::{Length, Stop};
        // (case, replies, status, evidence holds)
        let cases: [(&str, Vec<Probe>, Status, &str); 6] = [
            (
                "stops on <|return|>, <|end|> inside",
                vec![probe(&[5, END, 6, RETURN], Stop, false)],
                Status::Pass,
                "<|return|> x1",
            ),
            (
                "stops on <|end|>",
                vec![
                    probe(&[5, END, 6, RETURN], Stop, false),
                    probe(&[5, END], Stop, false),
                ],
                Status::Fail,
                "1 of 2 replies ended on <|end|>",
            ),
            (
                "goes on past <|return|>",
                vec![probe(&[5, RETURN, END, 6], Length, false)],
                Status::Fail,
                "<|return|> at position 1 of 4",
            ),
            (
                "never stopped",
                vec![probe(&[5, END, 6], Length, false)],
                Status::Warn,
                "no reply ended on a stop id",
            ),
            (
                "no <|end|> seen",
                vec![probe(&[5, 6, RETURN], Stop, false)],
                Status::Warn,
                "no reply held <|end|>",
            ),
            (
                "stop id left out",
                vec![probe(&[5, END, 6], Stop, false)],
                Status::Warn,
                "left the stop id out",
            ),
        ];
        for (case, replies, status, needle) in cases {
            let check = stop_ids(replies.iter());
            assert_eq!(check.status, status, "{case}: {}", check.evidence);
            assert!(
                check.evidence.contains(needle),
                "{case}: {}",
                check.evidence
            );
        }
    }

    #[test]
    fn a_stream_is_buffered_only_when_its_chunks_arrive_together() {
        // (case, first, last, events, elapsed, status)
        let cases = [
            (
                "tokens spread over the reply",
                10,
                100,
                20,
                100,
                Status::Pass,
            ),
            ("all at the end", 400, 400, 20, 400, Status::Fail),
            ("one chunk", 400, 400, 1, 400, Status::Fail),
            // A long first token, then a real decode: not buffered.
            (
                "slow first token, 2 ms a token",
                3000,
                3038,
                20,
                3040,
                Status::Pass,
            ),
        ];
        for (case, first, last, events, elapsed, status) in cases {
            let mut p = probe(&[1; 20], FinishReason::Length, true);
            p.first_token = Some(first * MS);
            p.last_token = Some(last * MS);
            p.events = events;
            p.elapsed = elapsed * MS;
            let check = streaming([&p].into_iter());
            assert_eq!(check.status, status, "{case}: {}", check.evidence);
        }
    }

    #[test]
    fn counts_must_match_the_ids_save_a_hidden_stop_id() {
        let mut wrong = probe(&[5, 6, RETURN], FinishReason::Stop, false);
        wrong.output.as_mut().unwrap().completion_tokens = 1;
        let mut hidden = probe(&[5, 6], FinishReason::Stop, false);
        hidden.output.as_mut().unwrap().completion_tokens = 3;
        let mut short_stream = probe(&[5, 6, 7], FinishReason::Length, true);
        short_stream.streamed_ids = 2;
        let cases = [
            (probe(&[5, 6], FinishReason::Length, true), Status::Pass),
            (wrong, Status::Fail),
            (hidden, Status::Warn),
            (short_stream, Status::Fail),
        ];
        for (p, status) in cases {
            let check = token_counts([&p].into_iter());
            assert_eq!(check.status, status, "{}", check.evidence);
        }
    }

    #[test]
    fn latency_fails_only_when_the_median_is_over_the_limit() {
        let limits = Limits {
            scenario: "Server",
            source: "test".into(),
            ttft_ms: Some(50.0),
            tpot_ms: Some(1000.0),
        };
        // (first-token times of three probes in ms, status)
        let cases = [
            ([10, 20, 30], Status::Pass),
            ([10, 20, 60], Status::Warn),
            ([10, 60, 70], Status::Fail),
        ];
        for (ttfts, status) in cases {
            let probes: Vec<Probe> = ttfts
                .iter()
                .map(|&t| {
                    let mut p = probe(&[1, 2], FinishReason::Length, true);
                    p.first_token = Some(t * MS);
                    p
                })
                .collect();
            let check = latency(probes.iter(), &limits, false);
            assert_eq!(check.status, status, "{ttfts:?}: {}", check.evidence);
        }
        let check = latency(std::iter::empty(), &limits, true);
        assert_eq!(check.status, Status::Skip);
    }

    #[test]
    fn harmony_is_required_only_of_a_server_that_names_gpt_oss() {
        use FinishReason::{Length, Stop};
        let answered = testkit::completion("Add them.", Some("42"), true);
        let cut = testkit::completion("Add them and then", None, false);
        let not_harmony = testkit::ordinary("42");
        let gpt_oss = ["openai/gpt-oss-120b".to_owned()];
        let tiny = ["gpt-oss-tiny".to_owned()];
        // (case, reply, finish, served models, status, evidence holds)
        type Case<'a> = (
            &'a str,
            &'a [u32],
            FinishReason,
            &'a [String],
            Status,
            &'a str,
        );
        let cases: [Case; 5] = [
            (
                "answered",
                &answered,
                Stop,
                &gpt_oss,
                Status::Pass,
                "final: \"42\"",
            ),
            (
                "not harmony, gpt-oss",
                &not_harmony,
                Stop,
                &gpt_oss,
                Status::Fail,
                "must answer in harmony",
            ),
            (
                "not harmony, a test model",
                &not_harmony,
                Stop,
                &tiny,
                Status::Warn,
                "not required",
            ),
            (
                "cut in its analysis",
                &cut,
                Length,
                &gpt_oss,
                Status::Warn,
                "raise --max-new-tokens",
            ),
            (
                "cut at <|end|>",
                &[5, END],
                Stop,
                &gpt_oss,
                Status::Skip,
                "see stop_ids",
            ),
        ];
        for (case, ids, finish, models, status, needle) in cases {
            let check = harmony(&[probe(ids, finish, false)], models);
            assert_eq!(check.status, status, "{case}: {}", check.evidence);
            assert!(
                check.evidence.contains(needle),
                "{case}: {}",
                check.evidence
            );
        }
    }

    #[test]
    fn max_new_tokens_needs_one_reply_cut_exactly_at_the_limit() {
        let mut at = probe(&[1; 8], FinishReason::Length, false);
        at.max_new_tokens = 8;
        let mut over = probe(&[1; 12], FinishReason::Stop, false);
        over.max_new_tokens = 8;
        let mut short = probe(&[1, RETURN], FinishReason::Stop, false);
        short.max_new_tokens = 8;
        assert_eq!(
            max_new_tokens(&[at.clone(), short.clone()]).status,
            Status::Pass
        );
        assert_eq!(max_new_tokens(&[at, over]).status, Status::Fail);
        assert_eq!(max_new_tokens(&[short]).status, Status::Warn);
    }
}
