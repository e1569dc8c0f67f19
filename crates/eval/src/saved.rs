//! `--save-outputs`: every scored entry with its decoded output, as a table sorted by
//! `qsl_idx` (the official scorer pickles a DataFrame with these columns; the
//! file's extension picks pickle, Parquet or JSON Lines).

use std::path::Path;

use dataset::{Column, Table, Value};

use crate::evaluate::EntryResult;
use crate::grade::Grader;
use crate::pyjson::Json;
use crate::reference::GroundTruth;
use crate::EvalError;

/// The official column order.
pub const COLUMNS: [&str; 9] = [
    "qsl_idx",
    "seq_id",
    "dataset",
    "ground_truth",
    "model_output",
    "output_token_ids",
    "extracted_answer",
    "is_correct",
    "evaluation_details",
];

/// The columns of `--save-outputs`, in the official order.
pub fn saved_columns() -> [&'static str; 9] {
    COLUMNS
}

/// The table of results (those evaluated with `keep_outputs` carry their output).
pub fn outputs_table(results: &[EntryResult]) -> Table {
    let mut sorted: Vec<&EntryResult> = results.iter().collect();
    sorted.sort_by_key(|r| r.qsl_idx); // stable, as Python's sorted()
    let mut columns: Vec<Column> = COLUMNS
        .iter()
        .map(|name| Column {
            name: name.to_string(),
            values: Vec::with_capacity(sorted.len()),
        })
        .collect();
    for r in sorted {
        let (text, ids) = r.output.clone().unwrap_or_default();
        let extracted = match (&r.verdict.extracted, r.grader) {
            (None, _) => Value::Null,
            (Some(x), Grader::Aime) => x.parse().map_or(Value::Str(x.clone()), Value::Int),
            (Some(x), _) => Value::Str(x.clone()),
        };
        let row = [
            Value::Int(r.qsl_idx as i64),
            match &r.seq_id {
                Json::Int(i) => i64::try_from(*i).map_or(Value::Str(i.to_string()), Value::Int),
                other => Value::Str(other.dump()),
            },
            Value::Str(r.dataset.clone()),
            match &r.ground_truth {
                GroundTruth::Missing => Value::Null,
                GroundTruth::Str(s) => Value::Str(s.clone()),
                GroundTruth::Int(i) => Value::Int(*i),
                GroundTruth::Float(f) => Value::Float(*f),
                GroundTruth::Bool(b) => Value::Bool(*b),
            },
            Value::Str(text),
            Value::Ints(ids.into_iter().map(i64::from).collect()),
            extracted,
            Value::Bool(r.verdict.is_correct),
            Value::Str(r.verdict.details.clone()),
        ];
        for (column, value) in columns.iter_mut().zip(row) {
            column.values.push(value);
        }
    }
    Table { columns }
}

/// Writes [`outputs_table`] to `path`, creating its directory.
pub fn save_outputs(path: &Path, results: &[EntryResult]) -> Result<(), EvalError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            path: dir.to_path_buf(),
            action: "creating the directory",
            source,
        })?;
    }
    dataset::write_table(path, &outputs_table(results))?;
    Ok(())
}
