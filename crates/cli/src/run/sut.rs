//! The SUT: joins LoadGen (which issues samples and takes reports) to a
//! [`Backend`] (which generates tokens). It is the only place that knows both.
//!
//! Reporting follows the reference's SUTs: Offline reports every generated
//! token at completion; Server/Interactive stream, report the first token
//! through `first_token` when it arrives, and at completion leave that first
//! token out of the data (`n_tokens = total − 1`) unless `report_all_tokens`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{Backend, GenerateRequest, SamplingParams};
use loadgen::{QuerySample, Responder, SystemUnderTest};
use tokio::sync::Semaphore;

use super::interrupt::Interrupt;
use super::records::{Records, SampleRecord};
use crate::request::{self, Outcome};

/// How samples are sent and reported.
#[derive(Clone, Copy, Debug)]
pub struct SutMode {
    /// Stream and report the first token (Server, Interactive).
    pub streaming: bool,
    /// Server only: include the first token in the final report as well.
    pub report_all_tokens: bool,
}

/// The SUT handed to LoadGen: each issued sample becomes a task on `runtime`
/// that shares [`SutState`].
pub struct GenerationSut {
    /// Where the sample tasks run.
    pub runtime: tokio::runtime::Handle,
    /// What every sample task reads.
    pub state: Arc<SutState>,
}

/// What every sample's request needs, shared by the sample tasks.
pub struct SutState {
    /// Where the requests go.
    pub backend: Arc<dyn Backend>,
    /// Token ids per QSL index.
    pub prompts: Arc<Vec<Vec<u32>>>,
    /// The same sampling for every request.
    pub sampling: SamplingParams,
    /// Streaming and reporting.
    pub mode: SutMode,
    /// Requests in flight at once.
    pub slots: Arc<Semaphore>,
    /// One record per completed sample.
    pub records: Arc<Records>,
    /// One request's limit, waiting for a slot excluded.
    pub timeout: Duration,
    /// Ctrl-C: samples not answered yet are answered empty at once.
    pub interrupt: &'static Interrupt,
}

impl SystemUnderTest for GenerationSut {
    fn name(&self) -> String {
        "mlperf-gptoss".into()
    }

    /// Returns at once: each sample becomes a task on the runtime.
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        let issued = Instant::now();
        self.state.records.issued(&samples, issued);
        for sample in samples {
            let task = SampleTask {
                sut: self.state.clone(),
                responder: responder.clone(),
                sample,
                issued,
                first_reported: AtomicBool::new(false),
            };
            self.runtime.spawn(task.run());
        }
    }
}

/// One issued sample on its way through the backend and back to LoadGen.
struct SampleTask {
    sut: Arc<SutState>,
    responder: Responder,
    sample: QuerySample,
    issued: Instant,
    /// The first token went to LoadGen (streaming).
    first_reported: AtomicBool,
}

impl SampleTask {
    async fn run(self) {
        let interrupt = self.sut.interrupt;
        let interrupted =
            |what: &str| Outcome::not_sent(format!("{what}: the run was interrupted (Ctrl-C)"));
        let outcome = if interrupt.requested() {
            interrupted("not sent")
        } else {
            tokio::select! {
                outcome = self.generate() => outcome,
                () = interrupt.wait() => interrupted("abandoned in flight"),
            }
        };
        let done = Instant::now();
        let (ids, finish_reason, error) = match &outcome.output {
            Ok(out) => (
                out.output_ids.as_slice(),
                Some(out.finish_reason.as_str().to_string()),
                None,
            ),
            Err(e) => (&[][..], None, Some(e.clone())),
        };
        let counted = outcome.output.as_ref().ok();
        let first_token = self.report(ids);
        let records = &self.sut.records;
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
            prompt_tokens: self.sut.prompts.get(self.sample.index).map_or(0, Vec::len),
            output_tokens: ids.len(),
            token_source: counted.map(|out| out.token_source.as_str()),
            server_output_tokens: counted.map(|out| out.completion_tokens),
            counts_disagree: counted.map(|out| out.completion_tokens != ids.len()),
            finish_reason,
            error,
        });
    }

    /// Sends the sample's prompt; streaming, its first token goes to LoadGen
    /// as soon as it arrives.
    async fn generate(&self) -> Outcome {
        let sut = &self.sut;
        let Some(prompt) = sut.prompts.get(self.sample.index) else {
            return Outcome::not_sent(format!(
                "QSL index {} is outside the dataset",
                self.sample.index
            ));
        };
        let request = GenerateRequest {
            input_ids: prompt.clone(),
            sampling: sut.sampling.clone(),
            stream: sut.mode.streaming,
        };
        let on_first_token = |ids: &[u32]| {
            if sut.mode.streaming {
                self.first_reported.store(true, Ordering::SeqCst);
                self.responder
                    .first_token(self.sample.id, &token_bytes(&ids[..1]));
            }
        };
        request::generate_once(
            sut.backend.as_ref(),
            &sut.slots,
            request,
            sut.timeout,
            on_first_token,
        )
        .await
    }

    /// Reports the completion to LoadGen; returns when the first token was
    /// reported here (a stream that delivered no token before finishing).
    fn report(&self, ids: &[u32]) -> Option<Instant> {
        let id = self.sample.id;
        let mode = self.sut.mode;
        if !mode.streaming {
            self.responder
                .complete(id, &token_bytes(ids), ids.len() as i64);
            return None;
        }
        let mut reported_now = None;
        if !self.first_reported.load(Ordering::SeqCst) {
            // LoadGen needs a first token before the completion of a streamed sample.
            reported_now = Some(Instant::now());
            self.responder
                .first_token(id, &token_bytes(&ids[..ids.len().min(1)]));
        }
        let rest = if mode.report_all_tokens {
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
