//! A small harness: run the real `mlperf-gptoss` binary like a user would,
//! with the fixtures (datasets, gpt-oss completions, accuracy logs) that
//! several test files build.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

/// `serve`/`run` flags for the synthetic model at 1 ms to the first token
/// and 0.2 ms a token after it: runs that take well under a second.
pub const FAST_SIM: [&str; 6] = [
    "--model",
    "sim",
    "--sim-ttft-ms",
    "1",
    "--sim-tpot-ms",
    "0.2",
];

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

/// The first line a child writes on its piped stdout (a server's address).
pub fn first_line(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .unwrap();
    line
}

/// `mlperf-gptoss serve --model sim` as a real process; killed on drop.
pub struct Server {
    pub child: std::process::Child,
    pub url: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let line = first_line(&mut child);
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Server { child, url }
    }
}

impl Server {
    /// `host:port` of the server.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// The value of one of the server's Prometheus gauges or counters.
    pub fn metric(&self, name: &str) -> f64 {
        let (status, body) = request(self.addr(), "GET", "/metrics", "");
        assert_eq!(status, 200, "{body}");
        body.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('{'))
            .and_then(|rest| rest.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// Sends one HTTP/1.1 request on a fresh connection; returns (status, body).
pub fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
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
