//! `run` against a server that returns only text, as TensorRT-LLM's
//! `trtllm-serve` does: a scripted server replays the trtllm transcripts
//! (`crates/backend/tests/data/transcripts/trtllm_*.json`, which cite the
//! source they follow) and, like trtllm-serve, refuses a request with a
//! field its request model lacks. `run --backend openai --text-only` counts
//! the tokens by re-tokenizing the text, says so in every record and in the
//! summary, and keeps the server's count beside ours.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

use common::{assert_stderr_has, assert_success, mlperf_gptoss, stderr, write_dataset};
use serde_json::Value as Json;

fn transcript(name: &str) -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/data/transcripts")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A trtllm-serve stand-in on loopback: `GET /health` answers 200; `POST
/// /v1/completions` answers with the plain transcript's reply, or the
/// stream transcript's SSE events when the request streams, after checking
/// every request field against the transcript's `accepted` list (400 in
/// trtllm's error shape otherwise). Runs until the test process ends.
fn scripted_trtllm() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let plain = transcript("trtllm_plain_text_only.json");
    let stream = transcript("trtllm_stream_text_only.json");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (plain, stream) = (plain.clone(), stream.clone());
            std::thread::spawn(move || while serve_one(&conn, &plain, &stream).is_some() {});
        }
    });
    url
}

/// Reads one request on `conn` and answers it; `None` once the client is gone.
fn serve_one(conn: &TcpStream, plain: &Json, stream: &Json) -> Option<()> {
    let mut reader = BufReader::new(conn);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let length = head
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut out = conn;
    if head[0].starts_with("GET") {
        return write!(out, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").ok();
    }
    let request: Json = serde_json::from_slice(&body).unwrap();
    let accepted = &plain["accepted"]["body"];
    if let Some(extra) = request.as_object().unwrap().keys().find(|k| {
        !accepted
            .as_array()
            .unwrap()
            .contains(&Json::from(k.as_str()))
    }) {
        // trtllm-serve's error body for a pydantic validation failure.
        let error = serde_json::json!({"object": "error", "type": "BadRequestError",
            "message": format!("1 validation error for CompletionRequest\n{extra}\n  Extra inputs are not permitted"),
            "param": null, "code": 400})
        .to_string();
        return write!(
            out,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{error}",
            error.len()
        )
        .ok();
    }
    if request["stream"] == true {
        write!(out, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n").ok()?;
        for event in stream["reply"]["sse"].as_array().unwrap() {
            let data = match event {
                Json::String(done) => done.clone(),
                other => other.to_string(),
            };
            let chunk = format!("data: {data}\n\n");
            write!(out, "{:x}\r\n{chunk}\r\n", chunk.len()).ok()?;
        }
        return write!(out, "0\r\n\r\n").ok();
    }
    let reply = plain["reply"]["json"].to_string();
    write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
        reply.len()
    )
    .ok()
}

fn records(out: &Path) -> Vec<Json> {
    std::fs::read_to_string(out.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `run` over 8 prompts against `url` with `extra` flags, in `dir`.
fn run(dir: &Path, url: &str, scenario: &str, mode: &str, extra: &[&str]) -> std::process::Output {
    let data = write_dataset(dir, "data.jsonl", &[7; 8]);
    let conf = dir.join("user.conf");
    std::fs::write(
        &conf,
        "*.Offline.min_duration = 0\n*.Offline.min_query_count = 8\n\
         *.Server.target_qps = 100\n*.Server.min_duration = 0\n*.Server.min_query_count = 8\n",
    )
    .unwrap();
    let mut args = vec!["run", "--backend", "openai", "--endpoint", url];
    args.extend([
        "--scenario",
        scenario,
        "--mode",
        mode,
        "--max-new-tokens",
        "64",
    ]);
    args.extend(["--dataset", data.to_str().unwrap()]);
    args.extend(["--user-conf", conf.to_str().unwrap(), "--output-dir", "out"]);
    args.extend(extra);
    mlperf_gptoss(dir, dir, &args)
}

const TRTLLM: [&str; 3] = ["--text-only", "--served-model-name", "openai/gpt-oss-120b"];

#[test]
fn offline_counts_retokenized_text_and_reports_where_the_server_disagrees() {
    let url = scripted_trtllm();
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &url, "offline", "accuracy", &TRTLLM);
    assert_success(
        &output,
        "an Offline run against trtllm-serve's text-only replies",
    );
    let out = dir.path().join("out/offline/accuracy");
    let t = transcript("trtllm_plain_text_only.json");
    let want: Vec<u32> = serde_json::from_value(t["client"]["ok"]["output_ids"].clone()).unwrap();
    let server = t["reply"]["json"]["usage"]["completion_tokens"]
        .as_u64()
        .unwrap();
    let records = records(&out);
    assert_eq!(records.len(), 8);
    for r in &records {
        assert_eq!(r["token_source"], "re-tokenized", "{r}");
        assert_eq!(r["output_tokens"], want.len(), "{r}");
        assert_eq!(r["server_output_tokens"], server, "{r}");
        // The text leaves out the <|return|> the server counted.
        assert_eq!(r["counts_disagree"], true, "{r}");
    }
    // The ids LoadGen logged are the re-tokenized text.
    let log: Json = serde_json::from_str(
        &std::fs::read_to_string(out.join("mlperf_log_accuracy.json")).unwrap(),
    )
    .unwrap();
    for entry in log.as_array().unwrap() {
        let hex = entry["data"].as_str().unwrap();
        let ids: Vec<u32> = (0..hex.len() / 8)
            .map(|i| {
                let b = u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).unwrap();
                b.swap_bytes()
            })
            .collect();
        assert_eq!(ids, want);
    }
    let results: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["token_counts"]["re_tokenized"], 8);
    assert_eq!(results["token_counts"]["server_and_ours_disagree"], 8);
    assert_stderr_has(
        &output,
        &["8 of 8 samples re-tokenized", "disagree on 8 of 8"],
    );
}

#[test]
fn server_streams_text_only_and_agrees_when_the_stop_id_is_named() {
    let url = scripted_trtllm();
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &url, "server", "performance", &TRTLLM);
    assert_success(
        &output,
        "a Server run against trtllm-serve's text-only stream",
    );
    let t = transcript("trtllm_stream_text_only.json");
    let want = t["client"]["ok"]["output_ids"].as_array().unwrap().len();
    let records = records(&dir.path().join("out/server/performance"));
    assert_eq!(records.len(), 8);
    for r in &records {
        assert_eq!(r["token_source"], "re-tokenized", "{r}");
        assert_eq!(r["output_tokens"], want, "{r}");
        assert_eq!(r["counts_disagree"], false, "{r}");
        assert!(r["first_token_ns"].as_u64() <= r["done_ns"].as_u64(), "{r}");
    }
    assert_stderr_has(
        &output,
        &["8 of 8 samples re-tokenized", "disagree on 0 of 8"],
    );
}

#[test]
fn without_text_only_trtllm_refuses_the_token_id_field_and_the_run_says_why() {
    let url = scripted_trtllm();
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &url, "offline", "performance", &[]);
    assert!(!output.status.success(), "{}", stderr(&output));
    assert_stderr_has(&output, &["8 of 8 samples failed", "return_token_ids"]);
}
