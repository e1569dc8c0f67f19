//! `report` on real run folders: a Server run with failures against
//! `serve --model sim`, an accuracy run scored by `eval`, a TEST09 folder from
//! `compliance`, logs written by the official LoadGen wheel, and a comparison
//! of two runs. Each page is opened in headless Chromium: no console error, no
//! network request, every chart drawn with the count of points the input
//! implies, the verdict of the summary, and a screenshot under the test's
//! output folder (target/report-screenshots/). Bad input (missing, cut or
//! foreign logs, an empty folder, a bad samples.jsonl line) gives a report with
//! notes or a clear error, never a panic. A run with telemetry (`/metrics`
//! scrapes and a power command) draws the servers' gauges and the GPUs' watts
//! on the timeline's axis and shows the energy of `results.json`.

mod common;
mod report_browser;

use std::path::{Path, PathBuf};

use common::{assert_success, mlperf_gptoss, python_with, stderr, write_dataset, Server, FAST_SIM};
use report_browser::{open, Page};
use serde_json::Value as Json;

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

/// The summary's own `Result is : X`.
fn summary_verdict(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("mlperf_log_summary.txt")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("Result is : "))
        .unwrap_or_else(|| panic!("no verdict in {text}"))
        .trim()
        .to_string()
}

/// `report DIRS -o OUT` that must succeed; returns its stderr.
fn report(cwd: &Path, dirs: &[&Path], out: &Path) -> String {
    let mut args = vec!["report".to_string()];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap().to_string()));
    args.extend(["-o".to_string(), out.to_str().unwrap().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = mlperf_gptoss(cwd, cwd, &args);
    assert_success(&run, "report");
    assert!(!stderr(&run).contains("panicked"), "{}", stderr(&run));
    stderr(&run)
}

/// Where screenshots go: under the test's own target folder.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Opens the report, checks it loaded cleanly, writes its screenshot.
fn page(html: &Path, name: &str) -> Page {
    let page = open(html, &screenshot_dir().join(format!("{name}.png")));
    assert_eq!(
        page.console_errors,
        Vec::<String>::new(),
        "{name}: console errors"
    );
    assert_eq!(
        page.requests,
        Vec::<String>::new(),
        "{name}: network requests"
    );
    assert!(screenshot_dir().join(format!("{name}.png")).is_file());
    page
}

/// A Server run against `serve --model sim`: prompts of 80 tokens are refused
/// by an engine with a 64-token context, the others finish.
fn server_run_with_failures(dir: &Path, server: &Server, out: &str) -> (PathBuf, String) {
    let lens: Vec<usize> = (0..24).map(|i| if i % 6 == 5 { 80 } else { 12 }).collect();
    let data = write_dataset(dir, "data.jsonl", &lens);
    let conf = write_conf(
        dir,
        "*.Server.target_qps = 200\n*.Server.min_duration = 0\n*.Server.min_query_count = 24\n",
    );
    let args = [
        "run",
        "--scenario",
        "server",
        "--dataset",
        data.to_str().unwrap(),
        "--user-conf",
        &conf,
        "--backend",
        "sglang",
        "--endpoint",
        &server.url,
        "--max-new-tokens",
        "16",
        "--output-dir",
        out,
        "--report",
    ];
    let run = mlperf_gptoss(dir, dir, &args);
    assert!(
        !run.status.success(),
        "failed samples make the run exit non-zero"
    );
    (dir.join(out).join("server/performance"), stderr(&run))
}

/// The charts every run with records has, checked against the records.
fn check_record_charts(page: &Page, run: usize, records: &[Json]) {
    let finished: Vec<&Json> = records.iter().filter(|r| r["error"].is_null()).collect();
    let with_first = finished
        .iter()
        .filter(|r| !r["first_token_ns"].is_null())
        .count();
    let with_tpot = finished
        .iter()
        .filter(|r| !r["first_token_ns"].is_null() && r["output_tokens"].as_u64().unwrap() > 1)
        .count();
    let prefix = format!("run{run}-");
    let chart = |id: &str| page.chart(&format!("{prefix}{id}"));
    // Offline reports no first token: then there is no TTFT or TPOT chart at all.
    for (metric, n) in [("ttft", with_first), ("tpot", with_tpot)] {
        if n == 0 {
            assert_eq!(page.count(&format!("#{prefix}{metric}-hist")), 0);
            continue;
        }
        assert_eq!(chart(&format!("{metric}-hist")).total, n as u64);
        assert_eq!(chart(&format!("{metric}-cdf")).points, n.min(200));
    }
    assert_eq!(chart("output-hist").total, finished.len() as u64);
    // One circle per first token and one per completed or failed sample.
    let first_tokens = records
        .iter()
        .filter(|r| !r["first_token_ns"].is_null())
        .count();
    let scatter = chart("timeline-scatter");
    assert_eq!(scatter.points, first_tokens + records.len());
    assert_eq!(scatter.circles, scatter.points);
    for id in ["timeline-issue", "timeline-inflight", "timeline-tokens"] {
        assert!(chart(id).points > 0, "{id} is drawn");
    }
}

#[test]
fn server_run_with_failures_in_the_browser() {
    let server = Server::start(&[&FAST_SIM[..], &["--context-length", "64"]].concat());
    let dir = tempfile::tempdir().unwrap();
    let (logs, run_err) = server_run_with_failures(dir.path(), &server, "out");
    let html = logs.join("report.html");
    assert!(
        html.is_file(),
        "run --report writes report.html beside the logs: {run_err}"
    );
    assert!(
        run_err.contains("client self-check: issue lateness p50/p99/max"),
        "{run_err}"
    );
    assert!(
        run_err.contains("report: out/server/performance/report.html"),
        "{run_err}"
    );

    let records = records(&logs);
    let failed = records.iter().filter(|r| !r["error"].is_null()).count();
    let long = records
        .iter()
        .filter(|r| r["index"].as_u64().unwrap() % 6 == 5)
        .count();
    assert!(
        failed > 0 && failed == long,
        "exactly the 80-token prompts were refused"
    );
    let page = page(&html, "server-with-failures");
    assert_eq!(page.verdicts, [summary_verdict(&logs)]);
    check_record_charts(&page, 0, &records);
    assert_eq!(page.count("#run0-failures table.failures tr") - 1, failed);
    // The self-check row exists and the TTFT limit of Server (3000 ms) is marked.
    assert_eq!(page.count("#run0-selfcheck table tr"), 3);
    assert!(page.text("#run0-latency").contains("limit 3000 ms"));
}

fn jsonl(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn telemetry_and_energy_in_the_browser() {
    // Two requests at a time, 20 tokens in ~60 ms each, 40 queries/s: a queue builds.
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "10",
        "--sim-tpot-ms",
        "2.5",
        "--sim-max-concurrency",
        "2",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), "data.jsonl", &[12; 40]);
    let conf = write_conf(
        dir.path(),
        "*.Server.target_qps = 40\n*.Server.min_duration = 0\n*.Server.min_query_count = 60\n",
    );
    // Two GPUs read 20 times a second; every 15th line is unreadable (a gap).
    let script = dir.path().join("power.sh");
    std::fs::write(
        &script,
        "i=0; while :; do i=$((i+1)); if [ $((i % 15)) -eq 0 ]; then echo 'n/a'; \
         else echo \"$((150 + i % 7)) 100\"; fi; sleep 0.05; done\n",
    )
    .unwrap();
    let cmd = format!("sh {}", script.display());
    let args = [
        "run",
        "--scenario",
        "server",
        "--dataset",
        data.to_str().unwrap(),
        "--user-conf",
        &conf,
        "--backend",
        "sglang",
        "--endpoint",
        &server.url,
        "--max-new-tokens",
        "20",
        "--output-dir",
        "out",
        "--metrics-interval",
        "0.2",
        "--power-cmd",
        &cmd,
        "--report",
    ];
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    assert_success(&run, "run");
    let logs = dir.path().join("out/server/performance");
    let html = logs.join("report.html");
    assert!(html.is_file(), "{}", stderr(&run));

    let scrapes = jsonl(&logs.join("server_metrics.jsonl"));
    let power = jsonl(&logs.join("power.jsonl"));
    let results: Json =
        serde_json::from_str(&std::fs::read_to_string(logs.join("results.json")).unwrap()).unwrap();
    let has = |r: &Json, k: &str| r["metrics"].get(k).is_some_and(|v| v.is_number());
    let count = |k: &str| scrapes.iter().filter(|r| has(r, k)).count();
    assert!(
        scrapes
            .iter()
            .any(|r| r["metrics"]["queued"].as_f64().unwrap_or(0.0) > 0.0),
        "the sim never queued: {scrapes:?}"
    );
    let readings = power.iter().filter(|r| r.get("gap").is_none()).count();
    let gaps = power.iter().filter(|r| r.get("gap").is_some()).count();
    assert!(gaps > 0 && readings > 0, "{power:?}");
    // Short series are drawn point for point (binning starts above 300).
    assert!(readings <= 300);

    let page = page(&html, "telemetry");
    // Kept beside the screenshot, to be looked at whole.
    std::fs::copy(&html, screenshot_dir().join("telemetry.html")).unwrap();
    check_record_charts(&page, 0, &records(&logs));
    assert_eq!(
        page.chart("run0-timeline-server-requests").points,
        count("running") + count("queued")
    );
    assert_eq!(
        page.chart("run0-timeline-server-kv").points,
        count("kv_usage") + count("prefix_hit_rate") + count("spec_accept_rate")
    );
    assert_eq!(
        page.chart("run0-timeline-server-tokens").points,
        count("gen_tokens_per_s")
    );
    // GPU 0, GPU 1 and their total for every reading; each gap breaks the lines.
    let watts = page.chart("run0-timeline-power");
    assert_eq!(watts.points, 3 * readings);
    // The same x axis on every timeline chart: the same tick labels.
    let ticks = page.x_ticks("run0-timeline-issue");
    assert!(!ticks.is_empty());
    for id in [
        "timeline-server-requests",
        "timeline-server-kv",
        "timeline-server-tokens",
        "timeline-power",
    ] {
        assert_eq!(page.x_ticks(&format!("run0-{id}")), ticks, "{id}");
    }

    let energy = &results["energy"];
    assert!(energy.is_object(), "{results}");
    for (id, key) in [
        ("window", "window_s"),
        ("joules", "joules"),
        ("avg-watts", "avg_watts"),
        ("peak-watts", "peak_watts"),
        ("joules-per-token", "joules_per_output_token"),
        ("tokens-per-kw", "tokens_per_s_per_kw"),
    ] {
        let want = energy[key].as_f64().unwrap();
        let exact: f64 = page
            .attr(&format!("#run0-energy-{id}"), "data-value")
            .parse()
            .unwrap();
        assert_eq!(exact, want, "{id}");
        // The text shows it rounded to 3 decimals (1 from 100 up).
        let text = page.text(&format!("#run0-energy-{id}"));
        let shown: f64 = text.split_whitespace().next().unwrap().parse().unwrap();
        assert!(
            (shown - want).abs() <= 0.05 + want.abs() * 1e-3,
            "{id}: {text} vs {want}"
        );
    }
    assert_eq!(page.count("#run0-energy table.gpus tr") - 1, 2);
    assert!(page
        .text("#run0-energy h3")
        .contains(energy["source"].as_str().unwrap()));
}

#[test]
fn accuracy_run_scored_by_eval_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<(&str, &str)> = (0..6)
        .map(|i| {
            if i < 3 {
                ("aime25", "17")
            } else {
                ("gpqa_diamond", "B")
            }
        })
        .collect();
    let mut table = testkit::reference_table(&rows);
    table.columns.insert(
        0,
        dataset::Column {
            name: "input_tokens".into(),
            values: (0..rows.len())
                .map(|i| dataset::Value::Ints(vec![1000 + i as i64, 2000, 3000]))
                .collect(),
        },
    );
    let reference = dir.path().join("ref.parquet");
    dataset::write_table(&reference, &table).unwrap();
    let mut args = vec![
        "run",
        "--mode",
        "accuracy",
        "--dataset",
        reference.to_str().unwrap(),
        "--output-dir",
        "out",
        "--sim-output-len",
        "fixed:9",
    ];
    args.extend(FAST_SIM);
    assert_success(&mlperf_gptoss(dir.path(), dir.path(), &args), "run");
    let logs = dir.path().join("out/offline/accuracy");
    let eval = mlperf_gptoss(
        dir.path(),
        dir.path(),
        &[
            "eval",
            "--mlperf-log",
            logs.join("mlperf_log_accuracy.json").to_str().unwrap(),
            "--reference-data",
            reference.to_str().unwrap(),
            "--output-file",
            logs.join("eval.json").to_str().unwrap(),
        ],
    );
    assert_success(&eval, "eval");
    let printed = String::from_utf8_lossy(&eval.stdout).into_owned();
    let exact = printed
        .lines()
        .find_map(|l| l.strip_prefix("'exact_match': "))
        .unwrap()
        .to_string();
    let html = dir.path().join("accuracy.html");
    report(dir.path(), &[&logs], &html);
    let page = page(&html, "accuracy-run");
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(logs.join("eval.json")).unwrap()).unwrap();
    let datasets = json["summary"]["per_dataset"].as_object().unwrap().len();
    assert_eq!(page.count("#run0-accuracy table tr") - 1, datasets);
    assert!(
        page.text("#run0-exact-match")
            .contains(&format!("exact_match {exact} against the target 82.2987")),
        "{}",
        page.text("#run0-exact-match")
    );
    check_record_charts(&page, 0, &records(&logs));
}

#[test]
fn test09_folder_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_dataset(dir.path(), "data.jsonl", &[12; 10]);
    let conf = write_conf(
        dir.path(),
        "*.*.performance_sample_count_override = 10\n*.Offline.min_duration = 0\n*.Offline.min_query_count = 10\n",
    );
    let mut args = vec![
        "compliance",
        "test09",
        "--dataset",
        data.to_str().unwrap(),
        "--user-conf",
        &conf,
        "--sim-output-len",
        "fixed:12",
        "--min-output-tokens",
        "11",
        "--max-output-tokens",
        "13",
    ];
    args.extend(FAST_SIM);
    assert_success(&mlperf_gptoss(dir.path(), dir.path(), &args), "compliance");
    let folder = dir.path().join("mlperf_results/compliance/Offline/TEST09");
    let verify = std::fs::read_to_string(folder.join("verify_output_len.txt")).unwrap();
    let verdict = verify.lines().last().unwrap().to_string();
    let total: u64 = verify
        .lines()
        .find_map(|l| l.strip_prefix("Total samples: "))
        .unwrap()
        .parse()
        .unwrap();
    let html = dir.path().join("test09.html");
    report(dir.path(), &[&folder], &html);
    let page = page(&html, "test09");
    assert_eq!(
        page.verdicts,
        [summary_verdict(&folder.join("performance/run_1"))]
    );
    assert_eq!(page.text("#run0-accuracy td.compliance-verdict"), verdict);
    // No samples.jsonl in the compliance folder: lengths come from the accuracy log.
    assert_eq!(page.chart("run0-output-hist").total, total);
}

/// Logs of the official LoadGen wheel for `model` in `scenario`.
fn official_logs(dir: &Path, model: &str, scenario: &str) -> PathBuf {
    let conf = write_conf(
        dir,
        "*.Server.target_qps = 200\n*.Server.min_duration = 0\n*.Server.min_query_count = 64\n\
         *.Offline.min_duration = 0\n*.Offline.min_query_count = 64\n",
    );
    let out = dir.join(format!("official-{model}"));
    std::fs::create_dir_all(&out).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/official_loadgen_sut.py");
    let run = python_with("mlperf_loadgen")
        .arg(script)
        .args([out.to_str().unwrap(), model, scenario, &conf])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

#[test]
fn official_loadgen_logs_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let logs = official_logs(dir.path(), "gpt-oss-120b", "Server");
    let html = dir.path().join("official.html");
    let err = report(dir.path(), &[&logs], &html);
    assert!(err.contains("no samples.jsonl"), "{err}");
    let page = page(&html, "official-loadgen");
    assert_eq!(page.verdicts, [summary_verdict(&logs)]);
    let summary = std::fs::read_to_string(logs.join("mlperf_log_summary.txt")).unwrap();
    // One point per TTFT / TPOT statistic of the summary: min, six percentiles, max.
    for (id, needle) in [
        ("ttft", "First Token latency (ns)"),
        ("tpot", "Time per Output Token (ns)"),
    ] {
        let lines = summary
            .lines()
            .filter(|l| {
                let l = l.to_lowercase();
                (l.contains(&needle.to_lowercase())
                    || l.contains(if id == "ttft" {
                        "percentile first token"
                    } else {
                        "percentile time to output token"
                    }))
                    && !l.starts_with("mean")
            })
            .count();
        assert_eq!(
            page.chart(&format!("run0-{id}-quantiles")).points,
            lines,
            "{id}"
        );
    }
    let more: String = summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("* Would need to run at least "))
        .map(|r| r.split_whitespace().next().unwrap().to_string())
        .expect("the wheel's short run did not meet early stopping");
    assert!(page
        .text("#run0-latency")
        .contains(&format!("Would need to run at least {more} more")));
}

#[test]
fn two_runs_compared_in_the_browser() {
    let server = Server::start(&[&FAST_SIM[..], &["--context-length", "64"]].concat());
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = server_run_with_failures(dir.path(), &server, "a");
    let (b, _) = server_run_with_failures(dir.path(), &server, "b");
    let html = dir.path().join("compare.html");
    report(dir.path(), &[&a, &b], &html);
    let page = page(&html, "comparison");
    assert_eq!(page.verdicts, [summary_verdict(&a), summary_verdict(&b)]);
    let ttft = |d: &Path| {
        records(d)
            .iter()
            .filter(|r| r["error"].is_null() && !r["first_token_ns"].is_null())
            .count()
            .min(200)
    };
    assert_eq!(page.chart("compare-ttft-cdf").points, ttft(&a) + ttft(&b));
    // Header and one column per run.
    assert_eq!(
        page.count("#comparison table.grid:first-of-type tr:first-child th"),
        3
    );
    assert!(page.count("#delta-table tr") > 1);
    check_record_charts(&page, 1, &records(&b));
}

/// `report` on a folder, expecting success; returns its stderr.
fn report_notes(dir: &Path, run_dir: &Path) -> String {
    let html = dir.join("bad.html");
    let err = report(dir, &[run_dir], &html);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Could not be read or shown"), "{page}");
    err
}

#[test]
fn bad_input_gives_notes_or_a_clear_error() {
    let server = Server::start(&[&FAST_SIM[..], &["--context-length", "64"]].concat());
    let dir = tempfile::tempdir().unwrap();
    let (logs, _) = server_run_with_failures(dir.path(), &server, "out");
    let copy = |name: &str| {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(&logs).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
        to
    };

    // Cut logs: the detail log mid-line, the summary just before its verdict.
    let cut = copy("cut");
    let detail = std::fs::read(cut.join("mlperf_log_detail.txt")).unwrap();
    std::fs::write(
        cut.join("mlperf_log_detail.txt"),
        &detail[..detail.len() / 2],
    )
    .unwrap();
    let summary = std::fs::read_to_string(cut.join("mlperf_log_summary.txt")).unwrap();
    let verdict_at = summary.find("Result is").unwrap();
    std::fs::write(cut.join("mlperf_log_summary.txt"), &summary[..verdict_at]).unwrap();
    let err = report_notes(dir.path(), &cut);
    assert!(
        err.contains("mlperf_log_detail.txt: 1 line(s) could not be read"),
        "{err}"
    );
    assert!(err.contains("has no 'Result is' line"), "{err}");

    // Missing logs: only the records are left.
    let missing = copy("missing");
    for name in ["mlperf_log_summary.txt", "mlperf_log_detail.txt"] {
        std::fs::remove_file(missing.join(name)).unwrap();
    }
    let err = report_notes(dir.path(), &missing);
    assert!(err.contains("no mlperf_log_summary.txt"), "{err}");

    // A bad line in samples.jsonl: named, left out, the rest kept.
    let bad = copy("bad-line");
    let text = std::fs::read_to_string(bad.join("samples.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"id\": 7, \"index\": oops}");
    std::fs::write(bad.join("samples.jsonl"), lines.join("\n")).unwrap();
    let err = report_notes(dir.path(), &bad);
    assert!(err.contains("samples.jsonl line 4: "), "{err}");

    // Logs of another benchmark (resnet50 Offline, from the official wheel).
    let other = official_logs(dir.path(), "resnet50", "Offline");
    let err = report_notes(dir.path(), &other);
    assert!(err.contains("carry no token latencies"), "{err}");

    // An empty folder and a missing one: a clear error, no report.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for (folder, needle) in [
        (empty.clone(), "nothing to report"),
        (dir.path().join("nope"), "no such folder"),
    ] {
        let out = mlperf_gptoss(
            dir.path(),
            dir.path(),
            &["report", folder.to_str().unwrap(), "-o", "x.html"],
        );
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains(needle) && err.contains(folder.to_str().unwrap()),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!dir.path().join("x.html").exists());
    }
}
