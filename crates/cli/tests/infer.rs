//! `infer` as a user runs it: every prompt sent (k times for pass@k) to the
//! embedded synthetic model or a real `serve` process over HTTP, the results
//! saved in each format and read back (once by pandas itself), resuming
//! after failures and after Ctrl-C, and refusing bad input.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{
    assert_stderr_has, assert_success, mlperf_gptoss, python_with, stderr, wait_until,
    write_dataset, Server,
};
use dataset::{Table, Value};

/// Fast synthetic model: every request returns `len` tokens.
fn sim(len: usize) -> Vec<String> {
    [
        "--model",
        "sim",
        "--sim-ttft-ms",
        "1",
        "--sim-tpot-ms",
        "0.1",
        "--sim-output-len",
        &format!("fixed:{len}"),
    ]
    .map(String::from)
    .to_vec()
}

fn infer(dir: &Path, input: &Path, output: &Path, extra: &[String]) -> Output {
    let mut args = vec![
        "infer".to_string(),
        "--input-tokens".into(),
        input.to_str().unwrap().into(),
        "--output".into(),
        output.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    mlperf_gptoss(dir, dir, &args)
}

fn col<'a>(table: &'a Table, name: &str) -> &'a [Value] {
    &table
        .column(name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", table.column_names()))
        .values
}

/// Checks one finished cell: ids, their count, the decoded text, a time.
fn assert_done(table: &Table, row: usize, pass: usize, len: usize) {
    let Value::Ints(ids) = &col(table, &format!("tok_model_output_{pass}"))[row] else {
        panic!("row {row} pass {pass} has no ids: {table:?}");
    };
    assert_eq!(ids.len(), len, "row {row} pass {pass}");
    assert_eq!(
        col(table, &format!("tok_model_output_len_{pass}"))[row],
        Value::Int(len as i64)
    );
    let ids: Vec<u32> = ids.iter().map(|&i| i as u32).collect();
    assert_eq!(
        col(table, &format!("model_output_{pass}"))[row],
        Value::Str(harmony::decode(&ids).unwrap())
    );
    assert!(
        matches!(col(table, &format!("infer_time_{pass}"))[row], Value::Float(t) if t >= 0.0),
        "row {row} pass {pass}"
    );
}

/// Checks every cell of `rows` x `passes` as [`assert_done`] does.
fn assert_all_done(table: &Table, rows: usize, passes: usize, len: usize) {
    for row in 0..rows {
        for pass in 0..passes {
            assert_done(table, row, pass, len);
        }
    }
}

fn assert_null(table: &Table, row: usize, pass: usize) {
    for name in [
        "model_output",
        "tok_model_output",
        "tok_model_output_len",
        "infer_time",
    ] {
        assert_eq!(
            col(table, &format!("{name}_{pass}"))[row],
            Value::Null,
            "{name}_{pass} of row {row}"
        );
    }
}

fn time(table: &Table, row: usize, pass: usize) -> f64 {
    match col(table, &format!("infer_time_{pass}"))[row] {
        Value::Float(t) => t,
        ref other => panic!("infer_time_{pass} of row {row} is {other:?}"),
    }
}

#[test]
fn every_format_holds_the_input_columns_and_k_passes() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), "data.jsonl", &[5, 9, 3, 12]);
    for ext in ["parquet", "jsonl", "pkl"] {
        let output = dir.path().join(format!("out.{ext}"));
        let mut extra = sim(6);
        extra.extend(["--pass-k", "3"].map(String::from));
        let run = infer(dir.path(), &input, &output, &extra);
        assert_success(&run, ext);
        let table = dataset::read_table(&output).unwrap();
        let mut expected = vec!["input_tokens", "dataset", "id"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        for i in 0..3 {
            for name in [
                "model_output",
                "tok_model_output",
                "tok_model_output_len",
                "infer_time",
            ] {
                expected.push(format!("{name}_{i}"));
            }
        }
        assert_eq!(table.column_names(), expected, "{ext}");
        assert_eq!(col(&table, "id")[3], Value::Int(3), "{ext}");
        assert_all_done(&table, 4, 3, 6);
    }
}

#[test]
fn pandas_loads_the_pickle() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), "data.jsonl", &[4, 7]);
    let output = dir.path().join("out.pkl");
    let mut extra = sim(5);
    extra.extend(["--pass-k", "2"].map(String::from));
    let run = infer(dir.path(), &input, &output, &extra);
    assert_success(&run, "infer");
    let script = r#"
import json, sys
import pandas as pd
df = pd.read_pickle(sys.argv[1])
print(json.dumps({
    "columns": list(df.columns),
    "rows": len(df),
    "lens": [int(x) for x in df["tok_model_output_len_1"]],
    "len_dtype": str(df["tok_model_output_len_0"].dtype),
    "time_dtype": str(df["infer_time_0"].dtype),
    "ids": [list(map(int, x)) for x in df["tok_model_output_0"]],
    "text_is_str": all(isinstance(x, str) for x in df["model_output_1"]),
}))
"#;
    let out = python_with("pandas, pyarrow")
        .args(["-c", script, output.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["rows"], 2);
    assert_eq!(got["lens"], serde_json::json!([5, 5]));
    assert_eq!(got["len_dtype"], "int64");
    assert_eq!(got["time_dtype"], "float64");
    assert_eq!(got["text_is_str"], true);
    let table = dataset::read_table(&output).unwrap();
    let Value::Ints(ids) = &col(&table, "tok_model_output_0")[1] else {
        panic!()
    };
    assert_eq!(got["ids"][1], serde_json::json!(ids));
    assert!(got["columns"]
        .as_array()
        .unwrap()
        .contains(&"infer_time_1".into()));
}

#[test]
fn sglang_and_openai_backends_over_http_to_a_real_server() {
    let server_args = sim(7);
    let server_args: Vec<&str> = server_args.iter().map(String::as_str).collect();
    let server = Server::start(&server_args);
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), "data.jsonl", &[10, 20, 30]);
    for backend in ["sglang", "openai"] {
        let output = dir.path().join(format!("{backend}.parquet"));
        let extra = [
            "--backend",
            backend,
            "--endpoint",
            &server.url,
            "--pass-k",
            "2",
            "--max-concurrency",
            "2",
        ]
        .map(String::from);
        let run = infer(dir.path(), &input, &output, &extra);
        assert_success(&run, backend);
        let table = dataset::read_table(&output).unwrap();
        assert_all_done(&table, 3, 2, 7);
    }
}

#[test]
fn failed_requests_leave_null_cells_and_a_rerun_fills_only_those() {
    let dir = tempfile::tempdir().unwrap();
    // Rows 1 and 3 are longer than a 64-token context: the first run refuses them.
    let input = write_dataset(dir.path(), "data.jsonl", &[10, 80, 20, 90, 30]);
    let output = dir.path().join("out.jsonl");
    let mut extra = sim(4);
    extra.extend(["--context-length", "64"].map(String::from));
    let first = infer(dir.path(), &input, &output, &extra);
    assert!(!first.status.success(), "two requests must fail");
    assert_stderr_has(
        &first,
        &[
            "row 1 pass 0",
            "row 3 pass 0",
            "80 tokens",
            "3 of 5 requests finished, 2 failed",
        ],
    );
    let before = dataset::read_table(&output).unwrap();
    for row in [0, 2, 4] {
        assert_done(&before, row, 0, 4);
    }
    for row in [1, 3] {
        assert_null(&before, row, 0);
    }

    // Resume with a wide context and a second pass: pass 0 of rows 0, 2, 4 is kept as is.
    let mut extra = sim(4);
    extra.extend(["--pass-k", "2"].map(String::from));
    let second = infer(dir.path(), &input, &output, &extra);
    assert_success(&second, "resume");
    assert_stderr_has(
        &second,
        &["7 requests (5 rows x 2 passes, 3 already finished"],
    );
    let after = dataset::read_table(&output).unwrap();
    assert_all_done(&after, 5, 2, 4);
    for row in [0, 2, 4] {
        assert_eq!(
            time(&after, row, 0),
            time(&before, row, 0),
            "row {row} kept"
        );
    }

    // Everything finished: a third run sends nothing and leaves the file alone.
    let third = infer(dir.path(), &input, &output, &extra);
    assert_success(&third, "nothing left");
    assert_stderr_has(&third, &["nothing to send"]);
    assert_eq!(dataset::read_table(&output).unwrap(), after);
}

#[test]
fn progress_is_saved_periodically_ctrl_c_saves_the_rest_and_a_rerun_sends_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), "data.jsonl", &[8; 40]);
    let output = dir.path().join("out.parquet");
    // One request at a time, 50 ms each: a few seconds in all.
    let slow = [
        "--model",
        "sim",
        "--sim-ttft-ms",
        "50",
        "--sim-output-len",
        "fixed:3",
    ]
    .map(String::from);
    let mut args = vec![
        "infer".to_string(),
        "--input-tokens".into(),
        input.to_str().unwrap().into(),
        "--output".into(),
        output.to_str().unwrap().into(),
        "--max-concurrency".into(),
        "1".into(),
        "--save-every".into(),
        "0.1".into(),
    ];
    args.extend(slow.iter().cloned());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(&args)
        .current_dir(dir.path())
        .env("TIKTOKEN_RS_CACHE_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once a periodic save shows finished results.
    wait_until("a periodic save", Duration::from_secs(120), || {
        dataset::read_table(&output).ok().is_some_and(|t| {
            t.column("infer_time_0")
                .is_some_and(|c| c.values.iter().any(|v| *v != Value::Null))
        })
    });
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let first = child.wait_with_output().unwrap();
    let err = stderr(&first);
    if first.status.success() {
        panic!("the run finished before Ctrl-C arrived; make it slower: {err}");
    }
    assert_eq!(first.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let before = dataset::read_table(&output).unwrap();
    let done: Vec<usize> = (0..40)
        .filter(|&row| col(&before, "infer_time_0")[row] != Value::Null)
        .collect();
    assert!(!done.is_empty() && done.len() < 40, "{err}");
    for &row in &done {
        assert_done(&before, row, 0, 3);
    }

    let second = infer(dir.path(), &input, &output, &sim(3));
    assert_success(&second, "resume after Ctrl-C");
    let after = dataset::read_table(&output).unwrap();
    assert_all_done(&after, 40, 1, 3);
    for &row in &done {
        assert_eq!(
            time(&after, row, 0),
            time(&before, row, 0),
            "row {row} kept"
        );
    }
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let no_tokens = dir.path().join("no_tokens.jsonl");
    std::fs::write(&no_tokens, "{\"question\": \"2+2?\"}\n").unwrap();
    let output = dir.path().join("out.parquet");
    let run = infer(dir.path(), &no_tokens, &output, &sim(3));
    assert!(!run.status.success());
    assert_stderr_has(&run, &["no_tokens.jsonl", "input_tokens"]);
    assert!(!output.exists(), "nothing is written for refused input");

    let input = write_dataset(dir.path(), "data.jsonl", &[5, 6]);
    let run = infer(dir.path(), &input, &dir.path().join("out.csv"), &sim(3));
    assert!(!run.status.success());
    assert_stderr_has(&run, &["out.csv"]);

    // An output written for another input is not resumed into.
    let other = write_dataset(dir.path(), "other.jsonl", &[5, 7]);
    let run = infer(dir.path(), &other, &output, &sim(3));
    assert_success(&run, "infer");
    let run = infer(dir.path(), &input, &output, &sim(3));
    assert!(!run.status.success());
    assert_stderr_has(&run, &["out.parquet", "row 1", "delete it"]);
}

#[test]
fn an_output_of_the_reference_resumes_its_failed_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), "data.jsonl", &[5, 6]);
    // run_infer.py writes a failed request as "", [], 0 and a null time.
    let output = dir.path().join("out.jsonl");
    let table = dataset::read_table(&input).unwrap();
    let mut rows = String::new();
    for (row, (text, ids, time)) in [("", vec![], None), ("hi", vec![6151], Some(0.5))]
        .into_iter()
        .enumerate()
    {
        let Value::Ints(prompt) = &col(&table, "input_tokens")[row] else {
            panic!()
        };
        let line = serde_json::json!({
            "input_tokens": prompt, "model_output_0": text, "tok_model_output_0": ids,
            "tok_model_output_len_0": ids.len(), "infer_time_0": time,
        });
        rows.push_str(&format!("{line}\n"));
    }
    std::fs::write(&output, rows).unwrap();
    let run = infer(dir.path(), &input, &output, &sim(4));
    assert_success(&run, "infer");
    assert_stderr_has(&run, &["1 already finished"]);
    let after = dataset::read_table(&output).unwrap();
    assert_done(&after, 0, 0, 4);
    assert_eq!(
        col(&after, "tok_model_output_0")[1],
        Value::Ints(vec![6151])
    );
    assert_eq!(col(&after, "model_output_0")[1], Value::Str("hi".into()));
    assert_eq!(time(&after, 1, 0), 0.5);
}
