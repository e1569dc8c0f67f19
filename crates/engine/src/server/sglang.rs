//! SGLang's native `POST /generate`: `input_ids` or `text`,
//! `sampling_params`, `stream`, read leniently here and answered in the
//! shapes of [`backend::wire::sglang`]: `text` (without the matched stop
//! token), `output_ids` (with it), `meta_info` with SGLang's fields and
//! `finish_reason` null until the end. Streams chunk like SGLang's output
//! streamer: the first id at once, then every `stream_interval` ids, the
//! last ids in the chunk with the finish reason, and `data: [DONE]`. Each
//! chunk carries the running `completion_tokens` and, per
//! [`StreamOutput`], only the new ids and text (SGLang's
//! `--incremental-streaming-output`) or all of them so far (its default).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::wire::sglang::{GenerateReply, MetaInfo, WireFinishReason};
use backend::{FinishReason, GenerateOutput, GenerateRequest, SamplingParams};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use super::text::{encode, reply_text};
use super::{
    count_bad, finish_plain, parse_body, sse_with_done, stop_candidates, submit, ApiError,
    AppState, Piece, StreamOutput, TokenStream,
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

/// The `meta_info` SGLang sends with every reply and chunk. We never
/// retract requests, cache prefixes or parse reasoning, so those counts are 0.
fn meta(id: &str, prompt_tokens: usize, completion_tokens: usize) -> MetaInfo {
    MetaInfo {
        id: Some(id.to_owned()),
        finish_reason: None,
        prompt_tokens: Some(prompt_tokens),
        weight_version: Some("default".into()),
        num_retractions: Some(0),
        reasoning_tokens: Some(0),
        completion_tokens: Some(completion_tokens),
        cached_tokens: Some(0),
        e2e_latency: None,
        response_sent_to_client_ts: None,
    }
}

/// Now as Unix seconds, SGLang's `response_sent_to_client_ts`.
fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The finished reply's `meta_info`: the reason, the counts, the latency.
fn finished_meta(id: &str, out: &GenerateOutput, start: Instant) -> MetaInfo {
    MetaInfo {
        finish_reason: Some(finish_reason(out)),
        e2e_latency: Some(start.elapsed().as_secs_f64()),
        ..meta(id, out.prompt_tokens, out.completion_tokens)
    }
}

fn finish_reason(out: &GenerateOutput) -> WireFinishReason {
    match out.finish_reason {
        FinishReason::Stop => WireFinishReason::stop(out.output_ids.last().copied()),
        FinishReason::Length => WireFinishReason::length(out.completion_tokens as u64),
        FinishReason::Abort => WireFinishReason::abort("Aborted"),
    }
}

pub(super) async fn generate(state: State<Arc<AppState>>, body: Bytes) -> Response {
    match reply(state, body).await {
        Ok(reply) => reply,
        Err(e) => e.sglang().into_response(),
    }
}

async fn reply(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let start = Instant::now();
    let body: Body = parse_body(&state, &body)?;
    let rid = body.rid.clone().unwrap_or_else(|| state.request_id("gen"));
    let req = request(body).map_err(|e| count_bad(&state, e))?;
    let (stream, prompt_tokens) = (req.stream, req.input_ids.len());
    let stops = stop_candidates(&state, &req);
    let limit = req.sampling.max_new_tokens;
    let (generation, running) = submit(&state, req).await?;
    if !stream {
        let out = finish_plain(generation, running).await?;
        let meta = MetaInfo {
            response_sent_to_client_ts: Some(unix_now()),
            ..finished_meta(&rid, &out, start)
        };
        return Ok(Json(GenerateReply {
            text: Some(reply_text(&out)),
            meta_info: Some(meta),
            output_ids: Some(out.output_ids),
            error: None,
        })
        .into_response());
    }
    let rid: Arc<str> = rid.into();
    let cumulative = state.options.sglang_stream_output == StreamOutput::Cumulative;
    // What a chunk carries: the new ids and text, or (cumulative) all so far.
    let mut sent = (Vec::<u32>::new(), String::new());
    let mut chunk = move |text: String, ids: Vec<u32>, meta: MetaInfo| {
        let (ids, text) = if cumulative {
            sent.0.extend_from_slice(&ids);
            sent.1.push_str(&text);
            (sent.0.clone(), sent.1.clone())
        } else {
            (ids, text)
        };
        serde_json::to_string(&GenerateReply {
            text: Some(text),
            output_ids: Some(ids),
            meta_info: Some(meta),
            error: None,
        })
        .unwrap_or_default()
    };
    let stream = TokenStream::new(generation, running, stops, limit);
    let events = futures::stream::unfold(stream, move |mut stream| {
        let rid = rid.clone();
        async move {
            let piece = match stream.next().await? {
                Piece::Tokens { ids, text, first } => {
                    let mut meta = meta(&rid, prompt_tokens, stream.streamed());
                    meta.response_sent_to_client_ts = first.then(unix_now);
                    Ok((text, ids, meta))
                }
                Piece::Finished {
                    rest,
                    text,
                    out,
                    first,
                } => {
                    let mut meta = finished_meta(&rid, &out, start);
                    meta.response_sent_to_client_ts = first.then(unix_now);
                    Ok((text, rest, meta))
                }
                Piece::Failed(error) => Err(error),
            };
            Some((piece, stream))
        }
    })
    .map(move |data| {
        let data = match data {
            Ok((text, ids, meta)) => chunk(text, ids, meta),
            Err(error) => error,
        };
        Ok::<_, Infallible>(SseEvent::default().data(data))
    });
    Ok(sse_with_done(events))
}
