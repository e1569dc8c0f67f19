//! One request to a backend, sent the same way by `run`'s SUT and by `infer`:
//! wait for a slot, send, follow the events to the final result, and turn
//! every way it can fail (an abort, a backend error, the `--timeout`) into
//! one line of text for the records and the summary.

use std::time::{Duration, Instant};

use backend::{Backend, Event, FinishReason, GenerateOutput, GenerateRequest};
use tokio::sync::Semaphore;

/// What happened to one request.
pub struct Outcome {
    /// When the request left, after its slot was free; `None` if it never did.
    pub sent: Option<Instant>,
    /// When the first generated token arrived.
    pub first_token: Option<Instant>,
    /// When the last streamed token arrived (the first token's time for a
    /// one-chunk stream; `None` when nothing was streamed).
    pub last_token: Option<Instant>,
    /// How many events carried streamed ids, and how many ids they carried.
    pub streamed: (usize, usize),
    /// The final result, or why there is none.
    pub output: Result<GenerateOutput, String>,
}

impl Outcome {
    /// A request that was never sent, and why.
    pub fn not_sent(error: String) -> Outcome {
        Outcome {
            sent: None,
            first_token: None,
            last_token: None,
            streamed: (0, 0),
            output: Err(error),
        }
    }
}

/// Sends `request` once a slot in `slots` is free and waits at most `timeout`
/// (slot wait excluded) for its final result. `on_first_token` sees the ids
/// of the first event that carries any, as they arrive.
pub async fn generate_once(
    backend: &dyn Backend,
    slots: &Semaphore,
    request: GenerateRequest,
    timeout: Duration,
    on_first_token: impl FnMut(&[u32]),
) -> Outcome {
    let Ok(_slot) = slots.acquire().await else {
        return Outcome::not_sent("shutting down before the request was sent".into());
    };
    let mut outcome = Outcome::not_sent(String::new());
    outcome.sent = Some(Instant::now());
    let followed = follow(backend, request, &mut outcome, on_first_token);
    if tokio::time::timeout(timeout, followed).await.is_err() {
        outcome.output = Err(format!(
            "no final result within --timeout {} s",
            timeout.as_secs_f64()
        ));
    }
    outcome
}

/// Sends the request and follows its events into `outcome`.
async fn follow(
    backend: &dyn Backend,
    request: GenerateRequest,
    outcome: &mut Outcome,
    mut on_first_token: impl FnMut(&[u32]),
) {
    let mut generation = match backend.generate(request).await {
        Ok(generation) => generation,
        Err(e) => {
            outcome.output = Err(e.to_string());
            return;
        }
    };
    outcome.output = Err("the backend ended the stream without a final result".into());
    while let Some(event) = generation.next().await {
        match event {
            Ok(Event::Tokens(ids)) if !ids.is_empty() => {
                let now = Instant::now();
                if outcome.first_token.is_none() {
                    outcome.first_token = Some(now);
                    on_first_token(&ids);
                }
                outcome.last_token = Some(now);
                outcome.streamed.0 += 1;
                outcome.streamed.1 += ids.len();
            }
            Ok(Event::Tokens(_)) => {}
            Ok(Event::Finished(out)) if out.finish_reason == FinishReason::Abort => {
                outcome.output = Err(format!(
                    "the server aborted the request after {} tokens",
                    out.output_ids.len()
                ));
                break;
            }
            Ok(Event::Finished(out)) => {
                outcome.output = Ok(out);
                break;
            }
            Err(e) => {
                outcome.output = Err(e.to_string());
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use backend::SamplingParams;
    use clap::Parser;

    use super::*;
    use crate::model_args::ModelArgs;

    /// The synthetic model, built from its command-line flags as `serve` builds it.
    fn sim(flags: &[&str]) -> Arc<dyn Backend> {
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            model: ModelArgs,
        }
        let argv = ["test", "--model", "sim"].iter().chain(flags);
        Flags::parse_from(argv).model.build().unwrap().0
    }

    fn request(prompt_len: u32, max_new_tokens: u32, stream: bool) -> GenerateRequest {
        GenerateRequest {
            input_ids: (1000..1000 + prompt_len).collect(),
            sampling: SamplingParams {
                max_new_tokens,
                ..SamplingParams::greedy()
            },
            stream,
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn the_first_streamed_ids_are_handed_over_once_and_timed() {
        let backend = sim(&["--sim-ttft-ms", "1", "--sim-tpot-ms", "1"]);
        let mut seen = Vec::new();
        let outcome = runtime().block_on(generate_once(
            backend.as_ref(),
            &Semaphore::new(1),
            request(5, 6, true),
            Duration::from_secs(60),
            |ids| seen.push(ids.to_vec()),
        ));
        let output = outcome.output.unwrap();
        assert_eq!(output.output_ids.len(), 6);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(output.output_ids.starts_with(&seen[0]), "{seen:?}");
        let (sent, first) = (outcome.sent.unwrap(), outcome.first_token.unwrap());
        assert!(sent <= first && first <= outcome.last_token.unwrap());
        // The sim streams one id per event (its stream interval is 1).
        assert_eq!(outcome.streamed, (6, 6));
    }

    #[test]
    fn failures_become_one_line_each() {
        // (case, model flags, prompt length, what the error says)
        let cases: [(&str, &[&str], u32, &str); 2] = [
            (
                "the first token would take an hour",
                &["--sim-ttft-ms", "3600000"],
                5,
                "no final result within --timeout 0.2 s",
            ),
            (
                "the prompt is longer than the context",
                &["--context-length", "64"],
                80,
                "80 tokens",
            ),
        ];
        for (case, flags, prompt_len, needle) in cases {
            let outcome = runtime().block_on(generate_once(
                sim(flags).as_ref(),
                &Semaphore::new(1),
                request(prompt_len, 4, false),
                Duration::from_millis(200),
                |_| {},
            ));
            let error = outcome.output.unwrap_err();
            assert!(error.contains(needle), "{case}: {error}");
            assert!(
                outcome.sent.is_some() && outcome.first_token.is_none(),
                "{case}"
            );
        }
    }

    #[test]
    fn a_closed_slot_pool_sends_nothing() {
        let slots = Semaphore::new(1);
        slots.close();
        let outcome = runtime().block_on(generate_once(
            sim(&[]).as_ref(),
            &slots,
            request(5, 4, false),
            Duration::from_secs(60),
            |_| {},
        ));
        assert!(outcome.sent.is_none());
        assert!(outcome.output.unwrap_err().contains("shutting down"));
    }
}
