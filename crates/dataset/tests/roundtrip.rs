//! read -> write (each format) -> read gives the same table, up to each format's
//! documented limits.

mod common;

use common::*;
use dataset::{read_table, write_table, Table, Value};

/// What Parquet keeps: a column mixing ints/floats with strings becomes strings.
fn as_parquet_keeps(t: &Table, string_cols: &[&str]) -> Table {
    let mut t = t.clone();
    for name in string_cols {
        let vals = t
            .column(name)
            .unwrap()
            .values
            .iter()
            .map(|v| match v {
                Value::Int(i) => Value::Str(i.to_string()),
                other => other.clone(),
            })
            .collect();
        t.set_column(name, vals);
    }
    t
}

/// What JSON Lines keeps: NaN becomes null, and an empty list has no element type.
fn as_jsonl_keeps(t: &Table) -> Table {
    fn fix(v: &Value) -> Value {
        match v {
            Value::Float(f) if f.is_nan() => Value::Null,
            Value::List(xs) if xs.is_empty() => Value::Ints(vec![]),
            Value::List(xs) => Value::List(xs.iter().map(fix).collect()),
            Value::Struct(fs) => {
                Value::Struct(fs.iter().map(|(k, x)| (k.clone(), fix(x))).collect())
            }
            other => other.clone(),
        }
    }
    let mut t = t.clone();
    for c in &mut t.columns {
        c.values = c.values.iter().map(fix).collect();
    }
    t
}

fn roundtrip(t: &Table, ext: &str) -> Table {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("out.{ext}"));
    write_table(&path, t).unwrap();
    // Only the final file is left behind: the temporary was renamed into place.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    read_table(&path).unwrap()
}

fn check_all(source: &str, mixed_cols: &[&str]) {
    let t = read_table(&harmony(source)).unwrap();
    assert_eq!(roundtrip(&t, "pkl"), t, "{source} via pickle");
    assert_eq!(roundtrip(&t, "pickle"), t, "{source} via .pickle");
    assert_eq!(
        roundtrip(&t, "jsonl"),
        as_jsonl_keeps(&t),
        "{source} via jsonl"
    );
    assert_eq!(
        roundtrip(&t, "parquet"),
        as_parquet_keeps(&t, mixed_cols),
        "{source} via parquet"
    );
}

#[test]
fn dsr1_pandas2_pickle_roundtrips() {
    check_all("dsr1_sample_pandas2.pkl", &["ref_extracted_answer"]);
}

#[test]
fn dsr1_pandas3_pickle_roundtrips() {
    check_all("dsr1_sample_pandas3.pkl", &["ref_extracted_answer"]);
}

#[test]
fn dsr1_jsonl_roundtrips() {
    check_all("dsr1_sample.jsonl", &["ref_extracted_answer"]);
}

#[test]
fn harmonized_pickle_roundtrips() {
    check_all(
        "dsr1_sample_harmonized_pandas2.pkl",
        &["ref_extracted_answer"],
    );
}

#[test]
fn v4_parquet_roundtrips() {
    check_all("v4_acc_sample.parquet", &[]);
    check_all("v4_perf_sample.parquet", &[]);
}

#[test]
fn edge_table_roundtrips() {
    let t = edge_table();
    assert_eq!(roundtrip(&t, "pkl"), t);
    assert_eq!(roundtrip(&t, "jsonl"), as_jsonl_keeps(&t));
    assert_eq!(roundtrip(&t, "parquet"), as_parquet_keeps(&t, &["answer"]));
}

#[test]
fn set_column_replaces_in_place_or_appends() {
    let mut t = edge_table();
    t.set_column("flag", vec![Value::Null; 4]);
    assert_eq!(t.column_names()[2], "flag");
    assert_eq!(t.column("flag").unwrap().values[0], Value::Null);
    t.set_column("new", vec![Value::Int(1); 4]);
    assert_eq!(t.column_names().last(), Some(&"new"));
    assert_eq!(t.num_rows(), 4);
}

#[test]
fn jsonl_is_utf8_not_ascii_escaped_and_nan_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    write_table(&path, &edge_table()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("héllo ✓") && text.contains("日本"));
    let second: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert!(second["score"].is_null());
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with(r#"{"id": 0, "score": 1.5, "flag": true"#));
}
