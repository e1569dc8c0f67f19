//! `harmonize` as a user runs it: every input format of the DSR1 fixture must
//! give exactly the reference script's ids and text, in every output format.

mod common;

use std::path::Path;

use common::{mlperf_gptoss, python_with, shared_dir, stderr};
use dataset::Value;
use serde_json::Value as Json;

fn expected() -> Json {
    let path = shared_dir().join("vectors/harmony/dsr1_sample_harmonized.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ints(value: &Json) -> Vec<i64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

fn check_output(path: &Path, expected: &Json) {
    let table = dataset::read_table(path).unwrap();
    let mut columns: Vec<String> = expected["output_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    columns.extend(["input_tokens".to_string(), "num_tokens".to_string()]);
    assert_eq!(table.column_names(), columns, "{}", path.display());
    let rows = expected["rows"].as_array().unwrap();
    assert_eq!(table.num_rows(), rows.len());
    let col = |name: &str| &table.column(name).unwrap().values;
    for (i, row) in rows.iter().enumerate() {
        let ids = ints(&row["tok_input"]);
        let n = row["tok_input_len"].as_i64().unwrap();
        let text = row["text_input"].as_str().unwrap();
        let what = format!("{} row {i}", path.display());
        assert_eq!(col("tok_input")[i], Value::Ints(ids.clone()), "{what}");
        assert_eq!(col("input_tokens")[i], Value::Ints(ids), "{what}");
        assert_eq!(col("tok_input_len")[i], Value::Int(n), "{what}");
        assert_eq!(col("num_tokens")[i], Value::Int(n), "{what}");
        assert_eq!(col("text_input")[i], Value::Str(text.into()), "{what}");
        assert_eq!(
            col("question")[i],
            Value::Str(row["question"].as_str().unwrap().into()),
            "{what}"
        );
    }
}

#[test]
fn every_input_format_gives_the_reference_prompts_in_every_output_format() {
    let expected = expected();
    let inputs = [
        "dsr1_sample_pandas2.pkl",
        "dsr1_sample_pandas3.pkl",
        "dsr1_sample_pandas3_objcols.pkl",
        "dsr1_sample.parquet",
        "dsr1_sample.jsonl",
    ];
    let cwd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    for input in inputs {
        let data = shared_dir().join("vectors/harmony").join(input);
        for ext in ["jsonl", "parquet", "pkl"] {
            let output = out.path().join(format!("{input}.{ext}"));
            let run = harmonize(
                cwd.path(),
                cache.path(),
                data.to_str().unwrap(),
                output.to_str().unwrap(),
                &["--num-processes", "2", "--reasoning-effort", "HIGH"],
            );
            assert!(run.status.success(), "{input} -> {ext}: {}", stderr(&run));
            assert!(
                stderr(&run).contains("harmonized 16 of 16 rows"),
                "{}",
                stderr(&run)
            );
            check_output(&output, &expected);
        }
    }
    // The vocabulary went to the cache we named, nothing to the working directory.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
}

#[test]
fn real_pandas_and_pyarrow_read_our_outputs() {
    let mut python = python_with("pandas, pyarrow");
    let cwd = tempfile::tempdir().unwrap();
    let data = shared_dir().join("vectors/harmony/dsr1_sample_pandas2.pkl");
    for ext in ["jsonl", "parquet", "pkl"] {
        let output = cwd.path().join(format!("out.{ext}"));
        let run = harmonize(
            cwd.path(),
            cwd.path(),
            data.to_str().unwrap(),
            output.to_str().unwrap(),
            &[],
        );
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/check_harmonized.py");
    let expected = shared_dir().join("vectors/harmony/dsr1_sample_harmonized.json");
    let check = python
        .arg(script)
        .arg(&expected)
        .arg(cwd.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "python check failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        stderr(&check)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("checked 3 files"));
}

/// `mlperf-gptoss harmonize --data-file INPUT --output-file OUTPUT EXTRA…`
fn harmonize(
    cwd: &Path,
    cache: &Path,
    input: &str,
    output: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["harmonize", "--data-file", input, "--output-file", output];
    args.extend(extra);
    mlperf_gptoss(cwd, cache, &args)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn rows_that_cannot_be_rendered_are_listed_written_as_nulls_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        concat!(
            r#"{"dataset": "aime25", "question": "What is 1+1?"}"#,
            "\n",
            r#"{"dataset": "gsm8k", "question": "What is 2+2?"}"#,
            "\n",
            r#"{"dataset": "gpqa", "question": null}"#,
            "\n"
        ),
    );
    let output = dir.path().join("out.jsonl");
    let args = [
        "harmonize",
        "--data-file",
        &input,
        "--output-file",
        output.to_str().unwrap(),
    ];
    let run = mlperf_gptoss(dir.path(), dir.path(), &args);
    let err = stderr(&run);
    assert!(!run.status.success(), "{err}");
    assert!(
        err.contains("row 1: Unknown dataset 'gsm8k' at index 1"),
        "{err}"
    );
    assert!(
        err.contains("row 2: Error processing gpqa at index 2: 1 validation error for Message"),
        "{err}"
    );
    assert!(err.contains("--allow-failures"), "{err}");
    // Nothing already produced is lost: the good row is written, the bad ones are nulls.
    let table = dataset::read_table(&output).unwrap();
    let ids = &table.column("input_tokens").unwrap().values;
    assert!(matches!(&ids[0], Value::Ints(v) if v.len() > 100));
    assert_eq!(ids[1], Value::Null);
    assert_eq!(ids[2], Value::Null);

    let mut allowed = args.to_vec();
    allowed.push("--allow-failures");
    let run = mlperf_gptoss(dir.path(), dir.path(), &allowed);
    assert!(run.status.success(), "{}", stderr(&run));
}

#[test]
fn bad_arguments_and_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.parquet");
    let out = out.to_str().unwrap();
    let missing = dir.path().join("missing.pkl");
    let run = harmonize(dir.path(), dir.path(), missing.to_str().unwrap(), out, &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("missing.pkl"), "{}", stderr(&run));

    let input = write(
        dir.path(),
        "in.jsonl",
        "{\"dataset\": \"default\", \"question\": \"hi\"}\n",
    );
    let run = harmonize(
        dir.path(),
        dir.path(),
        &input,
        out,
        &["--reasoning-effort", "extreme"],
    );
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("use low, medium or high"),
        "{}",
        stderr(&run)
    );

    let bad_out = dir.path().join("out.csv");
    let run = harmonize(
        dir.path(),
        dir.path(),
        &input,
        bad_out.to_str().unwrap(),
        &[],
    );
    assert!(!run.status.success());
    assert!(stderr(&run).contains("out.csv"), "{}", stderr(&run));
}

/// Every successful `builders.json` entry (all 8 builders, 11 dataset names,
/// chat-history prompts included) through the binary, from a JSON Lines file.
#[test]
fn reference_builder_rows_through_the_binary() {
    let path = shared_dir().join("vectors/harmony/builders.json");
    let vectors: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Rows with the same effort and the same columns share a file (a column a
    // row lacks would be a null cell, which the reference treats differently).
    let mut groups: std::collections::BTreeMap<(String, Vec<String>), Vec<&Json>> =
        Default::default();
    for e in vectors["entries"].as_array().unwrap() {
        if e["error"].is_null() {
            let keys = e["row"].as_object().unwrap().keys().cloned().collect();
            groups
                .entry((e["reasoning_effort"].as_str().unwrap().to_string(), keys))
                .or_default()
                .push(e);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (n, ((effort, _), entries)) in groups.iter().enumerate() {
        let lines: String = entries.iter().map(|e| format!("{}\n", e["row"])).collect();
        let input = write(dir.path(), &format!("in{n}.jsonl"), &lines);
        let output = dir.path().join(format!("out{n}.pkl"));
        let run = harmonize(
            dir.path(),
            dir.path(),
            &input,
            output.to_str().unwrap(),
            &["--reasoning-effort", effort],
        );
        assert!(run.status.success(), "{}", stderr(&run));
        let table = dataset::read_table(&output).unwrap();
        for (i, e) in entries.iter().enumerate() {
            let got = &table.column("input_tokens").unwrap().values[i];
            assert_eq!(got, &Value::Ints(ints(&e["ids"])), "{}", e["id"]);
            checked += 1;
        }
    }
    assert_eq!(checked, 28);
}
