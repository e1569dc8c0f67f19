//! The requests preflight sends, through the one request path that `run`
//! uses (`request::generate_once` over the `backend` clients), and what came
//! back with its timing. Nothing is judged here: that is `checks`.
//!
//! The probes, in order, all with the reference's sampling and stop ids:
//! one short harmony question answered plain and then streamed a few times
//! (token ids, stops, harmony, sampling, streaming, TTFT/TPOT), the same
//! question capped at [`CAP`] new tokens plain and streamed
//! (`max_new_tokens`), and `concurrency` streamed requests at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{Backend, GenerateOutput, GenerateRequest};
use harmony::{Cell, PromptSettings, Prompter, ReasoningEffort, Row};
use tokio::sync::Semaphore;

use crate::request;

/// `max_new_tokens` of the probes that check the limit: below any answer
/// of a harmony model (the channel header alone is three ids).
pub const CAP: u32 = 8;
/// Streamed repeats of the answer probe: the latency sample.
pub const STREAMS: usize = 3;
/// `max_new_tokens` of each concurrent request.
pub const PARALLEL_TOKENS: u32 = 32;

/// The question every probe asks; short, so a model at low reasoning effort
/// answers in a few dozen tokens.
const QUESTION: &str = "What is 17 + 25? Answer with the number only.";

/// How much to send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `max_new_tokens` of the answer probes.
    pub answer_tokens: u32,
    /// Requests at once in the concurrency probe.
    pub concurrency: usize,
    /// Longest wait for one request.
    pub timeout: Duration,
}

/// One request and what came back, times counted from when it was sent.
#[derive(Debug, Clone)]
pub struct Probe {
    /// What it was, for the evidence (`answer, streamed #2`).
    pub label: String,
    /// Sent with `stream: true`.
    pub stream: bool,
    /// The `max_new_tokens` it asked for.
    pub max_new_tokens: u32,
    /// Sent to final result.
    pub elapsed: Duration,
    /// Sent to the first streamed ids.
    pub first_token: Option<Duration>,
    /// Sent to the last streamed ids.
    pub last_token: Option<Duration>,
    /// Events that carried streamed ids.
    pub events: usize,
    /// Ids those events carried.
    pub streamed_ids: usize,
    /// The final result, or the request path's one-line failure.
    pub output: Result<GenerateOutput, String>,
}

impl Probe {
    /// The output ids, when the request succeeded.
    pub fn ids(&self) -> Option<&[u32]> {
        self.output.as_ref().ok().map(|o| o.output_ids.as_slice())
    }
}

/// Everything sent to one endpoint.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The answer: plain first, then [`STREAMS`] streamed.
    pub answers: Vec<Probe>,
    /// Capped at [`CAP`]: plain, then streamed.
    pub capped: Vec<Probe>,
    /// The concurrent requests; none when a streamed answer failed.
    pub parallel: Vec<Probe>,
    /// From sending the first concurrent request to the last one's end.
    pub parallel_wall: Duration,
}

impl Probes {
    /// Every probe that was sent, in order.
    pub fn all(&self) -> impl Iterator<Item = &Probe> {
        self.answers
            .iter()
            .chain(&self.capped)
            .chain(&self.parallel)
    }

    /// The streamed answer probes.
    pub fn streams(&self) -> impl Iterator<Item = &Probe> {
        self.answers.iter().filter(|p| p.stream)
    }
}

/// The probe prompt: the question in the reference's default prompt
/// builder at low reasoning effort, rendered by the official harmony renderer.
pub fn prompt() -> anyhow::Result<Vec<u32>> {
    struct Question;
    impl Row for Question {
        fn cell(&self, column: &str) -> Option<Cell> {
            match column {
                "dataset" => Some(Cell::Text("default".into())),
                "question" => Some(Cell::Text(QUESTION.into())),
                _ => None,
            }
        }
    }
    let prompter = Prompter::new(PromptSettings {
        reasoning_effort: ReasoningEffort::Low,
        ..PromptSettings::default()
    })?;
    Ok(prompter.render_row(0, &Question)?.ids)
}

/// Sends every probe to `backend`. When the first request fails, nothing
/// more is sent, and after a failed stream no more streams: the same
/// failure would only repeat.
pub async fn run(backend: Arc<dyn Backend>, prompt: Arc<Vec<u32>>, plan: &Plan) -> Probes {
    let one_at_a_time = Semaphore::new(1);
    let send = |label: String, max_new_tokens: u32, stream: bool| {
        one(
            backend.as_ref(),
            &one_at_a_time,
            label,
            GenerateRequest::reference(prompt.to_vec(), max_new_tokens, stream),
            plan.timeout,
        )
    };
    let mut probes = Probes::default();
    let first = send("answer, plain".into(), plan.answer_tokens, false).await;
    let failed = first.output.is_err();
    probes.answers.push(first);
    if failed {
        return probes;
    }
    // A failed stream is not retried, so a server whose streams hang costs
    // one timeout, not one per streamed probe.
    for i in 1..=STREAMS {
        let label = format!("answer, streamed #{i}");
        let probe = send(label, plan.answer_tokens, true).await;
        let failed = probe.output.is_err();
        probes.answers.push(probe);
        if failed {
            break;
        }
    }
    let streams_work = probes.streams().all(|p| p.output.is_ok());
    probes
        .capped
        .push(send("capped, plain".into(), CAP, false).await);
    if streams_work {
        probes
            .capped
            .push(send("capped, streamed".into(), CAP, true).await);
        (probes.parallel, probes.parallel_wall) = parallel(backend.clone(), prompt, plan).await;
    }
    probes
}

/// `plan.concurrency` streamed requests at once.
async fn parallel(
    backend: Arc<dyn Backend>,
    prompt: Arc<Vec<u32>>,
    plan: &Plan,
) -> (Vec<Probe>, Duration) {
    let n = plan.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(n));
    let start = Instant::now();
    let tasks: Vec<_> = (1..=n)
        .map(|i| {
            let (backend, slots, prompt) = (backend.clone(), slots.clone(), prompt.clone());
            let timeout = plan.timeout;
            tokio::spawn(async move {
                let request = GenerateRequest::reference(prompt.to_vec(), PARALLEL_TOKENS, true);
                let label = format!("parallel #{i} of {n}");
                one(backend.as_ref(), &slots, label, request, timeout).await
            })
        })
        .collect();
    let mut probes = Vec::with_capacity(n);
    for task in tasks {
        probes.push(task.await.unwrap_or_else(|e| Probe {
            label: "parallel".into(),
            stream: true,
            max_new_tokens: PARALLEL_TOKENS,
            elapsed: Duration::ZERO,
            first_token: None,
            last_token: None,
            events: 0,
            streamed_ids: 0,
            output: Err(format!("the probe task failed: {e}")),
        }));
    }
    (probes, start.elapsed())
}

/// One request through the shared request path, timed.
async fn one(
    backend: &dyn Backend,
    slots: &Semaphore,
    label: String,
    request: GenerateRequest,
    timeout: Duration,
) -> Probe {
    let (stream, max_new_tokens) = (request.stream, request.sampling.max_new_tokens);
    let outcome = request::generate_once(backend, slots, request, timeout, |_| {}).await;
    let done = Instant::now();
    let sent = outcome.sent.unwrap_or(done);
    Probe {
        label,
        stream,
        max_new_tokens,
        elapsed: done - sent,
        first_token: outcome.first_token.map(|t| t - sent),
        last_token: outcome.last_token.map(|t| t - sent),
        events: outcome.streamed.0,
        streamed_ids: outcome.streamed.1,
        output: outcome.output,
    }
}
