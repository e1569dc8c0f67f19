//! OpenAI-compatible `POST /v1/completions` (and `GET /v1/models`), with
//! vLLM's extensions: `top_k`, `stop_token_ids`, `ignore_eos`, `seed`,
//! `return_token_ids`. Requests are read leniently here; replies have the
//! shapes of [`backend::wire::openai`], every choice field vLLM writes
//! included (`stop_reason`, `logprobs`, `prompt_token_ids` null when they do
//! not apply). Unlike vLLM, `choices[0].token_ids` is always filled, asked
//! for or not: a client that reads it works either way.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::wire::openai::{Choice, CompletionReply, StreamOptions, Usage};
use backend::{FinishReason, GenerateOutput, GenerateRequest, SamplingParams};
use serde::Deserialize;
use serde_json::{json, Value};

use super::sglang::ids_from_json;
use super::text::{encode, reply_text};
use super::{
    count_bad, finish_plain, parse_body, sse_with_done, stop_candidates, submit, ApiError,
    AppState, Piece, TokenStream,
};

#[derive(Deserialize)]
struct Body {
    model: Option<String>,
    prompt: Option<Value>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    seed: Option<u64>,
    #[serde(default)]
    stop_token_ids: Vec<u32>,
    #[serde(default)]
    ignore_eos: bool,
    #[serde(default)]
    return_token_ids: bool,
    n: Option<u32>,
    stop: Option<Value>,
    echo: Option<bool>,
}

/// The prompt: a string, a list of ids, or a one-element list of either.
fn prompt_ids(p: &Value) -> Result<Vec<u32>, ApiError> {
    match p {
        Value::String(t) => Ok(encode(t)),
        Value::Array(a) if a.len() == 1 && (a[0].is_string() || a[0].is_array()) => prompt_ids(&a[0]),
        Value::Array(a) if a.iter().any(|x| x.is_string() || x.is_array()) => Err(ApiError::bad_request(
            "prompt holds several prompts: batched prompts are not supported, send one request per prompt",
        )),
        Value::Array(_) => ids_from_json(p, "prompt"),
        _ => Err(ApiError::bad_request("prompt must be a string or a list of token ids")),
    }
}

fn request(b: &Body) -> Result<GenerateRequest, ApiError> {
    let prompt = b
        .prompt
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("the request needs a prompt"))?;
    if b.n.is_some_and(|n| n != 1) {
        return Err(ApiError::bad_request("n must be 1"));
    }
    if b.echo == Some(true) {
        return Err(ApiError::bad_request("echo is not supported"));
    }
    if b.stop
        .as_ref()
        .is_some_and(|v| !v.is_null() && v != &json!([]) && v != &json!(""))
    {
        return Err(ApiError::bad_request(
            "stop strings are not supported: use stop_token_ids",
        ));
    }
    Ok(GenerateRequest {
        input_ids: prompt_ids(prompt)?,
        sampling: SamplingParams {
            temperature: b.temperature.unwrap_or(1.0),
            top_p: b.top_p.unwrap_or(1.0),
            top_k: b.top_k.unwrap_or(-1),
            max_new_tokens: b.max_tokens.unwrap_or(16),
            stop_token_ids: b.stop_token_ids.clone(),
            ignore_eos: b.ignore_eos,
            seed: b.seed,
        },
        stream: b.stream,
    })
}

fn usage(out: &GenerateOutput) -> Usage {
    Usage {
        prompt_tokens: out.prompt_tokens,
        total_tokens: out.prompt_tokens + out.completion_tokens,
        completion_tokens: out.completion_tokens,
    }
}

/// vLLM's `stop_reason`: the id from the request's `stop_token_ids` that
/// ended the generation; null for any other end, and for the model's own
/// end-of-sequence id (the first of `eos_token_ids`), which vLLM checks
/// before the stop ids.
fn stop_reason(out: &GenerateOutput, stop_token_ids: &[u32], eos: Option<u32>) -> Option<Value> {
    let last = *out.output_ids.last()?;
    let matched = stop_token_ids.contains(&last) && Some(last) != eos;
    (out.finish_reason == FinishReason::Stop && matched).then(|| json!(last))
}

/// A choice in vLLM's shape: every field written, null where it does not apply.
fn choice(text: String, ids: Vec<u32>) -> Choice {
    Choice {
        index: 0,
        text: Some(text),
        logprobs: None,
        finish_reason: None,
        stop_reason: None,
        token_ids: Some(ids),
        prompt_token_ids: None,
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(super) async fn models(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"object": "list", "data": [{
        "id": state.info.model_name, "object": "model", "created": now(),
        "owned_by": "mlperf-gptoss", "max_model_len": state.info.max_context}]}))
}

pub(super) async fn completions(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: Body = parse_body(&state, &body)?;
    let req = request(&body).map_err(|e| count_bad(&state, e))?;
    let id = state.request_id("cmpl");
    let model = body
        .model
        .clone()
        .unwrap_or_else(|| state.info.model_name.clone());
    let created = now();
    let prompt_ids = body.return_token_ids.then(|| req.input_ids.clone());
    let stop_ids = req.sampling.stop_token_ids.clone();
    let eos = state.info.eos_token_ids.first().copied();
    let stops = stop_candidates(&state, &req);
    let limit = req.sampling.max_new_tokens;
    let (generation, running) = submit(&state, req).await?;
    let reply = move |choices: Vec<Choice>, usage: Option<Usage>| CompletionReply {
        id: Some(id.clone()),
        object: Some("text_completion".into()),
        created: Some(created),
        model: Some(model.clone()),
        choices,
        usage,
        error: None,
        message: None,
    };
    let finished = move |text: String, ids: Vec<u32>, out: &GenerateOutput| Choice {
        finish_reason: Some(out.finish_reason.as_str().into()),
        stop_reason: stop_reason(out, &stop_ids, eos),
        ..choice(text, ids)
    };
    if !body.stream {
        let out = finish_plain(generation, running).await?;
        let choice = Choice {
            prompt_token_ids: prompt_ids,
            ..finished(reply_text(&out), out.output_ids.clone(), &out)
        };
        return Ok(Json(reply(vec![choice], Some(usage(&out)))).into_response());
    }
    let include_usage = body
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    let to_json = |r: &CompletionReply| serde_json::to_string(r).unwrap_or_default();
    // The usage chunk, when asked for, follows the final one.
    let state = (
        TokenStream::new(generation, running, stops, limit),
        None::<String>,
    );
    let events = futures::stream::unfold(state, move |(mut stream, mut pending)| {
        let reply = reply.clone();
        let finished = finished.clone();
        let prompt_ids = prompt_ids.clone();
        async move {
            let data = match pending.take() {
                Some(usage) => usage,
                None => match stream.next().await? {
                    Piece::Tokens { ids, text, first } => {
                        let c = Choice {
                            prompt_token_ids: if first { prompt_ids } else { None },
                            ..choice(text, ids)
                        };
                        to_json(&reply(vec![c], None))
                    }
                    Piece::Finished {
                        rest,
                        text,
                        out,
                        first,
                    } => {
                        if include_usage {
                            pending = Some(to_json(&reply(vec![], Some(usage(&out)))));
                        }
                        let c = Choice {
                            prompt_token_ids: if first { prompt_ids } else { None },
                            ..finished(text, rest, &out)
                        };
                        to_json(&reply(vec![c], None))
                    }
                    Piece::Failed(error) => error,
                },
            };
            Some((
                Ok::<_, Infallible>(SseEvent::default().data(data)),
                (stream, pending),
            ))
        }
    });
    Ok(sse_with_done(events))
}
