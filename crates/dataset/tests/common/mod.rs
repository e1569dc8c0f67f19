//! Shared helpers: where the fixtures are and what they should contain, decoded straight
//! from the JSON truth files with serde_json (not with the crate under test).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dataset::Value;

/// The 13 DSR1 seed columns, in the seed's order (vectors/harmony/README.md).
pub const DSR1_COLUMNS: [&str; 13] = [
    "dataset",
    "ground_truth",
    "ref_accuracy",
    "ref_extracted_answer",
    "ref_output",
    "text_input",
    "metric",
    "question",
    "tok_ref_output",
    "tok_ref_output_len",
    "tok_input",
    "tok_input_len",
    "templated_text_input",
];

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

pub fn harmony(file: &str) -> PathBuf {
    shared().join("vectors/harmony").join(file)
}

/// A helper script of this crate's tests (`tests/py/NAME`).
pub fn py_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(name)
}

/// Runs `python3 ARGS`, which must succeed, and returns what it printed.
pub fn python<S: AsRef<OsStr>>(args: &[S]) -> Vec<u8> {
    let out = Command::new("python3")
        .args(args)
        .output()
        .expect("python3 is required for this test");
    assert!(
        out.status.success(),
        "python3 {:?} failed:\n{}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A JSON value as the readers should produce it (object keys sorted: serde_json's map).
pub fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().expect("finite number")),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(json_to_value).collect()),
        serde_json::Value::Object(o) => Value::Struct(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect(),
        ),
    }
}

/// A JSON array of strings (column names in the truth files and pandas' descriptions).
pub fn json_strs(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| c.as_str().expect("a JSON string"))
        .collect()
}

/// Rows of a JSON Lines file as key -> value maps.
pub fn jsonl_rows(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(path)
        .expect("read jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid json line"))
        .collect()
}

/// Sorts struct fields by name, recursively, so order-insensitive comparisons are easy.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::List(xs) => Value::List(xs.iter().map(sorted).collect()),
        Value::Struct(fs) => {
            let mut fs: Vec<_> = fs.iter().map(|(k, x)| (k.clone(), sorted(x))).collect();
            fs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Struct(fs)
        }
        other => other.clone(),
    }
}

/// Asserts that `table` holds exactly `rows` in `columns` order.
pub fn assert_table_eq(
    table: &dataset::Table,
    columns: &[&str],
    rows: &[serde_json::Map<String, serde_json::Value>],
    what: &str,
) {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, columns, "{what}: column names/order");
    assert_eq!(table.num_rows(), rows.len(), "{what}: row count");
    for col in &table.columns {
        for (r, row) in rows.iter().enumerate() {
            let want = json_to_value(row.get(&col.name).unwrap_or(&serde_json::Value::Null));
            assert_eq!(
                sorted(&col.values[r]),
                sorted(&want),
                "{what}: row {r}, column '{}'",
                col.name
            );
        }
    }
}

/// A small table with the awkward cases: NaN, -0.0, extremes, unicode, empty lists,
/// ints mixed with strings and nulls, lists of structs.
pub fn edge_table() -> dataset::Table {
    use Value::*;
    let s = |x: &str| Str(x.to_string());
    let msg = |role: &str, content: &str| {
        Struct(vec![
            ("content".into(), s(content)),
            ("role".into(), s(role)),
        ])
    };
    let cols: Vec<(&str, Vec<Value>)> = vec![
        ("id", vec![Int(0), Int(-7), Int(i64::MAX), Int(i64::MIN)]),
        (
            "score",
            vec![Float(1.5), Float(f64::NAN), Float(-0.0), Float(100.0)],
        ),
        (
            "flag",
            vec![Bool(true), Bool(false), Bool(true), Bool(false)],
        ),
        (
            "text",
            vec![
                s("héllo ✓"),
                s(""),
                s("line\nbreak \"q\" \\"),
                s("日本 \u{200b}"),
            ],
        ),
        ("answer", vec![Int(8), s("B"), Null, s("x")]),
        (
            "tokens",
            vec![
                Ints(vec![1, 2, 3]),
                Ints(vec![]),
                Ints(vec![200_006]),
                Ints(vec![0]),
            ],
        ),
        ("maybe", vec![Int(5), Null, Int(7), Null]),
        (
            "messages",
            vec![
                List(vec![msg("developer", "be brief"), msg("user", "hi")]),
                List(vec![msg("user", "")]),
                Null,
                List(vec![msg("user", "ü")]),
            ],
        ),
        (
            "floats",
            vec![
                List(vec![Float(1.0), Float(2.5)]),
                Ints(vec![]),
                Null,
                List(vec![Float(-1.0)]),
            ],
        ),
    ];
    let mut t = dataset::Table::default();
    for (n, v) in cols {
        t.set_column(n, v);
    }
    t
}
