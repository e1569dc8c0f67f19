//! JSON Lines: one object per line. Column order is the union of keys in first-seen order
//! (so the first line's order, as pandas does); a key missing from a line is `Null`, as
//! pandas' `read_json(lines=True)` gives. Blank lines are skipped.

use std::fmt::Write as _;
use std::path::Path;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::DatasetError;
use crate::table::{Column, Table, Value};

/// A JSON value that keeps object key order (serde_json's `Map` sorts without the
/// `preserve_order` feature, which we do not impose on the whole workspace).
struct Ordered(Value);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OrderedVisitor).map(Ordered)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {u} does not fit in 64-bit signed ints")))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Ordered(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::list(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields: Vec<(String, Value)> = Vec::new();
        while let Some((k, Ordered(v))) = map.next_entry::<String, Ordered>()? {
            match fields.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v, // a repeated key: the last wins, as in Python
                None => fields.push((k, v)),
            }
        }
        Ok(Value::Struct(fields))
    }
}

/// Parses JSON Lines text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Table, DatasetError> {
    let mut columns: Vec<Column> = Vec::new();
    let mut rows = 0usize;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |detail: String| DatasetError::JsonLine {
            path: path.to_path_buf(),
            line: i + 1,
            detail,
        };
        let Ordered(v) = serde_json::from_str(line).map_err(|e| {
            // serde counts lines within this one line; report the column only.
            let text = e.to_string();
            let what = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(w, _)| w);
            bad(format!("invalid JSON at column {}: {what}", e.column()))
        })?;
        let Value::Struct(fields) = v else {
            return Err(bad(format!("expected a JSON object, found a {}", v.kind())));
        };
        for (k, v) in fields {
            let col = match columns.iter().position(|c| c.name == k) {
                Some(p) => &mut columns[p],
                None => {
                    columns.push(Column {
                        name: k,
                        values: vec![Value::Null; rows],
                    });
                    let last = columns.len() - 1;
                    &mut columns[last]
                }
            };
            col.values.push(v);
        }
        rows += 1;
        for c in &mut columns {
            c.values.resize(rows, Value::Null);
        }
    }
    Ok(Table { columns })
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if !f.is_finite() => out.push_str("null"),
        Value::Float(f) => {
            out.push_str(&serde_json::Number::from_f64(*f).map_or("null".into(), |n| n.to_string()))
        }
        Value::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        Value::Ints(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{x}");
            }
            out.push(']');
        }
        Value::List(xs) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Struct(fields) => write_object(out, fields.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

fn write_object<'a>(out: &mut String, fields: impl Iterator<Item = (&'a str, &'a Value)>) {
    out.push('{');
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&serde_json::Value::String(k.to_string()).to_string());
        out.push_str(": ");
        write_value(out, v);
    }
    out.push('}');
}

/// Renders one JSON object per row (UTF-8, not ASCII-escaped, NaN/inf as `null`), with the
/// same `", "`/`": "` separators as Python's `json.dumps`.
pub fn render(table: &Table) -> String {
    let mut out = String::new();
    for row in 0..table.num_rows() {
        write_object(
            &mut out,
            table
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.values.get(row).unwrap_or(&Value::Null))),
        );
        out.push('\n');
    }
    out
}
