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

/// Rows the reference renders and `harmonize` rejects on purpose (see the harmony
/// crate's README, "Deliberate differences"): a query cell that is None.
const REJECTED_ON_PURPOSE: &[&str] = &[
    "aime1983/question-none",
    "aime2025/question-none",
    "arxiv_summarization/question-none",
    "pubmed_summarization/question-none",
    "gpqa/question-none",
    "livecodebench/question-none",
    "math500/question-none",
    "mmlu_pro/question-none",
    "mmlu/question-none",
    "default/question-none",
    "gpqa/question-none-prompt-text",
    "default/query-none",
];

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// As the generator hashes ids: each as a little-endian u32.
fn sha256_of_ids(ids: &[i64]) -> String {
    let bytes: Vec<u8> = ids
        .iter()
        .flat_map(|&id| (id as u32).to_le_bytes())
        .collect();
    sha256_hex(&bytes)
}

/// The first line `harmonize` printed for row `index`, without the `row N: ` label.
fn reported(stderr: &str, index: u64) -> Option<&str> {
    let label = format!("row {index}: ");
    stderr.lines().find_map(|line| line.strip_prefix(&label))
}

/// Edge rows (empty, null and whitespace cells, odd message shapes, non-ASCII text,
/// very long cells) for every builder, as pickles: `harmonize` must render what the
/// unmodified reference script renders, to the same ids, and reject what it rejects.
/// `data/harmonize_edge/make_edge_vectors.py` made the pickles and the outcomes.
#[test]
fn edge_rows_give_the_reference_scripts_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/harmonize_edge");
    let vectors: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("edge_vectors.json")).unwrap())
            .unwrap();
    let effort = vectors["reasoning_effort"].as_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (mut rendered, mut rejected) = (0, 0);
    for frame in vectors["frames"].as_array().unwrap() {
        let file = frame["file"].as_str().unwrap();
        // A pickle, as the reference writes (these columns mix text, numbers and lists,
        // which no Parquet column can hold).
        for ext in ["pkl"] {
            let output = out.path().join(format!("{file}.{ext}"));
            let run = harmonize(
                out.path(),
                out.path(),
                dir.join(file).to_str().unwrap(),
                output.to_str().unwrap(),
                &["--reasoning-effort", effort, "--allow-failures"],
            );
            let err = stderr(&run);
            assert!(run.status.success(), "{file} -> {ext}: {err}");
            let table = dataset::read_table(&output).unwrap();
            let ids = &table.column("input_tokens").unwrap().values;
            let texts = &table.column("text_input").unwrap().values;
            for row in frame["rows"].as_array().unwrap() {
                let id = row["id"].as_str().unwrap();
                let index = row["index"].as_u64().unwrap();
                let what = format!("{file} -> {ext}, {id} (row {index})");
                let reference = &row["reference"];
                let ours = reported(&err, index);
                if let Some(n) = reference["n_tokens"].as_u64() {
                    if REJECTED_ON_PURPOSE.contains(&id) {
                        assert_eq!(ids[index as usize], Value::Null, "{what}");
                        assert!(ours.is_some(), "{what}: not reported\n{err}");
                        continue;
                    }
                    let Value::Ints(got) = &ids[index as usize] else {
                        panic!("{what}: rejected, the reference renders it: {ours:?}");
                    };
                    assert_eq!(got.len() as u64, n, "{what}");
                    let last: Vec<i64> = reference["last_ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_i64().unwrap())
                        .collect();
                    assert_eq!(got[got.len() - last.len()..], last[..], "{what}");
                    assert_eq!(sha256_of_ids(got), reference["ids_sha256"], "{what}");
                    let Value::Str(text) = &texts[index as usize] else {
                        panic!("{what}: no text_input");
                    };
                    assert_eq!(
                        sha256_hex(text.as_bytes()),
                        reference["text_sha256"],
                        "{what}"
                    );
                    assert_eq!(ours, None, "{what}");
                    rendered += 1;
                } else {
                    assert!(!REJECTED_ON_PURPOSE.contains(&id), "{what}");
                    assert_eq!(ids[index as usize], Value::Null, "{what}");
                    let ours = ours.unwrap_or_else(|| panic!("{what}: rendered\n{err}"));
                    // The reference's crash (a KeyError outside its own `try`) is a
                    // clear rejection of that row here.
                    let expected = reference["error"].as_str().unwrap_or("Error processing ");
                    match expected.split_once(": ") {
                        Some((head, _)) if expected.starts_with("Error processing") => {
                            assert!(ours.starts_with(head), "{what}: {ours} vs {expected}")
                        }
                        _ => assert!(ours.starts_with(expected), "{what}: {ours} vs {expected}"),
                    }
                    rejected += 1;
                }
            }
        }
    }
    assert_eq!((rendered, rejected), (73, 96));
}

/// The reference's outcome for an edge row, by case id.
fn edge_outcomes() -> std::collections::BTreeMap<String, (Json, Json)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/harmonize_edge/edge_vectors.json");
    let vectors: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    vectors["frames"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["rows"].as_array().unwrap())
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (r["row"].clone(), r["reference"].clone()),
            )
        })
        .collect()
}

/// healthbench histories, the empty one included, through JSON Lines into Parquet: the
/// `prompt` column holds an empty list beside lists of messages, and the ids are the
/// reference's.
#[test]
fn healthbench_histories_with_an_empty_one_are_written_to_parquet() {
    let outcomes = edge_outcomes();
    let is_text_turn = |t: &Json| {
        t.as_object()
            .is_some_and(|o| o.values().all(Json::is_string) && o.contains_key("role"))
    };
    let cases: Vec<(&String, &Json, &Json)> = outcomes
        .iter()
        .filter(|(id, (row, reference))| {
            id.starts_with("healthbench/prompt-")
                && reference["n_tokens"].is_u64()
                && row["prompt"]
                    .as_array()
                    .is_some_and(|turns| turns.iter().all(is_text_turn))
        })
        .map(|(id, (row, reference))| (id, row, reference))
        .collect();
    assert!(cases
        .iter()
        .any(|(_, row, _)| row["prompt"] == Json::Array(vec![])));
    let dir = tempfile::tempdir().unwrap();
    let lines: String = cases.iter().map(|(_, row, _)| format!("{row}\n")).collect();
    let input = write(dir.path(), "in.jsonl", &lines);
    let output = dir.path().join("out.parquet");
    let run = harmonize(
        dir.path(),
        dir.path(),
        &input,
        output.to_str().unwrap(),
        &[],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let table = dataset::read_table(&output).unwrap();
    let ids = &table.column("input_tokens").unwrap().values;
    for (i, (id, _, reference)) in cases.iter().enumerate() {
        let Value::Ints(got) = &ids[i] else {
            panic!("{id}: not rendered");
        };
        assert_eq!(sha256_of_ids(got), reference["ids_sha256"], "{id}");
    }
    assert_eq!(cases.len(), 11);
}
