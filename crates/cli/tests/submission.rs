//! `submission run | check | pack` end to end: a rehearsal against a real
//! `serve --model sim` on synthetic datasets of the benchmark's row counts
//! (harmonized by our own `harmonize`, so the prompts carry real reasoning
//! efforts), killed in the middle of a step and resumed; then `check` on the
//! tree and on copies broken one way each; truncation compared with python3.
//!
//! The runs are shortened by a user.conf (600 s per performance run is too long
//! for CI), so `check` must report exactly the shortened durations, the native
//! LoadGen, and the model-quality results a synthetic model cannot reach.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{assert_success, mlperf_gptoss, python_with, stderr, wait_until, Server};
use sha2::{Digest, Sha256};

const SCENARIOS: [&str; 3] = ["Offline", "Server", "Interactive"];
const ANSWERS: [&str; 4] = ["A", "B", "C", "D"];

/// Short runs: no minimum duration for Offline (its 100 samples end in well
/// under a second), 1 s for Server; no equal-issue padding; rates the sim
/// server sustains on a small machine.
const REHEARSAL_CONF: &str = "\
gpt-oss-120b.Offline.target_qps = 1000
gpt-oss-120b.Offline.min_duration = 0
gpt-oss-120b.Server.target_qps = 250
gpt-oss-120b.Server.min_duration = 1000
gpt-oss-120b.Server.min_query_count = 1000
gpt-oss-120b-interactive.Server.target_qps = 250
gpt-oss-120b-interactive.Server.min_duration = 1000
gpt-oss-120b-interactive.Server.min_query_count = 1000
gpt-oss-120b.*.sample_concatenate_permutation = 0
gpt-oss-120b-interactive.*.sample_concatenate_permutation = 0
";

/// The sim server: 1 ms to the first token, 0.2 ms per token, 64 tokens per answer.
const SIM: [&str; 10] = [
    "--model",
    "sim",
    "--sim-ttft-ms",
    "1",
    "--sim-tpot-ms",
    "0.2",
    "--sim-output-len",
    "fixed:64",
    "--sim-stream-interval",
    "8",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mlperf-gptoss")
}

/// Harmonizes `n` GPQA-style rows with this effort into `<dir>/<stem>.jsonl`.
fn harmonized(dir: &Path, stem: &str, n: usize, effort: &str) {
    let raw = dir.join(format!("{stem}.raw.jsonl"));
    let lines: String = (0..n)
        .map(|i| {
            let row = serde_json::json!({
                "dataset": "gpqa_diamond",
                "question": format!("Question {i}: which letter? A) x B) y C) z D) w"),
                "ground_truth": ANSWERS[i % 4],
            });
            format!("{row}\n")
        })
        .collect();
    std::fs::write(&raw, lines).unwrap();
    let out = mlperf_gptoss(
        dir,
        dir,
        &[
            "harmonize",
            "--data-file",
            raw.to_str().unwrap(),
            "--output-file",
            &format!("{stem}.jsonl"),
            "--reasoning-effort",
            effort,
        ],
    );
    assert_success(&out, "harmonize");
    std::fs::remove_file(raw).unwrap();
}

/// The three datasets with the benchmark's row counts and efforts.
fn write_datasets(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    harmonized(&data, "perf_eval_ref", 6396, "low");
    harmonized(&data, "acc_eval_ref", 4395, "high");
    harmonized(&data, "acc_eval_compliance_gpqa", 990, "high");
    data
}

/// A complete systems json, as a submitter fills the template.
fn write_system_json(dir: &Path) -> PathBuf {
    let mut desc = serde_json::Map::new();
    for key in SYSTEM_KEYS {
        desc.insert(key.into(), "rehearsal".into());
    }
    for (k, v) in [
        ("status", "available"),
        ("system_type", "datacenter"),
        ("number_of_nodes", "1"),
        ("accelerators_per_node", "0"),
    ] {
        desc.insert(k.into(), v.into());
    }
    let path = dir.join("system.json");
    std::fs::write(&path, serde_json::to_string_pretty(&desc).unwrap()).unwrap();
    path
}

/// The keys the v6.1 checker requires (its SYSTEM_DESC_REQUIRED_FIELDS).
const SYSTEM_KEYS: [&str; 35] = [
    "division",
    "submitter",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processor_model_name",
    "host_processors_per_node",
    "host_processor_core_count",
    "host_memory_capacity",
    "host_storage_capacity",
    "host_storage_type",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_memory_capacity",
    "framework",
    "operating_system",
    "system_type",
    "other_software_stack",
    "host_processor_frequency",
    "host_processor_caches",
    "host_memory_configuration",
    "host_processor_interconnect",
    "host_networking",
    "host_networking_topology",
    "accelerator_frequency",
    "accelerator_host_interconnect",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "accelerator_memory_configuration",
    "accelerator_on-chip_memories",
    "cooling",
    "hw_notes",
    "sw_notes",
    "host_network_card_count",
    "system_type_detail",
];

/// What the rehearsal built, shared by the tests of this file.
struct Rehearsal {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
}

fn run_command(root: &Path, data: &Path, url: &str, extra: &[&str]) -> Command {
    let dir = root.parent().unwrap();
    let mut cmd = Command::new(bin());
    cmd.args([
        "submission",
        "run",
        "--org",
        "Org",
        "--system",
        "sim1",
        "--scenarios",
        "offline,server,interactive",
        "--datasets",
        data.to_str().unwrap(),
        "--out",
        root.to_str().unwrap(),
        "--user-conf",
        dir.join("user.conf").to_str().unwrap(),
        "--system-json",
        dir.join("system.json").to_str().unwrap(),
        "--backend",
        "sglang",
        "--endpoint",
        url,
        "--allow-short",
    ])
    .args(extra)
    .current_dir(dir)
    .env("TIKTOKEN_RS_CACHE_DIR", dir)
    .env_remove("TIKTOKEN_ENCODINGS_BASE");
    cmd
}

fn state(root: &Path) -> serde_json::Value {
    std::fs::read_to_string(root.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Every file under `dir` with its sha256.
fn hashes(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let digest = Sha256::digest(std::fs::read(&path).unwrap());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                out.insert(path.strip_prefix(root).unwrap().display().to_string(), hex);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The tree's files that belong to finished steps of `done` (`<Scenario>/<step>` ids).
fn step_files(tree: &BTreeMap<String, String>, done: &[String]) -> BTreeMap<String, String> {
    let folder = |id: &str| {
        let (scenario, step) = id.split_once('/').unwrap();
        let inside = if step == "performance" {
            "performance/run_1"
        } else {
            step
        };
        format!("closed/Org/results/sim1/gpt-oss-120b/{scenario}/{inside}/")
    };
    tree.iter()
        .filter(|(path, _)| done.iter().any(|id| path.starts_with(&folder(id))))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Runs the rehearsal once for the whole file: a first run killed while a
/// step is running, a rerun that finishes it, a third run that only skips.
fn rehearsal() -> &'static Rehearsal {
    static ONCE: OnceLock<Result<Rehearsal, String>> = OnceLock::new();
    // Built once: a failure is kept and reported by every test, not retried.
    let built = ONCE.get_or_init(|| {
        std::panic::catch_unwind(build_rehearsal).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    });
    match built {
        Ok(r) => r,
        Err(e) => panic!("the rehearsal failed: {e}"),
    }
}

fn build_rehearsal() -> Rehearsal {
    {
        let dir = tempfile::tempdir().unwrap();
        let data = write_datasets(dir.path());
        std::fs::write(dir.path().join("user.conf"), REHEARSAL_CONF).unwrap();
        write_system_json(dir.path());
        let root = dir.path().join("submission");
        let server = Server::start(&SIM);

        // First run, killed in the middle of Server/accuracy.
        let mut child = run_command(&root, &data, &server.url, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("Server/accuracy to start", Duration::from_secs(900), || {
            state(&root)["steps"]["Server/accuracy"]["status"] == "running"
        });
        // Some samples in: the kill lands inside the step, not at its start.
        wait_until(
            "samples of Server/accuracy",
            Duration::from_secs(300),
            || {
                std::fs::read_to_string(
                    root.join("runs/Server/accuracy/server/accuracy/samples.jsonl"),
                )
                .is_ok_and(|t| t.lines().count() > 100)
            },
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let killed = state(&root);
        let done_before: Vec<String> = killed["steps"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, s)| s["status"] == "done")
            .map(|(id, _)| id.clone())
            .collect();
        // Offline's steps finished (a Server run that ended INVALID on a loaded
        // machine is not done, and must run again like the interrupted one).
        for id in [
            "Offline/performance",
            "Offline/accuracy",
            "Offline/TEST07",
            "Offline/TEST09",
        ] {
            assert!(done_before.iter().any(|d| d == id), "{id}: {killed}");
        }
        assert_eq!(killed["steps"]["Server/accuracy"]["status"], "running");
        let before = step_files(&hashes(&root), &done_before);

        // The rerun: only the unfinished steps run.
        let rerun = run_command(&root, &data, &server.url, &[])
            .output()
            .unwrap();
        assert_success(&rerun, "the rerun");
        let err = stderr(&rerun);
        for id in &done_before {
            assert!(
                err.contains(&format!("== {id}: done before, skipped")),
                "{id}: {err}"
            );
        }
        assert!(err.contains("== Server/accuracy: running"), "{err}");
        let after = state(&root);
        for (id, step) in after["steps"].as_object().unwrap() {
            assert_eq!(step["status"], "done", "{id}: {step}");
            let before = killed["steps"][id]["attempts"].as_u64().unwrap_or(0);
            let ran_again = !done_before.contains(id);
            assert_eq!(
                step["attempts"].as_u64().unwrap(),
                before + u64::from(ran_again),
                "{id}"
            );
        }
        assert_eq!(after["steps"].as_object().unwrap().len(), 12);
        let tree = hashes(&root);
        assert_eq!(
            step_files(&tree, &done_before),
            before,
            "finished steps were not touched"
        );

        // A third run has nothing to do, and leaves every file as it was.
        let again = run_command(&root, &data, &server.url, &[])
            .output()
            .unwrap();
        assert_success(&again, "the third run");
        assert_eq!(stderr(&again).matches("done before, skipped").count(), 12);
        let division = |h: BTreeMap<String, String>| -> BTreeMap<String, String> {
            h.into_iter()
                .filter(|(k, _)| !k.starts_with("runs/"))
                .collect()
        };
        assert_eq!(division(hashes(&root)), division(tree));
        drop(server);
        Rehearsal {
            _dir: dir,
            root,
            data,
        }
    }
}

/// `submission check DIR`: (exit success, problem lines).
fn check(root: &Path) -> (bool, Vec<String>) {
    let out = mlperf_gptoss(
        root.parent().unwrap(),
        root.parent().unwrap(),
        &["submission", "check", root.to_str().unwrap()],
    );
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.success(), lines)
}

/// `file: key` of each problem line.
fn file_keys(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|l| {
            let mut parts = l.splitn(3, ": ");
            format!("{}: {}", parts.next().unwrap(), parts.next().unwrap_or(""))
        })
        .collect()
}

fn scenario_dir(s: &str) -> String {
    format!("closed/Org/results/sim1/gpt-oss-120b/{s}")
}

/// Exactly what the shortened rehearsal must be reported for.
fn expected_rehearsal_problems() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in SCENARIOS {
        let d = scenario_dir(s);
        for log in [
            "performance/run_1",
            "accuracy",
            "TEST07/performance/run_1",
            "TEST09/performance/run_1",
        ] {
            out.insert(format!("{d}/{log}/mlperf_log_detail.txt: loadgen_version"));
        }
        out.insert(format!(
            "{d}/performance/run_1/mlperf_log_detail.txt: effective_min_duration_ms"
        ));
        out.insert(format!("{d}/accuracy/accuracy.txt: exact_match"));
        out.insert(format!("{d}/TEST07/verify_accuracy.txt: verdict"));
        out.insert(format!("{d}/TEST09/verify_output_len.txt: verdict"));
    }
    out.insert(format!(
        "{}/performance/run_1/mlperf_log_detail.txt: effective_samples_per_query",
        scenario_dir("Offline")
    ));
    out
}

#[test]
fn the_rehearsal_tree_fails_only_on_duration_native_loadgen_and_model_quality() {
    let r = rehearsal();
    let (ok, lines) = check(&r.root);
    assert!(!ok);
    assert_eq!(
        file_keys(&lines),
        expected_rehearsal_problems(),
        "{lines:#?}"
    );
    // The model-quality lines say what was found.
    for s in SCENARIOS {
        let d = scenario_dir(s);
        assert!(
            lines.iter().any(|l| l.starts_with(&format!(
                "{d}/accuracy/accuracy.txt: exact_match: expected ≥ 82.2987, found"
            ))),
            "{lines:#?}"
        );
        assert!(lines.contains(&format!(
            "{d}/TEST07/verify_accuracy.txt: verdict: expected TEST PASS, found TEST FAIL"
        )));
    }
    // Every file the checker wants is there.
    for s in SCENARIOS {
        let d = r.root.join(scenario_dir(s));
        for f in [
            "user.conf",
            "README.md",
            "measurements.json",
            "performance/run_1/mlperf_log_summary.txt",
            "accuracy/mlperf_log_summary.txt",
            "TEST07/accuracy/accuracy.txt",
            "TEST09/accuracy/accuracy.txt",
        ] {
            assert!(d.join(f).is_file(), "{s}/{f}");
        }
        let readme = std::fs::read_to_string(d.join("README.md")).unwrap();
        assert!(
            readme.contains("submission run") && readme.contains("LoadGen: 6.0.17"),
            "{readme}"
        );
    }
    assert!(r.root.join("closed/Org/systems/sim1.json").is_file());
    assert!(r.root.join("closed/Org/src").is_dir());
}

#[test]
fn truncated_logs_match_python_on_the_full_logs_kept_beside_the_tree() {
    let r = rehearsal();
    // Python's hashlib and text-mode reads, as truncate_accuracy_log.py uses them.
    let script = r#"
import hashlib, os, sys
full, cut, txt, compliance = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
h = hashlib.sha256(open(full, "rb").read()).hexdigest()
size = os.stat(full).st_size
with open(full, "r") as src:
    start = src.read(4096)
    src.seek(size - 4096, 0)
    end = src.read(4096)
assert size >= 4096
assert open(cut).read() == start + "\n\n...\n\n" + end, "truncation differs"
text = open(txt).read()
if compliance:
    assert text == "hash={}\n".format(h), text
else:
    assert text.endswith("\nhash={}\n".format(h)), text[-200:]
print("ok")
"#;
    for s in SCENARIOS {
        for (sub, compliance) in [
            ("accuracy", "0"),
            ("TEST07/accuracy", "1"),
            ("TEST09/accuracy", "1"),
        ] {
            let rel = format!("{}/{sub}", scenario_dir(s));
            let full = r
                .root
                .join("full_logs")
                .join(&rel)
                .join("mlperf_log_accuracy.json");
            let cut = r.root.join(&rel).join("mlperf_log_accuracy.json");
            let txt = r.root.join(&rel).join("accuracy.txt");
            let out = python_with("hashlib")
                .args(["-c", script])
                .args([&full, &cut, &txt].map(|p| p.to_str().unwrap()))
                .arg(compliance)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{rel}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(std::fs::metadata(&cut).unwrap().len(), 8199, "{rel}");
        }
    }
}

/// A copy of the rehearsal's tree (and its full logs) to break.
fn broken_copy() -> tempfile::TempDir {
    let r = rehearsal();
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(r.root.join("closed"))
        .arg(r.root.join("full_logs"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// Replaces `from` by `to` in a file of the copy, which must contain it.
fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Checks a broken copy: the problems are the rehearsal's plus exactly `new`
/// (`file: key` lines), each naming its file.
#[track_caller]
fn assert_new_problems(root: &Path, new: &[String]) -> Vec<String> {
    let (ok, lines) = check(root);
    assert!(!ok);
    let found = file_keys(&lines);
    let baseline = expected_rehearsal_problems();
    let added: BTreeSet<String> = found.difference(&baseline).cloned().collect();
    assert_eq!(
        added,
        new.iter().cloned().collect::<BTreeSet<_>>(),
        "{lines:#?}"
    );
    lines
}

fn perf_detail(s: &str) -> String {
    format!(
        "{}/performance/run_1/mlperf_log_detail.txt",
        scenario_dir(s)
    )
}

#[test]
fn check_catches_an_invalid_run() {
    let dir = broken_copy();
    edit(
        dir.path(),
        &perf_detail("Server"),
        "\"key\": \"result_validity\", \"value\": \"VALID\"",
        "\"key\": \"result_validity\", \"value\": \"INVALID\"",
    );
    assert_new_problems(
        dir.path(),
        &[format!("{}: result_validity", perf_detail("Server"))],
    );
}

#[test]
fn check_catches_a_missing_test09() {
    let dir = broken_copy();
    let test09 = format!("{}/TEST09", scenario_dir("Server"));
    std::fs::remove_dir_all(dir.path().join(&test09)).unwrap();
    let mut expected = expected_rehearsal_problems();
    expected.retain(|p| !p.starts_with(&test09));
    expected.insert(format!("{test09}: folder"));
    let (_, lines) = check(dir.path());
    assert_eq!(file_keys(&lines), expected, "{lines:#?}");
}

#[test]
fn check_catches_an_untruncated_accuracy_log() {
    let dir = broken_copy();
    let rel = format!(
        "{}/accuracy/mlperf_log_accuracy.json",
        scenario_dir("Offline")
    );
    std::fs::copy(
        dir.path().join("full_logs").join(&rel),
        dir.path().join(&rel),
    )
    .unwrap();
    let lines = assert_new_problems(dir.path(), &[format!("{rel}: size")]);
    assert!(lines
        .iter()
        .any(|l| l.starts_with(&rel) && l.contains("not truncated")));
}

#[test]
fn check_catches_a_hash_that_differs_from_the_full_log() {
    let dir = broken_copy();
    let rel = format!("{}/TEST07/accuracy", scenario_dir("Interactive"));
    let full = dir
        .path()
        .join("full_logs")
        .join(&rel)
        .join("mlperf_log_accuracy.json");
    let mut bytes = std::fs::read(&full).unwrap();
    bytes.push(b'\n');
    std::fs::write(&full, bytes).unwrap();
    assert_new_problems(dir.path(), &[format!("{rel}/accuracy.txt: hash")]);
}

#[test]
fn check_says_once_that_the_full_logs_are_missing() {
    let dir = broken_copy();
    std::fs::remove_dir_all(dir.path().join("full_logs")).unwrap();
    assert_new_problems(dir.path(), &["full_logs: folder".to_string()]);
}

#[test]
fn check_catches_a_wrong_seed() {
    let dir = broken_copy();
    edit(
        dir.path(),
        &perf_detail("Offline"),
        "\"key\": \"effective_qsl_rng_seed\", \"value\": 2085463073848966840",
        "\"key\": \"effective_qsl_rng_seed\", \"value\": 2465351861681999779",
    );
    let lines = assert_new_problems(
        dir.path(),
        &[format!(
            "{}: effective_qsl_rng_seed",
            perf_detail("Offline")
        )],
    );
    assert!(lines.iter().any(|l| l.ends_with(
        "effective_qsl_rng_seed: expected 2085463073848966840, found 2465351861681999779"
    )));
}

#[test]
fn check_catches_a_systems_json_missing_a_key() {
    let dir = broken_copy();
    let rel = "closed/Org/systems/sim1.json";
    let path = dir.path().join(rel);
    let mut desc: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    desc.remove("cooling").unwrap();
    std::fs::write(&path, serde_json::to_string(&desc).unwrap()).unwrap();
    let lines = assert_new_problems(dir.path(), &[format!("{rel}: cooling")]);
    assert!(lines.contains(&format!("{rel}: cooling: expected present, found missing")));
}

#[test]
fn check_catches_an_accuracy_run_on_ten_rows() {
    let r = rehearsal();
    let dir = broken_copy();
    // A real 10-row accuracy run (the in-process sim), its logs put in the tree.
    let out = mlperf_gptoss(
        dir.path(),
        dir.path(),
        &[
            "run",
            "--mode",
            "accuracy",
            "--dataset",
            r.data.join("acc_eval_ref.jsonl").to_str().unwrap(),
            "--max-samples",
            "10",
            "--output-dir",
            "ten",
            "--model",
            "sim",
            "--sim-ttft-ms",
            "0",
            "--sim-tpot-ms",
            "0",
            "--sim-output-len",
            "fixed:4",
        ],
    );
    assert_success(&out, "the 10-row accuracy run");
    let rel = format!("{}/accuracy/mlperf_log_detail.txt", scenario_dir("Offline"));
    std::fs::copy(
        dir.path()
            .join("ten/offline/accuracy/mlperf_log_detail.txt"),
        dir.path().join(&rel),
    )
    .unwrap();
    // LoadGen logs the mlperf.conf override (4395) whatever the QSL's size,
    // which is all the official checker reads.
    let detail = std::fs::read_to_string(dir.path().join(&rel)).unwrap();
    assert!(detail.contains("\"key\": \"effective_accuracy_sample_count\", \"value\": 4395"));
    let lines = assert_new_problems(dir.path(), &[format!("{rel}: qsl_reported_total_count")]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&rel) && l.ends_with("found 10")),
        "{lines:#?}"
    );
}

#[test]
fn check_judges_interactive_by_its_own_tpot_limit() {
    let dir = broken_copy();
    let rel = perf_detail("Interactive");
    let path = dir.path().join(&rel);
    let text = std::fs::read_to_string(&path).unwrap();
    // 20 ms: within Server's 80 ms (all the official checker applies), above Interactive's 15.
    let key = "\"key\": \"result_time_per_output_token_99.00_percentile_ns\", \"value\": ";
    let start = text.find(key).unwrap() + key.len();
    let end = start
        + text[start..]
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap();
    let broken = format!("{}20000000{}", &text[..start], &text[end..]);
    std::fs::write(&path, broken).unwrap();
    let lines = assert_new_problems(
        dir.path(),
        &[format!(
            "{rel}: result_time_per_output_token_99.00_percentile_ns"
        )],
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("expected < 15 ms (Interactive), found 20 ms")),
        "{lines:#?}"
    );
}

#[test]
fn pack_archives_the_tree_with_its_sha1() {
    let r = rehearsal();
    let dir = broken_copy();
    // The rehearsal has problems: pack refuses without --allow-problems.
    let refused = mlperf_gptoss(dir.path(), dir.path(), &["submission", "pack", "."]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--allow-problems"),
        "{}",
        stderr(&refused)
    );
    let out = mlperf_gptoss(
        dir.path(),
        dir.path(),
        &[
            "submission",
            "pack",
            ".",
            "--allow-problems",
            "--output",
            "Org.tar.gz",
        ],
    );
    assert_success(&out, "pack");
    // sha1sum and tar, independent of us, agree with the archive.
    let sha = Command::new("sha1sum")
        .args(["-c", "Org.tar.gz.sha1"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        sha.status.success(),
        "{}",
        String::from_utf8_lossy(&sha.stdout)
    );
    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let x = Command::new("tar")
        .args(["-xzf", "../Org.tar.gz"])
        .current_dir(&unpacked)
        .status()
        .unwrap();
    assert!(x.success());
    let list = Command::new("tar")
        .args(["-tzf", "Org.tar.gz"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(list.status.success());
    let listed: BTreeSet<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|l| unpacked.join(l).is_file())
        .map(str::to_string)
        .collect();
    let tree: BTreeSet<String> = hashes(&r.root.join("closed"))
        .into_keys()
        .map(|k| format!("closed/{k}"))
        .collect();
    assert_eq!(listed, tree, "only the tree: no full logs, runs or state");
    assert_eq!(
        hashes(&unpacked.join("closed")),
        hashes(&r.root.join("closed"))
    );
}

/// `submission run --dry-run` with these datasets and user.conf, in a fresh folder.
fn dry_run(
    data: &Path,
    conf: &str,
    scenarios: &str,
    system_json: bool,
) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("user.conf"), conf).unwrap();
    let mut args = vec![
        "submission".to_string(),
        "run".into(),
        "--org".into(),
        "Org".into(),
        "--system".into(),
        "s".into(),
        "--scenarios".into(),
        scenarios.into(),
        "--datasets".into(),
        data.display().to_string(),
        "--out".into(),
        "out".into(),
        "--user-conf".into(),
        "user.conf".into(),
        "--dry-run".into(),
    ];
    if system_json {
        write_system_json(dir.path());
        args.extend(["--system-json".into(), "system.json".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mlperf_gptoss(dir.path(), dir.path(), &args);
    (dir, out)
}

#[test]
fn dry_run_prints_the_plan_with_estimates_and_runs_nothing() {
    let r = rehearsal();
    let conf = "gpt-oss-120b.Offline.target_qps = 10\ngpt-oss-120b.Server.target_qps = 8\n";
    let (dir, out) = dry_run(&r.data, conf, "offline,server", true);
    assert_success(&out, "dry run");
    let err = stderr(&out);
    // Offline at 10 qps: LoadGen pads 1.1 x 600 x 10 = 6600 up to two passes of
    // 6396; Server at 8 qps: 6396 queries, 800 s.
    let line = |id: &str| {
        err.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no {id} in {err}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("Offline/performance"),
        "Offline/performance run 12792 samples of perf_eval_ref ~21m19s"
    );
    assert_eq!(
        line("Server/performance"),
        "Server/performance run 6396 samples of perf_eval_ref ~13m20s"
    );
    assert_eq!(
        line("Server/TEST07"),
        "Server/TEST07 run 990 samples of acc_eval_compliance_gpqa ~2m04s"
    );
    assert!(
        !dir.path().join("out/closed").exists(),
        "a dry run writes no tree"
    );
}

#[test]
fn run_fails_fast_naming_what_to_fix() {
    let r = rehearsal();
    // Offline below 9.7 qps, no Server/Interactive, no system json yet.
    let (dir, out) = dry_run(
        &r.data,
        "gpt-oss-120b.Offline.target_qps = 5\n",
        "offline",
        false,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    for needle in [
        "add server or interactive",
        "target_qps 5 gives 3300 samples per query; the checker wants at least 6396",
        "at least 9.7",
        "out/system.json: fill these system fields",
        "nothing was run",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    // The template names every key, the host's values filled in.
    let template: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/system.json")).unwrap())
            .unwrap();
    assert_eq!(template.len(), 35);
    assert_eq!(template["submitter"], "Org");
    assert_ne!(template["host_processor_core_count"], "");

    // A dataset of the wrong size and effort.
    let small = tempfile::tempdir().unwrap();
    for f in ["acc_eval_ref.jsonl", "acc_eval_compliance_gpqa.jsonl"] {
        std::fs::copy(r.data.join(f), small.path().join(f)).unwrap();
    }
    harmonized(small.path(), "perf_eval_ref", 10, "high");
    let (_dir, out) = dry_run(small.path(), REHEARSAL_CONF, "offline,server", true);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("perf_eval_ref.jsonl: 10 rows, expected 6396"),
        "{err}"
    );
    assert!(err.contains("perf_eval_ref.jsonl: row 0: expected 'Reasoning: low' in the prompt, found Reasoning: high"), "{err}");
}
