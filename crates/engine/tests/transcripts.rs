//! Our `serve` against the transcripts of released SGLang and vLLM versions
//! (`crates/backend/tests/data/transcripts`): sent the transcript's request,
//! it must answer in the transcript's shape — the same field names with the
//! same JSON types, and the same sequence of SSE chunks (first, middle,
//! last, usage, `[DONE]`). The synthetic model serves, so the ids differ;
//! the shapes may not.

use std::sync::Arc;
use std::time::Duration;

use engine::{OutputLen, SimConfig, SimModel};
use serde_json::Value;

/// vLLM fields that are null unless a feature `serve` does not have is on
/// (tiers, fingerprints, KV transfer, per-request metrics, prompt logprobs,
/// expert routing, weight versions, token details). `serve` leaves them
/// out; a client reads an absent field and a null one alike.
const ABSENT_NULLS: [&str; 9] = [
    "service_tier",
    "system_fingerprint",
    "kv_transfer_params",
    "ec_transfer_params",
    "metrics",
    "prompt_logprobs",
    "routed_experts",
    "weight_versions",
    "completion_tokens_details",
];

fn transcript(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/data/transcripts")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The JSON type of a value, numbers split into integers and floats.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every difference in shape between `want` (the transcript) and `got`
/// (`serve`), by path.
fn diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(&format!("{path}.{k}"), wv, gv, out),
                    None if wv.is_null() && ABSENT_NULLS.contains(&k.as_str()) => {}
                    None => out.push(format!("{path}.{k} is missing")),
                }
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{path}.{k} is not in the transcript"));
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            // Id lists differ in length; lists of objects (choices) may not.
            if w.first().is_some_and(Value::is_object) || g.first().is_some_and(Value::is_object) {
                if w.len() != g.len() {
                    out.push(format!("{path} has {} items, not {}", g.len(), w.len()));
                }
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    diff(&format!("{path}[{i}]"), wv, gv, out);
                }
            } else if let Some(bad) = g.iter().find(|x| kind(x) != "integer") {
                out.push(format!("{path} holds {bad}, not a token id"));
            }
        }
        // OpenAI's error `param` names the bad field when the server knows
        // it; ours does not say, which the shape allows (`str | None`).
        (_, Value::Null) if path.ends_with(".error.param") => {}
        (w, g) if kind(w) != kind(g) => out.push(format!(
            "{path} is {} ({g}), not {} ({w})",
            kind(g),
            kind(w)
        )),
        _ => {}
    }
}

fn assert_same_shape(what: &str, want: &Value, got: &Value) {
    let mut out = Vec::new();
    diff("", want, got, &mut out);
    assert!(out.is_empty(), "{what}:\n  {}\ngot {got}", out.join("\n  "));
}

struct Server {
    base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// `serve` over the synthetic model: 15 tokens ending in `<|return|>`,
/// streamed 4 at a time after the first, like the transcripts.
async fn sim_server() -> Server {
    let model = SimModel::new(SimConfig {
        ttft: Duration::from_millis(1),
        tpot: Duration::from_millis(0),
        output_len: OutputLen::Fixed(15),
        stream_interval: 4,
        max_concurrency: 8,
        max_context: 4096,
    });
    let info = model.info();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine::serve(listener, Arc::new(model), info, async {
        let _ = rx.await;
    }));
    Server { base, _stop: tx }
}

/// Posts `body` to `path`; the status and the JSON body or SSE payloads.
async fn post(server: &Server, path: &str, body: &Value) -> (u16, Vec<Value>) {
    let reply = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let sse = reply
        .headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap().starts_with("text/event-stream"));
    let text = reply.text().await.unwrap();
    if !sse {
        return (status, vec![serde_json::from_str(&text).unwrap()]);
    }
    let events = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| match d {
            "[DONE]" => Value::String("[DONE]".into()),
            d => serde_json::from_str(d).unwrap(),
        })
        .collect();
    (status, events)
}

fn path_of(name: &str) -> &'static str {
    if name.starts_with("sglang") {
        "/generate"
    } else {
        "/v1/completions"
    }
}

/// A plain reply (or an error) has the transcript's status and shape.
async fn check_plain(server: &Server, name: &str, request: Value) {
    let t = transcript(name);
    let (status, got) = post(server, path_of(name), &request).await;
    assert_eq!(
        status as u64,
        t["reply"]["status"].as_u64().unwrap(),
        "{name}"
    );
    assert_same_shape(name, &t["reply"]["json"], &got[0]);
}

/// A stream has the transcript's chunk sequence: the first token chunk,
/// middle ones, the last (with the finish reason), the usage chunk if
/// there is one, then `[DONE]`.
async fn check_stream(server: &Server, name: &str, request: Value) {
    let t = transcript(name);
    let want = t["reply"]["sse"].as_array().unwrap();
    let (status, got) = post(server, path_of(name), &request).await;
    assert_eq!(status, 200, "{name}");
    let done = Value::String("[DONE]".into());
    assert_eq!(want.last(), Some(&done), "{name}");
    assert_eq!(
        got.last(),
        Some(&done),
        "{name}: the stream ends with [DONE]"
    );
    let usage = |v: &[Value]| v.iter().any(|c| c.get("usage").is_some());
    assert_eq!(usage(&got), usage(want), "{name}: a usage chunk");
    let tokens = |v: &[Value]| v.len() - 1 - usage(v) as usize;
    let (wt, gt) = (tokens(want), tokens(&got));
    assert!(gt >= 3, "{name}: {gt} token chunks");
    for (i, g) in got[..gt].iter().enumerate() {
        let w = match i {
            0 => &want[0],
            i if i + 1 == gt => &want[wt - 1],
            _ => &want[1],
        };
        assert_same_shape(&format!("{name}, chunk {i}"), w, g);
    }
    if usage(want) {
        assert_same_shape(&format!("{name}, usage chunk"), &want[wt], &got[gt]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_in_the_shapes_of_sglang() {
    let s = sim_server().await;
    for name in ["sglang_plain_stop.json", "sglang_plain_length.json"] {
        check_plain(&s, name, transcript(name)["request"].clone()).await;
    }
    // `serve` streams like SGLang with --incremental-streaming-output.
    let name = "sglang_stream_incremental.json";
    check_stream(&s, name, transcript(name)["request"].clone()).await;
    let name = "sglang_error_prompt_too_long_plain.json";
    let mut long = transcript(name)["request"].clone();
    long["input_ids"] = Value::from(vec![1u32; 5000]);
    check_plain(&s, name, long).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_in_the_shapes_of_vllm() {
    let s = sim_server().await;
    for name in ["vllm_plain_return_token_ids.json", "vllm_plain_length.json"] {
        check_plain(&s, name, transcript(name)["request"].clone()).await;
    }
    let name = "vllm_stream_usage.json";
    check_stream(&s, name, transcript(name)["request"].clone()).await;
    let name = "vllm_stream_no_usage.json";
    let mut request = transcript(name)["request"].clone();
    request.as_object_mut().unwrap().remove("stream_options");
    check_stream(&s, name, request).await;
    let name = "vllm_error_prompt_too_long.json";
    let mut long = transcript(name)["request"].clone();
    long["prompt"] = Value::from(vec![1u32; 5000]);
    check_plain(&s, name, long).await;
}
