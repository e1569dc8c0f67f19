//! The SGLang client against a scripted server on loopback: the wire format
//! in both streaming dialects, token accounting, and every failure.

mod common;

use std::time::Duration;

use backend::{
    Backend, BackendError, EndpointPool, FinishReason, HttpConfig, SglangBackend, TransportError,
    TransportKind,
};
use common::*;
use serde_json::{json, Value};

fn sglang(urls: &[&str], config: HttpConfig) -> SglangBackend {
    SglangBackend::new(EndpointPool::new(urls, config).unwrap())
}

fn quick() -> HttpConfig {
    HttpConfig {
        request_timeout: Duration::from_secs(20),
        idle_timeout: Some(Duration::from_secs(10)),
        ..HttpConfig::default()
    }
}

fn meta(completion: usize, finish: Value) -> Value {
    json!({"id": "r", "finish_reason": finish, "prompt_tokens": 3,
           "completion_tokens": completion, "cached_tokens": 0})
}

/// SGLang's stream of `ids`: the first id alone, then `interval` ids per
/// chunk, `output_ids` cumulative or incremental, `completion_tokens`
/// always cumulative, the last chunk with `finish`, then `[DONE]`.
fn sglang_stream(ids: &[u32], interval: usize, cumulative: bool, finish: Value) -> Vec<Step> {
    let mut steps = vec![sse_head()];
    let mut bounds = vec![1.min(ids.len())];
    while *bounds.last().unwrap() < ids.len() {
        bounds.push((bounds.last().unwrap() + interval).min(ids.len()));
    }
    let mut prev = 0;
    for (k, &b) in bounds.iter().enumerate() {
        let out = if cumulative { &ids[..b] } else { &ids[prev..b] };
        let last = k + 1 == bounds.len();
        let f = if last { finish.clone() } else { Value::Null };
        steps.push(event(
            &json!({"text": "x", "output_ids": out, "meta_info": meta(b, f)}),
        ));
        prev = b;
    }
    steps.push(done());
    steps.push(end());
    steps
}

fn ids(n: u32) -> Vec<u32> {
    // Repeats on purpose: equal neighbours must not confuse the accounting.
    (0..n).map(|i| 1000 + (i / 3) % 7).collect()
}

#[tokio::test]
async fn non_streaming_reply_and_request_shape() {
    let server = TestServer::start(|_, _| {
        json(
            200,
            &json!({"text": "Hi", "output_ids": [5, 6, 200002],
            "meta_info": meta(3, json!({"type": "stop", "matched": 200002}))}),
        )
    })
    .await;
    let backend = sglang(&[&server.url], quick());
    let g = backend
        .generate(request(&[1, 2, 3], 16, false))
        .await
        .unwrap();
    let (batches, out) = collect(g).await;
    let out = out.unwrap();
    assert!(batches.is_empty());
    assert_eq!(out.output_ids, vec![5, 6, 200002]);
    assert_eq!(out.finish_reason, FinishReason::Stop);
    assert_eq!((out.prompt_tokens, out.completion_tokens), (3, 3));
    let seen = &server.seen()[0];
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/generate")
    );
    assert_eq!(
        seen.body,
        json!({"input_ids": [1, 2, 3], "stream": false, "sampling_params": {
            "max_new_tokens": 16, "temperature": 1.0, "top_p": 1.0, "top_k": -1,
            "stop_token_ids": [200002, 199999, 200012], "skip_special_tokens": false}})
    );
    let stats = backend.pool().stats();
    assert_eq!(
        (stats.completed(), stats.failed(), stats.outstanding()),
        (1, 0, 0)
    );
}

#[tokio::test]
async fn streams_cumulative_and_incremental_at_intervals_1_and_50() {
    for cumulative in [true, false] {
        for interval in [1usize, 50] {
            let want = ids(120);
            let w = want.clone();
            let server = TestServer::start(move |_, _| {
                sglang_stream(
                    &w,
                    interval,
                    cumulative,
                    json!({"type": "length", "length": 120}),
                )
            })
            .await;
            let backend = sglang(&[&server.url], quick());
            let g = backend.generate(request(&[1], 120, true)).await.unwrap();
            let (batches, out) = collect(g).await;
            let out =
                out.unwrap_or_else(|e| panic!("cumulative={cumulative} interval={interval}: {e}"));
            let case = format!("cumulative={cumulative} interval={interval}");
            assert_eq!(batches.concat(), want, "{case}");
            assert_eq!(batches[0], vec![want[0]], "{case}: the first token alone");
            let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
            let expect: Vec<usize> = if interval == 1 {
                vec![1; 120]
            } else {
                vec![1, 50, 50, 19]
            };
            assert_eq!(sizes, expect, "{case}");
            assert_eq!(out.output_ids, want, "{case}");
            assert_eq!(out.finish_reason, FinishReason::Length);
            assert_eq!(out.completion_tokens, 120);
            assert_eq!(server.seen()[0].body["stream"], json!(true));
        }
    }
}

#[tokio::test]
async fn chunks_without_ids_are_never_a_first_token() {
    let steps = vec![
        sse_head(),
        // A chunk with neither ids nor a count, one with an empty list,
        // one with text only: none of them is a token.
        event(&json!({"text": "", "meta_info": {"id": "r", "finish_reason": null}})),
        event(&json!({"text": "", "output_ids": [], "meta_info": meta(0, Value::Null)})),
        event(&json!({"text": "<|channel|>", "meta_info": meta(0, Value::Null)})),
        event(&json!({"text": "a", "output_ids": [7], "meta_info": meta(1, Value::Null)})),
        event(&json!({"text": "", "output_ids": [7], "meta_info": meta(1, Value::Null)})),
        event(&json!({"text": "b", "output_ids": [7, 8, 200002],
                "meta_info": meta(3, json!({"type": "stop", "matched": 200002}))})),
        done(),
        end(),
    ];
    let (_, _, batches, out) = one_request(steps, quick(), true).await;
    assert_eq!(batches, vec![vec![7], vec![8, 200002]]);
    assert_eq!(out.unwrap().output_ids, vec![7, 8, 200002]);
}

#[tokio::test]
async fn a_stream_closed_after_its_final_chunk_without_done_is_complete() {
    let steps = close_delimited(
        json!({"output_ids": [4], "meta_info": meta(1, json!({"type": "stop", "matched": 4}))}),
    );
    let (_, _, _, out) = one_request(steps, quick(), true).await;
    assert_eq!(out.unwrap().output_ids, vec![4]);
}

fn assert_error(
    result: Result<backend::GenerateOutput, BackendError>,
    url: &str,
    needles: &[&str],
) -> BackendError {
    let err = result.expect_err("an error was expected");
    let text = err.to_string();
    assert!(text.contains(url), "the error names the endpoint: {text}");
    assert!(
        text.contains("request #"),
        "the error names the request: {text}"
    );
    for n in needles {
        assert!(text.contains(n), "{n:?} missing in: {text}");
    }
    err
}

/// Sends one request to a server that answers every request with `steps`.
async fn one_request(
    steps: Vec<Step>,
    config: HttpConfig,
    stream: bool,
) -> (
    TestServer,
    SglangBackend,
    Vec<Vec<u32>>,
    Result<backend::GenerateOutput, BackendError>,
) {
    let server = TestServer::start(move |_, _| steps.clone()).await;
    let backend = sglang(&[&server.url], config);
    let g = backend.generate(request(&[1], 8, stream)).await.unwrap();
    let (batches, out) = collect(g).await;
    (server, backend, batches, out)
}

/// A stream that fails: the ids that arrived before, then an error that
/// names the endpoint, the request and what went wrong.
struct FailingStream {
    name: &'static str,
    steps: Vec<Step>,
    /// The stream's idle limit, when the case is about it.
    idle: Option<Duration>,
    streamed: Vec<u32>,
    kind: TransportKind,
    needles: Vec<&'static str>,
}

fn close_delimited(event: Value) -> Vec<Step> {
    vec![
        sse_head_until_close(),
        Step::Write(format!("data: {event}\n\n").into_bytes()),
        Step::Close,
    ]
}

fn garbled(payload: &'static [u8], needle: &'static str) -> FailingStream {
    FailingStream {
        name: "garbled",
        steps: vec![sse_head(), chunk(payload), done(), end()],
        idle: None,
        streamed: vec![],
        kind: TransportKind::Protocol,
        needles: vec![needle],
    }
}

#[tokio::test]
async fn failed_streams_are_errors_that_say_how_far_they_got() {
    let mut cases = vec![
        FailingStream {
            name: "the server dies mid-stream",
            steps: {
                let mut steps =
                    sglang_stream(&ids(10), 1, true, json!({"type": "length", "length": 10}));
                steps.truncate(5); // head + 4 chunks, then the connection drops
                steps.push(Step::Close);
                steps
            },
            idle: None,
            streamed: ids(10)[..4].to_vec(),
            kind: TransportKind::Broken,
            needles: vec!["after 4 tokens"],
        },
        FailingStream {
            name: "a close-delimited stream stops early",
            steps: close_delimited(json!({"output_ids": [4], "meta_info": meta(1, Value::Null)})),
            idle: None,
            streamed: vec![4],
            kind: TransportKind::Protocol,
            needles: vec!["without meta_info.finish_reason", "after 1 tokens"],
        },
        FailingStream {
            name: "a cumulative stream rewrites its past",
            steps: vec![
                sse_head(),
                event(&json!({"output_ids": [1], "meta_info": meta(1, Value::Null)})),
                event(&json!({"output_ids": [1, 2], "meta_info": meta(2, Value::Null)})),
                event(&json!({"output_ids": [9, 2, 3], "meta_info": meta(3, Value::Null)})),
                done(),
                end(),
            ],
            idle: None,
            streamed: vec![1, 2],
            kind: TransportKind::Protocol,
            needles: vec!["changed id 0"],
        },
        FailingStream {
            name: "a hung stream",
            steps: vec![
                sse_head(),
                event(&json!({"output_ids": [1], "meta_info": meta(1, Value::Null)})),
                Step::Hang,
            ],
            idle: Some(Duration::from_millis(300)),
            streamed: vec![1],
            kind: TransportKind::Timeout,
            needles: vec!["idle", "after 1 tokens"],
        },
        FailingStream {
            // Every token would arrive at the end: first-token times would be wrong.
            name: "the server ignores stream: true",
            steps: json(
                200,
                &json!({"output_ids": [1, 2], "meta_info": meta(2, json!({"type": "length", "length": 2}))}),
            ),
            idle: None,
            streamed: vec![],
            kind: TransportKind::Protocol,
            needles: vec!["does not stream"],
        },
    ];
    cases.extend([
        garbled(b"data: {\"output_ids\": [1, \n\n", "malformed JSON"),
        garbled(b"data: \xff\xfe\xfd\n\n", "UTF-8"),
        garbled(b"data: {\"output_ids\": \"seven\"}\n\n", "malformed JSON"),
        garbled(b"data: {\"output_ids\": [-1]}\n\n", "malformed JSON"),
        garbled(b"data: {\"output_ids\": [1], \"meta_info\": {\"finish_reason\": {\"type\": \"weird\"}}}\n\n", "weird"),
        garbled(b"data: {\"error\": {\"message\": \"CUDA out of memory\"}}\n\n", "CUDA out of memory"),
    ]);
    for case in cases {
        let config = HttpConfig {
            idle_timeout: case.idle.or(quick().idle_timeout),
            ..quick()
        };
        let (server, backend, batches, out) = one_request(case.steps, config, true).await;
        assert_eq!(batches.concat(), case.streamed, "{}", case.name);
        let err = assert_error(out, &server.url, &case.needles);
        let BackendError::Transport(TransportError { endpoint, kind, .. }) = err else {
            panic!("{}: not a transport error: {err:?}", case.name)
        };
        assert_eq!(
            (endpoint, kind),
            (server.url.clone(), case.kind),
            "{}",
            case.name
        );
        let stats = backend.pool().stats();
        assert_eq!(
            (stats.failed(), stats.outstanding()),
            (1, 0),
            "{}",
            case.name
        );
    }
}

#[tokio::test]
async fn http_errors_are_classified_and_name_the_endpoint() {
    for (status, kind) in [
        (400u16, "invalid"),
        (422, "invalid"),
        (429, "overloaded"),
        (503, "overloaded"),
        (500, "failed"),
    ] {
        let server = TestServer::start(move |_, _| {
            json(status, &json!({"error": {"message": "the server says no"}}))
        })
        .await;
        let backend = sglang(&[&server.url], quick());
        for stream in [false, true] {
            let err = backend
                .generate(request(&[1], 8, stream))
                .await
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&server.url) && text.contains("the server says no"),
                "{text}"
            );
            assert!(text.contains(&format!("HTTP {status}")), "{text}");
            let ok = match kind {
                "invalid" => matches!(err, BackendError::InvalidRequest(_)),
                "overloaded" => matches!(err, BackendError::Overloaded(_)),
                _ => matches!(err, BackendError::Internal(_)),
            };
            assert!(ok, "{status}: {err:?}");
        }
        // HTTP errors reached the server: never retried.
        assert_eq!(server.requests(), 2);
        assert_eq!(backend.pool().stats().retries(), 0);
    }
}

#[tokio::test]
async fn bad_non_streaming_replies_are_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"output_ids\": [1, 2".to_vec(), "malformed JSON"),
        (b"<html>gateway</html>".to_vec(), "malformed JSON"),
        (b"[{\"output_ids\": [1]}]".to_vec(), "a list"),
        (json!({"text": "only text", "meta_info": meta(2, json!({"type": "stop", "matched": 2}))}).to_string().into_bytes(), "no output_ids"),
        (json!({"output_ids": [1, 2], "meta_info": meta(2, Value::Null)}).to_string().into_bytes(), "finish_reason"),
    ];
    for (body, needle) in cases {
        let steps = respond(200, "application/json", &body);
        let (server, _, _, out) = one_request(steps, quick(), false).await;
        assert_error(out, &server.url, &[needle]);
    }
}

#[tokio::test]
async fn an_abort_is_a_finish_reason() {
    let steps = json(
        200,
        &json!({"text": "", "output_ids": [],
        "meta_info": meta(0, json!({"type": "abort", "message": "Input is too long"}))}),
    );
    let (_, _, _, out) = one_request(steps, quick(), false).await;
    assert_eq!(out.unwrap().finish_reason, FinishReason::Abort);
}

#[tokio::test]
async fn a_slow_server_ends_with_the_request_timeout() {
    // Headers never come (non-streaming), and a stream whose bytes keep
    // trickling in but never finish: both end at the whole-request limit.
    let server = TestServer::start(|_, n| {
        if n == 0 {
            vec![Step::Hang]
        } else {
            let mut steps = vec![sse_head()];
            for _ in 0..1000 {
                steps.push(chunk(b": keep-alive\n\n"));
                steps.push(Step::Sleep(Duration::from_millis(50)));
            }
            steps
        }
    })
    .await;
    let config = HttpConfig {
        request_timeout: Duration::from_millis(600),
        idle_timeout: Some(Duration::from_secs(10)),
        ..HttpConfig::default()
    };
    let backend = sglang(&[&server.url], config);
    let err = backend.generate(request(&[1], 8, false)).await.unwrap_err();
    assert!(
        err.to_string().contains("timeout") && err.to_string().contains(&server.url),
        "{err}"
    );
    let (_, out) = collect(backend.generate(request(&[1], 8, true)).await.unwrap()).await;
    assert_error(out, &server.url, &["request timeout"]);
}

#[tokio::test]
async fn a_server_that_hangs_after_done_still_finishes_the_generation() {
    // The result must not wait for the body's end (its latency would grow).
    let steps = vec![
        sse_head(),
        event(
            &json!({"output_ids": [3], "meta_info": meta(1, json!({"type": "stop", "matched": 3}))}),
        ),
        done(),
        Step::Hang,
    ];
    let config = HttpConfig {
        idle_timeout: Some(Duration::from_millis(200)),
        ..quick()
    };
    let (_, backend, _, out) = one_request(steps, config, true).await;
    assert_eq!(out.unwrap().output_ids, vec![3]);
    let stats = backend.pool().stats();
    assert_eq!((stats.completed(), stats.failed()), (1, 0));
}
