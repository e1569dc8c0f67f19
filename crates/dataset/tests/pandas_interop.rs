//! Files we write are read back by REAL pandas/pyarrow (`tests/py/describe_frames.py`),
//! and the dtypes and values pandas sees are checked here. Needs `pip install pandas pyarrow`;
//! without them these tests fail (they never pass silently).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use dataset::{read_table, write_table, Table, Value};

fn require_pandas() {
    let ok = Command::new("python3")
        .args(["-c", "import pandas, pyarrow"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 with pandas and pyarrow is required for this test: run `pip install pandas pyarrow`"
    );
}

/// Runs the describer on `files`; returns path -> description.
fn describe(files: &[PathBuf]) -> serde_json::Value {
    require_pandas();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/describe_frames.py");
    let out = Command::new("python3")
        .arg(script)
        .args(files)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "pandas could not load our files:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("describer prints JSON")
}

/// Does pandas' cell `got` hold `want`? `lenient`: null may show as NaN and an int as a
/// float (pandas' own inference for nullable int columns and JSON).
fn same(got: &serde_json::Value, want: &Value, lenient: bool) -> bool {
    use serde_json::Value as J;
    let is_nan = |g: &J| g.get("nan").is_some();
    match want {
        Value::Null => got.is_null() || (lenient && is_nan(got)),
        Value::Float(f) if f.is_nan() => is_nan(got) || (lenient && got.is_null()),
        Value::Float(f) => got.get("float").and_then(J::as_f64) == Some(*f),
        Value::Int(i) => {
            got.as_i64() == Some(*i)
                || (lenient && got.get("float").and_then(J::as_f64) == Some(*i as f64))
        }
        Value::Bool(b) => got.as_bool() == Some(*b),
        Value::Str(s) => got.as_str() == Some(s),
        Value::Ints(xs) => got.as_array().is_some_and(|a| {
            a.len() == xs.len() && a.iter().zip(xs).all(|(g, x)| g.as_i64() == Some(*x))
        }),
        Value::List(xs) => got.as_array().is_some_and(|a| {
            a.len() == xs.len() && a.iter().zip(xs).all(|(g, x)| same(g, x, lenient))
        }),
        Value::Struct(fs) => got.as_object().is_some_and(|o| {
            o.len() == fs.len()
                && fs
                    .iter()
                    .all(|(k, x)| o.get(k).is_some_and(|g| same(g, x, lenient)))
        }),
    }
}

fn check_frame(desc: &serde_json::Value, want: &Table, lenient: bool, what: &str) {
    let cols: Vec<&str> = desc["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cols, want.column_names(), "{what}: columns");
    assert!(
        desc["index"].as_str().unwrap().starts_with("RangeIndex"),
        "{what}: {}",
        desc["index"]
    );
    let rows = desc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.num_rows(), "{what}: rows");
    for (c, col) in want.columns.iter().enumerate() {
        for (r, v) in col.values.iter().enumerate() {
            let got = &rows[r][c];
            assert!(
                same(got, v, lenient),
                "{what}: row {r}, column '{}': pandas has {got}, we wrote {v:?}",
                col.name
            );
        }
    }
}

fn dtype<'a>(desc: &'a serde_json::Value, col: &str) -> &'a str {
    desc["dtypes"][col].as_str().unwrap()
}

/// A text column is `object` in pandas 2 and `str` in pandas 3.
fn is_text_dtype(d: &str) -> bool {
    d == "object" || d == "str" || d.starts_with("string")
}

#[test]
fn pandas_reads_our_pickle_parquet_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let t = edge_table();
    let files: Vec<PathBuf> = ["pkl", "parquet", "jsonl"]
        .iter()
        .map(|ext| {
            let p = dir.path().join(format!("edge.{ext}"));
            write_table(&p, &t).unwrap();
            p
        })
        .collect();
    let d = describe(&files);
    let key = |i: usize| files[i].to_str().unwrap().to_string();

    let pkl = &d[key(0)];
    check_frame(pkl, &t, false, "pickle");
    assert_eq!(dtype(pkl, "id"), "int64");
    assert_eq!(dtype(pkl, "score"), "float64");
    assert_eq!(dtype(pkl, "flag"), "bool");
    for c in ["text", "answer", "tokens", "maybe", "messages"] {
        assert_eq!(dtype(pkl, c), "object", "pickle column {c}");
    }

    // Parquet: the int/str column is stored as strings (documented).
    let pq = &d[key(1)];
    let mut t_pq = t.clone();
    t_pq.set_column(
        "answer",
        vec![
            Value::Str("8".into()),
            Value::Str("B".into()),
            Value::Null,
            Value::Str("x".into()),
        ],
    );
    check_frame(pq, &t_pq, true, "parquet");
    assert_eq!(dtype(pq, "id"), "int64");
    assert_eq!(dtype(pq, "score"), "float64");
    assert_eq!(dtype(pq, "flag"), "bool");
    assert!(is_text_dtype(dtype(pq, "text")));
    assert_eq!(dtype(pq, "tokens"), "object");

    let js = &d[key(2)];
    check_frame(js, &t, true, "jsonl");
    assert_eq!(dtype(js, "id"), "int64");
}

#[test]
fn pandas_reads_our_dsr1_pickle_like_the_seed() {
    let seed = harmony("dsr1_sample_pandas2.pkl");
    let t = read_table(&seed).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("dsr1.pkl");
    write_table(&ours, &t).unwrap();
    let d = describe(&[seed.clone(), ours.clone()]);
    let (theirs, ours) = (&d[seed.to_str().unwrap()], &d[ours.to_str().unwrap()]);
    assert_eq!(theirs["columns"], ours["columns"]);
    assert_eq!(theirs["rows"], ours["rows"], "pandas sees the same cells");
    check_frame(ours, &t, false, "dsr1 pickle");
    // Object columns of Python ints become int64 blocks; everything else keeps its dtype.
    for (c, want) in theirs["dtypes"].as_object().unwrap() {
        let got = &ours["dtypes"][c];
        if c.ends_with("_len") {
            assert_eq!(got, "int64", "{c}");
        } else {
            assert_eq!(got, want, "{c}");
        }
    }
}

/// Pickles written by the installed pandas with awkward block layouts (interleaved
/// placements, Fortran order, Arrow nulls and offsets, numpy cells, a non-range index)
/// read to exactly the cells pandas itself sees.
#[test]
fn we_read_pickles_real_pandas_writes_in_many_layouts() {
    require_pandas();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/make_layouts.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "make_layouts.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<PathBuf> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(files.len(), 7);
    let d = describe(&files);
    for f in &files {
        let t = read_table(f).unwrap_or_else(|e| panic!("{e}"));
        let desc = &d[f.to_str().unwrap()];
        let cols: Vec<&str> = desc["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(t.column_names(), cols, "{}", f.display());
        let rows = desc["rows"].as_array().unwrap();
        assert_eq!(t.num_rows(), rows.len(), "{}", f.display());
        for (c, col) in t.columns.iter().enumerate() {
            for (r, v) in col.values.iter().enumerate() {
                // Missing Arrow strings show as NaN in pandas (na_value=nan); we keep Null.
                let got = &rows[r][c];
                assert!(
                    same(got, v, true),
                    "{}: row {r}, column '{}': pandas {got}, ours {v:?}",
                    f.display(),
                    col.name
                );
            }
        }
    }
    let t = read_table(&dir.path().join("interleaved.pkl")).unwrap();
    let f = &t.column("f").unwrap().values;
    assert!(matches!(f[1], Value::Float(x) if x.is_nan()));
    assert_eq!(
        t.column("o").unwrap().values,
        [Value::Int(1), Value::Str("x".into()), Value::Null]
    );
    let t = read_table(&dir.path().join("matrix.pkl")).unwrap();
    assert_eq!(
        t.column("b").unwrap().values,
        [Value::Float(1.0), Value::Float(5.0), Value::Float(9.0)]
    );
    let t = read_table(&dir.path().join("text_nulls.pkl")).unwrap();
    assert_eq!(t.column("t").unwrap().values[1], Value::Null);
    assert_eq!(
        t.column("cells").unwrap().values[1],
        Value::Ints(vec![1, 2, 3])
    );
}

/// pandas features outside what datasets use (categoricals, datetimes) are refused with a
/// message that names the feature or the column, not mistaken for an attack.
#[test]
fn unsupported_pandas_features_are_named() {
    require_pandas();
    let dir = tempfile::tempdir().unwrap();
    let code = r#"
import sys, pandas as pd
d = sys.argv[1]
pd.DataFrame({"c": pd.Categorical(["a", "b"])}).to_pickle(d + "/cat.pkl")
pd.DataFrame({"x": [1, 2], "when": pd.to_datetime(["2025-01-01", "2025-01-02"])}).to_pickle(d + "/dt.pkl")
"#;
    let st = Command::new("python3")
        .args(["-c", code])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let e = read_table(&dir.path().join("cat.pkl"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cat.pkl") && e.contains("column(s) 'c'") && e.contains("not supported"),
        "{e}"
    );
    assert!(!e.contains("not a pandas DataFrame pickle"), "{e}");
    let e = read_table(&dir.path().join("dt.pkl"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dt.pkl") && e.contains("column(s) 'when'") && e.contains("not supported"),
        "{e}"
    );
}

/// A categorical column saved by pandas to Parquet (dictionary-encoded) reads as its values.
#[test]
fn categorical_parquet_reads_as_values() {
    require_pandas();
    let dir = tempfile::tempdir().unwrap();
    let code = r#"
import sys, pandas as pd
pd.DataFrame({"dataset": pd.Categorical(["aime25", "gpqa_diamond", None, "aime25"]), "n": [1, 2, 3, 4]}).to_parquet(sys.argv[1] + "/cat.parquet")
"#;
    let st = Command::new("python3")
        .args(["-c", code])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let t = read_table(&dir.path().join("cat.parquet")).unwrap();
    let s = |x: &str| Value::Str(x.into());
    assert_eq!(
        t.column("dataset").unwrap().values,
        [s("aime25"), s("gpqa_diamond"), Value::Null, s("aime25")]
    );
}
