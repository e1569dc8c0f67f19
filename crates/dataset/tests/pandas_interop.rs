//! Files we write are read back by REAL pandas/pyarrow (`tests/py/describe_frames.py`),
//! and the dtypes and values pandas sees are checked here. Needs `pip install pandas pyarrow`;
//! without them these tests fail (they never pass silently).

mod common;

use std::ffi::OsStr;
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
    let mut args = vec![py_script("describe_frames.py")];
    args.extend(files.iter().cloned());
    serde_json::from_slice(&python(&args)).expect("describer prints JSON")
}

/// Has the installed pandas save each `(file, frame expression)` into `dir`, with
/// `to_pickle` or `to_parquet` after the file's extension.
fn pandas_writes(dir: &Path, frames: &[(&str, &str)]) {
    require_pandas();
    let mut code = String::from("import sys, pandas as pd\nd = sys.argv[1]\n");
    for (file, frame) in frames {
        let method = if file.ends_with(".parquet") {
            "to_parquet"
        } else {
            "to_pickle"
        };
        code += &format!("{frame}.{method}(d + \"/{file}\")\n");
    }
    python(&[OsStr::new("-c"), OsStr::new(&code), dir.as_os_str()]);
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

/// Does pandas' description of a frame hold exactly `want`'s columns and cells?
fn check_cells(desc: &serde_json::Value, want: &Table, lenient: bool, what: &str) {
    assert_eq!(
        json_strs(&desc["columns"]),
        want.column_names(),
        "{what}: columns"
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

/// [`check_cells`], and the frame has the plain `RangeIndex` our writers give it.
fn check_frame(desc: &serde_json::Value, want: &Table, lenient: bool, what: &str) {
    check_cells(desc, want, lenient, what);
    assert!(
        desc["index"].as_str().unwrap().starts_with("RangeIndex"),
        "{what}: {}",
        desc["index"]
    );
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
    let pkl_dtypes = [
        ("id", "int64"),
        ("score", "float64"),
        ("flag", "bool"),
        ("text", "object"),
        ("answer", "object"),
        ("tokens", "object"),
        ("maybe", "object"),
        ("messages", "object"),
    ];
    for (c, want) in pkl_dtypes {
        assert_eq!(dtype(pkl, c), want, "pickle column {c}");
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
    for (c, want) in [
        ("id", "int64"),
        ("score", "float64"),
        ("flag", "bool"),
        ("tokens", "object"),
    ] {
        assert_eq!(dtype(pq, c), want, "parquet column {c}");
    }
    assert!(is_text_dtype(dtype(pq, "text")));

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
    let out = python(&[
        py_script("make_layouts.py").as_os_str(),
        dir.path().as_os_str(),
    ]);
    let files: Vec<PathBuf> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(files.len(), 7);
    let d = describe(&files);
    for f in &files {
        let t = read_table(f).unwrap_or_else(|e| panic!("{e}"));
        // Lenient: missing Arrow strings show as NaN in pandas (na_value=nan); we keep Null.
        check_cells(&d[f.to_str().unwrap()], &t, true, &f.display().to_string());
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
    let cases = [
        (
            "cat.pkl",
            r#"pd.DataFrame({"c": pd.Categorical(["a", "b"])})"#,
            "c",
        ),
        (
            "dt.pkl",
            r#"pd.DataFrame({"x": [1, 2], "when": pd.to_datetime(["2025-01-01", "2025-01-02"])})"#,
            "when",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    pandas_writes(dir.path(), &cases.map(|(file, frame, _)| (file, frame)));
    for (file, _, column) in cases {
        let e = read_table(&dir.path().join(file)).unwrap_err().to_string();
        assert!(
            e.contains(file)
                && e.contains(&format!("column(s) '{column}'"))
                && e.contains("not supported"),
            "{e}"
        );
        assert!(!e.contains("not a pandas DataFrame pickle"), "{e}");
    }
}

/// A categorical column saved by pandas to Parquet (dictionary-encoded) reads as its values.
#[test]
fn categorical_parquet_reads_as_values() {
    let dir = tempfile::tempdir().unwrap();
    let frame = r#"pd.DataFrame({"dataset": pd.Categorical(["aime25", "gpqa_diamond", None, "aime25"]), "n": [1, 2, 3, 4]})"#;
    pandas_writes(dir.path(), &[("cat.parquet", frame)]);
    let t = read_table(&dir.path().join("cat.parquet")).unwrap();
    let s = |x: &str| Value::Str(x.into());
    assert_eq!(
        t.column("dataset").unwrap().values,
        [s("aime25"), s("gpqa_diamond"), Value::Null, s("aime25")]
    );
}
