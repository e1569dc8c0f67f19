//! `eval` as a user runs it: on a log written by `run --mode accuracy`, and on logs
//! built here from real gpt-oss-style completions, whose expected score is worked
//! out by hand from the official rules (upstream-gptoss.md §6.3, §6.5).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_stderr_has, assert_success, mlperf_gptoss, stderr, FAST_SIM};
use dataset::{Column, Value};
use serde_json::Value as Json;
use testkit::{accuracy_log, answered, hex, log_entry, ordinary};

/// A reference parquet (also usable by `run`: it has input_tokens).
fn write_reference(dir: &Path, rows: &[(&str, &str)]) -> PathBuf {
    let mut table = testkit::reference_table(rows);
    let prompts = Column {
        name: "input_tokens".into(),
        values: (0..rows.len())
            .map(|i| Value::Ints(vec![1000 + i as i64, 2000, 3000]))
            .collect(),
    };
    table.columns.insert(0, prompts);
    let path = dir.join("ref.parquet");
    dataset::write_table(&path, &table).unwrap();
    path
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn eval(dir: &Path, log: &Path, reference: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        "--mlperf-log",
        log.to_str().unwrap(),
        "--reference-data",
        reference.to_str().unwrap(),
    ];
    args.extend(extra);
    mlperf_gptoss(dir, dir, &args)
}

/// Writes LoadGen's accuracy log of `entries` (from [`log_entry`]) as `dir/name`.
fn write_log(dir: &Path, name: &str, entries: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, accuracy_log(entries)).unwrap();
    path
}

/// [`eval`] that must succeed.
fn eval_ok(dir: &Path, log: &Path, reference: &Path, extra: &[&str]) -> std::process::Output {
    let out = eval(dir, log, reference, extra);
    assert_success(&out, "eval");
    out
}

#[test]
fn scores_a_log_written_by_run() {
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
    let reference = write_reference(dir.path(), &rows);
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
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    assert_success(&run, "run");
    let log = dir
        .path()
        .join("out/offline/accuracy/mlperf_log_accuracy.json");
    let out = eval_ok(
        dir.path(),
        &log,
        &reference,
        &["--output-file", "res/r.json", "--verbose"],
    );
    let text = stdout(&out);
    assert!(text.contains("Total samples evaluated: 6\n"), "{text}");
    let last = text.lines().last().unwrap();
    let score = last
        .strip_prefix("'exact_match': ")
        .unwrap_or_else(|| panic!("{last}"));
    let (_, decimals) = score.split_once('.').unwrap();
    assert_eq!(decimals.len(), 3, "{last}");
    assert!(
        (0.0..=100.0).contains(&score.parse::<f64>().unwrap()),
        "{last}"
    );
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("res/r.json")).unwrap())
            .unwrap();
    assert_eq!(json["summary"]["total_samples"], 6);
    let details = json["detailed_results"].as_array().unwrap();
    assert_eq!(details.len(), 6);
    assert!(details.iter().all(|d| d["token_count"] == 9));
    // aime25 sorts before gpqa_diamond.
    assert_eq!(details[0]["dataset"], "aime25");
    assert_eq!(details[5]["dataset"], "gpqa_diamond");
}

/// 8 AIME rows (6 right) and 5 GPQA rows (3 right): 6/8 + 3/5 = 1.35 of 2 → 67.500.
#[test]
fn repeat_weighted_score_and_official_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec![("aime25", "204"); 8];
    rows.extend([("gpqa_diamond", "C"); 5]);
    let reference = write_reference(dir.path(), &rows);
    let think = "Let me reconsider the constraints before answering.";
    let outputs: Vec<Vec<u32>> = (0..13)
        .map(|i| match i {
            0..6 => answered(think, "The count is \\boxed{204}."),
            6 => answered(think, "\\boxed{205}"),
            7 => vec![],
            8..11 => answered(think, "**C**"),
            11 => answered(think, "D"),
            _ => answered(think, "I cannot decide."),
        })
        .collect();
    // Completion order differs from qsl order; one entry points past the reference.
    let order = [12usize, 0, 5, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11];
    let mut entries: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(n, &q)| log_entry(n, q, &outputs[q]))
        .collect();
    entries.push(log_entry(99, 13, &[]));
    let log_path = write_log(dir.path(), "mlperf_log_accuracy.json", &entries);

    let out = eval_ok(
        dir.path(),
        &log_path,
        &reference,
        &["--output-file", "r.json", "--save-outputs", "saved/out.pkl"],
    );
    assert_stderr_has(&out, &["qsl_idx 13 out of range (max: 12)"]);
    let expected = format!(
        "\n{eq}\nMLPerf Accuracy Evaluation Results\n{eq}\n\
         Total samples evaluated: 13\n\
         Overall raw accuracy: 69.23% (9/13)\n\
         {eq}\n\nPer-Dataset Breakdown:\n{dash}\n\
         Dataset                    Correct    Total  Repeats      Score   Accuracy\n{dash}\n\
         aime25                           6        8        8       0.75     75.00%\n\
         gpqa_diamond                     3        5        5       0.60     60.00%\n\
         {eq}\n\nFinal Score Calculation:\n{dash}\n\
         Formula: aime25/8 + gpqa_diamond/5\n\
         Score:   = 6/8 + 3/5\n\
         \x20        = 0.75 + 0.60\n\
         \x20        = 1.35\n\
         Max:     = 8/8 + 5/5\n\
         \x20        = 2.00\n\
         \nFINAL SCORE: 67.50% (1.35/2.00)\n{eq}\n\
         \n\nPrinting for submission_checker:\n\n'exact_match': 67.500\n",
        eq = "=".repeat(80),
        dash = "-".repeat(80)
    );
    assert_eq!(stdout(&out), expected);
    let json = std::fs::read_to_string(dir.path().join("r.json")).unwrap();
    let v: Json = serde_json::from_str(&json).unwrap();
    let s = &v["summary"];
    assert_eq!(s["total_correct"], 9);
    assert_eq!(s["final_score_percentage"], 67.5);
    assert_eq!(s["dataset_repeats"]["livecodebench_v6"], 3);
    assert_eq!(s["per_dataset"]["aime25"]["component_score"], 0.75);
    assert_eq!(v["detailed_results"], Json::Null);
    assert!(json.starts_with("{\n  \"summary\": {\n    \"total_samples\": 13,\n"));

    // --save-outputs: the official columns, rows sorted by qsl_idx, readable by pandas.
    let saved = dataset::read_table(&dir.path().join("saved/out.pkl")).unwrap();
    assert_eq!(saved.column_names(), ::eval::saved_columns().to_vec());
    let qsl = &saved.column("qsl_idx").unwrap().values;
    assert_eq!(qsl, &(0..13).map(Value::Int).collect::<Vec<_>>());
    assert_eq!(
        saved.column("extracted_answer").unwrap().values[0],
        Value::Int(204)
    );
    assert_eq!(
        saved.column("extracted_answer").unwrap().values[7],
        Value::Null
    );
    assert_eq!(
        saved.column("ground_truth").unwrap().values[8],
        Value::Str("C".into())
    );
    assert_eq!(
        saved.column("output_token_ids").unwrap().values[7],
        Value::Ints(vec![])
    );
    let pandas = common::python_with("pandas")
        .args([
            "-c",
            "import sys, pandas as pd; df = pd.read_pickle(sys.argv[1]); \
             print(len(df), list(df.columns)[4], int(df.is_correct.sum()), df.model_output[0][:11])",
            dir.path().join("saved/out.pkl").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_success(&pandas, "pandas");
    assert_eq!(
        String::from_utf8_lossy(&pandas.stdout),
        "13 model_output 9 <|channel|>\n"
    );
}

/// Server logs carry the first token in `token_data`; the official scorer reads only
/// `data`, so a verdict that needs the first token is lost and `token_count` excludes it.
#[test]
fn server_token_data_is_not_scored() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_reference(dir.path(), &[("gpqa_diamond", "A"), ("gpqa_diamond", "A")]);
    let full = answered("thinking", "A");
    let bare_answer = ordinary("A");
    let log = format!(
        "[\n{{ \"seq_id\" : 0, \"qsl_idx\" : 0, \"data\" : \"{}\", \"token_data\" : \"{}\", \"token_count\" : {} }},\n\
         {{ \"seq_id\" : 1, \"qsl_idx\" : 1, \"data\" : \"\", \"token_data\" : \"{}\", \"token_count\" : 0 }}\n]\n",
        hex(&full[1..]),
        hex(&full[..1]),
        full.len() - 1,
        hex(&bare_answer),
    );
    let log_path = dir.path().join("log.json");
    std::fs::write(&log_path, log).unwrap();
    let out = eval_ok(
        dir.path(),
        &log_path,
        &reference,
        &["--verbose", "--output-file", "r.json"],
    );
    let v: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let d = v["detailed_results"].as_array().unwrap();
    // Entry 0 still has its final channel after losing <|channel|>: correct.
    assert_eq!(d[0]["is_correct"], true);
    assert_eq!(d[0]["token_count"], full.len() - 1);
    // Entry 1's answer is only in token_data: nothing to score.
    assert_eq!(d[1]["is_correct"], false);
    assert_eq!(
        d[1]["evaluation_details"],
        "No answer extracted from model output"
    );
    assert!(stdout(&out).ends_with("'exact_match': 50.000\n"));
}

#[test]
fn livecodebench_needs_skip_lcb_and_then_prints_no_exact_match() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_reference(
        dir.path(),
        &[("livecodebench_v6", "abc123"), ("gpqa_diamond", "B")],
    );
    let lcb = answered("plan", "```python\nprint(input())\n```");
    let mcq = answered("plan", "B");
    let entries = [log_entry(0, 0, &lcb), log_entry(1, 1, &mcq)];
    let log_path = write_log(dir.path(), "log.json", &entries);
    let refused = eval(dir.path(), &log_path, &reference, &[]);
    assert!(!refused.status.success());
    assert_stderr_has(&refused, &["--skip-lcb", "--lcb-dir DIR", "test6.jsonl"]);
    let skipped = eval_ok(dir.path(), &log_path, &reference, &["--skip-lcb"]);
    let text = stdout(&skipped);
    assert!(
        text.contains("gpqa_diamond                     1        1        5"),
        "{text}"
    );
    assert!(!text.contains("'exact_match'"), "{text}");
    assert!(text.contains("1 livecodebench_v6"), "{text}");
}

/// Writes LiveCodeBench problems in the code_generation_lite format (private
/// tests encoded by real pickle + zlib + base64) with the eval crate's script.
fn write_lcb_problems(dir: &Path, spec: &str) {
    use std::io::Write;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../eval/tests/py/write_lcb_problems.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.join("test.jsonl"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// LiveCodeBench entries graded by running their code: 1 of 4 right (repeats 3)
/// plus GPQA 4 of 5 (repeats 5): (1/3 + 4/5) / (4/3 + 5/5) = 51/105 → 48.571.
#[test]
fn livecodebench_code_is_run_with_lcb_dir() {
    let dir = tempfile::tempdir().unwrap();
    let lcb_dir = dir.path().join("code_generation_lite");
    std::fs::create_dir(&lcb_dir).unwrap();
    write_lcb_problems(
        &lcb_dir,
        r#"[{"question_id": "abc100_a", "func_name": null, "encode": true,
             "public": [["3\n", "6\n"]], "private": [["10\n", "20\n"], ["-4\n", "-8"]]}]"#,
    );
    let mut rows = vec![("livecodebench_v6", "abc100_a"); 3];
    rows.push(("livecodebench_v6", "abc999_z"));
    rows.extend([("gpqa_diamond", "B"); 5]);
    let reference = write_reference(dir.path(), &rows);
    let long_comment = format!("# {}\n", "x".repeat(250));
    let right = format!("```python\n{long_comment}n = int(input())\nprint(n * 2)\n```");
    let outputs: Vec<Vec<u32>> = vec![
        answered("I will double it.", &right),
        answered(
            "Maybe add instead.",
            "```python\nprint(int(input()) + 2)\n```",
        ),
        answered("No idea how to code this.", "Sorry."),
        answered("plan", "```python\nprint(1)\n```"),
        answered("plan", "B"),
        answered("plan", "B"),
        answered("plan", "**B**"),
        answered("plan", "Answer: (B)"),
        answered("plan", "C"),
    ];
    let entries: Vec<String> = outputs
        .iter()
        .enumerate()
        .map(|(q, ids)| log_entry(q, q, ids))
        .collect();
    let log_path = write_log(dir.path(), "mlperf_log_accuracy.json", &entries);

    let out = eval(
        dir.path(),
        &log_path,
        &reference,
        &[
            "--lcb-dir",
            lcb_dir.to_str().unwrap(),
            "--workers",
            "2",
            "--verbose",
            "--output-file",
            "r.json",
            "--save-outputs",
            "out.pkl",
        ],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let text = stdout(&out);
    // The official loader's line comes first.
    assert!(text.starts_with("Loaded 1 problems\n\n====="), "{text}");
    assert!(
        text.contains("livecodebench_v6                 1        4        3       0.33     25.00%"),
        "{text}"
    );
    assert!(text.ends_with("'exact_match': 48.571\n"), "{text}");
    assert!(err.contains("loaded 1 problems"), "{err}");
    assert!(
        err.contains("LiveCodeBench livecodebench_v6: running 2 samples (6 tests) on 2 workers"),
        "{err}"
    );
    assert!(
        err.contains("livecodebench_v6: 4 samples, 1 passed, 1 wrong answer, 1 without code"),
        "{err}"
    );

    let v: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let d = v["detailed_results"].as_array().unwrap();
    let lcb: Vec<(&str, bool)> = d[5..]
        .iter()
        .map(|r| {
            (
                r["evaluation_details"].as_str().unwrap(),
                r["is_correct"].as_bool().unwrap(),
            )
        })
        .collect();
    // gpqa_diamond sorts before livecodebench_v6.
    assert_eq!(
        lcb,
        vec![
            ("All tests passed", true),
            ("Failed one or more test cases", false),
            ("No code extracted from model output", false),
            ("Question ID 'abc999_z' not found in benchmark", false),
        ]
    );
    // The code is cut to 200 characters in the JSON, kept whole in --save-outputs.
    let shown = d[5]["extracted_answer"].as_str().unwrap();
    assert_eq!(shown.chars().count(), 200);
    assert!(shown.starts_with("# xxx"));
    assert_eq!(d[7]["extracted_answer"], Json::Null);
    assert_eq!(
        v["summary"]["per_dataset"]["livecodebench_v6"]["correct"],
        1
    );
    let saved = dataset::read_table(&dir.path().join("out.pkl")).unwrap();
    let Value::Str(code) = &saved.column("extracted_answer").unwrap().values[0] else {
        panic!("no code saved")
    };
    assert!(code.ends_with("print(n * 2)") && code.len() > 260, "{code}");

    // A damaged problems file is an error naming the file and line.
    std::fs::write(lcb_dir.join("test2.jsonl"), "{\"question_id\": 1}\n").unwrap();
    let out = eval(
        dir.path(),
        &log_path,
        &reference,
        &["--lcb-dir", lcb_dir.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert_stderr_has(&out, &["test2.jsonl:1:"]);
    // An empty directory: the expected file names.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = eval(
        dir.path(),
        &log_path,
        &reference,
        &["--lcb-dir", empty.to_str().unwrap()],
    );
    assert_stderr_has(&out, &["test.jsonl, test2.jsonl"]);
}

#[test]
fn damaged_logs_name_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_reference(dir.path(), &[("gpqa_diamond", "B")]);
    let log_path = dir.path().join("log.json");
    for (data, needle) in [
        ("0A0B0C", "not a whole number of int32"),
        ("0A0", "not hex"),
        ("FFFFFFFF", "negative"),
    ] {
        std::fs::write(
            &log_path,
            format!("[{{ \"seq_id\" : 7, \"qsl_idx\" : 0, \"data\" : \"{data}\" }}]"),
        )
        .unwrap();
        let out = eval(dir.path(), &log_path, &reference, &[]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("entry 0 (seq_id 7, qsl_idx 0)") && err.contains(needle),
            "{err}"
        );
    }
    std::fs::write(&log_path, "[{\"seq_id\": 1, \"qsl_idx\": 0}]").unwrap();
    let out = eval(dir.path(), &log_path, &reference, &[]);
    assert_stderr_has(&out, &["missing field `data`"]);
    let out = eval(dir.path(), &dir.path().join("nope.json"), &reference, &[]);
    assert_stderr_has(&out, &["nope.json"]);
}
