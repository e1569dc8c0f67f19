//! SGLang's native `POST /generate` with `input_ids`.
//!
//! A reply (or one streamed chunk) carries `text` (absent with
//! `--skip-tokenizer-init`), `output_ids` and `meta_info`. `finish_reason`
//! is null until the end, then an object: `{"type": "stop", "matched":
//! 200002}`, `{"type": "length", "length": 10240}` or `{"type": "abort",
//! "message": ..., "status_code": ..., "err_type": ...}` (a plain string is
//! accepted too). The matched stop id is the last of `output_ids`; `text`
//! leaves it out. Streamed replies are SSE `data:` lines ended by
//! `data: [DONE]`; their `output_ids` and `text` are cumulative, or only the
//! new part with `--incremental-streaming-output`, while
//! `meta_info.completion_tokens` is always the running total.

use serde::{Deserialize, Serialize};

use crate::{FinishReason, SamplingParams};

/// The request body of `POST /generate`, as our client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateBody {
    /// The rendered prompt; ids, so the server never re-tokenizes text.
    pub input_ids: Vec<u32>,
    /// How to sample, in SGLang's names.
    pub sampling_params: WireSampling,
    /// Whether to answer with an SSE stream.
    pub stream: bool,
}

/// `sampling_params` as SGLang names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSampling {
    /// Upper bound on generated tokens.
    pub max_new_tokens: u32,
    /// Softmax temperature; 0 is greedy.
    pub temperature: f32,
    /// Nucleus mass; 1 disables it.
    pub top_p: f32,
    /// -1 disables it (SGLang's spelling of "off").
    pub top_k: i32,
    /// Ids that end generation; the matched one is kept in `output_ids`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_token_ids: Vec<u32>,
    /// Do not stop at the model's own end-of-sequence ids.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_eos: bool,
    /// SGLang's name for the sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_seed: Option<u64>,
    /// The reference sends false; it only changes `text`, never the ids.
    pub skip_special_tokens: bool,
}

impl From<&SamplingParams> for WireSampling {
    fn from(s: &SamplingParams) -> Self {
        WireSampling {
            max_new_tokens: s.max_new_tokens,
            temperature: s.temperature,
            top_p: s.top_p,
            top_k: s.top_k,
            stop_token_ids: s.stop_token_ids.clone(),
            ignore_eos: s.ignore_eos,
            sampling_seed: s.seed,
            skip_special_tokens: false,
        }
    }
}

/// A reply, or one streamed chunk of it. Unknown fields are ignored when
/// reading; absent ones are left out when writing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GenerateReply {
    /// The decoded output (absent with `--skip-tokenizer-init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The generated ids: all so far, or the new ones (incremental mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_ids: Option<Vec<u32>>,
    /// Counts and the finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_info: Option<MetaInfo>,
    /// Servers report some failures in a 200 reply or an SSE chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

/// `meta_info` of a reply or chunk: the fields SGLang always sends, in its
/// order; the ones it sends on some chunks only (`e2e_latency`,
/// `response_sent_to_client_ts`) are left out when `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetaInfo {
    /// The request id (`rid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Null until the last chunk; always written, as SGLang does.
    #[serde(default)]
    pub finish_reason: Option<WireFinishReason>,
    /// Prompt length in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<usize>,
    /// The served weights' version (`--weight-version`, `"default"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_version: Option<String>,
    /// How often the scheduler retracted the request to free memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_retractions: Option<u64>,
    /// Tokens inside reasoning markers (0 without a reasoning parser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<usize>,
    /// The running total of generated tokens, in both streaming modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<usize>,
    /// Prompt tokens served from the prefix cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<usize>,
    /// Seconds from arrival to the end, on the finished reply only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_latency: Option<f64>,
    /// Unix time the first reply of the request was sent: on the first
    /// chunk of a stream, and on a non-streamed reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_sent_to_client_ts: Option<f64>,
}

/// `meta_info.finish_reason`: an object in SGLang, a string elsewhere.
// One per reply, read once: boxing the object would only complicate serde.
// (serde_json's `Value` grows with features other crates enable.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WireFinishReason {
    /// SGLang's shape: `type` with the detail that goes with it.
    Object {
        /// `"stop"`, `"length"` or `"abort"`.
        #[serde(rename = "type")]
        kind: String,
        /// The stop id (a number) or stop string that matched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matched: Option<serde_json::Value>,
        /// The length limit that was reached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u64>,
        /// Why the request was aborted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// An abort's HTTP status (503: the queue is full), or null.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_code: Option<serde_json::Value>,
        /// An abort's error type, or null.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        err_type: Option<serde_json::Value>,
    },
    /// The OpenAI-style plain string some servers send.
    Text(String),
}

impl WireFinishReason {
    /// How SGLang reports a stop on `matched` (an id, or null for a stop
    /// without one).
    pub fn stop(matched: Option<u32>) -> Self {
        WireFinishReason::Object {
            kind: "stop".into(),
            matched: Some(matched.map_or(serde_json::Value::Null, Into::into)),
            length: None,
            message: None,
            status_code: None,
            err_type: None,
        }
    }

    /// How SGLang reports reaching `max_new_tokens` (`length` is the limit).
    pub fn length(length: u64) -> Self {
        WireFinishReason::Object {
            kind: "length".into(),
            matched: None,
            length: Some(length),
            message: None,
            status_code: None,
            err_type: None,
        }
    }

    /// How SGLang reports an abort: its message, status and type are
    /// always present, null when unknown.
    pub fn abort(message: impl Into<String>) -> Self {
        WireFinishReason::Object {
            kind: "abort".into(),
            matched: None,
            length: None,
            message: Some(message.into()),
            status_code: Some(serde_json::Value::Null),
            err_type: Some(serde_json::Value::Null),
        }
    }

    /// Our reason; an unknown type is an error rather than a guess.
    pub fn reason(&self) -> Result<FinishReason, String> {
        let kind = match self {
            WireFinishReason::Object { kind, .. } => kind,
            WireFinishReason::Text(kind) => kind,
        };
        match kind.as_str() {
            "stop" => Ok(FinishReason::Stop),
            "length" => Ok(FinishReason::Length),
            "abort" => {
                if let WireFinishReason::Object {
                    message: Some(m), ..
                } = self
                {
                    tracing::warn!("SGLang aborted a request: {m}");
                }
                Ok(FinishReason::Abort)
            }
            other => Err(format!("unknown finish_reason type {other:?}")),
        }
    }
}

/// One streamed chunk as the client reads it: like [`GenerateReply`], but
/// without copying `text` (only whether there was any matters). Chunks are
/// the client's hot path, one per token at stream interval 1.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamChunk {
    #[serde(default)]
    pub(crate) text: HasText,
    #[serde(default)]
    pub(crate) output_ids: Option<Vec<u32>>,
    #[serde(default)]
    pub(crate) meta_info: Option<MetaInfo>,
    #[serde(default)]
    pub(crate) error: Option<serde_json::Value>,
}

/// Whether a string field (or null) holds any text, read without copying it.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct HasText(pub bool);

impl<'de> Deserialize<'de> for HasText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = HasText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<HasText, E> {
                Ok(HasText(!v.is_empty()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<HasText, E> {
                Ok(HasText(false))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<HasText, E> {
                Ok(HasText(false))
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<HasText, D::Error> {
                d.deserialize_any(V)
            }
        }
        d.deserialize_any(V)
    }
}
