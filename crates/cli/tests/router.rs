//! Scale-out the production way: `serve --model sim` workers behind the real
//! SGLang router (`sglang-router` 0.3.2 from PyPI, a Rust load balancer that
//! `.ci/run` installs), with `run` pointed at the router's one endpoint.
//! Every sample must complete, the load must reach every worker (their own
//! `/metrics` say so), and a worker killed mid-run must cost only what the
//! router reports as failed, never a record that had already finished.
//!
//! The router is required: without it these tests fail and say how to
//! install it. A developer without it may set `MLPERF_GPTOSS_SKIP_ROUTER=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{assert_success, stderr, wait_until, write_dataset, Server};
use serde_json::Value as Json;

/// The pinned router version, as `.ci/requirements.txt` installs it.
const ROUTER_VERSION: &str = "0.3.2";

/// The router as a real process on a free loopback port; killed on drop.
struct Router {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Router {
    /// Starts the router in front of `workers` and waits until it counts
    /// every one of them healthy. `None` only when the developer asked to
    /// skip; a missing router otherwise fails the test.
    fn start(workers: &[&Server], log_dir: &Path) -> Option<Router> {
        if std::env::var_os("MLPERF_GPTOSS_SKIP_ROUTER").is_some() {
            eprintln!("MLPERF_GPTOSS_SKIP_ROUTER is set: skipping the sglang-router test");
            return None;
        }
        let probe = Command::new("python3")
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('sglang-router'))",
            ])
            .output();
        let version = match &probe {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            }
            _ => panic!(
                "this test needs the SGLang router: `pip install sglang-router=={ROUTER_VERSION}` \
                 (or set MLPERF_GPTOSS_SKIP_ROUTER=1 to skip it on a developer machine)"
            ),
        };
        assert_eq!(
            version, ROUTER_VERSION,
            "sglang-router {version} is installed; these tests pin {ROUTER_VERSION}: \
             `pip install sglang-router=={ROUTER_VERSION}`"
        );
        let free_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let port = free_port();
        // Its Prometheus exporter binds a fixed port (29000) unless told
        // otherwise, so two routers at once (the tests run in parallel) clash.
        let metrics_port = free_port();
        let log = log_dir.join("router.log");
        let urls: Vec<&str> = workers.iter().map(|w| w.url.as_str()).collect();
        let child = Command::new("python3")
            .args(["-m", "sglang_router.launch_router", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--log-level", "warn"])
            .args(["--prometheus-host", "127.0.0.1"])
            .args(["--prometheus-port", &metrics_port.to_string()])
            .arg("--worker-urls")
            .args(&urls)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("python3 runs");
        let mut router = Router {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let addr = router.url.trim_start_matches("http://").to_string();
        let n = workers.len() as u64;
        wait_until(
            "the router to count every worker healthy",
            Duration::from_secs(60),
            || {
                if let Ok(Some(status)) = router.child.try_wait() {
                    panic!("the router exited ({status}):\n{}", router.log_text());
                }
                std::net::TcpStream::connect(&addr).is_ok()
                    && serde_json::from_str::<Json>(
                        &common::request(&addr, "GET", "/readiness", "").1,
                    )
                    .is_ok_and(|r| r["healthy_workers"].as_u64() == Some(n))
            },
        );
        Some(router)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `serve --model sim` worker whose requests take about `tpot_ms` × tokens.
fn worker(tpot_ms: &str) -> Server {
    Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "1",
        "--sim-tpot-ms",
        tpot_ms,
        "--sim-output-len",
        "uniform:8:32",
    ])
}

/// `run --backend sglang --endpoint URL` over `n` prompts with `conf` as the
/// user.conf, writing under `dir/out`.
fn run_command(dir: &Path, url: &str, scenario: &str, n: usize, conf: &str) -> Command {
    let data = write_dataset(dir, "data.jsonl", &vec![24; n]);
    let conf_path = dir.join("user.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"));
    cmd.args(["run", "--backend", "sglang", "--endpoint", url])
        .args(["--scenario", scenario, "--dataset"])
        .arg(&data)
        .arg("--user-conf")
        .arg(&conf_path)
        .args(["--max-new-tokens", "64", "--output-dir", "out"])
        .current_dir(dir)
        .env("TIKTOKEN_RS_CACHE_DIR", dir);
    cmd
}

fn records(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Generation requests each worker has received, from its own `/metrics`.
fn requests_per_worker(workers: &[&Server]) -> Vec<f64> {
    workers
        .iter()
        .map(|w| w.metric("sglang:num_requests_total"))
        .collect()
}

#[test]
fn offline_and_server_runs_through_the_router_complete_and_spread_over_the_workers() {
    let (a, b) = (worker("0.2"), worker("0.2"));
    let workers = [&a, &b];
    let dir = tempfile::tempdir().unwrap();
    let Some(router) = Router::start(&workers, dir.path()) else {
        return;
    };
    let mut before = requests_per_worker(&workers);
    for (scenario, n, conf) in [
        (
            "offline",
            200,
            "*.Offline.min_duration = 0\n*.Offline.min_query_count = 200\n",
        ),
        (
            "server",
            120,
            "*.Server.target_qps = 300\n*.Server.min_duration = 0\n*.Server.min_query_count = 120\n",
        ),
    ] {
        let run = run_command(dir.path(), &router.url, scenario, n, conf)
            .output()
            .unwrap();
        assert_success(&run, &format!("{scenario} through the router"));
        let records = records(&dir.path().join(format!("out/{scenario}/performance/samples.jsonl")));
        assert_eq!(records.len(), n, "{scenario}: one record per sample");
        for r in &records {
            assert!(r["error"].is_null(), "{scenario}: {r}");
            assert!(r["output_tokens"].as_u64().unwrap() >= 8, "{scenario}: {r}");
        }
        let after = requests_per_worker(&workers);
        let got: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        assert_eq!(got.iter().sum::<f64>(), n as f64, "{scenario}: {got:?}");
        assert!(
            got.iter().all(|&g| g > 0.0),
            "{scenario}: the router sent every request to one worker: {got:?}\n{}",
            router.log_text()
        );
        eprintln!("{scenario}: requests per worker {got:?}");
        before = after;
    }
}

#[test]
fn a_worker_killed_mid_run_costs_only_what_the_router_reports_and_loses_nothing_finished() {
    // 40 ms a token and 8 to 32 tokens: each request takes 0.3 to 1.3 s.
    let (mut a, b) = (worker("40"), worker("40"));
    let dir = tempfile::tempdir().unwrap();
    let Some(router) = Router::start(&[&a, &b], dir.path()) else {
        return;
    };
    let n = 60;
    let conf =
        "*.Server.target_qps = 20\n*.Server.min_duration = 0\n*.Server.min_query_count = 60\n";
    let run = run_command(dir.path(), &router.url, "server", n, conf)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let samples = dir.path().join("out/server/performance/samples.jsonl");
    // Kill worker A once some samples have finished and A is busy.
    wait_until(
        "some samples finished and requests running on worker A",
        Duration::from_secs(60),
        || records(&samples).len() >= 10 && a.metric("sglang:num_running_reqs") > 0.0,
    );
    let finished_before = records(&samples);
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let output = run.wait_with_output().unwrap();

    let records = records(&samples);
    assert_eq!(
        records.len(),
        n,
        "one record per sample:\n{}",
        stderr(&output)
    );
    for r in &finished_before {
        assert!(
            records.contains(r),
            "a record written before the kill was lost or changed: {r}"
        );
    }
    let failed: Vec<&Json> = records.iter().filter(|r| !r["error"].is_null()).collect();
    for r in &records {
        // Each sample either finished with its tokens or failed with the reason.
        match r["error"].as_str() {
            None => assert!(
                r["finish_reason"].is_string() && r["output_tokens"].as_u64() >= Some(8),
                "{r}"
            ),
            Some(e) => assert!(!e.is_empty() && r["finish_reason"].is_null(), "{r}"),
        }
    }
    eprintln!(
        "{} of {n} samples failed after the kill; first: {:?}",
        failed.len(),
        failed.first().map(|r| &r["error"])
    );
    if failed.is_empty() {
        // The router retried everything A dropped on B.
        assert_success(&output, "the run after the router retried");
    } else {
        assert!(
            !output.status.success(),
            "failed samples make a non-zero exit"
        );
        common::assert_stderr_has(
            &output,
            &[&format!("{} of {n} samples failed", failed.len())],
        );
    }
    // The router still answers through the surviving worker.
    let r: Json = serde_json::from_str(
        &common::request(
            router.url.trim_start_matches("http://"),
            "GET",
            "/readiness",
            "",
        )
        .1,
    )
    .unwrap();
    eprintln!("router readiness after the kill: {r}");
    assert!(b.metric("sglang:num_finished_requests_total") > 0.0);
}
