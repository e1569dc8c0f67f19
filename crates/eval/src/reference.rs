//! The reference data: only the columns the scorer reads, `dataset` and
//! `ground_truth`, addressed by row position (= `qsl_idx`).

use std::path::{Path, PathBuf};

use dataset::{Table, Value};

use crate::pyjson::float_repr;
use crate::EvalError;

/// A ground truth cell as the graders see it.
#[derive(Debug, Clone, PartialEq)]
pub enum GroundTruth {
    /// None / NaN (`pd.isna`): "No ground truth available".
    Missing,
    /// A string (the usual case: an option letter, a number, a question id).
    Str(String),
    /// An integer cell.
    Int(i64),
    /// A float cell that is not NaN.
    Float(f64),
    /// A boolean cell.
    Bool(bool),
}

impl GroundTruth {
    /// Python `str(gt)`.
    pub fn py_str(&self) -> Option<String> {
        match self {
            GroundTruth::Missing => None,
            GroundTruth::Str(s) => Some(s.clone()),
            GroundTruth::Int(i) => Some(i.to_string()),
            GroundTruth::Float(f) => Some(float_repr(*f)),
            GroundTruth::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        }
    }
}

/// The reference dataset's two scored columns.
pub struct Reference {
    path: PathBuf,
    dataset: Vec<Value>,
    ground_truth: Vec<Value>,
}

impl Reference {
    /// Reads a parquet or pandas pickle. An unknown extension is tried as Parquet
    /// (its `PAR1` magic) and otherwise as a pickle, as the official scorer does.
    pub fn read(path: &Path) -> Result<Reference, EvalError> {
        let table = match dataset::Format::from_path(path) {
            Ok(_) => dataset::read_table(path)?,
            Err(_) => read_sniffed(path)?,
        };
        Reference::from_table(path, table)
    }

    /// From a table already in memory (`path` names it in messages).
    pub fn from_table(path: &Path, mut table: Table) -> Result<Reference, EvalError> {
        let missing: Vec<&str> = ["dataset", "ground_truth"]
            .into_iter()
            .filter(|c| table.column(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(EvalError::MissingColumns {
                path: path.to_path_buf(),
                missing: format!("{missing:?}"),
            });
        }
        let mut take = |name: &str| {
            let i = table.columns.iter().position(|c| c.name == name);
            i.map(|i| table.columns.swap_remove(i).values)
                .unwrap_or_default()
        };
        let dataset = take("dataset");
        let ground_truth = take("ground_truth");
        Ok(Reference {
            path: path.to_path_buf(),
            dataset,
            ground_truth,
        })
    }

    /// Rows in the reference data.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// No rows at all.
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }

    /// `str(row.dataset).lower()`; an empty or missing name is an error, as in the official scorer.
    pub fn dataset_name(&self, row: usize) -> Result<String, EvalError> {
        let err = |detail: String| EvalError::Row {
            path: self.path.clone(),
            row,
            column: "dataset",
            detail,
        };
        let name = match self.dataset.get(row) {
            Some(Value::Str(s)) if !s.is_empty() => s.clone(),
            Some(Value::Int(i)) if *i != 0 => i.to_string(),
            Some(Value::Float(f)) if *f != 0.0 && !f.is_nan() => float_repr(*f),
            Some(Value::Bool(true)) => "True".into(),
            Some(v) => {
                return Err(err(format!(
                    "dataset name cannot be empty (the cell is {}: {v:?}); every row needs a sub-dataset name such as gpqa_diamond",
                    v.kind()
                )))
            }
            None => return Err(err("no such row".into())),
        };
        Ok(name.to_lowercase())
    }

    /// The row's ground truth.
    pub fn ground_truth(&self, row: usize) -> Result<GroundTruth, EvalError> {
        Ok(match self.ground_truth.get(row) {
            None | Some(Value::Null) => GroundTruth::Missing,
            Some(Value::Float(f)) if f.is_nan() => GroundTruth::Missing,
            Some(Value::Float(f)) => GroundTruth::Float(*f),
            Some(Value::Str(s)) => GroundTruth::Str(s.clone()),
            Some(Value::Int(i)) => GroundTruth::Int(*i),
            Some(Value::Bool(b)) => GroundTruth::Bool(*b),
            Some(v) => {
                return Err(EvalError::Row {
                    path: self.path.clone(),
                    row,
                    column: "ground_truth",
                    detail: format!(
                        "a {} cannot be a ground truth (the official scorer fails on it too); expected a string or an integer",
                        v.kind()
                    ),
                })
            }
        })
    }
}

/// Reads a file whose extension says nothing: Parquet if it starts with `PAR1`,
/// else a pickle, through a correctly named link in a temporary directory.
fn read_sniffed(path: &Path) -> Result<Table, EvalError> {
    let mut magic = [0u8; 4];
    let is_parquet = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"PAR1";
    if !path.exists() {
        return Ok(dataset::read_table(path)?);
    }
    let dir = tempfile::tempdir().map_err(|source| EvalError::Io {
        path: std::env::temp_dir(),
        action: "creating a temporary directory",
        source,
    })?;
    let link = dir
        .path()
        .join(if is_parquet { "ref.parquet" } else { "ref.pkl" });
    let absolute = std::fs::canonicalize(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        action: "resolving the path",
        source,
    })?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&absolute, &link).map_err(|source| EvalError::Io {
        path: link.clone(),
        action: "linking the reference file",
        source,
    })?;
    #[cfg(not(unix))]
    std::fs::copy(&absolute, &link).map_err(|source| EvalError::Io {
        path: link.clone(),
        action: "copying the reference file",
        source,
    })?;
    Ok(dataset::read_table(&link)?)
}
