//! `run` as a user runs it: LoadGen driving the embedded engine or the
//! synthetic timing model, the official log files, per-sample records, and
//! what happens when requests fail.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{
    assert_stderr_has, assert_success, mlperf_gptoss, stderr, wait_until, write_dataset, Server,
};
use serde_json::Value as Json;

/// `data.jsonl`: `n` prompts of `prompt_len` tokens each.
fn write_prompts(dir: &Path, n: usize, prompt_len: usize) -> String {
    let path = write_dataset(dir, "data.jsonl", &vec![prompt_len; n]);
    path.to_str().unwrap().to_string()
}

fn write_conf(dir: &Path, text: &str) -> String {
    let path = dir.join("user.conf");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn records(dir: &Path) -> Vec<Json> {
    std::fs::read_to_string(dir.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Token counts per entry of `mlperf_log_accuracy.json` (little-endian int32 as hex).
fn accuracy_token_counts(dir: &Path) -> Vec<usize> {
    let log: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mlperf_log_accuracy.json")).unwrap(),
    )
    .unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"].as_str().unwrap().len() / 8)
        .collect()
}

const SIM: [&str; 6] = [
    "--model",
    "sim",
    "--sim-ttft-ms",
    "1",
    "--sim-tpot-ms",
    "0.2",
];

#[test]
fn the_demo_runs_with_no_flags() {
    let cwd = tempfile::tempdir().unwrap();
    let run = mlperf_gptoss(cwd.path(), cwd.path(), &["run"]);
    assert_success(&run, "the demo");
    let out = cwd.path().join("mlperf_results/offline/performance");
    for file in [
        "mlperf_log_summary.txt",
        "mlperf_log_detail.txt",
        "mlperf_log_accuracy.json",
        "results.json",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let summary = std::fs::read_to_string(out.join("mlperf_log_summary.txt")).unwrap();
    assert!(summary.contains("Result is : VALID"), "{summary}");
    let records = records(&out);
    assert_eq!(records.len(), 20, "the demo user.conf asks for 20 samples");
    assert!(records
        .iter()
        .all(|r| r["error"].is_null() && r["output_tokens"].as_u64().unwrap() > 0));
    let results: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["samples"], 20);
    assert_eq!(results["loadgen"]["result_valid"], true);
    assert_stderr_has(&run, &["Result is : VALID"]);
}

#[test]
fn server_streams_and_leaves_the_first_token_out_of_the_final_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_prompts(dir.path(), 12, 30);
    let conf = write_conf(
        dir.path(),
        "*.Server.target_qps = 200\n*.Server.min_duration = 0\n*.Server.min_query_count = 12\n",
    );
    for (extra, expected_tokens) in [(None, 9), (Some("--report-all-tokens"), 10)] {
        let mut args = vec![
            "run",
            "--scenario",
            "server",
            "--mode",
            "accuracy",
            "--dataset",
            &data,
            "--user-conf",
            &conf,
        ];
        args.extend(SIM);
        args.extend(["--sim-output-len", "fixed:10", "--output-dir", "out"]);
        args.extend(extra);
        let run = mlperf_gptoss(dir.path(), dir.path(), &args);
        assert_success(&run, &format!("{extra:?}"));
        let out = dir.path().join("out/server/accuracy");
        assert_eq!(
            accuracy_token_counts(&out),
            vec![expected_tokens; 12],
            "{extra:?}"
        );
        let records = records(&out);
        assert_eq!(records.len(), 12);
        for r in &records {
            let (scheduled, issued, first, done) = (
                r["scheduled_ns"].as_u64().unwrap(),
                r["issued_ns"].as_u64().unwrap(),
                r["first_token_ns"].as_u64().unwrap(),
                r["done_ns"].as_u64().unwrap(),
            );
            assert!(
                scheduled <= issued && issued <= first && first <= done,
                "{r}"
            );
            assert_eq!(r["output_tokens"], 10);
            assert_eq!(r["prompt_tokens"], 30);
        }
    }
}

#[test]
fn offline_reports_every_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_prompts(dir.path(), 8, 20);
    let mut args = vec![
        "run",
        "--mode",
        "accuracy",
        "--dataset",
        &data,
        "--output-dir",
        "out",
    ];
    args.extend(SIM);
    args.extend(["--sim-output-len", "fixed:7"]);
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    assert_success(&run, "offline accuracy");
    assert_eq!(
        accuracy_token_counts(&dir.path().join("out/offline/accuracy")),
        vec![7; 8]
    );
}

/// Requests that fail (refused, or past `--timeout`) are recorded, LoadGen's
/// logs are still written, and the run exits non-zero.
#[test]
fn failed_requests_are_recorded_the_run_finishes_and_exits_non_zero() {
    let hung = [
        "--model",
        "sim",
        "--sim-ttft-ms",
        "3600000",
        "--timeout",
        "1",
    ];
    // (case, samples, prompt length, flags, text every error holds)
    let cases: [(&str, usize, usize, &[&str], &str); 2] = [
        (
            "prompts longer than the engine's context: every request is refused",
            4,
            80,
            &["--context-length", "64"],
            "",
        ),
        (
            "the first token would take an hour: every request ends at the timeout",
            2,
            10,
            &hung,
            "--timeout 1",
        ),
    ];
    for (case, samples, prompt_len, extra, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let run = failing_offline_run(dir.path(), samples, prompt_len, extra);
        assert_stderr_has(&run, &[&format!("{samples} of {samples} samples failed")]);
        let out = dir.path().join("out/offline/performance");
        assert!(out.join("mlperf_log_summary.txt").is_file(), "{case}");
        assert_all_failed(&out, samples, needle);
    }
}

#[test]
fn a_bad_dataset_is_refused_before_loadgen_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"input_tokens\": [1, 2, 3]}\n{\"input_tokens\": [1, 201088]}\n",
    )
    .unwrap();
    let run = mlperf_gptoss(
        dir.path(),
        dir.path(),
        &[
            "run",
            "--dataset",
            path.to_str().unwrap(),
            "--output-dir",
            "out",
        ],
    );
    assert!(!run.status.success());
    assert_stderr_has(&run, &["bad.jsonl", "row 1", "201088"]);
    assert!(
        !dir.path().join("out").exists(),
        "nothing is written for a refused dataset"
    );
}

/// A dataset of 10 prompts and a user.conf for short runs in both scenarios.
fn short_run_inputs(dir: &Path) -> (String, String) {
    let data = write_prompts(dir, 10, 25);
    let conf = write_conf(
        dir,
        "*.Server.target_qps = 100\n*.Server.min_duration = 0\n*.Server.min_query_count = 10\n\
         *.Offline.min_duration = 0\n*.Offline.min_query_count = 10\n",
    );
    (data, conf)
}

/// An accuracy run of 12 tokens per sample against `endpoint`, checked in the
/// accuracy log (Server leaves the first token out) and the records.
fn check_accuracy_run(dir: &Path, backend: &str, scenario: &str, endpoint: &str, extra: &[&str]) {
    let (data, conf) = short_run_inputs(dir);
    let out = format!("out-{backend}");
    let mut args = vec![
        "run",
        "--backend",
        backend,
        "--endpoint",
        endpoint,
        "--scenario",
        scenario,
        "--mode",
        "accuracy",
        "--dataset",
        &data,
        "--user-conf",
        &conf,
        "--max-new-tokens",
        "12",
        "--output-dir",
        &out,
    ];
    args.extend(extra);
    let run = mlperf_gptoss(dir, dir, &args);
    assert_success(&run, &format!("{backend} {scenario}"));
    let logs = dir.join(&out).join(scenario).join("accuracy");
    let expected = if scenario == "server" { 11 } else { 12 };
    assert_eq!(
        accuracy_token_counts(&logs),
        vec![expected; 10],
        "{backend} {scenario}"
    );
    let records = records(&logs);
    assert!(
        records
            .iter()
            .all(|r| r["output_tokens"] == 12 && r["finish_reason"] == "length"),
        "{records:?}"
    );
}

#[test]
fn sglang_and_openai_backends_over_http_to_a_real_server() {
    let server = Server::start(&SIM);
    let dir = tempfile::tempdir().unwrap();
    for backend in ["sglang", "openai"] {
        for scenario in ["offline", "server"] {
            check_accuracy_run(dir.path(), backend, scenario, &server.url, &[]);
        }
    }
}

/// `run --backend sglang --endpoint URL --dataset DATA` plus `extra`, in `dir`.
fn sglang_run(dir: &Path, url: &str, data: &str, extra: &[&str]) -> std::process::Output {
    let args = [
        &[
            "run",
            "--backend",
            "sglang",
            "--endpoint",
            url,
            "--dataset",
            data,
        ][..],
        extra,
    ]
    .concat();
    mlperf_gptoss(dir, dir, &args)
}

/// A TLS-terminating proxy in front of `target` (host:port), with Python's
/// `ssl` as the server side; prints its port. Killed on drop.
struct TlsProxy(std::process::Child);

impl TlsProxy {
    fn start(cert: &Path, key: &Path, target: &str) -> (TlsProxy, u16) {
        const PROXY: &str = r#"
import asyncio, ssl, sys
cert, key, target = sys.argv[1:4]
host, port = target.rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)

async def pump(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError, ssl.SSLError):
        pass
    finally:
        writer.close()

async def handle(client_r, client_w):
    up_r, up_w = await asyncio.open_connection(host, int(port))
    await asyncio.gather(pump(client_r, up_w), pump(up_r, client_w))

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .args(["-c", PROXY])
            .args([cert, key])
            .arg(target)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("proxy said {line:?}"));
        (TlsProxy(child), port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_endpoints_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, issued.cert.pem()).unwrap();
    std::fs::write(&key, issued.key_pair.serialize_pem()).unwrap();
    let server = Server::start(&SIM);
    let target = server.url.trim_start_matches("http://").to_string();
    let (_proxy, port) = TlsProxy::start(&cert, &key, &target);
    let url = format!("https://localhost:{port}");
    let ca = cert.to_str().unwrap();
    for scenario in ["offline", "server"] {
        check_accuracy_run(dir.path(), "sglang", scenario, &url, &["--ca-cert", ca]);
    }

    // Without the CA the certificate is not trusted: a clear error before LoadGen.
    let (data, _) = short_run_inputs(dir.path());
    let run = sglang_run(dir.path(), &url, &data, &["--output-dir", "untrusted"]);
    assert!(!run.status.success());
    assert_stderr_has(&run, &["TLS handshake failed", &url]);
    assert!(!dir.path().join("untrusted/offline").exists());

    // A CA file that is not PEM is named.
    let run = sglang_run(dir.path(), &url, &data, &["--ca-cert", &data]);
    assert!(!run.status.success());
    assert_stderr_has(&run, &["CA certificate file"]);
}

#[test]
fn an_unreachable_endpoint_fails_before_loadgen_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_prompts(dir.path(), 2, 5);
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = sglang_run(dir.path(), &url, &data, &["--output-dir", "out"]);
    assert!(!run.status.success());
    assert_stderr_has(&run, &[&url]);
    assert!(!dir
        .path()
        .join("out/offline/performance/mlperf_log_summary.txt")
        .exists());
}

#[test]
fn a_server_dying_mid_run_fails_its_samples_but_the_run_finishes() {
    let mut server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "1",
        "--sim-tpot-ms",
        "50",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let data = write_prompts(dir.path(), 4, 10);
    let conf = write_conf(
        dir.path(),
        "*.Offline.min_duration = 0\n*.Offline.min_query_count = 4\n",
    );
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args([
            "run",
            "--backend",
            "sglang",
            "--endpoint",
            &server.url,
            "--dataset",
            &data,
            "--user-conf",
            &conf,
        ])
        .args(["--max-new-tokens", "400", "--output-dir", "out"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 400 tokens take 20 s: kill the server once all 4 requests are in it.
    wait_until(
        "4 requests running on the server",
        Duration::from_secs(60),
        || server.metric("sglang:num_running_reqs") == 4.0,
    );
    server.child.kill().unwrap();
    let output = run.wait_with_output().unwrap();
    assert!(!output.status.success(), "{}", stderr(&output));
    assert_stderr_has(&output, &["4 of 4 samples failed"]);
    let out = dir.path().join("out/offline/performance");
    assert!(
        out.join("mlperf_log_summary.txt").is_file(),
        "LoadGen's logs are still written"
    );
    assert_all_failed(&out, 4, &server.url);
}

/// An Offline run of `samples` prompts that is expected to fail: it must exit non-zero.
fn failing_offline_run(
    dir: &Path,
    samples: usize,
    prompt_len: usize,
    extra: &[&str],
) -> std::process::Output {
    let data = write_prompts(dir, samples, prompt_len);
    let conf = write_conf(
        dir,
        &format!("*.Offline.min_duration = 0\n*.Offline.min_query_count = {samples}\n"),
    );
    let mut args = vec![
        "run",
        "--dataset",
        &data,
        "--user-conf",
        &conf,
        "--output-dir",
        "out",
    ];
    args.extend(extra);
    let run = mlperf_gptoss(dir, dir, &args);
    assert!(!run.status.success(), "{}", stderr(&run));
    run
}

/// Every one of `n` records in `out/samples.jsonl` holds an error containing `needle`.
fn assert_all_failed(out: &Path, n: usize, needle: &str) {
    let records = records(out);
    assert_eq!(records.len(), n);
    let failed = |r: &Json| {
        r["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty() && e.contains(needle))
    };
    assert!(records.iter().all(failed), "{records:?}");
}
