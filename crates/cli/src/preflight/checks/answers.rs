//! What the model answered: that it samples as the reference asks, and that
//! it answers in harmony (analysis, then final).

use backend::settings::reference_sampling;
use backend::FinishReason;
use harmony::tokens;

use super::{Check, Probe, Status};

/// `sampling`: what every request sends, and whether replies to the same
/// prompt differ, as they must at temperature 1 (servers echo neither
/// setting, so the replies are the only evidence of what was applied).
pub(super) fn sampling(answers: &[Probe]) -> Check {
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
pub(super) fn harmony(answers: &[Probe], models: &[String]) -> Check {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{probe, END};
    use super::*;

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
}
