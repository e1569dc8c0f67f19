//! SGLang's native `POST /generate`: `input_ids` or `text`,
//! `sampling_params`, `stream`. Replies mirror SGLang's: `text`,
//! `output_ids`, `meta_info` with `prompt_tokens`, `completion_tokens` and
//! `finish_reason` (`{"type": "stop", "matched": id}` or
//! `{"type": "length", "length": n}`, null until the end). Streamed chunks
//! are SSE `data:` lines carrying the new ids and their text, with
//! cumulative `completion_tokens`, ended by `data: [DONE]`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::{FinishReason, GenerateOutput, GenerateRequest, SamplingParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::text::{decode, encode};
use super::{
    count_bad, finish_plain, parse_body, sse_with_done, submit, ApiError, AppState, Piece,
    TokenStream,
};

#[derive(Deserialize)]
struct Body {
    input_ids: Option<Value>,
    text: Option<Value>,
    #[serde(default)]
    sampling_params: Sampling,
    #[serde(default)]
    stream: bool,
    rid: Option<String>,
}

/// SGLang's defaults: 128 new tokens, temperature 1, top_p 1, top_k off.
#[derive(Deserialize, Default)]
struct Sampling {
    max_new_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    #[serde(default)]
    stop_token_ids: Vec<u32>,
    #[serde(default)]
    ignore_eos: bool,
    sampling_seed: Option<u64>,
    seed: Option<u64>,
    stop: Option<Value>,
    n: Option<u32>,
}

/// Token ids from a JSON value, naming the bad element.
pub(super) fn ids_from_json(v: &Value, field: &str) -> Result<Vec<u32>, ApiError> {
    let arr = v
        .as_array()
        .ok_or_else(|| ApiError::bad_request(format!("{field} must be a list of token ids")))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            if x.is_array() {
                return Err(ApiError::bad_request(format!(
                    "{field}[{i}] is a list: batched prompts are not supported, send one request per prompt"
                )));
            }
            x.as_u64().filter(|&t| t <= u32::MAX as u64).map(|t| t as u32).ok_or_else(|| {
                ApiError::bad_request(format!("{field}[{i}] = {x} is not a token id (a non-negative integer)"))
            })
        })
        .collect()
}

fn request(b: Body) -> Result<GenerateRequest, ApiError> {
    let input_ids = match (&b.input_ids, &b.text) {
        (Some(ids), None) => ids_from_json(ids, "input_ids")?,
        (None, Some(Value::String(t))) => encode(t),
        (None, Some(_)) => return Err(ApiError::bad_request("text must be a string")),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "send either input_ids or text, not both",
            ))
        }
        (None, None) => return Err(ApiError::bad_request("the request needs input_ids or text")),
    };
    let s = b.sampling_params;
    if s.stop
        .as_ref()
        .is_some_and(|v| !v.is_null() && v != &json!([]) && v != &json!(""))
    {
        return Err(ApiError::bad_request(
            "sampling_params.stop (stop strings) is not supported: use stop_token_ids",
        ));
    }
    if s.n.is_some_and(|n| n != 1) {
        return Err(ApiError::bad_request("sampling_params.n must be 1"));
    }
    Ok(GenerateRequest {
        input_ids,
        sampling: SamplingParams {
            temperature: s.temperature.unwrap_or(1.0),
            top_p: s.top_p.unwrap_or(1.0),
            top_k: s.top_k.unwrap_or(-1),
            max_new_tokens: s.max_new_tokens.unwrap_or(128),
            stop_token_ids: s.stop_token_ids,
            ignore_eos: s.ignore_eos,
            seed: s.sampling_seed.or(s.seed),
        },
        stream: b.stream,
    })
}

#[derive(Serialize)]
struct Chunk<'a> {
    text: &'a str,
    output_ids: &'a [u32],
    meta_info: Meta<'a>,
}

#[derive(Serialize)]
struct Meta<'a> {
    id: &'a str,
    finish_reason: Value,
    prompt_tokens: usize,
    completion_tokens: usize,
    cached_tokens: usize,
}

fn finish_reason(out: &GenerateOutput) -> Value {
    match out.finish_reason {
        FinishReason::Stop => json!({"type": "stop", "matched": out.output_ids.last()}),
        FinishReason::Length => json!({"type": "length", "length": out.completion_tokens}),
        FinishReason::Abort => json!({"type": "abort", "message": "aborted"}),
    }
}

pub(super) async fn generate(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let body: Body = parse_body(&state, &body)?;
    let rid = body.rid.clone().unwrap_or_else(|| state.request_id("gen"));
    let req = request(body).map_err(|e| count_bad(&state, e))?;
    let (stream, prompt_tokens) = (req.stream, req.input_ids.len());
    let (generation, running) = submit(&state, req).await?;
    if !stream {
        let out = finish_plain(generation, running).await?;
        return Ok(Json(json!({
            "text": decode(&out.output_ids),
            "output_ids": out.output_ids,
            "meta_info": {
                "id": rid,
                "finish_reason": finish_reason(&out),
                "prompt_tokens": out.prompt_tokens,
                "completion_tokens": out.completion_tokens,
                "cached_tokens": 0,
                "e2e_latency": start.elapsed().as_secs_f64(),
            }
        }))
        .into_response());
    }
    let rid: Arc<str> = rid.into();
    // Typed chunks serialize several times faster than `json!` maps, which
    // matters for the sim model's hundreds of thousands of chunks a second.
    let chunk = move |text: &str, ids: &[u32], completion: usize, reason: Value| {
        serde_json::to_string(&Chunk {
            text,
            output_ids: ids,
            meta_info: Meta {
                id: &rid,
                finish_reason: reason,
                prompt_tokens,
                completion_tokens: completion,
                cached_tokens: 0,
            },
        })
        .unwrap_or_default()
    };
    let events =
        futures::stream::unfold(TokenStream::new(generation, running), move |mut stream| {
            let chunk = chunk.clone();
            async move {
                let data = match stream.next().await? {
                    Piece::Tokens { ids, text, .. } => {
                        chunk(&text, &ids, stream.streamed(), Value::Null)
                    }
                    Piece::Finished { rest, text, out } => {
                        chunk(&text, &rest, out.completion_tokens, finish_reason(&out))
                    }
                    Piece::Failed(error) => error,
                };
                Some((Ok::<_, Infallible>(SseEvent::default().data(data)), stream))
            }
        });
    Ok(sse_with_done(events))
}
