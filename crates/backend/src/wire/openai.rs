//! OpenAI-compatible `POST /v1/completions` with a token-id prompt, with
//! vLLM's extensions.
//!
//! The generated ids come from vLLM's `return_token_ids: true`, which fills
//! `choices[i].token_ids` (and `prompt_token_ids`) in replies and streamed
//! chunks (the new ids there; `prompt_token_ids` in the first chunk only).
//! A streamed reply is SSE `data:` chunks, then with
//! `stream_options.include_usage` one chunk with `choices: []` and `usage`,
//! then `data: [DONE]`. vLLM writes `logprobs`, `finish_reason`,
//! `stop_reason`, `token_ids` and `prompt_token_ids` in every choice, null
//! when they do not apply. The matched stop id is the last of `token_ids`;
//! `text` leaves it out.

use serde::{Deserialize, Serialize};

/// The request body of `POST /v1/completions`, as our client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionBody {
    /// The served model; servers with one model accept its absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Token ids, not text: the prompt is already rendered by Harmony.
    pub prompt: Vec<u32>,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// Softmax temperature; 0 is greedy.
    pub temperature: f32,
    /// Nucleus mass; 1 disables it.
    pub top_p: f32,
    /// A vLLM/SGLang extension; -1 disables it.
    pub top_k: i32,
    /// Whether to answer with an SSE stream.
    pub stream: bool,
    /// Asks for the final usage chunk of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// vLLM's switch for `choices[i].token_ids` and `prompt_token_ids`;
    /// left out when false, since `trtllm-serve` refuses fields it lacks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_token_ids: bool,
    /// Ids that end generation; the matched one is kept in `token_ids`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_token_ids: Vec<u32>,
    /// Do not stop at the model's own end-of-sequence id.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_eos: bool,
    /// Makes sampling reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The reference sends false; it only changes `text`, never the ids.
    pub skip_special_tokens: bool,
}

/// `stream_options` of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// End the stream with a chunk holding `usage` (and no choices).
    #[serde(default)]
    pub include_usage: bool,
}

/// A reply or one streamed chunk. Unknown fields are ignored when reading;
/// absent optional ones are left out when writing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompletionReply {
    /// `cmpl-…`, the same in every chunk of a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `"text_completion"`; vLLM's old error shape says `"error"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Unix seconds when the request arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The served model's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// One choice per prompt and `n`; empty in the usage chunk.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token counts: in every reply, in a stream only in its usage chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// `{"error": {...}}` (OpenAI, vLLM, SGLang) in a chunk or a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
    /// The message of vLLM's old error shape (`"object": "error"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One choice of a reply or chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Choice {
    /// Which choice this is (always 0 here: one prompt, `n` = 1).
    #[serde(default)]
    pub index: u32,
    /// The decoded output, or its new part in a chunk.
    #[serde(default)]
    pub text: Option<String>,
    /// Log probabilities; null unless asked for (we never ask).
    #[serde(default)]
    pub logprobs: Option<serde_json::Value>,
    /// `"stop"`, `"length"`, `"abort"`, or null until the end.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// vLLM: the stop id or string that matched; null for the model's own
    /// end-of-sequence id and for other reasons.
    #[serde(default)]
    pub stop_reason: Option<serde_json::Value>,
    /// Generated ids (vLLM with `return_token_ids`), the new ones in a chunk.
    #[serde(default)]
    pub token_ids: Option<Vec<u32>>,
    /// The prompt's ids (with `return_token_ids`; first chunk of a stream).
    #[serde(default)]
    pub prompt_token_ids: Option<Vec<u32>>,
}

/// `usage` of a reply or the final chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt length in tokens.
    #[serde(default)]
    pub prompt_tokens: usize,
    /// Their sum, as OpenAI reports it.
    #[serde(default)]
    pub total_tokens: usize,
    /// Generated tokens.
    #[serde(default)]
    pub completion_tokens: usize,
}
