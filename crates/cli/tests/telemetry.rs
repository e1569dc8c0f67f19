//! Telemetry in a real run: `run` against `serve --model sim` (a real
//! process), scraping its `/metrics` while it is overloaded; a power
//! command end to end; a `/metrics` page that never answers; and the
//! no-NVML note.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// An accuracy-mode Offline run (every sample once) of `rows` prompts
/// against `url`, all in flight at once, plus `extra`.
fn run(dir: &Path, url: &str, rows: usize, extra: &[&str]) -> std::process::Output {
    let data = write_dataset(dir, "prompts.jsonl", &vec![8; rows]);
    let rows = rows.to_string();
    let args = [
        &[
            "run",
            "--backend",
            "sglang",
            "--endpoint",
            url,
            "--dataset",
            data.to_str().unwrap(),
            "--mode",
            "accuracy",
            "--max-concurrency",
            &rows,
            "--max-new-tokens",
            "20",
        ][..],
        extra,
    ]
    .concat();
    mlperf_gptoss(dir, dir, &args)
}

fn outdir(dir: &Path) -> std::path::PathBuf {
    dir.join("mlperf_results/offline/accuracy")
}

#[test]
fn server_metrics_follow_the_load_of_an_overloaded_sim() {
    // Two requests at a time, 20 tokens in ~115 ms each: 30 of 32 queue.
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "20",
        "--sim-tpot-ms",
        "5",
        "--sim-max-concurrency",
        "2",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &server.url,
        32,
        &["--metrics-interval", "0.25", "--power", "none"],
    );
    assert_success(&out, "run");
    let records = jsonl(&outdir(dir.path()).join("server_metrics.jsonl"));
    let samples = jsonl(&outdir(dir.path()).join("samples.jsonl"));
    assert_eq!(samples.len(), 32);
    let url = format!("{}/metrics", server.url);
    assert!(records.iter().all(|r| r["url"] == url.as_str()));
    // A scrape slower than the interval is a gap (a loaded machine has some).
    let records: Vec<Value> = records
        .into_iter()
        .filter(|r| r.get("gap").is_none())
        .collect();
    assert!(records.len() >= 4, "{records:?}");
    assert!(records.iter().all(|r| r["server"] == "sglang"));
    // Requests in flight per the client's own records while the scrape ran.
    let in_flight = |r: &Value| {
        let t0 = r["t_ns"].as_u64().unwrap();
        let t1 = t0 + (r["scrape_ms"].as_f64().unwrap() * 1e6) as u64;
        samples
            .iter()
            .filter(|s| {
                s["sent_ns"].as_u64().unwrap() <= t1 && s["done_ns"].as_u64().unwrap() >= t0
            })
            .count()
    };
    let queued: Vec<&Value> = records
        .iter()
        .filter(|r| r["metrics"]["queued"].as_f64().unwrap() > 0.0)
        .collect();
    assert!(
        !queued.is_empty(),
        "the sim never reported a queue: {records:?}"
    );
    for r in &queued {
        // The sim runs 2; a queue means the client had more than 2 out.
        assert!(
            in_flight(r) > 2,
            "queued {} with {} in flight",
            r["metrics"]["queued"],
            in_flight(r)
        );
        assert!(r["metrics"]["running"].as_f64().unwrap() <= 2.0, "{r}");
    }
    // The last scrape is taken after LoadGen finished: nothing left.
    let last = records.last().unwrap();
    assert_eq!(last["metrics"]["queued"], 0.0, "{last}");
    assert_eq!(last["metrics"]["running"], 0.0, "{last}");
    let done = samples
        .iter()
        .map(|s| s["done_ns"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(last["t_ns"].as_u64().unwrap() >= done);
    // The sim generated tokens while scraped.
    assert!(records
        .iter()
        .any(|r| r["metrics"]["gen_tokens_per_s"].as_f64().unwrap_or(0.0) > 0.0));
}

#[test]
fn a_power_command_gives_the_energy_of_the_measured_window() {
    let server = Server::start(&FAST_SIM);
    let dir = tempfile::tempdir().unwrap();
    // Two GPUs at 150 W and 100 W, read 20 times a second.
    let script = dir.path().join("power.sh");
    std::fs::write(&script, "while :; do echo '150 100'; sleep 0.05; done\n").unwrap();
    let cmd = format!("sh {}", script.display());
    let out = run(
        dir.path(),
        &server.url,
        16,
        &["--power-cmd", &cmd, "--metrics-interval", "0"],
    );
    assert_success(&out, "run");
    assert_stderr_has(
        &out,
        &[
            "energy (command sh ",
            "GPU 0: avg 150.0 W",
            "GPU 1: avg 100.0 W",
        ],
    );
    let outdir = outdir(dir.path());
    assert!(!outdir.join("server_metrics.jsonl").exists());
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(outdir.join("results.json")).unwrap())
            .unwrap();
    let e = &results["energy"];
    assert_eq!(e["source"], format!("command {cmd}").as_str());
    // The window from the client's own records: first issue to last completion.
    let samples = jsonl(&outdir.join("samples.jsonl"));
    let first = samples
        .iter()
        .map(|s| s["issued_ns"].as_u64().unwrap())
        .min()
        .unwrap();
    let last = samples
        .iter()
        .map(|s| s["done_ns"].as_u64().unwrap())
        .max()
        .unwrap();
    let window = (last - first) as f64 / 1e9;
    let tokens: u64 = samples
        .iter()
        .map(|s| s["output_tokens"].as_u64().unwrap())
        .sum();
    let f = |k: &str| e[k].as_f64().unwrap_or_else(|| panic!("{k}: {e}"));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    assert!(close(f("window_s"), window), "{e}");
    // Constant power: the trapezoid rule is exact, where the readings cover the window.
    if close(f("covered_s"), window) {
        assert!(close(f("joules"), 250.0 * window), "{e}");
    }
    assert!(close(f("avg_watts"), 250.0), "{e}");
    assert_eq!(f("peak_watts"), 250.0);
    assert!(
        close(f("joules_per_output_token"), f("joules") / tokens as f64),
        "{e}"
    );
    assert!(
        close(
            f("tokens_per_s_per_kw"),
            tokens as f64 / f("covered_s") / 0.25
        ),
        "{e}"
    );
    assert!(
        close(e["gpus"][0]["avg_watts"].as_f64().unwrap(), 150.0),
        "{e}"
    );
    assert_eq!(e["gpus"][1]["peak_watts"], 100.0);
    assert!(e["run"]["window_s"].as_f64().unwrap() >= f("covered_s"));
    let readings = jsonl(&outdir.join("power.jsonl"));
    assert!(!readings.is_empty());
    assert!(readings
        .iter()
        .all(|r| r["watts"]["0"] == 150.0 && r["watts"]["1"] == 100.0));
}

#[test]
fn a_metrics_page_that_never_answers_is_a_gap_and_delays_nothing() {
    let server = Server::start(&FAST_SIM);
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/metrics", silent.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &server.url,
        8,
        &[
            "--metrics-url",
            &silent_url,
            "--metrics-interval",
            "0.2",
            "--power",
            "none",
        ],
    );
    assert_success(&out, "run");
    let records = jsonl(&outdir(dir.path()).join("server_metrics.jsonl"));
    assert!(!records.is_empty());
    for r in &records {
        let gap = r["gap"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(
            gap.contains(&silent_url) && gap.contains("no answer within"),
            "{gap}"
        );
    }
    assert_eq!(jsonl(&outdir(dir.path()).join("samples.jsonl")).len(), 8);
    drop(silent);
}

#[test]
fn without_a_driver_power_is_a_one_line_note_and_nvml_asked_for_is_an_error() {
    if Path::new("/proc/driver/nvidia/version").exists() {
        // A GPU host: the same run reads NVML instead (crates/telemetry/tests/power.rs).
        return;
    }
    let server = Server::start(&FAST_SIM);
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &server.url, 2, &[]);
    assert_success(&out, "run");
    let err = stderr(&out);
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("NVML")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].starts_with("note: no GPU power readings"), "{err}");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(outdir(dir.path()).join("results.json")).unwrap(),
    )
    .unwrap();
    assert!(results["energy"].is_null(), "{results}");

    let out = run(dir.path(), &server.url, 2, &["--power", "nvml"]);
    assert!(!out.status.success());
    assert_stderr_has(&out, &["--power nvml", "libnvidia-ml"]);
}

#[test]
fn bad_telemetry_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&FAST_SIM);
    for (flags, needle) in [
        (&["--metrics-keep", "("][..], "--metrics-keep"),
        (&["--metrics-interval=-1"][..], "--metrics-interval"),
        (
            &["--power", "nvml", "--power-cmd", "echo 1"][..],
            "two power sources",
        ),
        (&["--power-interval-ms", "0"][..], "--power-interval-ms"),
    ] {
        let out = run(dir.path(), &server.url, 1, flags);
        assert!(!out.status.success(), "{flags:?}");
        assert_stderr_has(&out, &[needle]);
    }
}
