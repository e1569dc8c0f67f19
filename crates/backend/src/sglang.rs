//! SGLang's native `POST /generate` with `input_ids`: [`SglangBackend`], a
//! [`Backend`] over an [`EndpointPool`]. The wire shapes are
//! [`crate::wire::sglang`]; streamed `output_ids` are cumulative or
//! incremental depending on the server ([`crate::accounting`]).

use serde::Serialize;

use crate::accounting::{IdsMode, StreamedIds};
use crate::client::{self, Protocol};
use crate::error::Fault;
use crate::pool::EndpointPool;
use crate::stream::{error_text, parse_chunk, parse_json, Reply};
use crate::wire::sglang::{GenerateBody, GenerateReply, MetaInfo, StreamChunk, WireSampling};
use crate::{Backend, BackendError, FinishReason, GenerateOutput, GenerateRequest, Generation};

/// A [`Backend`] speaking SGLang's `/generate` to a pool of servers.
#[derive(Debug, Clone)]
pub struct SglangBackend {
    pool: EndpointPool,
    ids_mode: IdsMode,
}

impl SglangBackend {
    /// A client sending every request to the least loaded of `pool`'s
    /// endpoints, reading streamed ids in whichever mode the server uses.
    pub fn new(pool: EndpointPool) -> Self {
        SglangBackend {
            pool,
            ids_mode: IdsMode::Auto,
        }
    }

    /// Fixes how streamed `output_ids` are read instead of detecting it.
    pub fn with_ids_mode(mut self, mode: IdsMode) -> Self {
        self.ids_mode = mode;
        self
    }

    /// The pool, for its counters.
    pub fn pool(&self) -> &EndpointPool {
        &self.pool
    }
}

impl Protocol for SglangBackend {
    const PATH: &'static str = "/generate";
    type Reply = SglangReply;

    fn body(&self, request: GenerateRequest) -> impl Serialize {
        GenerateBody {
            sampling_params: WireSampling::from(&request.sampling),
            input_ids: request.input_ids,
            stream: request.stream,
        }
    }

    fn reply(&self, prompt_tokens: usize) -> SglangReply {
        SglangReply {
            ids: StreamedIds::new(self.ids_mode),
            prompt_tokens,
            completion_tokens: None,
            finish: None,
            saw_text: false,
        }
    }
}

#[async_trait::async_trait]
impl Backend for SglangBackend {
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError> {
        client::generate(&self.pool, self, request).await
    }
}

/// Reading one `/generate` reply.
pub(crate) struct SglangReply {
    ids: StreamedIds,
    prompt_tokens: usize,
    completion_tokens: Option<usize>,
    finish: Option<FinishReason>,
    /// Some chunk had text: ids missing then means a server that hides them.
    saw_text: bool,
}

impl SglangReply {
    fn absorb_meta(&mut self, meta: Option<MetaInfo>) -> Result<(), Fault> {
        let Some(meta) = meta else { return Ok(()) };
        if let Some(p) = meta.prompt_tokens {
            self.prompt_tokens = p;
        }
        if meta.completion_tokens.is_some() {
            self.completion_tokens = meta.completion_tokens;
        }
        if let Some(f) = meta.finish_reason {
            self.finish = Some(f.reason().map_err(Fault::protocol)?);
        }
        Ok(())
    }

    fn output(&mut self, ids: Vec<u32>) -> Result<GenerateOutput, Fault> {
        let Some(finish_reason) = self.finish else {
            return Err(Fault::protocol(format!(
                "the reply ended without meta_info.finish_reason after {} tokens \
                 (truncated stream or server died?)",
                ids.len()
            )));
        };
        let reported = self.completion_tokens.unwrap_or(ids.len());
        if ids.is_empty() && reported > 0 {
            return Err(Fault::protocol(format!(
                "the server reported {reported} completion tokens but sent no output_ids{}; \
                 token ids are required (text is never re-tokenized)",
                if self.saw_text { " (only text)" } else { "" }
            )));
        }
        if reported != ids.len() {
            tracing::debug!(
                "meta_info.completion_tokens = {reported} but {} output_ids arrived",
                ids.len()
            );
        }
        Ok(GenerateOutput {
            output_ids: ids,
            finish_reason,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: reported,
            token_source: crate::TokenSource::Server,
        })
    }
}

impl Reply for SglangReply {
    fn chunk(&mut self, payload: &str) -> Result<Vec<u32>, Fault> {
        let chunk: StreamChunk = parse_chunk(payload)?;
        if let Some(e) = &chunk.error {
            return Err(Fault::protocol(format!(
                "the server reported an error after {} tokens: {}",
                self.ids.ids().len(),
                error_text(e)
            )));
        }
        self.saw_text |= chunk.text.0;
        self.absorb_meta(chunk.meta_info)?;
        let ids = chunk.output_ids.unwrap_or_default();
        let new = self
            .ids
            .push(&ids, self.completion_tokens)
            .map_err(Fault::protocol)?;
        // Incremental chunks (and the first) are new as a whole: no copy.
        Ok(if new.len() == ids.len() {
            ids
        } else {
            new.to_vec()
        })
    }

    fn body(&mut self, body: &[u8]) -> Result<GenerateOutput, Fault> {
        let value: serde_json::Value = parse_json(body, "reply")?;
        if value.is_array() {
            return Err(Fault::protocol(
                "the reply is a list (a batch); one object was expected",
            ));
        }
        let reply: GenerateReply = serde_json::from_value(value)
            .map_err(|e| Fault::protocol(format!("the reply does not have SGLang's shape: {e}")))?;
        if let Some(e) = &reply.error {
            return Err(Fault::protocol(format!(
                "the server reported an error: {}",
                error_text(e)
            )));
        }
        self.saw_text = reply.text.as_deref().is_some_and(|t| !t.is_empty());
        self.absorb_meta(reply.meta_info)?;
        self.output(reply.output_ids.unwrap_or_default())
    }

    fn end(&mut self, _saw_done: bool) -> Result<GenerateOutput, Fault> {
        let ids = std::mem::take(&mut self.ids).into_ids();
        self.output(ids)
    }

    fn streamed(&self) -> usize {
        self.ids.ids().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::sglang::{HasText, WireFinishReason};
    use crate::SamplingParams;
    use serde_json::json;

    #[test]
    fn the_request_matches_the_reference_shape() {
        let body = GenerateBody {
            input_ids: vec![1, 2, 3],
            sampling_params: WireSampling::from(&SamplingParams {
                max_new_tokens: 10240,
                stop_token_ids: vec![200002, 199999, 200012],
                ..SamplingParams::default()
            }),
            stream: true,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"input_ids": [1, 2, 3], "stream": true, "sampling_params": {
                "max_new_tokens": 10240, "temperature": 1.0, "top_p": 1.0, "top_k": -1,
                "stop_token_ids": [200002, 199999, 200012], "skip_special_tokens": false}})
        );
    }

    #[test]
    fn recorded_replies_parse() {
        // Non-streaming, as SGLang 0.4/0.5 return it.
        let r: GenerateReply = serde_json::from_value(json!({
            "text": "Hi<|return|>", "output_ids": [12194, 200002],
            "meta_info": {"id": "5f1c", "finish_reason": {"type": "stop", "matched": 200002},
                "prompt_tokens": 3, "weight_version": "default", "completion_tokens": 2,
                "cached_tokens": 0, "e2e_latency": 0.03}}))
        .unwrap();
        let meta = r.meta_info.unwrap();
        assert_eq!(meta.finish_reason.unwrap().reason(), Ok(FinishReason::Stop));
        assert_eq!(meta.completion_tokens, Some(2));
        // A streamed chunk before the end: finish_reason null.
        let r: GenerateReply = serde_json::from_value(json!({
            "text": "Hi", "output_ids": [12194],
            "meta_info": {"id": "5f1c", "finish_reason": null, "prompt_tokens": 3,
                "completion_tokens": 1, "cached_tokens": 0}}))
        .unwrap();
        assert_eq!(r.meta_info.unwrap().finish_reason, None);
        for (reason, want) in [
            (json!({"type": "length", "length": 8}), FinishReason::Length),
            (
                json!({"type": "abort", "message": "Input too long"}),
                FinishReason::Abort,
            ),
            (json!("stop"), FinishReason::Stop),
        ] {
            let f: WireFinishReason = serde_json::from_value(reason).unwrap();
            assert_eq!(f.reason(), Ok(want));
        }
        let chunk: StreamChunk = parse_chunk(r#"{"text": "a\u00e9", "output_ids": [1]}"#).unwrap();
        assert_eq!(
            (chunk.text, chunk.output_ids),
            (HasText(true), Some(vec![1]))
        );
        let chunk: StreamChunk =
            parse_chunk(r#"{"text": null, "meta_info": {"id": "x"}}"#).unwrap();
        assert_eq!(chunk.text, HasText(false));
        assert!(parse_chunk::<StreamChunk>(r#"{"text": 5}"#).is_err());
        let odd: WireFinishReason = serde_json::from_value(json!({"type": "eos"})).unwrap();
        assert!(odd.reason().unwrap_err().contains("eos"));
    }
}
