//! The `backend` crate: one [`Backend`] trait for every way of generating
//! tokens — the embedded engine, SGLang's `/generate`, OpenAI-compatible
//! `/v1/completions` — so that `run` and `infer` never branch on the kind.
//!
//! It owns only the trait and the transport-neutral types that cross it: a
//! [`GenerateRequest`] (prompt ids, [`SamplingParams`], whether to stream),
//! the [`Generation`] handle on which produced tokens arrive as [`Event`]s,
//! and the final [`GenerateOutput`]. The HTTP clients are its modules:
//! [`SglangBackend`] and [`OpenAiBackend`] over an [`EndpointPool`]
//! (least-outstanding routing, counted retries, timeouts), and
//! [`check_ready`] to fail fast when a server is not there.
//!
//! ```
//! # async fn demo(backend: &dyn backend::Backend) -> Result<(), backend::BackendError> {
//! use backend::{Event, GenerateRequest, SamplingParams};
//! let request = GenerateRequest {
//!     input_ids: vec![1, 2, 3],
//!     sampling: SamplingParams { max_new_tokens: 8, ..SamplingParams::greedy() },
//!     stream: true,
//! };
//! let mut generation = backend.generate(request).await?;
//! while let Some(event) = generation.next().await {
//!     match event? {
//!         Event::Tokens(ids) => println!("got {ids:?}"),
//!         Event::Finished(out) => println!("done: {:?}", out.finish_reason),
//!     }
//! }
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

mod accounting;
mod client;
mod error;
mod h1;
mod http;
mod openai;
mod page;
mod pool;
mod ready;
pub mod settings;
mod sglang;
mod sse;
mod stream;
pub mod wire;

pub use accounting::IdsMode;
pub use error::{BackendError, RequestLabel, TransportError, TransportKind};
pub use http::{Endpoint, HttpConfig};
pub use openai::OpenAiBackend;
pub use page::PageClient;
pub use pool::{EndpointPool, EndpointStats, PoolStats};
pub use ready::{check_ready, Readiness};
pub use sglang::SglangBackend;

/// How to pick tokens. Field meanings follow SGLang's `sampling_params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// Softmax temperature; 0 means greedy (argmax).
    pub temperature: f32,
    /// Nucleus sampling mass in (0, 1]; 1 disables it.
    pub top_p: f32,
    /// Keep only the k most likely tokens; 0 or -1 disables it (SGLang sends -1).
    pub top_k: i32,
    /// Upper bound on generated tokens.
    pub max_new_tokens: u32,
    /// Generation ends after emitting any of these ids or, unless
    /// `ignore_eos`, one of the model's end-of-sequence ids (SGLang's rule).
    /// The stop id is the last output id.
    pub stop_token_ids: Vec<u32>,
    /// Do not stop at the model's end-of-sequence ids.
    #[serde(default)]
    pub ignore_eos: bool,
    /// Makes sampling reproducible; `None` draws from entropy.
    pub seed: Option<u64>,
}

impl SamplingParams {
    /// Argmax decoding with the backend's default stop set and 128 new tokens.
    pub fn greedy() -> Self {
        SamplingParams {
            temperature: 0.0,
            top_p: 1.0,
            top_k: -1,
            max_new_tokens: 128,
            stop_token_ids: Vec::new(),
            ignore_eos: false,
            seed: None,
        }
    }

    /// Checks the ranges every backend accepts, naming the bad field.
    pub fn validate(&self) -> Result<(), BackendError> {
        let bad = |msg: String| Err(BackendError::InvalidRequest(msg));
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return bad(format!(
                "sampling_params.temperature must be a finite number >= 0, got {}",
                self.temperature
            ));
        }
        if !self.top_p.is_finite() || self.top_p <= 0.0 || self.top_p > 1.0 {
            return bad(format!(
                "sampling_params.top_p must be in (0, 1], got {}",
                self.top_p
            ));
        }
        if self.top_k < -1 {
            return bad(format!(
                "sampling_params.top_k must be -1 (disabled), 0 (disabled) or positive, got {}",
                self.top_k
            ));
        }
        Ok(())
    }
}

impl Default for SamplingParams {
    /// The MLPerf reference's settings: temperature 1, top_p 1, top_k off.
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: -1,
            max_new_tokens: 10240,
            stop_token_ids: Vec::new(),
            ignore_eos: false,
            seed: None,
        }
    }
}

/// One generation request: prompt token ids plus how to continue them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// The prompt, already rendered and tokenized (harmony).
    pub input_ids: Vec<u32>,
    /// How to continue it.
    pub sampling: SamplingParams,
    /// Deliver tokens as [`Event::Tokens`] while they are produced; when
    /// false only [`Event::Finished`] arrives.
    pub stream: bool,
}

impl GenerateRequest {
    /// `input_ids` continued with the reference's sampling
    /// ([`settings::reference_sampling`]) for at most `max_new_tokens`.
    pub fn reference(input_ids: Vec<u32>, max_new_tokens: u32, stream: bool) -> Self {
        GenerateRequest {
            input_ids,
            sampling: settings::reference_sampling(max_new_tokens),
            stream,
        }
    }
}

/// Why a generation ended (SGLang/OpenAI spelling: "stop", "length", "abort").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    /// A stop token id was produced (it is the last output id).
    Stop,
    /// `max_new_tokens` or the model's context length was reached.
    Length,
    /// The backend gave up on the request (shutdown, cancellation).
    Abort,
}

impl FinishReason {
    /// The wire spelling, as SGLang and OpenAI write it and the logs record it.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Abort => "abort",
        }
    }
}

/// The final result of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOutput {
    /// Every generated id, the stop token included when one ended it.
    pub output_ids: Vec<u32>,
    /// Why it ended.
    pub finish_reason: FinishReason,
    /// The prompt's length as the backend counted it.
    pub prompt_tokens: usize,
    /// Generated tokens as the backend counted them (normally
    /// `output_ids.len()`; a server may count a stop id it leaves out).
    pub completion_tokens: usize,
    /// Where `output_ids` came from: the server, or its text re-tokenized.
    #[serde(default)]
    pub token_source: TokenSource,
}

/// Where a generation's ids came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenSource {
    /// The server's own token ids.
    #[default]
    #[serde(rename = "server")]
    Server,
    /// The server returned only text (TensorRT-LLM's `trtllm-serve`, older
    /// vLLM): the ids are that text re-tokenized with the harmony o200k
    /// tokenizer, without the stop token the text leaves out unless the
    /// server named it (`stop_reason`).
    #[serde(rename = "re-tokenized")]
    Retokenized,
}

impl TokenSource {
    /// The label records and summaries use: `server` or `re-tokenized`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Server => "server",
            TokenSource::Retokenized => "re-tokenized",
        }
    }
}

/// What a [`Generation`] yields, in order: zero or more `Tokens`, then one `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Ids produced since the previous event (incremental, never cumulative).
    Tokens(Vec<u32>),
    /// The generation ended; nothing follows.
    Finished(GenerateOutput),
}

/// The producing side of a [`Generation`]; backends keep it while working.
#[derive(Debug, Clone)]
pub struct EventSender {
    tx: mpsc::UnboundedSender<Result<Event, BackendError>>,
}

impl EventSender {
    /// Sends one event; returns false once the consumer is gone (cancelled).
    pub fn send(&self, event: Result<Event, BackendError>) -> bool {
        self.tx.send(event).is_ok()
    }

    /// True when the [`Generation`] was dropped, so work can stop.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// A running generation. Dropping it cancels the request.
#[derive(Debug)]
pub struct Generation {
    rx: mpsc::UnboundedReceiver<Result<Event, BackendError>>,
}

impl Generation {
    /// A connected pair: the backend keeps the sender, the caller gets this.
    pub fn channel() -> (EventSender, Generation) {
        let (tx, rx) = mpsc::unbounded_channel();
        (EventSender { tx }, Generation { rx })
    }

    /// The next event, or `None` after `Finished`, an error, or a vanished backend.
    pub async fn next(&mut self) -> Option<Result<Event, BackendError>> {
        self.rx.recv().await
    }

    /// The next event if one is already queued, without waiting: lets a
    /// server put a generation's last ids and its end in one reply chunk.
    pub fn try_next(&mut self) -> Option<Result<Event, BackendError>> {
        self.rx.try_recv().ok()
    }

    /// Waits for the final output, discarding streamed tokens.
    pub async fn finish(mut self) -> Result<GenerateOutput, BackendError> {
        while let Some(event) = self.next().await {
            if let Event::Finished(output) = event? {
                return Ok(output);
            }
        }
        Err(BackendError::Internal(
            "the backend ended the generation without a final result".into(),
        ))
    }
}

/// Every way of generating tokens implements this.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Starts generating. Errors that are known up front (a bad request, a
    /// refused connection) come back here; later ones arrive on the stream.
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError>;

    /// How loaded the backend is now, for a server's `/metrics`; `None`
    /// where it cannot tell (a client of a remote server).
    fn load(&self) -> Option<Load> {
        None
    }
}

/// A backend's load at one moment, as SGLang's scheduler reports its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    /// Requests generating now.
    pub running: u64,
    /// Requests waiting for a place in the running batch.
    pub queued: u64,
    /// KV-cache tokens held by the running requests.
    pub kv_tokens: u64,
    /// The most KV-cache tokens the backend can hold.
    pub kv_capacity: u64,
    /// Tokens generated since the backend started (finished or not).
    pub generated_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_bad_field() {
        let mut p = SamplingParams::greedy();
        assert!(p.validate().is_ok());
        p.top_p = 0.0;
        let err = p.validate().unwrap_err().to_string();
        assert!(err.contains("top_p"), "{err}");
        p = SamplingParams {
            temperature: -1.0,
            ..SamplingParams::greedy()
        };
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("temperature"));
        p = SamplingParams {
            top_k: -5,
            ..SamplingParams::greedy()
        };
        assert!(p.validate().unwrap_err().to_string().contains("top_k"));
    }

    #[tokio::test]
    async fn finish_skips_tokens_and_returns_output() {
        let (tx, generation) = Generation::channel();
        let out = GenerateOutput {
            output_ids: vec![5, 6],
            finish_reason: FinishReason::Length,
            prompt_tokens: 1,
            completion_tokens: 2,
            token_source: TokenSource::Server,
        };
        assert!(tx.send(Ok(Event::Tokens(vec![5]))));
        assert!(tx.send(Ok(Event::Tokens(vec![6]))));
        assert!(tx.send(Ok(Event::Finished(out.clone()))));
        drop(tx);
        assert_eq!(generation.finish().await.unwrap(), out);
    }

    #[tokio::test]
    async fn dropping_the_generation_closes_the_sender() {
        let (tx, generation) = Generation::channel();
        drop(generation);
        assert!(tx.is_closed());
        assert!(!tx.send(Ok(Event::Tokens(vec![1]))));
    }
}
