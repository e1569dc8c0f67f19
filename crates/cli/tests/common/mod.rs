//! A small harness: run the real `mlperf-gptoss` binary like a user would,
//! with the fixtures (datasets, gpt-oss completions, accuracy logs) that
//! several test files build.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use harmony::tokens::{CHANNEL, END, MESSAGE, RETURN, START};

pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The binary, run in `cwd` with a private vocabulary cache.
pub fn mlperf_gptoss(cwd: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(args)
        .current_dir(cwd)
        .env("TIKTOKEN_RS_CACHE_DIR", cache)
        .env_remove("TIKTOKEN_ENCODINGS_BASE")
        .output()
        .expect("the mlperf-gptoss binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the command succeeded; on failure shows `what` and its stderr.
#[track_caller]
pub fn assert_success(output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", stderr(output));
}

/// Asserts that stderr holds every one of `needles`; on failure shows all of it.
#[track_caller]
pub fn assert_stderr_has(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in stderr:\n{err}");
    }
}

/// Waits until `done` holds, checking every 20 ms; fails after `limit`
/// naming `what` was awaited.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A harmonized dataset whose row `i` has a prompt of `lens[i]` tokens (ids
/// straight from the vocabulary), a `dataset` and an `id` column.
pub fn write_dataset(dir: &Path, name: &str, lens: &[usize]) -> PathBuf {
    let lines: String = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let ids: Vec<u32> = (0..n as u32).map(|t| 1000 + 7 * t + i as u32).collect();
            format!(
                "{}\n",
                serde_json::json!({"input_tokens": ids, "dataset": "gpqa_diamond", "id": i})
            )
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, lines).unwrap();
    path
}

/// Ordinary token ids of `text` (no special tokens).
pub fn ordinary(text: &str) -> Vec<u32> {
    harmony::encoding()
        .expect("harmony vocabulary")
        .tokenizer()
        .encode_ordinary(text)
}

/// A whole gpt-oss completion as the model emits it after `<|start|>assistant`:
/// `<|channel|>analysis<|message|>A<|end|><|start|>assistant<|channel|>final<|message|>F<|return|>`.
pub fn completion(analysis: &str, final_text: &str) -> Vec<u32> {
    let mut ids = vec![CHANNEL];
    ids.extend(ordinary("analysis"));
    ids.push(MESSAGE);
    ids.extend(ordinary(analysis));
    ids.extend([END, START]);
    ids.extend(ordinary("assistant"));
    ids.push(CHANNEL);
    ids.extend(ordinary("final"));
    ids.push(MESSAGE);
    ids.extend(ordinary(final_text));
    ids.push(RETURN);
    ids
}

/// Uppercase hex of little-endian int32 ids, as LoadGen writes `data`.
pub fn hex(ids: &[u32]) -> String {
    ids.iter()
        .flat_map(|id| (*id as i32).to_le_bytes())
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// One entry of `mlperf_log_accuracy.json`, laid out as LoadGen writes it.
pub fn log_entry(seq_id: usize, qsl_idx: usize, ids: &[u32]) -> String {
    format!(
        "{{ \"seq_id\" : {seq_id}, \"qsl_idx\" : {qsl_idx}, \"data\" : \"{}\", \"token_count\" : {} }}",
        hex(ids),
        ids.len()
    )
}

/// `mlperf_log_accuracy.json` holding `entries` (from [`log_entry`]) in order.
pub fn accuracy_log(entries: &[String]) -> String {
    format!("[\n{}\n]\n", entries.join(",\n"))
}

/// Fails loudly (never skips) when the Python side of a test is missing.
pub fn python_with(modules: &str) -> Command {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output();
    match probe {
        Ok(out) if out.status.success() => Command::new("python3"),
        _ => panic!(
            "this test needs python3 with `{modules}`: run `pip install {}`",
            modules.replace(',', " ")
        ),
    }
}

/// `mlperf-gptoss serve --model sim` as a real process; killed on drop.
pub struct Server {
    pub child: std::process::Child,
    pub url: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Server { child, url }
    }
}

impl Server {
    /// The value of one of the server's Prometheus gauges or counters.
    pub fn metric(&self, name: &str) -> f64 {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        write!(
            socket,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        socket.read_to_string(&mut reply).unwrap();
        reply
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('{'))
            .and_then(|rest| rest.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {reply}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
