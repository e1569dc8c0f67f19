//! The reference data as the official scorer loads it: Parquet or pandas pickle, an
//! unknown extension tried as Parquet then pickle, the two required columns, and
//! ground truths of other types than str.

use std::path::Path;

use dataset::{Column, Table, Value};
use testkit::{completion, offline_log};

fn table(ground_truth: Vec<Value>) -> Table {
    Table {
        columns: vec![
            Column {
                name: "dataset".into(),
                values: vec![Value::Str("AIME25".into()); ground_truth.len()],
            },
            Column {
                name: "ground_truth".into(),
                values: ground_truth,
            },
        ],
    }
}

fn score(reference: &eval::Reference, answers: &[&str]) -> Vec<(bool, String)> {
    let entries: Vec<(usize, Vec<u32>)> = answers
        .iter()
        .enumerate()
        .map(|(i, a)| (i, completion("Work.", Some(a), true)))
        .collect();
    let log =
        eval::AccuracyLog::from_bytes(Path::new("l.json"), offline_log(&entries).into_bytes());
    eval::evaluate(&log, reference, &eval::Options::default())
        .unwrap()
        .results
        .into_iter()
        .map(|r| (r.verdict.is_correct, r.verdict.details))
        .collect()
}

#[test]
fn parquet_pickle_and_sniffed_files_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let t = table(vec![Value::Int(70), Value::Str("33".into()), Value::Null]);
    let answers = ["\\boxed{70}", "Answer: 33", "\\boxed{1}"];
    // Dataset names are lower-cased before the evaluator and repeats are looked up.
    let expected = vec![
        (true, "Correct".to_string()),
        (true, "Correct".to_string()),
        (false, "No ground truth available".to_string()),
    ];
    for name in ["r.parquet", "r.pkl"] {
        let path = dir.path().join(name);
        dataset::write_table(&path, &t).unwrap();
        let reference = eval::Reference::read(&path).unwrap();
        assert_eq!(score(&reference, &answers), expected, "{name}");
        let odd = dir.path().join(format!("{name}.data"));
        std::fs::copy(&path, &odd).unwrap();
        let reference = eval::Reference::read(&odd).unwrap();
        assert_eq!(
            score(&reference, &answers),
            expected,
            "{name} without its extension"
        );
    }
}

#[test]
fn missing_columns_and_bad_cells_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.parquet");
    let mut t = table(vec![Value::Str("1".into())]);
    t.columns.truncate(1);
    dataset::write_table(&path, &t).unwrap();
    let err = eval::Reference::read(&path).err().unwrap().to_string();
    assert!(
        err.contains("r.parquet") && err.contains("ground_truth"),
        "{err}"
    );

    let t = table(vec![Value::Ints(vec![1, 2])]);
    let reference = eval::Reference::from_table(Path::new("x.pkl"), t).unwrap();
    let log = eval::AccuracyLog::from_bytes(
        Path::new("l.json"),
        offline_log(&[(0, completion("w", Some("\\boxed{1}"), true))]).into_bytes(),
    );
    let err = eval::evaluate(&log, &reference, &eval::Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("x.pkl: row 0, column 'ground_truth'"), "{err}");

    let mut t = table(vec![Value::Str("1".into())]);
    t.columns[0].values[0] = Value::Str(String::new());
    let reference = eval::Reference::from_table(Path::new("y.pkl"), t).unwrap();
    let err = eval::evaluate(&log, &reference, &eval::Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("y.pkl: row 0, column 'dataset'") && err.contains("empty"),
        "{err}"
    );
}
