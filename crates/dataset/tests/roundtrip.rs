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

#[test]
fn parquet_written_in_several_batches_reads_back_whole() {
    let n = 2500; // more than one 1024-row batch
    let mut t = Table::default();
    t.set_column(
        "input_tokens",
        (0..n)
            .map(|i| Value::Ints((0..(i % 7)).collect()))
            .collect(),
    );
    t.set_column("num_tokens", (0..n).map(|i| Value::Int(i % 7)).collect());
    t.set_column(
        "maybe",
        (0..n)
            .map(|i| {
                if i == 2000 {
                    Value::Str("s".into())
                } else {
                    Value::Null
                }
            })
            .collect(),
    );
    assert_eq!(roundtrip(&t, "parquet"), t);
}

#[test]
fn zero_row_tables_keep_their_columns_in_pickle_and_parquet() {
    let mut t = Table::default();
    t.set_column("input_tokens", vec![]);
    t.set_column("dataset", vec![]);
    for ext in ["pkl", "parquet"] {
        let back = roundtrip(&t, ext);
        assert_eq!(back.column_names(), ["input_tokens", "dataset"], "{ext}");
        assert_eq!(back.num_rows(), 0, "{ext}");
    }
    // JSON Lines has no header: a table without rows reads back without columns.
    assert_eq!(roundtrip(&t, "jsonl").columns.len(), 0);
}

#[test]
fn format_is_chosen_by_extension_case_insensitively() {
    use dataset::Format;
    use std::path::Path;
    for (path, want) in [
        ("a/b.PKL", Format::Pickle),
        ("b.pickle", Format::Pickle),
        ("b.Parquet", Format::Parquet),
        ("b.jsonl", Format::Jsonl),
    ] {
        assert_eq!(Format::from_path(Path::new(path)).unwrap(), want, "{path}");
    }
    for path in ["b.json", "parquet"] {
        assert!(Format::from_path(Path::new(path)).is_err(), "{path}");
    }
}
