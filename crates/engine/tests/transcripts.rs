//! Our `serve` against the transcripts of released SGLang and vLLM versions
//! (`crates/backend/tests/data/transcripts`): sent the transcript's request,
//! it must answer in the transcript's shape — the same field names with the
//! same JSON types, and the same sequence of SSE chunks, chunk for chunk
//! (as many, with as many ids, the finish reason in the same one). The
//! synthetic model serves, so the ids differ; the shapes may not.

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
    sim_server_with(engine::ServeOptions::default()).await
}

async fn sim_server_with(options: engine::ServeOptions) -> Server {
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
    tokio::spawn(engine::serve_with(
        listener,
        Arc::new(model),
        info,
        options,
        async {
            let _ = rx.await;
        },
    ));
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

/// The ids a chunk carries and whether it carries the finish reason, in
/// either protocol (`None` for `[DONE]` and a usage chunk's absent ids).
fn ids_and_finish(chunk: &Value) -> (Option<usize>, bool) {
    if let Some(choices) = chunk.get("choices") {
        let c = &choices[0];
        let ids = c["token_ids"].as_array().map(Vec::len);
        return (ids, !c["finish_reason"].is_null());
    }
    let ids = chunk["output_ids"].as_array().map(Vec::len);
    (ids, !chunk["meta_info"]["finish_reason"].is_null())
}

/// A stream is the transcript's chunk sequence, chunk for chunk: as many
/// chunks, each with the transcript's shape, as many ids (so the first id
/// alone, then `stream_interval` at a time, the last ids in the chunk with
/// the finish reason), the usage chunk if there is one, then `[DONE]`.
async fn check_stream(server: &Server, name: &str, request: Value) {
    let t = transcript(name);
    let want = t["reply"]["sse"].as_array().unwrap();
    let (status, got) = post(server, path_of(name), &request).await;
    assert_eq!(status, 200, "{name}");
    let sizes = |v: &[Value]| v.iter().map(ids_and_finish).collect::<Vec<_>>();
    assert_eq!(
        sizes(&got),
        sizes(want),
        "{name}: (ids, finished) per chunk"
    );
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        if w.is_string() {
            assert_eq!(g, w, "{name}, chunk {i}");
        } else {
            assert_same_shape(&format!("{name}, chunk {i}"), w, g);
        }
    }
}

/// `serve` over the synthetic model with SGLang's default cumulative stream.
async fn sim_server_cumulative() -> Server {
    sim_server_with(engine::ServeOptions {
        sglang_stream_output: engine::StreamOutput::Cumulative,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_in_the_shapes_of_sglang() {
    let s = sim_server().await;
    for name in ["sglang_plain_stop.json", "sglang_plain_length.json"] {
        check_plain(&s, name, transcript(name)["request"].clone()).await;
    }
    // `serve` streams like SGLang with --incremental-streaming-output by
    // default, and like SGLang's own default with --stream-output cumulative.
    let name = "sglang_stream_incremental.json";
    check_stream(&s, name, transcript(name)["request"].clone()).await;
    let cumulative = sim_server_cumulative().await;
    let name = "sglang_stream_cumulative.json";
    check_stream(&cumulative, name, transcript(name)["request"].clone()).await;
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
