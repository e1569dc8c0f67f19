//! Parquet through the `parquet`/`arrow` crates. Reading maps Arrow types to [`Value`]s
//! (integer lists of any width become `Ints`, `list<struct>` becomes `List` of `Struct`).
//! Writing infers one Arrow type per column; see [`write`] for the rules.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, NullArray, RecordBatch,
    RecordBatchOptions, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::DatasetError;
use crate::table::{Column, Table, Value};

fn corrupt(path: &Path, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::Parquet {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

/// Reads every row group of a Parquet file. Columns named `__index_level_N__` (a pandas
/// non-range row index) are dropped: rows are addressed by position. A panic inside the
/// Parquet decoder on a malformed file is reported as a corrupt file, not a crash.
pub fn read(path: &Path) -> Result<Table, DatasetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_unguarded(path))).unwrap_or_else(
        |_| {
            Err(corrupt(
                path,
                "the Parquet decoder failed on malformed data",
            ))
        },
    )
}

fn read_unguarded(path: &Path) -> Result<Table, DatasetError> {
    let file = File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        action: "opening",
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| corrupt(path, e))?;
    let schema = builder.schema().clone();
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| {
            let n = schema.field(i).name();
            !(n.starts_with("__index_level_") && n.ends_with("__"))
        })
        .collect();
    let mut columns: Vec<Column> = keep
        .iter()
        .map(|&i| Column {
            name: schema.field(i).name().clone(),
            values: Vec::new(),
        })
        .collect();
    let reader = builder.build().map_err(|e| corrupt(path, e))?;
    for batch in reader {
        let batch = batch.map_err(|e| corrupt(path, e))?;
        for (col, &i) in columns.iter_mut().zip(&keep) {
            let vals = values(batch.column(i).as_ref())
                .map_err(|e| corrupt(path, format!("column '{}': {e}", col.name)))?;
            col.values.extend(vals);
        }
    }
    Ok(Table { columns })
}

/// Converts an Arrow array to cells.
fn values(a: &dyn Array) -> Result<Vec<Value>, String> {
    let n = a.len();
    let opt = |i: usize, v: Value| if a.is_null(i) { Value::Null } else { v };
    macro_rules! ints {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            (0..n)
                .map(|i| opt(i, Value::Int(p.value(i) as i64)))
                .collect()
        }};
    }
    Ok(match a.data_type() {
        DataType::Null => vec![Value::Null; n],
        DataType::Boolean => {
            let b = a.as_boolean();
            (0..n).map(|i| opt(i, Value::Bool(b.value(i)))).collect()
        }
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => {
            let p = a.as_primitive::<UInt64Type>();
            (0..n)
                .map(|i| match a.is_null(i) {
                    true => Ok(Value::Null),
                    false => i64::try_from(p.value(i))
                        .map(Value::Int)
                        .map_err(|_| format!("row {i}: {} does not fit in int64", p.value(i))),
                })
                .collect::<Result<_, _>>()?
        }
        DataType::Float32 => {
            let p = a.as_primitive::<Float32Type>();
            (0..n)
                .map(|i| opt(i, Value::Float(p.value(i) as f64)))
                .collect()
        }
        DataType::Float64 => {
            let p = a.as_primitive::<Float64Type>();
            (0..n).map(|i| opt(i, Value::Float(p.value(i)))).collect()
        }
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            (0..n)
                .map(|i| opt(i, Value::Str(s.value(i).to_string())))
                .collect()
        }
        DataType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            (0..n)
                .map(|i| opt(i, Value::Str(s.value(i).to_string())))
                .collect()
        }
        DataType::Utf8View => {
            let s = a.as_string_view();
            (0..n)
                .map(|i| opt(i, Value::Str(s.value(i).to_string())))
                .collect()
        }
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            lists(a, l.values().as_ref(), l.value_offsets())?
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            lists(a, l.values().as_ref(), l.value_offsets())?
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let children = s
                .columns()
                .iter()
                .map(|c| values(c.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            (0..n)
                .map(|i| {
                    opt(
                        i,
                        Value::Struct(
                            fields
                                .iter()
                                .zip(&children)
                                .map(|(f, c)| (f.name().clone(), c[i].clone()))
                                .collect(),
                        ),
                    )
                })
                .collect()
        }
        DataType::Dictionary(_, _) => {
            // pandas categoricals: decode the dictionary once, then look each key up.
            let d = a.as_any_dictionary();
            let dict = values(d.values().as_ref())?;
            d.normalized_keys()
                .into_iter()
                .enumerate()
                .map(|(i, k)| match a.is_null(i) {
                    true => Ok(Value::Null),
                    false => dict
                        .get(k)
                        .cloned()
                        .ok_or_else(|| format!("row {i}: dictionary key {k} out of range")),
                })
                .collect::<Result<_, String>>()?
        }
        other => return Err(format!("Arrow type {other} is not supported")),
    })
}

/// Integer list elements as i64, when the child is a null-free integer array: the fast
/// path for token columns (millions of ids), which skips per-element `Value`s.
fn plain_ints(child: &dyn Array) -> Option<Vec<i64>> {
    if child.null_count() > 0 {
        return None;
    }
    macro_rules! widen {
        ($t:ty) => {
            Some(
                child
                    .as_primitive::<$t>()
                    .values()
                    .iter()
                    .map(|x| *x as i64)
                    .collect(),
            )
        };
    }
    match child.data_type() {
        DataType::Int64 => Some(child.as_primitive::<Int64Type>().values().to_vec()),
        DataType::Int32 => widen!(Int32Type),
        DataType::Int16 => widen!(Int16Type),
        DataType::Int8 => widen!(Int8Type),
        DataType::UInt32 => widen!(UInt32Type),
        DataType::UInt16 => widen!(UInt16Type),
        DataType::UInt8 => widen!(UInt8Type),
        _ => None,
    }
}

fn lists<O: Copy + TryInto<usize>>(
    a: &dyn Array,
    child: &dyn Array,
    offsets: &[O],
) -> Result<Vec<Value>, String> {
    let bounds = |i: usize| -> Result<(usize, usize), String> {
        let s: usize = offsets[i].try_into().map_err(|_| "bad list offset")?;
        let e: usize = offsets[i + 1].try_into().map_err(|_| "bad list offset")?;
        Ok((s, e))
    };
    if let Some(ints) = plain_ints(child) {
        return (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    return Ok(Value::Null);
                }
                let (s, e) = bounds(i)?;
                let slice = ints.get(s..e).ok_or("list offsets outside the values")?;
                Ok(Value::Ints(slice.to_vec()))
            })
            .collect();
    }
    let items = values(child)?;
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return Ok(Value::Null);
            }
            let (s, e) = bounds(i)?;
            let slice = items.get(s..e).ok_or("list offsets outside the values")?;
            Ok(Value::list(slice.to_vec()))
        })
        .collect()
}

/// Rows converted to Arrow per batch when writing.
const BATCH_ROWS: usize = 1024;

/// The Arrow type inferred for a column.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// The element of an empty list: readers cannot tell `[]` from an empty id list, so it
    /// fits beside any element type and is Int64 when the whole column has no other.
    Empty,
    List(Box<Kind>),
    Struct(Vec<(String, Kind)>),
}

fn kind_of(v: &Value) -> Result<Kind, String> {
    Ok(match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        Value::Ints(ids) if ids.is_empty() => Kind::List(Box::new(Kind::Empty)),
        Value::Ints(_) => Kind::List(Box::new(Kind::Int)),
        Value::List(items) => {
            let mut k = Kind::Null;
            for x in items {
                k = merge(k, kind_of(x)?)?;
            }
            Kind::List(Box::new(k))
        }
        Value::Struct(fields) => Kind::Struct(
            fields
                .iter()
                .map(|(n, x)| Ok((n.clone(), kind_of(x)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Joins two kinds: null fits anything, an empty list's element fits anything but null,
/// int+float is float, any scalars mixed with str (or bool with numbers) are str, lists and
/// structs merge element-wise.
fn merge(a: Kind, b: Kind) -> Result<Kind, String> {
    use Kind::*;
    Ok(match (a, b) {
        (Null, k) | (k, Null) => k,
        (Empty, k) | (k, Empty) => k,
        (a, b) if a == b => a,
        (Int, Float) | (Float, Int) => Float,
        (List(x), List(y)) => List(Box::new(merge(*x, *y)?)),
        (Struct(mut x), Struct(y)) => {
            for (name, k) in y {
                match x.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = merge(slot.1.clone(), k)?,
                    None => x.push((name, k)),
                }
            }
            Struct(x)
        }
        (a @ (Bool | Int | Float | Str), b @ (Bool | Int | Float | Str)) if a != b => Str,
        (a, b) => {
            return Err(format!(
                "it mixes {a:?} and {b:?} values, and a Parquet column holds one type"
            ))
        }
    })
}

/// The column's final kind: an element seen only in empty lists is Int64, as the element
/// of an id list.
fn resolve(k: Kind) -> Kind {
    match k {
        Kind::Empty => Kind::Int,
        Kind::List(inner) => Kind::List(Box::new(resolve(*inner))),
        Kind::Struct(fields) => {
            Kind::Struct(fields.into_iter().map(|(n, k)| (n, resolve(k))).collect())
        }
        k => k,
    }
}

fn data_type(k: &Kind) -> DataType {
    match k {
        Kind::Null => DataType::Null,
        Kind::Bool => DataType::Boolean,
        Kind::Int | Kind::Empty => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Str => DataType::Utf8,
        Kind::List(inner) => DataType::List(Arc::new(Field::new("item", data_type(inner), true))),
        Kind::Struct(fields) => DataType::Struct(struct_fields(fields)),
    }
}

fn struct_fields(fields: &[(String, Kind)]) -> Fields {
    fields
        .iter()
        .map(|(n, k)| Field::new(n, data_type(k), true))
        .collect()
}

/// How a number looks once a column is stored as strings: Python's `str()`.
fn py_str(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) if f.is_nan() => Some("nan".into()),
        Value::Float(f) if f.is_infinite() => Some(if *f > 0.0 { "inf" } else { "-inf" }.into()),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => Some(format!("{f:.1}")),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        _ => None,
    }
}

fn build(k: &Kind, vals: &[&Value]) -> ArrayRef {
    match k {
        Kind::Null => Arc::new(NullArray::new(vals.len())),
        Kind::Bool => Arc::new(BooleanArray::from(
            vals.iter()
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Int | Kind::Empty => Arc::new(Int64Array::from(
            vals.iter()
                .map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Float => Arc::new(Float64Array::from(
            vals.iter()
                .map(|v| match v {
                    Value::Float(f) => Some(*f),
                    Value::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Str => Arc::new(StringArray::from(
            vals.iter().map(|v| py_str(v)).collect::<Vec<_>>(),
        )),
        Kind::List(inner) if **inner == Kind::Int => {
            // Token columns: straight from `Ints` to an Int64 child, no per-id `Value`.
            let mut offsets = vec![0i32];
            let mut valid = Vec::with_capacity(vals.len());
            let mut ids: Vec<i64> = Vec::new();
            // Element validity, materialised only once a null element shows up.
            let mut id_valid: Option<Vec<bool>> = None;
            for v in vals {
                match v {
                    Value::Ints(xs) => {
                        ids.extend_from_slice(xs);
                        if let Some(m) = &mut id_valid {
                            m.resize(ids.len(), true);
                        }
                    }
                    Value::List(xs) => {
                        for x in xs {
                            let id = match x {
                                Value::Int(i) => Some(*i),
                                _ => None,
                            };
                            ids.push(id.unwrap_or(0));
                            match (&mut id_valid, id) {
                                (Some(m), _) => m.push(id.is_some()),
                                (None, None) => {
                                    let mut m = vec![true; ids.len() - 1];
                                    m.push(false);
                                    id_valid = Some(m);
                                }
                                (None, Some(_)) => {}
                            }
                        }
                    }
                    _ => {}
                }
                valid.push(matches!(v, Value::Ints(_) | Value::List(_)));
                offsets.push(ids.len() as i32);
            }
            let child = Int64Array::new(ids.into(), id_valid.map(NullBuffer::from));
            let field = Arc::new(Field::new("item", DataType::Int64, true));
            Arc::new(ListArray::new(
                field,
                OffsetBuffer::new(offsets.into()),
                Arc::new(child),
                Some(NullBuffer::from(valid)),
            ))
        }
        Kind::List(inner) => {
            let mut offsets = vec![0i32];
            let mut valid = Vec::with_capacity(vals.len());
            let mut owned: Vec<Value> = Vec::new();
            for v in vals {
                match v {
                    Value::Ints(xs) => owned.extend(xs.iter().map(|x| Value::Int(*x))),
                    Value::List(xs) => owned.extend(xs.iter().cloned()),
                    _ => {}
                }
                valid.push(matches!(v, Value::Ints(_) | Value::List(_)));
                offsets.push(owned.len() as i32);
            }
            let refs: Vec<&Value> = owned.iter().collect();
            let child = build(inner, &refs);
            let field = Arc::new(Field::new("item", data_type(inner), true));
            Arc::new(ListArray::new(
                field,
                OffsetBuffer::new(offsets.into()),
                child,
                Some(NullBuffer::from(valid)),
            ))
        }
        Kind::Struct(fields) => {
            let valid: Vec<bool> = vals.iter().map(|v| matches!(v, Value::Struct(_))).collect();
            let null = Value::Null;
            let children: Vec<ArrayRef> = fields
                .iter()
                .map(|(name, fk)| {
                    let col: Vec<&Value> = vals
                        .iter()
                        .map(|v| match v {
                            Value::Struct(fs) => {
                                fs.iter().find(|(n, _)| n == name).map_or(&null, |(_, x)| x)
                            }
                            _ => &null,
                        })
                        .collect();
                    build(fk, &col)
                })
                .collect();
            Arc::new(StructArray::new(
                struct_fields(fields),
                children,
                Some(NullBuffer::from(valid)),
            ))
        }
    }
}

/// Encodes `table` as Parquet (snappy). One Arrow type per column: Int64, Float64 (ints
/// mixed with floats are widened), Boolean, Utf8, List (of the merged element type; `Ints`
/// are List<Int64>), Struct (fields united by name). A column mixing ints or floats with
/// strings — such as `ref_extracted_answer` — is written as strings (Python `str()` of
/// the numbers), as pandas/pyarrow must do too; nulls are kept.
pub fn write(table: &Table, path: &Path, file: File) -> Result<(), DatasetError> {
    let werr = |detail: String| DatasetError::Write {
        path: path.to_path_buf(),
        detail,
    };
    let mut fields = Vec::new();
    let mut kinds = Vec::new();
    for col in &table.columns {
        let mut k = Kind::Null;
        for (row, v) in col.values.iter().enumerate() {
            k = kind_of(v)
                .and_then(|vk| merge(k, vk))
                .map_err(|e| werr(format!("row {row}, column '{}': {e}", col.name)))?;
        }
        let k = resolve(k);
        fields.push(Field::new(&col.name, data_type(&k), true));
        kinds.push(k);
    }
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| werr(e.to_string()))?;
    // Converted a slice of rows at a time, so only one batch is ever held as Arrow arrays.
    let n = table.num_rows();
    let mut start = 0;
    while start < n || (n == 0 && start == 0) {
        let end = (start + BATCH_ROWS).min(n);
        let arrays: Vec<ArrayRef> = table
            .columns
            .iter()
            .zip(&kinds)
            .map(|(col, k)| {
                let refs: Vec<&Value> = col.values[start..end].iter().collect();
                build(k, &refs)
            })
            .collect();
        let batch = RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(end - start)),
        )
        .map_err(|e| werr(e.to_string()))?;
        w.write(&batch).map_err(|e| werr(e.to_string()))?;
        if n == 0 {
            break;
        }
        start = end;
    }
    w.close().map_err(|e| werr(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(table: &Table) -> Table {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write(table, &path, File::create(&path).unwrap()).unwrap();
        read(&path).unwrap()
    }

    fn turn(role: &str, content: &str) -> Value {
        Value::Struct(vec![
            ("role".into(), Value::Str(role.into())),
            ("content".into(), Value::Str(content.into())),
        ])
    }

    /// healthbench's `prompt`: readers give `[]` as an empty id list, which must sit
    /// beside lists of messages (in either order) and come back as it went in.
    #[test]
    fn empty_lists_beside_lists_of_structs_or_strings() {
        let columns = [
            vec![Value::Ints(vec![]), Value::List(vec![turn("user", "hi")])],
            vec![
                Value::List(vec![turn("user", "hi")]),
                Value::Ints(vec![]),
                Value::Null,
            ],
            vec![
                Value::Ints(vec![]),
                Value::List(vec![Value::Str("a".into())]),
            ],
        ];
        for values in columns {
            let table = Table {
                columns: vec![Column {
                    name: "prompt".into(),
                    values: values.clone(),
                }],
            };
            assert_eq!(roundtrip(&table).columns[0].values, values);
        }
    }

    /// A column of nothing but empty lists stays `list<int64>`, as before.
    #[test]
    fn a_column_of_empty_lists_is_a_list_of_int64() {
        let table = Table {
            columns: vec![Column {
                name: "ids".into(),
                values: vec![Value::Ints(vec![]), Value::Null, Value::Ints(vec![3])],
            }],
        };
        let kinds: Vec<Kind> = table.columns[0]
            .values
            .iter()
            .map(|v| kind_of(v).unwrap())
            .collect();
        let merged = kinds.into_iter().try_fold(Kind::Null, merge).unwrap();
        assert_eq!(
            data_type(&resolve(merged)),
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true)))
        );
        let only_empty = resolve(kind_of(&Value::Ints(vec![])).unwrap());
        assert_eq!(only_empty, Kind::List(Box::new(Kind::Int)));
        assert_eq!(roundtrip(&table).columns[0].values, table.columns[0].values);
    }
}
