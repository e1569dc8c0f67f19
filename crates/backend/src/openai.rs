//! OpenAI-compatible `POST /v1/completions` with a token-id prompt:
//! [`OpenAiBackend`], a [`Backend`] over an [`EndpointPool`]. The wire
//! shapes are [`crate::wire::openai`].
//!
//! The generated ids come from vLLM's `return_token_ids: true`, which adds
//! `choices[i].token_ids` (and `prompt_token_ids`) to replies and to every
//! streamed chunk (incremental there). A server that answers with text only
//! (TensorRT-LLM's `trtllm-serve`, which also refuses the unknown field, so
//! [`OpenAiBackend::text_only`] leaves it out; vLLM before 0.10.2) gets its
//! text re-tokenized with the harmony o200k tokenizer, and the output says
//! so ([`TokenSource::Retokenized`]) beside the server's own count.

use serde::Serialize;

use crate::client::{self, Protocol};
use crate::error::Fault;
use crate::pool::EndpointPool;
use crate::stream::{error_text, parse_chunk, parse_json, Reply};
use crate::wire::openai::{CompletionBody, CompletionReply, StreamOptions, Usage};
use crate::{
    Backend, BackendError, FinishReason, GenerateOutput, GenerateRequest, Generation, TokenSource,
};

/// A [`Backend`] speaking OpenAI-compatible `/v1/completions` to a pool.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    pool: EndpointPool,
    model: Option<String>,
    ask_for_ids: bool,
}

impl OpenAiBackend {
    /// A client for `pool` that leaves the model name out of requests,
    /// which vLLM and SGLang accept when they serve one model.
    pub fn new(pool: EndpointPool) -> Self {
        OpenAiBackend {
            pool,
            model: None,
            ask_for_ids: true,
        }
    }

    /// For servers that return only text and refuse unknown request fields
    /// (`trtllm-serve`): `return_token_ids` is not sent, and the text is
    /// re-tokenized.
    pub fn text_only(mut self) -> Self {
        self.ask_for_ids = false;
        self
    }

    /// Names the served model in every request, for servers that serve
    /// several ([`crate::check_ready`] lists the names).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The pool, for its counters.
    pub fn pool(&self) -> &EndpointPool {
        &self.pool
    }
}

impl Protocol for OpenAiBackend {
    const PATH: &'static str = "/v1/completions";
    type Reply = OpenAiReply;

    fn body(&self, request: GenerateRequest) -> impl Serialize {
        let s = &request.sampling;
        let stream = request.stream;
        CompletionBody {
            model: self.model.clone(),
            max_tokens: s.max_new_tokens,
            temperature: s.temperature,
            top_p: s.top_p,
            top_k: if s.top_k <= 0 { -1 } else { s.top_k },
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            return_token_ids: self.ask_for_ids,
            stop_token_ids: s.stop_token_ids.clone(),
            ignore_eos: s.ignore_eos,
            seed: s.seed,
            skip_special_tokens: false,
            prompt: request.input_ids,
        }
    }

    fn reply(&self, prompt_tokens: usize) -> OpenAiReply {
        OpenAiReply {
            prompt_tokens,
            ..OpenAiReply::default()
        }
    }
}

#[async_trait::async_trait]
impl Backend for OpenAiBackend {
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError> {
        client::generate(&self.pool, self, request).await
    }
}

/// Reading one `/v1/completions` reply.
#[derive(Default)]
pub(crate) struct OpenAiReply {
    ids: Vec<u32>,
    prompt_tokens: usize,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    /// The text so far, kept once a choice came without ids.
    text: Option<String>,
    /// The stop id the server says matched (`stop_reason`), left out of text.
    stop_id: Option<u32>,
}

fn finish_reason(text: &str) -> Result<FinishReason, String> {
    match text {
        "stop" => Ok(FinishReason::Stop),
        "length" => Ok(FinishReason::Length),
        "abort" => Ok(FinishReason::Abort),
        other => Err(format!("unknown finish_reason {other:?}")),
    }
}

/// The harmony o200k ids of a server's text.
fn retokenize(text: &str) -> Result<Vec<u32>, String> {
    harmony::encode_text(text).map_err(|e| format!("cannot re-tokenize the server's text: {e}"))
}

impl OpenAiReply {
    /// Takes one reply or chunk; returns the new ids of choice 0.
    fn absorb(&mut self, reply: CompletionReply) -> Result<Vec<u32>, Fault> {
        self.absorb_choice(reply).map_err(Fault::protocol)
    }

    fn absorb_choice(&mut self, reply: CompletionReply) -> Result<Vec<u32>, String> {
        if let Some(e) = &reply.error {
            return Err(format!("the server reported an error: {}", error_text(e)));
        }
        if reply.object.as_deref() == Some("error") {
            return Err(format!(
                "the server reported an error: {}",
                reply.message.as_deref().unwrap_or("(no message)")
            ));
        }
        if reply.usage.is_some() {
            self.usage = reply.usage;
        }
        if reply.choices.len() > 1 {
            return Err(format!(
                "{} choices in one reply; one was asked for",
                reply.choices.len()
            ));
        }
        let Some(choice) = reply.choices.into_iter().next() else {
            return Ok(Vec::new());
        };
        if let Some(f) = &choice.finish_reason {
            self.finish = Some(finish_reason(f)?);
            self.stop_id = choice
                .stop_reason
                .as_ref()
                .and_then(|v| v.as_u64())
                .and_then(|id| u32::try_from(id).ok());
        }
        let text = choice.text.as_deref().unwrap_or("");
        let new = match choice.token_ids {
            Some(ids) if self.text.is_none() => ids,
            Some(_) => {
                return Err(
                    "a chunk carried token ids after chunks with text only: the stream \
                     mixes the two"
                        .into(),
                )
            }
            None if text.is_empty() => Vec::new(),
            None if !self.ids.is_empty() => {
                return Err(format!(
                    "a chunk came with text ({:?}) but no token ids after {} ids: the \
                     stream mixes the two",
                    text.chars().take(40).collect::<String>(),
                    self.ids.len()
                ))
            }
            None => {
                // Text only: these ids are for timing the stream; the output's
                // are the whole text's, tokenized once at the end.
                self.text.get_or_insert_with(String::new).push_str(text);
                return retokenize(text);
            }
        };
        self.ids.extend_from_slice(&new);
        Ok(new)
    }

    fn output(&mut self) -> Result<GenerateOutput, Fault> {
        let Some(finish_reason) = self.finish else {
            return Err(Fault::protocol(format!(
                "the reply ended without a finish_reason after {} tokens \
                 (truncated stream or server died?)",
                self.ids.len()
            )));
        };
        let (ids, token_source) = match self.text.take() {
            Some(text) => {
                let mut ids = retokenize(&text).map_err(Fault::protocol)?;
                // The matched stop id is never in the text; keep it when named.
                if let (FinishReason::Stop, Some(id)) = (finish_reason, self.stop_id) {
                    ids.push(id);
                }
                (ids, TokenSource::Retokenized)
            }
            None => (std::mem::take(&mut self.ids), TokenSource::Server),
        };
        let (prompt_tokens, completion_tokens) = match self.usage {
            Some(u) => (u.prompt_tokens, u.completion_tokens),
            None => (self.prompt_tokens, ids.len()),
        };
        if ids.is_empty() && completion_tokens > 0 {
            return Err(Fault::protocol(format!(
                "usage reports {completion_tokens} completion tokens but neither token ids \
                 nor text arrived"
            )));
        }
        Ok(GenerateOutput {
            output_ids: ids,
            finish_reason,
            prompt_tokens,
            completion_tokens,
            token_source,
        })
    }
}

impl Reply for OpenAiReply {
    fn chunk(&mut self, payload: &str) -> Result<Vec<u32>, Fault> {
        let chunk: CompletionReply = parse_chunk(payload)?;
        let streamed = self.ids.len();
        self.absorb(chunk)
            .map_err(|e| e.context(|e| format!("{e} (after {streamed} tokens)")))
    }

    fn body(&mut self, body: &[u8]) -> Result<GenerateOutput, Fault> {
        let reply: CompletionReply = parse_json(body, "reply")?;
        if reply.choices.is_empty() && reply.error.is_none() && reply.object.is_none() {
            return Err(Fault::protocol("the reply has no choices"));
        }
        self.absorb(reply)?;
        self.output()
    }

    fn end(&mut self, _saw_done: bool) -> Result<GenerateOutput, Fault> {
        self.output()
    }

    fn streamed(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recorded_vllm_replies_parse() {
        // vLLM 0.11 non-streaming with return_token_ids.
        let r: CompletionReply = serde_json::from_value(json!({
            "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "openai/gpt-oss-120b",
            "choices": [{"index": 0, "text": "Hi", "logprobs": null, "finish_reason": "stop",
                "stop_reason": 200002, "prompt_logprobs": null,
                "prompt_token_ids": [1, 2], "token_ids": [12194, 200002]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 4, "completion_tokens": 2,
                "prompt_tokens_details": null}}))
        .unwrap();
        let mut reply = OpenAiReply {
            prompt_tokens: 2,
            ..OpenAiReply::default()
        };
        assert_eq!(reply.absorb(r).unwrap(), vec![12194, 200002]);
        let out = reply.output().unwrap();
        assert_eq!(out.finish_reason, FinishReason::Stop);
        assert_eq!(out.completion_tokens, 2);
        // The usage-only chunk at the end of a stream.
        let r: CompletionReply = serde_json::from_value(json!({
            "id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}}))
        .unwrap();
        assert_eq!(r.usage.unwrap().completion_tokens, 5);
        // vLLM's error shape.
        let r: CompletionReply = serde_json::from_value(json!({
            "object": "error", "message": "max_tokens is too large", "type": "BadRequestError",
            "param": null, "code": 400}))
        .unwrap();
        let mut reply = OpenAiReply::default();
        assert!(reply
            .absorb(r)
            .unwrap_err()
            .detail
            .contains("max_tokens is too large"));
    }

    #[test]
    fn the_request_asks_for_token_ids() {
        let body = CompletionBody {
            model: None,
            prompt: vec![1, 2],
            max_tokens: 8,
            temperature: 1.0,
            top_p: 1.0,
            top_k: -1,
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            return_token_ids: true,
            stop_token_ids: vec![],
            ignore_eos: false,
            seed: None,
            skip_special_tokens: false,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"prompt": [1, 2], "max_tokens": 8, "temperature": 1.0, "top_p": 1.0,
                "top_k": -1, "stream": true, "stream_options": {"include_usage": true},
                "return_token_ids": true, "skip_special_tokens": false})
        );
    }
}
