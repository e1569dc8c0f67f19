//! OpenAI-compatible `POST /v1/completions` (and `GET /v1/models`), with
//! vLLM's extensions: `top_k`, `stop_token_ids`, `ignore_eos`, `seed`, and
//! the generated ids in `choices[0].token_ids` (always present, as vLLM
//! returns them with `return_token_ids`), plus `prompt_token_ids` when
//! `return_token_ids` is set.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::Event as SseEvent;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::{Event, GenerateOutput, GenerateRequest, Generation, SamplingParams};
use serde::Deserialize;
use serde_json::{json, Value};

use super::sglang::ids_from_json;
use super::text::{decode, encode, TextDecoder};
use super::{count_bad, error_chunk, parse_body, sse_with_done, ApiError, AppState, Running};

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

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
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

fn usage(out: &GenerateOutput) -> Value {
    json!({"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens,
           "total_tokens": out.prompt_tokens + out.completion_tokens})
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
    let running = Running::new(&state);
    let generation = state
        .backend
        .generate(req)
        .await
        .map_err(|e| count_bad(&state, e.into()))?;
    if !body.stream {
        let out = generation.finish().await?;
        state.metrics.finished(&out);
        drop(running);
        let mut choice = json!({"index": 0, "text": decode(&out.output_ids), "logprobs": null,
            "finish_reason": out.finish_reason.as_str(), "token_ids": out.output_ids});
        if let Some(p) = prompt_ids {
            choice["prompt_token_ids"] = json!(p);
        }
        return Ok(Json(
            json!({"id": id, "object": "text_completion", "created": created,
            "model": model, "choices": [choice], "usage": usage(&out)}),
        )
        .into_response());
    }
    let include_usage = body
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    struct St {
        generation: Generation,
        decoder: TextDecoder,
        streamed: usize,
        pending: Vec<String>,
        done: bool,
        _running: Running,
    }
    let st = St {
        generation,
        decoder: TextDecoder::default(),
        streamed: 0,
        pending: Vec::new(),
        done: false,
        _running: running,
    };
    let chunk = move |choices: Value, usage: Option<Value>| {
        let mut c = json!({"id": id, "object": "text_completion", "created": created, "model": model, "choices": choices});
        if let Some(u) = usage {
            c["usage"] = u;
        }
        c.to_string()
    };
    let events = futures::stream::unfold(st, move |mut st| {
        let chunk = chunk.clone();
        let prompt_ids = prompt_ids.clone();
        async move {
            if let Some(next) = st.pending.pop() {
                return Some((Ok::<_, Infallible>(SseEvent::default().data(next)), st));
            }
            if st.done {
                return None;
            }
            let data = match st.generation.next().await {
                Some(Ok(Event::Tokens(ids))) => {
                    let mut choice = json!({"index": 0, "text": st.decoder.push(&ids), "logprobs": null,
                        "finish_reason": null, "token_ids": ids});
                    if st.streamed == 0 {
                        if let Some(p) = &prompt_ids {
                            choice["prompt_token_ids"] = json!(p);
                        }
                    }
                    st.streamed += choice["token_ids"].as_array().map_or(0, |a| a.len());
                    chunk(json!([choice]), None)
                }
                Some(Ok(Event::Finished(out))) => {
                    st.done = true;
                    st._running.0.metrics.finished(&out);
                    let rest = out.output_ids[st.streamed.min(out.output_ids.len())..].to_vec();
                    let mut text = st.decoder.push(&rest);
                    text.push_str(&st.decoder.finish());
                    let choice = json!({"index": 0, "text": text, "logprobs": null,
                        "finish_reason": out.finish_reason.as_str(), "token_ids": rest});
                    if include_usage {
                        st.pending.push(chunk(json!([]), Some(usage(&out))));
                    }
                    chunk(json!([choice]), None)
                }
                Some(Err(e)) => {
                    st.done = true;
                    error_chunk(&e.to_string())
                }
                None => {
                    st.done = true;
                    error_chunk("the backend ended the generation without a result")
                }
            };
            Some((Ok::<_, Infallible>(SseEvent::default().data(data)), st))
        }
    });
    Ok(sse_with_done(events))
}
