//! Building gpt-oss completions and LoadGen accuracy logs for tests.
#![allow(dead_code)]

pub mod corpus;

/// A reference table with `dataset` and `ground_truth` string columns.
pub fn reference(rows: &[(&str, &str)]) -> dataset::Table {
    use dataset::{Column, Table, Value};
    Table {
        columns: vec![
            Column {
                name: "dataset".into(),
                values: rows.iter().map(|r| Value::Str(r.0.into())).collect(),
            },
            Column {
                name: "ground_truth".into(),
                values: rows.iter().map(|r| Value::Str(r.1.into())).collect(),
            },
        ],
    }
}
