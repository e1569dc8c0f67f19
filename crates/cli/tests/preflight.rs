//! `preflight` as a user runs it: against our own `serve` (tiny and sim)
//! it passes; against scripted servers that speak SGLang's real shapes (the
//! transcripts in `crates/backend/tests/data/transcripts`) but break one
//! thing each, exactly the check for that thing fails, with its reason, and
//! no other check fails; an unreachable endpoint fails at once; and
//! `run --preflight` stops before LoadGen on a FAIL.

mod common;
#[path = "../../backend/tests/common/mod.rs"]
mod scripted;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{mlperf_gptoss, stderr, wait_until, write_dataset, Server};
use scripted::{chunk, dead_url, end, json, respond, sse_head, Seen, Step, TestServer};
use serde_json::{json, Value};

/// `preflight` with `args`, its JSON report read back: (exit ok, stdout, report).
fn preflight(dir: &Path, args: &[&str]) -> (bool, String, Value) {
    let report = dir.join("preflight.json");
    let _ = std::fs::remove_file(&report);
    let mut all = vec!["preflight", "--json", report.to_str().unwrap()];
    all.extend(args);
    let out = mlperf_gptoss(dir, dir, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout:\n{stdout}\nstderr:\n{}",
            stderr(&out)
        )
    });
    (
        out.status.success(),
        stdout,
        serde_json::from_str(&text).unwrap(),
    )
}

/// Each check's (name, status, evidence), for the first endpoint.
fn checks(report: &Value) -> Vec<(String, String, String)> {
    checks_of(&report["endpoints"][0])
}

/// Each check's (name, status, evidence) of one endpoint's report.
fn checks_of(endpoint: &Value) -> Vec<(String, String, String)> {
    endpoint["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("name"), s("status"), s("evidence"))
        })
        .collect()
}

fn status_of(report: &Value, name: &str) -> String {
    checks(report)
        .into_iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
        .1
}

/// Asserts every check's status: `expected` names the ones that are not PASS.
#[track_caller]
fn assert_statuses(report: &Value, expected: &[(&str, &str)]) {
    assert_endpoint_statuses(report, 0, expected)
}

/// [`assert_statuses`] for endpoint `i` of the report.
#[track_caller]
fn assert_endpoint_statuses(report: &Value, i: usize, expected: &[(&str, &str)]) {
    let all = checks_of(&report["endpoints"][i]);
    assert_eq!(all.len(), 10, "{report:#}");
    for (name, status, evidence) in &all {
        let want = expected
            .iter()
            .find(|(n, _)| n == name)
            .map_or("PASS", |(_, s)| *s);
        assert_eq!(status, want, "{name}: {evidence}\n{report:#}");
    }
}

fn evidence_of(report: &Value, name: &str) -> String {
    checks(report).into_iter().find(|c| c.0 == name).unwrap().2
}

// ---- A scripted SGLang serving gpt-oss-120b, with one fault at a time ----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Treats `<|end|>` as a stop id.
    StopsOnEnd,
    /// Sends text but no `output_ids`.
    NoTokenIds,
    /// Streams, but every chunk arrives at the end at once.
    BuffersStream,
    /// Generates its whole answer whatever `max_new_tokens` says.
    IgnoresMaxNewTokens,
    /// `meta_info.completion_tokens` of the final reply is not the ids.
    CountsDisagree,
    /// Answers plain requests, but a stream never gets past its headers.
    StreamHangs,
}

const TTFT: Duration = Duration::from_millis(20);
const TPOT: Duration = Duration::from_millis(5);

fn transcript(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/data/transcripts")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The shapes the scripted server fills in: SGLang 0.5's non-streamed
/// reply and its first and last streamed chunks, with the harmony
/// completion those transcripts carry.
struct Shapes {
    plain: Value,
    chunk: Value,
    last_chunk: Value,
    completion: Vec<u32>,
}

impl Shapes {
    fn load() -> Shapes {
        let plain = transcript("sglang_plain_stop.json")["reply"]["json"].clone();
        let sse = transcript("sglang_stream_cumulative.json")["reply"]["sse"].clone();
        let events = sse.as_array().unwrap();
        let completion = serde_json::from_value(plain["output_ids"].clone()).unwrap();
        Shapes {
            chunk: events[0].clone(),
            last_chunk: events[events.len() - 2].clone(),
            plain,
            completion,
        }
    }

    /// Reply `n`'s ids: the transcript's completion, its analysis text
    /// repeated a number of times that depends on `n`, so replies differ
    /// as sampled replies do.
    fn completion(&self, n: usize) -> Vec<u32> {
        let c = &self.completion;
        let end = c.iter().position(|&t| t == harmony::tokens::END).unwrap();
        let (header, analysis) = (&c[..3], &c[3..end]);
        let mut ids = header.to_vec();
        for _ in 0..4 + n % 5 {
            ids.extend_from_slice(analysis);
        }
        ids.extend_from_slice(&c[end..]);
        ids
    }
}

/// One reply object in `template`'s shape for `ids` so far.
fn fill(template: &Value, ids: &[u32], finish: Value, count: usize, fault: Fault) -> Value {
    let mut v = template.clone();
    v["text"] = json!(harmony::decode(ids).unwrap());
    if fault == Fault::NoTokenIds {
        v.as_object_mut().unwrap().remove("output_ids");
    } else {
        v["output_ids"] = json!(ids);
    }
    v["meta_info"]["finish_reason"] = finish;
    v["meta_info"]["completion_tokens"] = json!(count);
    v
}

/// The script of a gpt-oss-120b SGLang server with `fault`.
fn script(shapes: &Shapes, fault: Fault, seen: &Seen, n: usize) -> Vec<Step> {
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/health") => return respond(200, "text/plain", b""),
        ("GET", "/v1/models") => {
            return json(
                200,
                &json!({"object": "list", "data": [{"id": "openai/gpt-oss-120b",
                    "object": "model", "created": 1796500000, "owned_by": "sglang",
                    "root": "openai/gpt-oss-120b", "max_model_len": 131072}]}),
            )
        }
        ("POST", "/generate") => {}
        _ => return respond(404, "application/json", br#"{"detail":"Not Found"}"#),
    }
    let body = &seen.body;
    let max = body["sampling_params"]["max_new_tokens"].as_u64().unwrap() as usize;
    let mut ids = shapes.completion(n);
    let mut finish = json!({"type": "stop", "matched": ids.last()});
    if fault == Fault::StopsOnEnd {
        let end = ids.iter().position(|&t| t == harmony::tokens::END).unwrap();
        ids.truncate(end + 1);
        finish = json!({"type": "stop", "matched": harmony::tokens::END});
    }
    if fault != Fault::IgnoresMaxNewTokens && ids.len() > max {
        ids.truncate(max);
        finish = json!({"type": "length", "length": max});
    }
    let count = |len: usize| match fault {
        Fault::CountsDisagree => len - 2,
        _ => len,
    };
    let generating = TTFT + TPOT * (ids.len() as u32 - 1);
    if body["stream"] != json!(true) {
        let reply = fill(&shapes.plain, &ids, finish, count(ids.len()), fault);
        return [vec![Step::Sleep(generating)], json(200, &reply)].concat();
    }
    if fault == Fault::StreamHangs {
        return vec![sse_head(), Step::Hang];
    }
    // SGLang's default stream: each chunk repeats every id so far.
    let mut events = Vec::new();
    for k in 1..=ids.len() {
        let last = k == ids.len();
        let (template, fin, c) = if last {
            (&shapes.last_chunk, finish.clone(), count(k))
        } else {
            (&shapes.chunk, Value::Null, k)
        };
        let event = fill(template, &ids[..k], fin, c, fault);
        events.push(chunk(format!("data: {event}\n\n").as_bytes()));
    }
    events.push(chunk(b"data: [DONE]\n\n"));
    events.push(end());
    let mut steps = vec![sse_head()];
    if fault == Fault::BuffersStream {
        // A proxy that holds the body until the server is done (a long
        // generation, so that scheduling noise on a busy machine cannot
        // spread the burst out like a real stream).
        steps.push(Step::Sleep(Duration::from_millis(600)));
        let all: Vec<u8> = events
            .into_iter()
            .flat_map(|s| match s {
                Step::Write(bytes) => bytes,
                _ => unreachable!(),
            })
            .collect();
        steps.push(Step::Write(all));
        return steps;
    }
    steps.push(Step::Sleep(TTFT));
    for (i, event) in events.into_iter().enumerate() {
        if i > 0 && i < ids.len() {
            steps.push(Step::Sleep(TPOT));
        }
        steps.push(event);
    }
    steps
}

/// A runtime serving a scripted server with `fault`; both live as long as the value.
struct Scripted {
    _runtime: tokio::runtime::Runtime,
    server: TestServer,
}

impl Scripted {
    fn start(fault: Fault) -> Scripted {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let shapes = Arc::new(Shapes::load());
        let server = runtime.block_on(TestServer::start(move |seen, n| {
            script(&shapes, fault, seen, n)
        }));
        Scripted {
            _runtime: runtime,
            server,
        }
    }
}

fn scripted_report(fault: Fault) -> (bool, String, Value) {
    let server = Scripted::start(fault);
    let dir = tempfile::tempdir().unwrap();
    preflight(dir.path(), &["--endpoint", &server.server.url])
}

#[test]
fn a_faithful_sglang_passes_every_check() {
    let (ok, stdout, report) = scripted_report(Fault::None);
    assert!(ok, "{stdout}");
    assert_statuses(&report, &[]);
    assert_eq!(report["verdict"], "PASS");
    // The text report lists the same checks with their evidence.
    assert!(stdout.contains("PASS  stop_ids"), "{stdout}");
    assert!(
        stdout.contains("verdict: PASS (0 FAIL, 0 WARN, 10 PASS, 0 SKIP)"),
        "{stdout}"
    );
    // The evidence shows what the probes saw.
    let stops = evidence_of(&report, "stop_ids");
    assert!(
        stops.contains("<|return|> x") && stops.contains("<|end|> inside"),
        "{stops}"
    );
    let harmony = evidence_of(&report, "harmony");
    assert!(harmony.contains("final: \"Hi!\""), "{harmony}");
}

/// (fault, the check that must fail, words its evidence must hold, checks skipped as a consequence)
const FAULTS: [(Fault, &str, &[&str], &[&str]); 5] = [
    (
        Fault::StopsOnEnd,
        "stop_ids",
        &["ended on <|end|> (200007)", "Remove 200007"],
        &["harmony"],
    ),
    (
        Fault::NoTokenIds,
        "token_ids",
        &["sent no output_ids (only text)", "token ids are required"],
        &[
            "stop_ids",
            "max_new_tokens",
            "sampling",
            "streaming",
            "token_counts",
            "harmony",
            "latency",
            "concurrency",
        ],
    ),
    (
        Fault::BuffersStream,
        "streaming",
        &["arrives all at once", "buffers it"],
        &["latency"],
    ),
    (
        Fault::IgnoresMaxNewTokens,
        "max_new_tokens",
        &[
            "asked for at most 8 new tokens, got",
            "ignores max_new_tokens",
        ],
        &[],
    ),
    (
        Fault::CountsDisagree,
        "token_counts",
        &["the counts disagree", "completion_tokens"],
        &[],
    ),
];

#[test]
fn each_broken_server_fails_exactly_its_check_with_the_reason() {
    for (fault, check, needles, skipped) in FAULTS {
        let (ok, stdout, report) = scripted_report(fault);
        assert!(!ok, "{fault:?}: preflight must exit non-zero\n{stdout}");
        let mut expected = vec![(check, "FAIL")];
        expected.extend(skipped.iter().map(|s| (*s, "SKIP")));
        assert_statuses(&report, &expected);
        let evidence = evidence_of(&report, check);
        for needle in needles {
            assert!(
                evidence.contains(needle),
                "{fault:?}: {needle:?} not in {evidence}"
            );
        }
        assert!(stdout.contains(&format!("FAIL  {check}")), "{stdout}");
        assert_eq!(report["verdict"], "FAIL", "{fault:?}");
    }
}

#[test]
fn a_hanging_stream_costs_one_timeout_and_fails_streaming() {
    let server = Scripted::start(Fault::StreamHangs);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--endpoint", &server.server.url, "--timeout", "5"];
    let (ok, stdout, report) = preflight(dir.path(), &args);
    assert!(!ok, "{stdout}");
    assert_statuses(
        &report,
        &[
            ("streaming", "FAIL"),
            ("latency", "SKIP"),
            ("concurrency", "SKIP"),
            // Only the plain answer came back: nothing to compare it with.
            ("sampling", "WARN"),
        ],
    );
    let evidence = evidence_of(&report, "streaming");
    // The request path's --timeout or the client's own request timeout,
    // whichever fires first: both are the 5 s given (ample for the plain reply).
    assert!(
        evidence.contains("answer, streamed #1") && evidence.contains("timeout"),
        "{evidence}"
    );
    // One stream was tried, not one per streamed probe.
    let streams = server
        .server
        .seen()
        .iter()
        .filter(|s| s.body["stream"] == json!(true))
        .count();
    assert_eq!(streams, 1);
}

#[test]
fn each_endpoint_is_checked_on_its_own() {
    let good = Scripted::start(Fault::None);
    let broken = Scripted::start(Fault::IgnoresMaxNewTokens);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--endpoint",
        &good.server.url,
        "--endpoint",
        &broken.server.url,
    ];
    let (ok, stdout, report) = preflight(dir.path(), &args);
    assert!(!ok, "{stdout}");
    assert_eq!(report["endpoints"][0]["endpoint"], good.server.url.as_str());
    assert_endpoint_statuses(&report, 0, &[]);
    assert_endpoint_statuses(&report, 1, &[("max_new_tokens", "FAIL")]);
    assert!(
        stdout.contains("verdict: FAIL (1 FAIL, 0 WARN, 19 PASS, 0 SKIP)"),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_endpoint_fails_reachability_at_once() {
    let url = tokio::runtime::Runtime::new().unwrap().block_on(dead_url());
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("preflight.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(["preflight", "--endpoint", &url, "--json"])
        .arg(&json_path)
        .env("TIKTOKEN_RS_CACHE_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Generous: only a hang (a wait for timeouts) fails this.
    wait_until("preflight to give up", Duration::from_secs(30), || {
        child.try_wait().unwrap().is_some()
    });
    assert!(!child.wait().unwrap().success());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(status_of(&report, "reachable"), "FAIL");
    let evidence = evidence_of(&report, "reachable");
    assert!(
        evidence.contains("unreachable") && evidence.contains(&url),
        "{evidence}"
    );
    let rest: Vec<_> = checks(&report).into_iter().skip(1).map(|c| c.1).collect();
    assert!(rest.iter().all(|s| s == "SKIP"), "{rest:?}");
}

// ---- Our own server ----

#[test]
fn serve_tiny_passes() {
    let server = Server::start(&["--model", "tiny"]);
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, report) = preflight(
        dir.path(),
        &["--endpoint", &server.url, "--max-new-tokens", "48"],
    );
    assert!(ok, "{stdout}");
    assert_ne!(report["verdict"], "FAIL", "{stdout}");
    for check in [
        "reachable",
        "token_ids",
        "max_new_tokens",
        "sampling",
        "streaming",
    ] {
        assert_eq!(status_of(&report, check), "PASS", "{check}: {stdout}");
    }
    for check in ["token_counts", "concurrency"] {
        assert_eq!(status_of(&report, check), "PASS", "{check}: {stdout}");
    }
    // One slow probe on a busy machine may WARN; the median is far under the limits.
    assert_ne!(status_of(&report, "latency"), "FAIL", "{stdout}");
    // Random weights do not answer in harmony; the model does not claim to be gpt-oss-120b.
    assert_eq!(status_of(&report, "harmony"), "WARN", "{stdout}");
    assert!(
        evidence_of(&report, "reachable").contains("gpt-oss-tiny"),
        "{stdout}"
    );
}

#[test]
fn serve_sim_passes_over_openai() {
    let server = Server::start(&["--model", "sim"]);
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, report) = preflight(
        dir.path(),
        &[
            "--endpoint",
            &server.url,
            "--backend",
            "openai",
            "--scenario",
            "interactive",
            "--max-new-tokens",
            "64",
        ],
    );
    assert!(ok, "{stdout}");
    for check in [
        "reachable",
        "token_ids",
        "max_new_tokens",
        "streaming",
        "token_counts",
    ] {
        assert_eq!(status_of(&report, check), "PASS", "{check}: {stdout}");
    }
    assert_eq!(status_of(&report, "concurrency"), "PASS", "{stdout}");
    // The sim's ids depend on the prompt only: the same prompt, the same reply.
    assert_eq!(status_of(&report, "sampling"), "WARN", "{stdout}");
    // Its default TPOT is 5 ms, under Interactive's limit; the limit is mlperf.conf's.
    assert_eq!(status_of(&report, "latency"), "PASS", "{stdout}");
    assert!(
        evidence_of(&report, "latency").contains("limit 15.0 ms"),
        "{stdout}"
    );
    assert_eq!(report["limits"]["scenario"], "Interactive");
}

// ---- run --preflight ----

fn run_args(dir: &Path, url: &str) -> Vec<String> {
    let data: PathBuf = write_dataset(dir, "data.jsonl", &[25; 4]);
    let conf = dir.join("user.conf");
    std::fs::write(
        &conf,
        "*.Server.target_qps = 100\n*.Server.min_duration = 0\n*.Server.min_query_count = 4\n",
    )
    .unwrap();
    [
        "run",
        "--scenario",
        "server",
        "--backend",
        "sglang",
        "--endpoint",
        url,
        "--max-new-tokens",
        "12",
        "--output-dir",
        "out",
        "--preflight",
        "--dataset",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        data.display().to_string(),
        "--user-conf".into(),
        conf.display().to_string(),
    ])
    .collect()
}

#[test]
fn run_with_preflight_stops_before_loadgen_on_a_fail_and_goes_on_after_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir
        .path()
        .join("out/server/performance/mlperf_log_summary.txt");

    let broken = Scripted::start(Fault::StopsOnEnd);
    let args = run_args(dir.path(), &broken.server.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("FAIL  stop_ids") && err.contains("LoadGen was not started"),
        "{err}"
    );
    assert!(!summary.exists());

    let server = Server::start(&common::FAST_SIM);
    let args = run_args(dir.path(), &server.url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("verdict: WARN"), "{}", stderr(&run));
    assert!(summary.exists());
}

#[test]
fn only_server_protocols_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for backend in ["embedded", "grpc"] {
        let args = [
            "preflight",
            "--endpoint",
            "http://127.0.0.1:9",
            "--backend",
            backend,
        ];
        let out = mlperf_gptoss(dir.path(), dir.path(), &args);
        assert!(!out.status.success(), "{backend}");
        common::assert_stderr_has(&out, &["preflight checks a server: use sglang or openai"]);
    }
}
