//! Our clients against transcripts of what released SGLang and vLLM
//! versions and TensorRT-LLM's `trtllm-serve` send and accept (`tests/data/transcripts`, each naming the
//! version, the server flags and the source lines it follows), replayed
//! byte for byte by the scripted server: the request our client sends must
//! use only fields the real server's request model accepts, and every reply
//! must read into the ids, counts and finish reason the transcript records,
//! or into the error it records.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use backend::{
    Backend, BackendError, EndpointPool, FinishReason, GenerateRequest, HttpConfig, OpenAiBackend,
    SglangBackend, TransportKind,
};
use common::*;
use serde_json::Value;

fn transcripts() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/transcripts");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, v)
        })
        .collect()
}

/// The scripted reply: a JSON body with its status, or SSE events.
fn script(reply: &Value) -> Vec<Step> {
    let status = reply["status"].as_u64().unwrap() as u16;
    if let Some(body) = reply.get("json") {
        return json(status, body);
    }
    let mut steps = vec![sse_head()];
    for event in reply["sse"].as_array().unwrap() {
        steps.push(match event {
            Value::String(s) if s == "[DONE]" => done(),
            other => common::event(other),
        });
    }
    steps.push(end());
    steps
}

/// The request the transcript's client sends: its prompt, limit and mode.
fn request_of(t: &Value) -> GenerateRequest {
    let body = &t["request"];
    let prompt: Vec<u32> = serde_json::from_value(
        body.get("input_ids")
            .or_else(|| body.get("prompt"))
            .unwrap()
            .clone(),
    )
    .unwrap();
    let max = body["sampling_params"]["max_new_tokens"]
        .as_u64()
        .or_else(|| body["max_tokens"].as_u64())
        .unwrap() as u32;
    request(&prompt, max, body["stream"].as_bool().unwrap())
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

/// Every field our client sent is one the real server's request model has.
fn check_accepted(name: &str, sent: &Value, accepted: &Value) {
    let body = names(&accepted["body"]);
    for key in sent.as_object().unwrap().keys() {
        assert!(
            body.contains(&key.as_str()),
            "{name}: the server does not know the request field {key:?}"
        );
    }
    for nested in ["sampling_params", "stream_options"] {
        if let (Some(fields), Some(allowed)) = (sent.get(nested), accepted.get(nested)) {
            let allowed = names(allowed);
            for key in fields.as_object().unwrap().keys() {
                assert!(
                    allowed.contains(&key.as_str()),
                    "{name}: the server refuses {nested}.{key}"
                );
            }
        }
    }
}

fn reason(text: &str) -> FinishReason {
    match text {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "abort" => FinishReason::Abort,
        other => panic!("no finish reason {other:?}"),
    }
}

fn ids(v: &Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

/// The error kind a transcript names, as our error type says it.
fn is_kind(err: &BackendError, kind: &str) -> bool {
    match kind {
        "invalid_request" => matches!(err, BackendError::InvalidRequest(_)),
        "overloaded" => matches!(err, BackendError::Overloaded(_)),
        "protocol" => {
            matches!(err, BackendError::Transport(t) if t.kind == TransportKind::Protocol)
        }
        other => panic!("no error kind {other:?}"),
    }
}

async fn replay(name: &str, t: &Value) {
    let reply = t["reply"].clone();
    let server = TestServer::start(move |_, _| script(&reply)).await;
    let pool = EndpointPool::new(
        &[server.url.as_str()],
        HttpConfig {
            request_timeout: Duration::from_secs(20),
            idle_timeout: Some(Duration::from_secs(10)),
            ..HttpConfig::default()
        },
    )
    .unwrap();
    let backend: Box<dyn Backend> = if name.starts_with("sglang") {
        Box::new(SglangBackend::new(pool))
    } else if name.starts_with("trtllm") {
        // trtllm-serve refuses return_token_ids and needs a model name.
        let model = t["request"]["model"].as_str().unwrap();
        Box::new(OpenAiBackend::new(pool).text_only().with_model(model))
    } else {
        Box::new(OpenAiBackend::new(pool))
    };
    let result = match backend.generate(request_of(t)).await {
        Ok(generation) => collect(generation).await,
        Err(e) => (Vec::new(), Err(e)),
    };

    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{name}");
    assert_eq!(seen[0].body, t["request"], "{name}: the request body");
    check_accepted(name, &seen[0].body, &t["accepted"]);

    let want = &t["client"];
    match (result, want.get("ok")) {
        ((batches, Ok(out)), Some(ok)) => {
            assert_eq!(out.output_ids, ids(&ok["output_ids"]), "{name}");
            assert_eq!(
                out.finish_reason,
                reason(ok["finish_reason"].as_str().unwrap()),
                "{name}"
            );
            assert_eq!(
                out.prompt_tokens as u64,
                ok["prompt_tokens"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                out.completion_tokens as u64,
                ok["completion_tokens"].as_u64().unwrap(),
                "{name}"
            );
            let source = ok["token_source"].as_str().unwrap_or("server");
            assert_eq!(out.token_source.as_str(), source, "{name}");
            if let Some(streamed) = ok.get("streamed") {
                let want: Vec<Vec<u32>> = serde_json::from_value(streamed.clone()).unwrap();
                let got: Vec<Vec<u32>> = batches.into_iter().filter(|b| !b.is_empty()).collect();
                assert_eq!(got, want, "{name}: the streamed batches");
            }
        }
        ((_, Err(err)), None) => {
            let kind = want["error"].as_str().unwrap();
            assert!(is_kind(&err, kind), "{name}: {kind} expected, got {err:?}");
            let text = err.to_string();
            let contains = want["contains"].as_str().unwrap();
            assert!(text.contains(contains), "{name}: {text}");
        }
        ((_, got), _) => panic!("{name}: {got:?}, but the transcript says {want}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_read_every_transcript_as_recorded() {
    let all = transcripts();
    assert!(all.len() >= 20, "only {} transcripts", all.len());
    for (name, t) in &all {
        for key in ["server", "flags", "follows", "request", "reply", "client"] {
            assert!(t.get(key).is_some(), "{name} has no {key:?}");
        }
        replay(name, t).await;
    }
}
