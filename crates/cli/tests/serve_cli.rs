//! `mlperf-gptoss serve` as a user runs it: a real process on a loopback
//! port, plain HTTP/1.1 over a socket, SIGTERM to stop it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{request, wait_until, Server};

/// `serve` on 127.0.0.1 with `args`; killed on drop.
fn start(args: &[&str]) -> Server {
    Server::start(&[&["--host", "127.0.0.1"], args].concat())
}

fn sse_data(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn serve_sim_answers_and_drains_on_sigterm() {
    let mut server = start(&["--model", "sim", "--sim-ttft-ms", "1", "--sim-tpot-ms", "2"]);
    let (status, _) = request(server.addr(), "GET", "/health", "");
    assert_eq!(status, 200);
    let (status, info) = request(server.addr(), "GET", "/get_model_info", "");
    assert_eq!(status, 200);
    assert!(info.contains("\"synthetic\":true"), "{info}");
    let (status, body) = request(
        server.addr(),
        "POST",
        "/generate",
        r#"{"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 7}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["output_ids"].as_array().unwrap().len(), 7);
    let (status, body) = request(server.addr(), "POST", "/generate", "{oops");
    assert_eq!(status, 400);
    assert!(body.contains("malformed JSON"), "{body}");

    // A 100-token stream (~200 ms) is in flight when SIGTERM arrives: it completes.
    let addr = server.addr().to_string();
    let stream = std::thread::spawn(move || {
        request(
            &addr,
            "POST",
            "/generate",
            r#"{"input_ids": [4, 5], "sampling_params": {"max_new_tokens": 100}, "stream": true}"#,
        )
    });
    wait_until("the stream to be running", Duration::from_secs(10), || {
        server.metric("sglang:num_running_reqs") == 1.0
    });
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let (status, body) = stream.join().unwrap();
    assert_eq!(status, 200);
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let total: usize = sse_data(&body)
        .iter()
        .map(|c| c["output_ids"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 100);
    let code = server.child.wait().unwrap();
    assert!(code.success(), "exit status {code}");
}

#[test]
fn serve_default_tiny_model_takes_text_and_ids() {
    let server = start(&[]);
    let (status, body) = request(
        server.addr(),
        "POST",
        "/generate",
        r#"{"text": "<|start|>user<|message|>Hi<|end|><|start|>assistant", "sampling_params": {"max_new_tokens": 4, "temperature": 0}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["meta_info"]["completion_tokens"].as_u64().unwrap() <= 4);
    let (status, body) = request(
        server.addr(),
        "POST",
        "/v1/completions",
        r#"{"prompt": [200006, 1428, 200008], "max_tokens": 3, "temperature": 0, "ignore_eos": true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["choices"][0]["token_ids"].as_array().unwrap().len(), 3);
    let (status, _) = request(
        server.addr(),
        "POST",
        "/v1/completions",
        r#"{"prompt": [201088]}"#,
    );
    assert_eq!(status, 400);
}

#[test]
fn serve_refuses_a_missing_checkpoint_with_a_useful_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(["serve", "--model", "/nonexistent/ckpt", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/ckpt") && err.contains("checkpoint"),
        "{err}"
    );
}
