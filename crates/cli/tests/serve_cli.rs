//! `mlperf-gptoss serve` as a user runs it: a real process on a loopback
//! port, plain HTTP/1.1 over a socket, SIGTERM to stop it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(["serve", "--host", "127.0.0.1", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting mlperf-gptoss serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, addr }
}

/// Undoes HTTP/1.1 chunked transfer encoding.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[eol + 2 + size + 2..];
    }
}

/// Sends one request; returns (status, body).
fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, String::from_utf8(body).unwrap())
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
    let (status, _) = request(&server.addr, "GET", "/health", "");
    assert_eq!(status, 200);
    let (status, info) = request(&server.addr, "GET", "/get_model_info", "");
    assert_eq!(status, 200);
    assert!(info.contains("\"synthetic\":true"), "{info}");
    let (status, body) = request(
        &server.addr,
        "POST",
        "/generate",
        r#"{"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 7}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["output_ids"].as_array().unwrap().len(), 7);
    let (status, body) = request(&server.addr, "POST", "/generate", "{oops");
    assert_eq!(status, 400);
    assert!(body.contains("malformed JSON"), "{body}");

    // A 100-token stream (~200 ms) is in flight when SIGTERM arrives: it completes.
    let addr = server.addr.clone();
    let stream = std::thread::spawn(move || {
        request(
            &addr,
            "POST",
            "/generate",
            r#"{"input_ids": [4, 5], "sampling_params": {"max_new_tokens": 100}, "stream": true}"#,
        )
    });
    std::thread::sleep(std::time::Duration::from_millis(60));
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
        &server.addr,
        "POST",
        "/generate",
        r#"{"text": "<|start|>user<|message|>Hi<|end|><|start|>assistant", "sampling_params": {"max_new_tokens": 4, "temperature": 0}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["meta_info"]["completion_tokens"].as_u64().unwrap() <= 4);
    let (status, body) = request(
        &server.addr,
        "POST",
        "/v1/completions",
        r#"{"prompt": [200006, 1428, 200008], "max_tokens": 3, "temperature": 0, "ignore_eos": true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["choices"][0]["token_ids"].as_array().unwrap().len(), 3);
    let (status, _) = request(
        &server.addr,
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
