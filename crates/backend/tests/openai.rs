//! The OpenAI-compatible client against a scripted server on loopback:
//! vLLM's `return_token_ids` replies, streamed and not, and servers that
//! return only text.

mod common;

use std::time::Duration;

use backend::{Backend, BackendError, EndpointPool, FinishReason, HttpConfig, OpenAiBackend};
use common::*;
use serde_json::{json, Value};

fn openai(url: &str, model: Option<&str>) -> OpenAiBackend {
    let config = HttpConfig {
        request_timeout: Duration::from_secs(20),
        ..HttpConfig::default()
    };
    let backend = OpenAiBackend::new(EndpointPool::new(&[url], config).unwrap());
    match model {
        Some(name) => backend.with_model(name),
        None => backend,
    }
}

fn completion(choice: Value, usage: Option<Value>) -> Value {
    let mut c = json!({"id": "cmpl-1", "object": "text_completion", "created": 1,
        "model": "openai/gpt-oss-120b", "choices": [choice]});
    if let Some(u) = usage {
        c["usage"] = u;
    }
    c
}

#[tokio::test]
async fn non_streaming_reply_with_token_ids() {
    let server = TestServer::start(|_, _| {
        json(
            200,
            &completion(
                json!({"index": 0, "text": "Hi", "logprobs": null, "finish_reason": "length",
                "stop_reason": null, "prompt_token_ids": [1, 2], "token_ids": [5, 6]}),
                Some(json!({"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4})),
            ),
        )
    })
    .await;
    let backend = openai(&server.url, Some("openai/gpt-oss-120b"));
    let (batches, out) = collect(backend.generate(request(&[1, 2], 2, false)).await.unwrap()).await;
    let out = out.unwrap();
    assert!(batches.is_empty());
    assert_eq!(out.output_ids, vec![5, 6]);
    assert_eq!(out.finish_reason, FinishReason::Length);
    assert_eq!((out.prompt_tokens, out.completion_tokens), (2, 2));
    let seen = &server.seen()[0];
    assert_eq!(seen.path, "/v1/completions");
    assert_eq!(
        seen.body,
        json!({"model": "openai/gpt-oss-120b", "prompt": [1, 2], "max_tokens": 2,
            "temperature": 1.0, "top_p": 1.0, "top_k": -1, "stream": false,
            "return_token_ids": true, "stop_token_ids": [200002, 199999, 200012],
            "skip_special_tokens": false})
    );
}

/// vLLM's stream: a first chunk with the prompt ids and no new token,
/// `interval` ids per chunk, the finish reason on the last, then a
/// usage-only chunk (`choices: []`) and `[DONE]`.
fn vllm_stream(ids: &[u32], interval: usize) -> Vec<Step> {
    let mut steps = vec![
        sse_head(),
        event(&completion(
            json!({"index": 0, "text": "", "logprobs": null, "finish_reason": null,
            "prompt_token_ids": [1], "token_ids": []}),
            None,
        )),
    ];
    let pieces: Vec<&[u32]> = ids.chunks(interval).collect();
    for (k, piece) in pieces.iter().enumerate() {
        let finish = if k + 1 == pieces.len() {
            json!("stop")
        } else {
            Value::Null
        };
        steps.push(event(&completion(
            json!({"index": 0, "text": "t", "logprobs": null, "finish_reason": finish,
                "stop_reason": null, "token_ids": piece}),
            None,
        )));
    }
    let mut usage = completion(json!({}), None);
    usage["choices"] = json!([]);
    usage["usage"] = json!({"prompt_tokens": 1, "completion_tokens": ids.len(),
        "total_tokens": 1 + ids.len()});
    steps.push(event(&usage));
    steps.push(done());
    steps.push(end());
    steps
}

#[tokio::test]
async fn streams_token_ids_at_intervals_1_and_50() {
    for interval in [1usize, 50] {
        let want: Vec<u32> = (0..120).map(|i| 10 + i % 4).collect();
        let w = want.clone();
        let server = TestServer::start(move |_, _| vllm_stream(&w, interval)).await;
        let backend = openai(&server.url, None);
        let (batches, out) =
            collect(backend.generate(request(&[1], 120, true)).await.unwrap()).await;
        let out = out.unwrap();
        assert!(
            batches.iter().all(|b| !b.is_empty()),
            "no empty token events"
        );
        assert_eq!(batches.len(), 120_usize.div_ceil(interval));
        assert_eq!(batches.concat(), want);
        assert_eq!(out.output_ids, want);
        assert_eq!(out.finish_reason, FinishReason::Stop);
        assert_eq!(out.completion_tokens, 120);
        let body = &server.seen()[0].body;
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        assert!(body.get("model").is_none());
    }
}

fn assert_error(
    result: Result<backend::GenerateOutput, BackendError>,
    url: &str,
    needles: &[&str],
) {
    let text = result.expect_err("an error was expected").to_string();
    assert!(text.contains(url) && text.contains("request #"), "{text}");
    for n in needles {
        assert!(text.contains(n), "{n:?} missing in: {text}");
    }
}

#[tokio::test]
async fn text_only_replies_are_retokenized_and_say_so() {
    // A server without `return_token_ids` (trtllm-serve, OpenAI itself, older
    // vLLM): text but no ids, streamed or not. The ids of this text are the
    // ones SGLang and vLLM send for it (tests/data/transcripts).
    let text = "<|channel|>analysis<|message|>Say hi";
    let want = vec![200005, 35644, 200008, 62316, 5911];
    let server = TestServer::start(move |_, n| {
        let choice = json!({"index": 0, "text": text, "logprobs": null, "finish_reason": "stop"});
        if n == 0 {
            json(
                200,
                &completion(
                    choice,
                    Some(json!({"prompt_tokens": 1, "completion_tokens": 6})),
                ),
            )
        } else {
            vec![sse_head(), event(&completion(choice, None)), done(), end()]
        }
    })
    .await;
    let backend = openai(&server.url, None);
    for stream in [false, true] {
        let (batches, out) =
            collect(backend.generate(request(&[1], 8, stream)).await.unwrap()).await;
        let out = out.unwrap();
        assert_eq!(out.output_ids, want, "stream {stream}");
        assert_eq!(out.token_source, backend::TokenSource::Retokenized);
        // The server's own count is kept: 6 with the stop token the text leaves out.
        assert_eq!(out.completion_tokens, if stream { 5 } else { 6 });
        if stream {
            assert_eq!(batches, vec![want.clone()]);
        }
    }
}

#[tokio::test]
async fn server_errors_in_every_shape() {
    let server = TestServer::start(|_, n| match n {
        0 => json(
            400,
            &json!({"object": "error", "message": "max_tokens is too large",
            "type": "BadRequestError", "param": null, "code": 400}),
        ),
        1 => json(
            200,
            &json!({"object": "error", "message": "engine dead", "code": 500}),
        ),
        2 => vec![
            sse_head(),
            event(&json!({"error": {"message": "stream broke", "code": 500}})),
            done(),
            end(),
        ],
        3 => vec![
            sse_head(),
            chunk(b"data: {\"choices\": [{\"token_ids\": [1,\n\n"),
            done(),
            end(),
        ],
        4 => vec![
            sse_head(),
            event(&completion(
                json!({"index": 0, "text": "", "token_ids": [1], "finish_reason": null}),
                None,
            )),
            Step::Close,
        ],
        _ => vec![
            sse_head(),
            event(&completion(
                json!({"index": 0, "text": "", "token_ids": [1], "finish_reason": "eos"}),
                None,
            )),
            done(),
            end(),
        ],
    })
    .await;
    let backend = openai(&server.url, None);
    let err = backend.generate(request(&[1], 8, false)).await.unwrap_err();
    assert!(
        matches!(err, BackendError::InvalidRequest(ref m) if m.contains("max_tokens is too large")),
        "{err}"
    );
    let (_, out) = collect(backend.generate(request(&[1], 8, false)).await.unwrap()).await;
    assert_error(out, &server.url, &["engine dead"]);
    let (_, out) = collect(backend.generate(request(&[1], 8, true)).await.unwrap()).await;
    assert_error(out, &server.url, &["stream broke"]);
    let (_, out) = collect(backend.generate(request(&[1], 8, true)).await.unwrap()).await;
    assert_error(out, &server.url, &["malformed JSON"]);
    let (batches, out) = collect(backend.generate(request(&[1], 8, true)).await.unwrap()).await;
    assert_eq!(batches, vec![vec![1]]);
    assert_error(out, &server.url, &["after 1 tokens"]);
    let (_, out) = collect(backend.generate(request(&[1], 8, true)).await.unwrap()).await;
    assert_error(out, &server.url, &["unknown finish_reason \"eos\""]);
}

#[tokio::test]
async fn stopping_on_end_is_refused_before_sending() {
    let server = TestServer::start(|_, _| json(200, &json!({}))).await;
    let backend = openai(&server.url, None);
    let mut req = request(&[1], 8, false);
    req.sampling.stop_token_ids.push(200007);
    let err = backend.generate(req).await.unwrap_err();
    assert!(err.to_string().contains("200007"), "{err}");
    assert_eq!(server.requests(), 0);
}
