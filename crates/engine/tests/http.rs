//! The HTTP server on loopback with a real client: every endpoint,
//! streaming and not, and every bad-request case. Expected tokens come from
//! golden.json (transformers), served by the fixture model.

mod support;

use std::sync::Arc;
use std::time::Duration;

use backend::Backend;
use engine::{Engine, EngineConfig, ModelInfo, OutputLen, SimConfig, SimModel};
use serde_json::{json, Value};
use support::{fixture, get_json, golden, ids};

struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(backend: Arc<dyn Backend>, info: ModelInfo) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine::serve(listener, backend, info, async {
        let _ = rx.await;
    }));
    Server {
        base,
        stop: Some(tx),
        task,
    }
}

async fn fixture_server() -> Server {
    let model = engine::GptOss::load(&fixture()).unwrap();
    let cfg = EngineConfig {
        max_context: 64,
        model_name: "tiny-gpt-oss-fixture".into(),
        ..EngineConfig::default()
    };
    let e = Engine::start(model, cfg);
    let info = e.info().clone();
    start(Arc::new(e), info).await
}

/// The SSE `data:` payloads of a response body.
fn sse_data(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
        .map(|s| s.trim().to_string())
        .collect()
}

/// The status of `GET url`.
async fn status(c: &reqwest::Client, url: String) -> u16 {
    c.get(url).send().await.unwrap().status().as_u16()
}

/// The JSON chunks of an SSE body, after checking that `data: [DONE]` ends it.
fn sse_chunks(body: &str) -> Vec<Value> {
    let data = sse_data(body);
    assert_eq!(data.last().unwrap(), "[DONE]");
    data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> (u16, String) {
    let r = c.post(url).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sglang_generate_plain_and_streaming_give_golden_tokens() {
    let g = golden();
    let s = fixture_server().await;
    let c = reqwest::Client::new();
    let prompt = ids(&g["inputs"]["seq_a"]);
    let want = ids(&g["seq_a"]["greedy_continuation"]);
    let req = json!({"input_ids": prompt, "sampling_params":
        {"max_new_tokens": 16, "temperature": 0.0, "top_k": -1, "top_p": 1.0, "ignore_eos": true}});
    let (status, body) = post(&c, format!("{}/generate", s.base), req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&v["output_ids"]), want);
    assert!(v["text"].is_string());
    assert_eq!(v["meta_info"]["prompt_tokens"], 20);
    assert_eq!(v["meta_info"]["completion_tokens"], 16);
    assert_eq!(
        v["meta_info"]["finish_reason"],
        json!({"type": "length", "length": 16})
    );

    let mut sreq = req;
    sreq["stream"] = json!(true);
    let r = c
        .post(format!("{}/generate", s.base))
        .json(&sreq)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let chunks = sse_chunks(&r.text().await.unwrap());
    assert!(
        chunks.len() >= 16,
        "one chunk per token expected, got {}",
        chunks.len()
    );
    let mut got = Vec::new();
    for (i, ch) in chunks.iter().enumerate() {
        got.extend(ids(&ch["output_ids"]));
        assert_eq!(
            ch["meta_info"]["completion_tokens"].as_u64().unwrap() as usize,
            got.len()
        );
        let last = i + 1 == chunks.len();
        assert_eq!(
            ch["meta_info"]["finish_reason"].is_null(),
            !last,
            "chunk {i}"
        );
    }
    assert_eq!(got, want);
    assert_eq!(
        chunks.last().unwrap()["meta_info"]["finish_reason"]["type"],
        "length"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_completions_plain_and_streaming_give_golden_tokens() {
    let g = golden();
    let s = fixture_server().await;
    let c = reqwest::Client::new();
    let prompt = ids(&g["inputs"]["seq_b"]);
    let want = ids(&g["seq_b"]["greedy_continuation"]);
    let req = json!({"model": "x", "prompt": prompt, "max_tokens": 16, "temperature": 0,
                     "ignore_eos": true, "return_token_ids": true});
    let (status, body) = post(&c, format!("{}/v1/completions", s.base), req.clone()).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["object"], "text_completion");
    assert_eq!(ids(&v["choices"][0]["token_ids"]), want);
    assert_eq!(ids(&v["choices"][0]["prompt_token_ids"]), prompt);
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 16, "total_tokens": 23})
    );

    let mut sreq = req;
    sreq["stream"] = json!(true);
    sreq["stream_options"] = json!({"include_usage": true});
    let (status, body) = post(&c, format!("{}/v1/completions", s.base), sreq).await;
    assert_eq!(status, 200);
    let chunks = sse_chunks(&body);
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 16);
    let tokens: Vec<&Value> = chunks[..chunks.len() - 1].iter().collect();
    let mut got = Vec::new();
    for ch in &tokens {
        got.extend(ids(&ch["choices"][0]["token_ids"]));
    }
    assert_eq!(got, want);
    assert_eq!(
        tokens.last().unwrap()["choices"][0]["finish_reason"],
        "length"
    );
    assert!(tokens[0]["choices"][0]["finish_reason"].is_null());

    let models = get_json(&c, format!("{}/v1/models", s.base)).await;
    assert_eq!(models["data"][0]["id"], "tiny-gpt-oss-fixture");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_model_info_and_metrics() {
    let s = fixture_server().await;
    let c = reqwest::Client::new();
    assert_eq!(status(&c, format!("{}/health", s.base)).await, 200);
    let info = get_json(&c, format!("{}/get_model_info", s.base)).await;
    assert_eq!(info["model_path"], "tiny-gpt-oss-fixture");
    assert_eq!(info["is_generation"], true);
    assert_eq!(info["vocab_size"], 1024);
    assert_eq!(info["synthetic"], false);
    let (status, _) = post(&c, format!("{}/generate", s.base),
        json!({"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 5, "temperature": 0.001, "top_k": 1, "top_p": 1.0, "ignore_eos": true}})).await;
    assert_eq!(status, 200);
    let _ = post(
        &c,
        format!("{}/generate", s.base),
        json!({"input_ids": [5000]}),
    )
    .await;
    let r = c.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("sglang:generation_tokens_total"), 5.0);
    assert_eq!(value("sglang:prompt_tokens_total"), 3.0);
    assert_eq!(value("sglang:num_bad_requests_total"), 1.0);
    assert_eq!(value("sglang:num_running_reqs"), 0.0);
    assert!(text.contains("# TYPE sglang:generation_tokens_total counter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_4xx_json_errors_and_the_server_stays_up() {
    let s = fixture_server().await;
    let c = reqwest::Client::new();
    let sp = |extra: Value| {
        let mut p = json!({"max_new_tokens": 4});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        json!({"input_ids": [1, 2], "sampling_params": p})
    };
    let generate_cases: Vec<(&str, Value, &str)> = vec![
        (
            "ids >= vocab",
            json!({"input_ids": [1, 1024]}),
            "out of range",
        ),
        ("negative id", json!({"input_ids": [1, -2]}), "input_ids[1]"),
        (
            "prompt too long",
            json!({"input_ids": vec![1; 64]}),
            "context length",
        ),
        ("empty prompt", json!({"input_ids": []}), "empty"),
        (
            "no prompt",
            json!({"sampling_params": {}}),
            "input_ids or text",
        ),
        (
            "both prompts",
            json!({"input_ids": [1], "text": "hi"}),
            "not both",
        ),
        ("batched", json!({"input_ids": [[1], [2]]}), "batched"),
        (
            "temperature < 0",
            sp(json!({"temperature": -1.0})),
            "temperature",
        ),
        ("top_p 0", sp(json!({"top_p": 0.0})), "top_p"),
        ("top_p > 1", sp(json!({"top_p": 1.5})), "top_p"),
        ("top_k -3", sp(json!({"top_k": -3})), "top_k"),
        (
            "temperature type",
            sp(json!({"temperature": "hot"})),
            "malformed JSON",
        ),
        (
            "max_new_tokens < 0",
            sp(json!({"max_new_tokens": -1})),
            "malformed JSON",
        ),
        ("n 2", sp(json!({"n": 2})), "n must be 1"),
        ("stop strings", sp(json!({"stop": ["x"]})), "stop"),
    ];
    let openai_cases: Vec<(&str, Value, &str)> = vec![
        (
            "ids >= vocab",
            json!({"prompt": [3000], "max_tokens": 2}),
            "out of range",
        ),
        (
            "prompt too long",
            json!({"prompt": vec![1; 100]}),
            "context length",
        ),
        ("no prompt", json!({"max_tokens": 2}), "prompt"),
        ("several prompts", json!({"prompt": ["a", "b"]}), "batched"),
        ("bad prompt type", json!({"prompt": 5}), "prompt must be"),
        (
            "temperature < 0",
            json!({"prompt": [1], "temperature": -0.5}),
            "temperature",
        ),
        ("top_p 0", json!({"prompt": [1], "top_p": 0}), "top_p"),
        ("top_k -2", json!({"prompt": [1], "top_k": -2}), "top_k"),
        ("n 3", json!({"prompt": [1], "n": 3}), "n must be 1"),
    ];
    let tables = [
        ("/generate", generate_cases),
        ("/v1/completions", openai_cases),
    ];
    for (path, cases) in tables {
        for (what, body, needle) in cases {
            let (status, text) = post(&c, format!("{}{path}", s.base), body).await;
            assert_eq!(status, 400, "{path} {what}: {text}");
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{path} {what}: not JSON: {text}"));
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains(needle), "{path} {what}: {msg}");
        }
    }
    for path in ["/generate", "/v1/completions"] {
        for raw in ["{not json", "", "[1,2]", "{\"input_ids\": [1,2]"] {
            let r = c
                .post(format!("{}{path}", s.base))
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{path} {raw:?}");
            let v: Value = r.json().await.unwrap();
            assert!(v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("malformed JSON"));
        }
    }
    // Still serving.
    assert_eq!(status(&c, format!("{}/health", s.base)).await, 200);
    let (status, _) = post(&c, format!("{}/generate", s.base), sp(json!({}))).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_prompts_use_the_harmony_tokenizer_on_the_builtin_model() {
    let e = Engine::start(engine::tiny().unwrap(), EngineConfig::default());
    let info = e.info().clone();
    let s = start(Arc::new(e), info).await;
    let c = reqwest::Client::new();
    let text = "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant";
    let want_ids = engine::__private::encode(text);
    let (status, body) = post(&c, format!("{}/generate", s.base),
        json!({"text": text, "sampling_params": {"max_new_tokens": 6, "temperature": 0, "ignore_eos": true}})).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["meta_info"]["prompt_tokens"].as_u64().unwrap() as usize,
        want_ids.len()
    );
    let out = ids(&v["output_ids"]);
    // The same prompt as ids or as text gives the same tokens.
    for prompt in [json!(want_ids), json!(text)] {
        let (_, body) = post(
            &c,
            format!("{}/v1/completions", s.base),
            json!({"prompt": prompt, "max_tokens": 6, "temperature": 0, "ignore_eos": true}),
        )
        .await;
        let o: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(ids(&o["choices"][0]["token_ids"]), out, "{prompt}");
        assert_eq!(
            o["usage"]["prompt_tokens"].as_u64().unwrap() as usize,
            want_ids.len()
        );
    }
}

fn sim(output_len: OutputLen, tpot_ms: u64) -> (Arc<dyn Backend>, ModelInfo) {
    let m = SimModel::new(SimConfig {
        ttft: Duration::from_millis(5),
        tpot: Duration::from_millis(tpot_ms),
        output_len,
        stream_interval: 4,
        max_concurrency: 8,
        max_context: 4096,
    });
    let info = m.info();
    (Arc::new(m), info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_model_says_it_is_synthetic_and_is_deterministic() {
    let (b, info) = sim(OutputLen::Max, 0);
    let s = start(b, info).await;
    let c = reqwest::Client::new();
    let info = get_json(&c, format!("{}/get_model_info", s.base)).await;
    assert_eq!(info["synthetic"], true);
    assert!(info["model_path"].as_str().unwrap().contains("synthetic"));
    let req = json!({"input_ids": [200006, 1, 2], "sampling_params": {"max_new_tokens": 10}, "stream": true});
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (status, body) = post(&c, format!("{}/generate", s.base), req.clone()).await;
        assert_eq!(status, 200);
        let chunks = sse_chunks(&body);
        // stream_interval 4, as SGLang streams: the first token at once, then
        // 4 at a time, the last one in the chunk that says why it finished.
        let sizes: Vec<usize> = chunks
            .iter()
            .map(|c| c["output_ids"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![1, 4, 4, 1]);
        let all: Vec<u32> = chunks.iter().flat_map(|c| ids(&c["output_ids"])).collect();
        assert_eq!(
            chunks.last().unwrap()["meta_info"]["finish_reason"]["type"],
            "length"
        );
        runs.push(all);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0].len(), 10);
    let (status, body) = post(
        &c,
        format!("{}/v1/completions", s.base),
        json!({"prompt": [1, 2], "max_tokens": 3}),
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["choices"][0]["token_ids"].as_array().unwrap().len(), 3);
    let (status, _) = post(
        &c,
        format!("{}/generate", s.base),
        json!({"input_ids": [201088]}),
    )
    .await;
    assert_eq!(status, 400);

    // A drawn length below the cap ends with <|return|> and finish reason stop.
    let (b, info) = sim(OutputLen::Fixed(5), 0);
    let s = start(b, info).await;
    let (_, body) = post(
        &c,
        format!("{}/generate", s.base),
        json!({"input_ids": [7], "sampling_params": {"max_new_tokens": 50}}),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids(&v["output_ids"]).len(), 5);
    assert_eq!(ids(&v["output_ids"])[4], 200002);
    assert_eq!(
        v["meta_info"]["finish_reason"],
        json!({"type": "stop", "matched": 200002})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_streams_finish() {
    let (b, info) = sim(OutputLen::Max, 10);
    let mut s = start(b, info).await;
    let c = reqwest::Client::new();
    let req =
        json!({"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 40}, "stream": true});
    let mut r = c
        .post(format!("{}/generate", s.base))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("output_ids"));
    s.stop.take().unwrap().send(()).unwrap();
    let mut rest = String::from_utf8_lossy(&first).into_owned();
    while let Some(b) = r.chunk().await.unwrap() {
        rest.push_str(&String::from_utf8_lossy(&b));
    }
    let total: usize = sse_chunks(&rest)
        .iter()
        .map(|c| c["output_ids"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 40);
    tokio::time::timeout(Duration::from_secs(10), s.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        c.get(format!("{}/health", s.base)).send().await.is_err(),
        "still accepting after shutdown"
    );
}
