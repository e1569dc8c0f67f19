//! Every shared fixture reads to exactly the rows recorded in the JSON truth files.

mod common;

use common::*;
use dataset::{prompt_tokens, query_column, read_table, Value};

fn dsr1_rows() -> Vec<serde_json::Map<String, serde_json::Value>> {
    jsonl_rows(&harmony("dsr1_sample.jsonl"))
}

#[test]
fn jsonl_fixture_matches_truth() {
    let t = read_table(&harmony("dsr1_sample.jsonl")).unwrap();
    assert_table_eq(&t, &DSR1_COLUMNS, &dsr1_rows(), "dsr1_sample.jsonl");
    // int vs str survives: aime answers are ints, the others str or null.
    let col = t.column("ref_extracted_answer").unwrap();
    assert!(col.values.iter().any(|v| matches!(v, Value::Int(_))));
    assert!(col.values.iter().any(|v| matches!(v, Value::Str(_))));
}

/// The DSR1 fixture `file` reads to exactly the rows of the JSON Lines truth.
fn assert_matches_dsr1_rows(file: &str) {
    let t = read_table(&harmony(file)).unwrap();
    assert_table_eq(&t, &DSR1_COLUMNS, &dsr1_rows(), file);
}

#[test]
fn pandas2_pickle_matches_jsonl() {
    assert_matches_dsr1_rows("dsr1_sample_pandas2.pkl");
}

#[test]
fn pandas3_objcols_pickle_matches_jsonl() {
    assert_matches_dsr1_rows("dsr1_sample_pandas3_objcols.pkl");
}

#[test]
fn pandas3_arrow_strings_pickle_matches_jsonl() {
    assert_matches_dsr1_rows("dsr1_sample_pandas3.pkl");
}

#[test]
fn parquet_fixture_matches_jsonl_with_answers_as_strings() {
    let t = read_table(&harmony("dsr1_sample.parquet")).unwrap();
    let mut rows = dsr1_rows();
    for r in &mut rows {
        if let Some(serde_json::Value::Number(n)) = r.get("ref_extracted_answer") {
            let s = n.to_string();
            r.insert("ref_extracted_answer".into(), serde_json::Value::String(s));
        }
    }
    assert_table_eq(&t, &DSR1_COLUMNS, &rows, "dsr1_sample.parquet");
}

#[test]
fn harmonized_pickle_matches_reference_output() {
    let path = harmony("dsr1_sample_harmonized_pandas2.pkl");
    let t = read_table(&path).unwrap();
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(harmony("dsr1_sample_harmonized.json")).unwrap(),
    )
    .unwrap();
    let rows = truth["rows"].as_array().expect("rows");
    assert_eq!(t.num_rows(), rows.len());
    assert_eq!(t.column_names(), json_strs(&truth["output_columns"]));
    let tokens = prompt_tokens(&t, &path).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let want: Vec<u32> = row["tok_input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(tokens[i], want, "row {i} tok_input");
        assert_eq!(
            t.column("tok_input_len").unwrap().values[i],
            Value::Int(want.len() as i64),
            "row {i} tok_input_len"
        );
        assert_eq!(
            t.column("text_input").unwrap().values[i],
            json_to_value(&row["text_input"]),
            "row {i} text_input"
        );
    }
    assert_eq!(query_column(&t), Some("question"));
}

fn v4_check(file: &str, key: &str) {
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(harmony("v4_samples.json")).unwrap())
            .unwrap();
    let rows: Vec<_> = truth[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect();
    let path = harmony(file);
    let t = read_table(&path).unwrap();
    let schema = truth[key.replace("rows", "schema")].as_str().unwrap();
    // Column order from the recorded Arrow schema: top-level lines look like "name: type".
    let cols: Vec<&str> = schema
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_table_eq(&t, &cols, &rows, file);
    let tokens = prompt_tokens(&t, &path).unwrap();
    let num = t.column("num_tokens").unwrap();
    for (i, ids) in tokens.iter().enumerate() {
        assert_eq!(num.values[i], Value::Int(ids.len() as i64));
    }
}

#[test]
fn v4_acc_parquet_matches_truth() {
    v4_check("v4_acc_sample.parquet", "acc_rows");
    let t = read_table(&harmony("v4_acc_sample.parquet")).unwrap();
    let msgs = &t.column("original_messages").unwrap().values[0];
    let Value::List(items) = msgs else {
        panic!("original_messages is {msgs:?}")
    };
    assert!(matches!(&items[0], Value::Struct(f) if f.iter().any(|(k, _)| k == "role")));
    assert_eq!(query_column(&t), None);
}

#[test]
fn v4_perf_parquet_matches_truth() {
    v4_check("v4_perf_sample.parquet", "perf_rows");
    let t = read_table(&harmony("v4_perf_sample.parquet")).unwrap();
    assert_eq!(query_column(&t), Some("prompt"));
}
