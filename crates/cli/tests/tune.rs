//! `mlperf-gptoss tune` against real `serve --model sim` processes (and a
//! scripted server that fails every request): the search finds a boundary
//! this test derives independently, from the same seeded schedule through
//! an M/D/c queue; two endpoints carry about twice the QPS; bad input ends
//! with a clear error; a probe failing mid-way is recorded and the search
//! goes on; a rerun resumes.
//!
//! The probes are real LoadGen runs whose verdicts depend on timing, so the
//! timing-sensitive tests run one at a time (`SERIAL`), with a TTFT limit 50
//! ms above the sim's first-token time: scheduling noise of a few ms moves
//! the boundary by a few per cent at most.

mod common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::time::Duration;

use common::{assert_success, stderr, wait_until, write_dataset, Server};
use serde_json::Value as Json;

/// Timing-sensitive tests run alone: on a 2-core machine, two searches at
/// once would each see the other's load.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sim server: 8 requests at once, 10 ms to the first token, 1 ms per
/// token after it, 50 tokens each.
const SLOTS: usize = 8;
const SIM_TTFT_MS: f64 = 10.0;
const SIM_TPOT_MS: f64 = 1.0;
const TOKENS: u32 = 50;
const TTFT_LIMIT_MS: u64 = 60;

fn sim_args(slots: usize) -> Vec<String> {
    [
        "--model",
        "sim",
        "--sim-max-concurrency",
        &slots.to_string(),
        "--sim-ttft-ms",
        &SIM_TTFT_MS.to_string(),
        "--sim-tpot-ms",
        &SIM_TPOT_MS.to_string(),
        "--sim-output-len",
        &format!("fixed:{TOKENS}"),
    ]
    .map(String::from)
    .to_vec()
}

fn sim_server(slots: usize) -> Server {
    let args = sim_args(slots);
    Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Queries per probe unless a test says otherwise: early stopping then
/// allows 2 over the limit.
const QUERIES: u64 = 1000;

/// A tight TTFT limit, a loose TPOT one, short runs of `queries` queries.
fn user_conf(dir: &Path, queries: u64) -> PathBuf {
    let path = dir.join(format!("tight-{queries}.user.conf"));
    std::fs::write(
        &path,
        format!(
            "gpt-oss-120b.Server.ttft_latency = {TTFT_LIMIT_MS}\n\
             gpt-oss-120b.Server.tpot_latency = 20\n\
             gpt-oss-120b.Server.min_query_count = {queries}\n\
             gpt-oss-120b.Server.min_duration = 1000\n"
        ),
    )
    .unwrap();
    path
}

const SAMPLES: usize = 32;

/// `tune --scenario server` against `endpoints`, logs under `dir/<out>`.
fn tune(dir: &Path, endpoints: &[&str], out: &str, extra: &[&str]) -> Output {
    tune_with(dir, QUERIES, endpoints, out, extra)
}

/// [`tune`] with probes of `queries` queries.
fn tune_with(dir: &Path, queries: u64, endpoints: &[&str], out: &str, extra: &[&str]) -> Output {
    tune_command(dir, queries, endpoints, out, extra)
        .output()
        .unwrap()
}

/// The `tune` command of [`tune_with`], not started.
fn tune_command(
    dir: &Path,
    queries: u64,
    endpoints: &[&str],
    out: &str,
    extra: &[&str],
) -> std::process::Command {
    let data = write_dataset(dir, "data.jsonl", &[24; SAMPLES]);
    let conf = user_conf(dir, queries);
    let mut args: Vec<String> = ["tune", "--scenario", "server", "--backend", "sglang"]
        .map(String::from)
        .to_vec();
    for e in endpoints {
        args.extend(["--endpoint".into(), e.to_string()]);
    }
    args.extend(
        [
            "--dataset",
            data.to_str().unwrap(),
            "--user-conf",
            conf.to_str().unwrap(),
            "--max-new-tokens",
            &TOKENS.to_string(),
            "--confirm-duration",
            "1s",
            "--output-dir",
            out,
        ]
        .map(String::from),
    );
    // Defaults that a test may replace.
    for (flag, value) in [("--probe-duration", "1s"), ("--budget", "10m")] {
        if !extra.contains(&flag) {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"));
    command
        .args(&args)
        .current_dir(dir)
        .env("TIKTOKEN_RS_CACHE_DIR", dir);
    command
}

fn tune_json(dir: &Path, out: &str) -> Json {
    serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("tune.json")).unwrap())
        .unwrap()
}

/// Would LoadGen judge a run at `qps` VALID, if the server were exactly an
/// M/D/c queue? The arrivals are LoadGen's own seeded schedule (the plan
/// API); c slots serve first come, first served, each request for the sim's
/// first-token time plus its 49 token gaps (plus 1 ms: tokio's timers fire
/// on the next millisecond); TTFT is the wait for a slot plus the sim's
/// first-token time (plus that 1 ms). The verdict applies LoadGen's rules:
/// p99 (LoadGen's index, n·0.99 truncated) within the limit, and early
/// stopping's h(t) + t ≤ n.
fn md_c_passes(conf: &Path, qps: f64, slots: usize) -> bool {
    let base = loadgen::TestSettings {
        scenario: loadgen::Scenario::Server,
        mode: loadgen::Mode::PerformanceOnly,
        ..Default::default()
    };
    let files = loadgen::ConfigFiles {
        user_conf: Some(conf),
        ..Default::default()
    };
    let mut s = loadgen::resolve_settings(base, "gpt-oss-120b", files)
        .unwrap()
        .settings;
    s.server_target_qps = qps;
    let plan = loadgen::plan(&s, SAMPLES as u64, SAMPLES as u64).unwrap();
    let ms = 1_000_000i64;
    let first = (SIM_TTFT_MS as i64 + 1) * ms;
    let service = first + (TOKENS as i64 - 1) * (SIM_TPOT_MS as i64) * ms;
    let mut free: BinaryHeap<Reverse<i64>> = (0..slots).map(|_| Reverse(0)).collect();
    let mut ttft: Vec<i64> = plan
        .series
        .last()
        .unwrap()
        .issued_queries()
        .iter()
        .map(|q| {
            let arrival = q.scheduled_ns as i64;
            let Reverse(slot_free) = free.pop().unwrap();
            let start = arrival.max(slot_free);
            free.push(Reverse(start + service));
            start - arrival + first
        })
        .collect();
    let n = ttft.len();
    let limit = TTFT_LIMIT_MS as i64 * ms;
    let over = ttft.iter().filter(|&&t| t > limit).count() as i64;
    ttft.sort_unstable();
    let p99 = ttft[(n as f64 * 0.99) as usize];
    let h = loadgen::__private::min_passing_queries(over, 0.99, 0.0, 0.99);
    p99 <= limit && n as i64 >= h + over
}

/// The highest QPS (in steps of 0.2 %) that the M/D/c model passes.
fn md_c_boundary(conf: &Path, slots: usize) -> f64 {
    let mut q = 10.0;
    assert!(md_c_passes(conf, q, slots), "the model fails even 10 QPS");
    while md_c_passes(conf, q * 1.002, slots) {
        q *= 1.002;
    }
    q
}

/// `run --scenario server` at `qps` with the tight user.conf: LoadGen's verdict.
fn run_at(dir: &Path, url: &str, qps: f64, out: &str) -> bool {
    let data = write_dataset(dir, "data.jsonl", &[24; SAMPLES]);
    let conf = dir.join(format!("{out}.user.conf"));
    let tight = std::fs::read_to_string(user_conf(dir, QUERIES)).unwrap();
    std::fs::write(
        &conf,
        format!("{tight}gpt-oss-120b.Server.target_qps = {qps}\n"),
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args([
            "run",
            "--scenario",
            "server",
            "--backend",
            "sglang",
            "--endpoint",
            url,
            "--dataset",
            data.to_str().unwrap(),
            "--user-conf",
            conf.to_str().unwrap(),
            "--max-new-tokens",
            &TOKENS.to_string(),
            "--output-dir",
            out,
        ])
        .current_dir(dir)
        .env("TIKTOKEN_RS_CACHE_DIR", dir)
        .output()
        .unwrap();
    let results: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join(out).join("server/performance/results.json"))
            .unwrap_or_else(|e| panic!("{e}: {}", stderr(&run))),
    )
    .unwrap();
    results["loadgen"]["result_valid"] == true
}

#[test]
fn the_search_finds_the_boundary_an_m_d_c_queue_predicts_and_scales_with_endpoints() {
    let _one = serial();
    let server = sim_server(SLOTS);
    let dir = tempfile::tempdir().unwrap();

    // Ctrl-C after two probes keeps them; the same command then resumes.
    let mut first = tune_command(dir.path(), QUERIES, &[&server.url], "one", &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let json = dir.path().join("one/tune.json");
    let probes_in = |path: &Path| -> usize {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Json>(&t).ok())
            .map_or(0, |t| t["probes"].as_array().map_or(0, Vec::len))
    };
    wait_until("two probes in tune.json", Duration::from_secs(120), || {
        probes_in(&json) >= 2
    });
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    assert!(!first.wait().unwrap().success());
    let kept = tune_json(dir.path(), "one")["probes"].clone();
    assert!(kept.as_array().unwrap().len() >= 2);

    let out = tune(dir.path(), &[&server.url], "one", &[]);
    assert_success(&out, "tune, resumed");
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    let t = tune_json(dir.path(), "one");
    let probes = t["probes"].as_array().unwrap();
    assert_eq!(
        &probes[..kept.as_array().unwrap().len()],
        kept.as_array().unwrap()
    );

    let target = t["target_qps"].as_f64().unwrap();
    let boundary = md_c_boundary(&user_conf(dir.path(), QUERIES), SLOTS);
    assert!(
        target <= boundary && target >= 0.9 * boundary,
        "tune chose {target} QPS; the M/D/c boundary is {boundary}: {t:#}"
    );
    assert_eq!(t["scenario"], "server");
    assert_eq!(t["confirmed"], true, "{t:#}");
    let (hi_pass, lo_fail) = (
        t["highest_pass_qps"].as_f64().unwrap(),
        t["lowest_fail_qps"].as_f64().unwrap(),
    );
    let margin = t["margin"].as_f64().unwrap();
    assert!(hi_pass < lo_fail && (target - hi_pass * (1.0 - margin)).abs() <= 0.011);
    for p in probes {
        for key in [
            "qps",
            "duration_s",
            "queries",
            "p99_ttft_ms",
            "p99_tpot_ms",
            "early_stopping_ttft_ms",
            "early_stopping_tpot_ms",
            "verdict",
            "reason",
        ] {
            assert!(p.get(key).is_some(), "{key} missing in {p}");
        }
    }
    for p in probes.iter().filter(|p| p["kind"] == "search") {
        assert!(p["verdict"] == "VALID" || p["verdict"] == "INVALID", "{p}");
        // At least min_query_count: LoadGen rounds up to whole passes over the samples.
        assert!(p["queries"].as_u64().unwrap() >= QUERIES, "{p}");
        let logs = dir.path().join(p["logs"].as_str().unwrap());
        assert!(
            logs.join("mlperf_log_detail.txt").is_file(),
            "{}",
            logs.display()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("gpt-oss-120b.Server.target_qps = {target}")),
        "{stdout}"
    );
    // The answer holds on its own, and 15 % more does not.
    assert!(run_at(dir.path(), &server.url, target, "at-target"));
    assert!(!run_at(
        dir.path(),
        &server.url,
        1.15 * target,
        "above-target"
    ));

    // Once done, the same command runs nothing again.
    let again = tune(dir.path(), &[&server.url], "one", &[]);
    assert_success(&again, "tune, rerun");
    let t2 = tune_json(dir.path(), "one");
    assert_eq!(t2["probes"], t["probes"]);
    assert_eq!(t2["target_qps"], t["target_qps"]);

    // Two such servers carry about twice the QPS of one, or more: the pool
    // sends each request to the endpoint with fewer outstanding, which is
    // between two separate M/D/8 queues (2×) and one M/D/16 queue (the
    // pooled bound, derived like the single boundary).
    let second = sim_server(SLOTS);
    let two = tune(dir.path(), &[&server.url, &second.url], "two", &[]);
    assert_success(&two, "tune, two endpoints");
    let q2 = tune_json(dir.path(), "two")["target_qps"].as_f64().unwrap();
    let pooled = md_c_boundary(&user_conf(dir.path(), QUERIES), 2 * SLOTS);
    assert!(
        q2 >= 1.6 * target && q2 <= pooled,
        "{target} QPS on one endpoint, {q2} on two; one M/D/16 queue passes up to {pooled}"
    );
}

#[test]
fn an_unreachable_endpoint_is_named_before_any_probe() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = tune(dir.path(), &[&url], "out", &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&url) && err.contains("not ready"), "{err}");
    assert!(!dir.path().join("out/probes").exists());
}

#[test]
fn a_budget_too_small_for_one_probe_says_so() {
    let server = sim_server(SLOTS);
    let dir = tempfile::tempdir().unwrap();
    let out = tune(
        dir.path(),
        &[&server.url],
        "out",
        &[
            "--budget",
            "2s",
            "--probe-duration",
            "5s",
            "--start-qps",
            "50",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("too small for even one probe"), "{err}");
    // The same with a budget above --probe-duration that one probe's schedule still exceeds.
    let out = tune(
        dir.path(),
        &[&server.url],
        "out2",
        &[
            "--budget",
            "6s",
            "--probe-duration",
            "5s",
            "--start-qps",
            "50",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("too small for even one probe"),
        "{}",
        stderr(&out)
    );
}

/// A server that is ready (`/health`) but answers every generation with HTTP 500.
fn failing_server() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let get = line.starts_with("GET");
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, text) = if get {
                        ("200 OK", r#"{"data":[]}"#)
                    } else {
                        (
                            "500 Internal Server Error",
                            r#"{"error":"CUDA out of memory"}"#,
                        )
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if conn.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_server_failing_every_request_has_no_passing_qps() {
    let url = failing_server();
    let dir = tempfile::tempdir().unwrap();
    // Short probes: LoadGen issues a probe's whole schedule even when every request fails.
    let out = tune_with(dir.path(), 662, &[&url], "out", &["--start-qps", "200"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no passing QPS"), "{err}");
    assert!(err.contains("requests failed"), "{err}");
    assert!(err.contains("500"), "{err}");
    let t = tune_json(dir.path(), "out");
    assert_eq!(t["target_qps"], Json::Null);
    assert_eq!(t["probes"][0]["verdict"], "error", "{t:#}");
}

#[test]
fn a_probe_failing_mid_way_is_recorded_and_the_search_goes_on() {
    let _one = serial();
    let server = sim_server(SLOTS);
    let port = server.addr().rsplit(':').next().unwrap().to_string();
    let url = server.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    // 662 queries a probe, tune's least: shorter probes (early stopping then
    // allows one over the limit).
    let search =
        std::thread::spawn(move || tune_with(&path, 662, &[&url], "out", &["--start-qps", "90"]));
    // Kill the server once the first probe has completed some samples, and
    // start a new one on the same port.
    let samples = dir.path().join("out/probes/01/samples.jsonl");
    wait_until("the first probe's samples", Duration::from_secs(60), || {
        std::fs::read_to_string(&samples).is_ok_and(|s| s.lines().count() > 100)
    });
    drop(server);
    let mut restarted = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(["serve", "--port", &port])
        .args(sim_args(SLOTS))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = search.join().unwrap();
    let _ = restarted.kill();
    let _ = restarted.wait();
    assert_success(&out, "tune after a failed probe");
    let t = tune_json(dir.path(), "out");
    let first = &t["probes"][0];
    assert_eq!(first["verdict"], "error", "{t:#}");
    assert!(
        first["reason"]
            .as_str()
            .unwrap()
            .contains("requests failed"),
        "{first}"
    );
    assert!(t["probes"].as_array().unwrap().len() > 2, "{t:#}");
    assert!(t["target_qps"].as_f64().unwrap() > 0.0, "{t:#}");
}

#[test]
fn offline_finds_where_tokens_per_second_stop_rising() {
    let _one = serial();
    // 4 requests at once: tokens/s doubles up to --max-concurrency 4, then stays.
    let server = sim_server(4);
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), "data.jsonl", &[24; SAMPLES]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args([
            "tune",
            "--scenario",
            "offline",
            "--backend",
            "sglang",
            "--endpoint",
            &server.url,
            "--dataset",
            data.to_str().unwrap(),
            "--max-new-tokens",
            &TOKENS.to_string(),
            "--probe-duration",
            "1s",
            "--budget",
            "5m",
            "--output-dir",
            "out",
        ])
        .current_dir(dir.path())
        .env("TIKTOKEN_RS_CACHE_DIR", dir.path())
        .output()
        .unwrap();
    assert_success(&out, "tune --scenario offline");
    let t = tune_json(dir.path(), "out");
    assert_eq!(t["scenario"], "offline");
    assert_eq!(t["max_concurrency"], 4, "{t:#}");
    let tried: Vec<u64> = t["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["max_concurrency"].as_u64().unwrap())
        .collect();
    assert_eq!(tried, [1, 2, 4, 8], "{t:#}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("knee at --max-concurrency 4"), "{stdout}");
}
