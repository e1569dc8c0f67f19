//! Prompt token ids and the query column, found the way the reference finds them.

use std::path::Path;

use defs::{QUERY_COLUMNS, VOCAB_SIZE};

use crate::error::DatasetError;
use crate::table::{Table, Value};

/// Token columns in the order they are looked for. The reference loader
/// (`utils/tokenization.py`, upstream-gptoss.md §2.2) takes `tok_input` when present and
/// otherwise `input_tokens`; the two never both appear in the released files.
pub const TOKEN_COLUMNS: [&str; 2] = ["tok_input", "input_tokens"];

/// Prompt token ids per row: column `tok_input`, else `input_tokens`; every cell must be a
/// list of ints in `0..VOCAB_SIZE`.
pub fn prompt_tokens(table: &Table, path: &Path) -> Result<Vec<Vec<u32>>, DatasetError> {
    let col = TOKEN_COLUMNS
        .iter()
        .find_map(|n| table.column(n))
        .ok_or_else(|| DatasetError::MissingColumn {
            path: path.to_path_buf(),
            wanted: "'tok_input' or 'input_tokens' (the prompt token ids)".into(),
            available: list_columns(table),
        })?;
    let cell = |row: usize, problem: String, fix: &str| DatasetError::Cell {
        path: path.to_path_buf(),
        row,
        column: col.name.clone(),
        problem,
        fix: fix.to_string(),
    };
    const RETOKENIZE: &str = "re-tokenize this row with the o200k_harmony tokenizer";
    col.values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let ids: Vec<i64> = match v {
                Value::Ints(ids) => ids.clone(),
                Value::List(items) if items.is_empty() => Vec::new(),
                Value::Null => {
                    return Err(cell(
                        row,
                        "the token list is null (missing)".into(),
                        "every row needs its prompt token ids; drop or re-tokenize this row",
                    ))
                }
                Value::Float(f) if f.is_nan() => {
                    return Err(cell(
                        row,
                        "the token list is NaN (missing)".into(),
                        "every row needs its prompt token ids; drop or re-tokenize this row",
                    ))
                }
                other => {
                    let problem = match other {
                        Value::List(items) => {
                            match items.iter().find(|x| !matches!(x, Value::Int(_))) {
                                Some(x) => {
                                    format!("the token list holds a {}, not only ints", x.kind())
                                }
                                None => "the token list is not a list of ints".into(),
                            }
                        }
                        _ => format!("expected a list of token ids, found a {}", other.kind()),
                    };
                    return Err(cell(row, problem, RETOKENIZE));
                }
            };
            ids.into_iter()
                .map(|id| {
                    u32::try_from(id)
                        .ok()
                        .filter(|&t| t < VOCAB_SIZE)
                        .ok_or_else(|| {
                            cell(
                                row,
                                format!(
                                    "token id {id} is outside the vocabulary (0..{VOCAB_SIZE})"
                                ),
                                RETOKENIZE,
                            )
                        })
                })
                .collect()
        })
        .collect()
}

/// Name of the query column: the first of `question`, `prompt`, `query` that exists.
pub fn query_column(table: &Table) -> Option<&str> {
    QUERY_COLUMNS
        .iter()
        .find_map(|n| table.column(n))
        .map(|c| c.name.as_str())
}

/// The column names for an error message: `'a', 'b'` (or `(none)`).
pub(crate) fn list_columns(table: &Table) -> String {
    if table.columns.is_empty() {
        return "(none)".into();
    }
    table
        .columns
        .iter()
        .map(|c| format!("'{}'", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}
