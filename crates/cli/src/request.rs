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
    /// The final result, or why there is none.
    pub output: Result<GenerateOutput, String>,
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
    let mut outcome = Outcome {
        sent: None,
        first_token: None,
        output: Err(String::new()),
    };
    let Ok(_slot) = slots.acquire().await else {
        outcome.output = Err("shutting down before the request was sent".into());
        return outcome;
    };
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
            Ok(Event::Tokens(ids)) => {
                if outcome.first_token.is_none() && !ids.is_empty() {
                    outcome.first_token = Some(Instant::now());
                    on_first_token(&ids);
                }
            }
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
