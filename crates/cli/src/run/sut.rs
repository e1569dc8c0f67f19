//! The SUT: joins LoadGen (which issues samples and takes reports) to a
//! [`Backend`] (which generates tokens). It is the only place that knows both.
//!
//! Reporting follows the reference's SUTs: Offline reports every generated
//! token at completion; Server/Interactive stream, report the first token
//! through `first_token` when it arrives, and at completion leave that first
//! token out of the data (`n_tokens = total − 1`) unless `report_all_tokens`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{Backend, Event, FinishReason, GenerateOutput, GenerateRequest, SamplingParams};
use loadgen::{QuerySample, Responder, SystemUnderTest};
use tokio::sync::Semaphore;

use super::records::{Records, SampleRecord};

/// How samples are sent and reported.
#[derive(Clone, Copy, Debug)]
pub struct SutMode {
    /// Stream and report the first token (Server, Interactive).
    pub streaming: bool,
    /// Server only: include the first token in the final report as well.
    pub report_all_tokens: bool,
}

pub struct GenerationSut {
    pub backend: Arc<dyn Backend>,
    pub prompts: Arc<Vec<Vec<u32>>>,
    pub sampling: SamplingParams,
    pub mode: SutMode,
    pub runtime: tokio::runtime::Handle,
    /// Requests in flight at once.
    pub slots: Arc<Semaphore>,
    pub records: Arc<Records>,
    /// One request's limit, waiting for a slot excluded.
    pub timeout: Duration,
}

impl SystemUnderTest for GenerationSut {
    fn name(&self) -> String {
        "mlperf-gptoss".into()
    }

    /// Returns at once: each sample becomes a task on the runtime.
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        let issued = Instant::now();
        for sample in samples {
            let task = SampleTask {
                backend: self.backend.clone(),
                prompts: self.prompts.clone(),
                sampling: self.sampling.clone(),
                mode: self.mode,
                slots: self.slots.clone(),
                records: self.records.clone(),
                timeout: self.timeout,
                responder: responder.clone(),
                sample,
                issued,
            };
            self.runtime.spawn(task.run());
        }
    }
}

struct SampleTask {
    backend: Arc<dyn Backend>,
    prompts: Arc<Vec<Vec<u32>>>,
    sampling: SamplingParams,
    mode: SutMode,
    slots: Arc<Semaphore>,
    records: Arc<Records>,
    timeout: Duration,
    responder: Responder,
    sample: QuerySample,
    issued: Instant,
}

/// What happened to one request.
struct Outcome {
    sent: Option<Instant>,
    first_token: Option<Instant>,
    output: Result<GenerateOutput, String>,
}

impl SampleTask {
    async fn run(self) {
        let outcome = self.generate().await;
        let done = Instant::now();
        let (ids, finish_reason, error) = match &outcome.output {
            Ok(out) => (
                out.output_ids.as_slice(),
                Some(out.finish_reason.as_str().to_string()),
                None,
            ),
            Err(e) => (&[][..], None, Some(e.clone())),
        };
        let first_token = self.report(ids, outcome.first_token.is_some());
        let records = &self.records;
        records.append(&SampleRecord {
            id: self.sample.id,
            index: self.sample.index,
            scheduled_ns: records.since_origin(self.sample.scheduled),
            issued_ns: records.since_origin(self.issued),
            sent_ns: outcome.sent.map(|t| records.since_origin(t)),
            first_token_ns: outcome
                .first_token
                .or(first_token)
                .map(|t| records.since_origin(t)),
            done_ns: records.since_origin(done),
            prompt_tokens: self.prompts.get(self.sample.index).map_or(0, Vec::len),
            output_tokens: ids.len(),
            finish_reason,
            error,
        });
    }

    async fn generate(&self) -> Outcome {
        let mut outcome = Outcome {
            sent: None,
            first_token: None,
            output: Err(String::new()),
        };
        let Some(prompt) = self.prompts.get(self.sample.index) else {
            outcome.output = Err(format!(
                "QSL index {} is outside the dataset",
                self.sample.index
            ));
            return outcome;
        };
        let Ok(_slot) = self.slots.acquire().await else {
            outcome.output = Err("the run is shutting down".into());
            return outcome;
        };
        outcome.sent = Some(Instant::now());
        let request = GenerateRequest {
            input_ids: prompt.clone(),
            sampling: self.sampling.clone(),
            stream: self.mode.streaming,
        };
        let limit = self.timeout;
        let stream = self.stream(request, &mut outcome);
        if tokio::time::timeout(limit, stream).await.is_err() {
            outcome.output = Err(format!(
                "no final result within --timeout {} s",
                limit.as_secs_f64()
            ));
        }
        outcome
    }

    /// Sends the request and follows its events into `outcome`.
    async fn stream(&self, request: GenerateRequest, outcome: &mut Outcome) {
        let mut generation = match self.backend.generate(request).await {
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
                        if self.mode.streaming {
                            self.responder
                                .first_token(self.sample.id, &token_bytes(&ids[..1]));
                        }
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

    /// Reports the completion to LoadGen; returns when the first token was
    /// reported here (a stream that delivered no token before finishing).
    fn report(&self, ids: &[u32], first_reported: bool) -> Option<Instant> {
        let id = self.sample.id;
        if !self.mode.streaming {
            self.responder
                .complete(id, &token_bytes(ids), ids.len() as i64);
            return None;
        }
        let mut reported_now = None;
        if !first_reported {
            // LoadGen needs a first token before the completion of a streamed sample.
            reported_now = Some(Instant::now());
            self.responder
                .first_token(id, &token_bytes(&ids[..ids.len().min(1)]));
        }
        let rest = if self.mode.report_all_tokens {
            ids
        } else {
            ids.get(1..).unwrap_or(&[])
        };
        self.responder
            .complete(id, &token_bytes(rest), rest.len() as i64);
        reported_now
    }
}

/// Token ids as LoadGen's response data: little-endian int32.
pub fn token_bytes(ids: &[u32]) -> Vec<u8> {
    ids.iter()
        .flat_map(|&id| (id as i32).to_le_bytes())
        .collect()
}
