//! What the ids say: that they come back at all, where they stop, that
//! there are no more than asked for, and that the server counts them right.

use std::collections::BTreeMap;

use backend::settings::STOP_TOKEN_IDS;
use backend::FinishReason;
use harmony::tokens;

use super::{name, some_of, Check, Probe, Probes, Status};
use crate::preflight::probes::CAP;

/// `token_ids`: the first (plain) request came back with generated ids
/// inside the vocabulary.
pub(super) fn token_ids(probes: &Probes) -> Check {
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
    if out.token_source == backend::TokenSource::Retokenized {
        return check(
            Status::Warn,
            format!(
                "{}: the server returned text only; its {} ids were re-tokenized here with the \
                 o200k tokenizer, so token counts are ours, not the server's",
                first.label,
                out.output_ids.len()
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
pub(super) fn stop_ids<'a>(probes: impl Iterator<Item = &'a Probe>) -> Check {
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
pub(super) fn max_new_tokens(capped: &[Probe]) -> Check {
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

/// `token_counts`: each reply's `completion_tokens` (SGLang's
/// `meta_info`, OpenAI's `usage`) equals its ids, and a stream's ids are
/// the final reply's ids.
pub(super) fn token_counts<'a>(probes: impl Iterator<Item = &'a Probe>) -> Check {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{probe, END, RETURN};
    use super::*;

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

    #[test]
    fn token_ids_warn_when_the_server_sent_text_only() {
        let from_server = probe(&[5, 6, RETURN], FinishReason::Stop, false);
        let mut retokenized = from_server.clone();
        if let Ok(out) = &mut retokenized.output {
            out.token_source = backend::TokenSource::Retokenized;
        }
        let of = |p: Probe| {
            token_ids(&Probes {
                answers: vec![p],
                ..Probes::default()
            })
        };
        assert_eq!(of(from_server).status, Status::Pass);
        let check = of(retokenized);
        assert_eq!(check.status, Status::Warn, "{}", check.evidence);
        assert!(
            check.evidence.contains("re-tokenized"),
            "{}",
            check.evidence
        );
    }
}
