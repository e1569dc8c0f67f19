//! Writes a [`Table`] as a pandas DataFrame pickle (protocol 5), in the same layout that
//! `DataFrame.to_pickle` produces: a `BlockManager` with one block per column. Columns of
//! only ints / only floats / only bools become int64 / float64 / bool blocks; every other
//! column is an object block of plain Python values (lists of ints stay Python lists,
//! `Null` is `None`, NaN is `float('nan')`). Arrays are built with the public
//! `numpy.ndarray` constructor rather than numpy's private `numpy.core` / `numpy._core`
//! helpers, so the file loads without warnings under numpy 1 and numpy 2 alike.

use super::op;
use crate::table::{Table, Value};

struct Out(Vec<u8>);

impl Out {
    fn op(&mut self, op: u8) {
        self.0.push(op);
    }
    fn str(&mut self, s: &str) {
        let b = s.as_bytes();
        if b.len() < 256 {
            self.0.push(op::SHORT_BINUNICODE);
            self.0.push(b.len() as u8);
        } else if let Ok(n) = u32::try_from(b.len()) {
            self.0.push(op::BINUNICODE);
            self.0.extend(n.to_le_bytes());
        } else {
            self.0.push(op::BINUNICODE8);
            self.0.extend((b.len() as u64).to_le_bytes());
        }
        self.0.extend(b);
    }
    fn global(&mut self, module: &str, name: &str) {
        self.str(module);
        self.str(name);
        self.op(op::STACK_GLOBAL);
    }
    fn int(&mut self, i: i64) {
        if let Ok(small) = i32::try_from(i) {
            self.op(op::BININT);
            self.0.extend(small.to_le_bytes());
        } else {
            self.op(op::LONG1);
            self.0.push(8);
            self.0.extend(i.to_le_bytes());
        }
    }
    fn float(&mut self, f: f64) {
        self.op(op::BINFLOAT);
        self.0.extend(f.to_be_bytes());
    }
    fn bytearray(&mut self, b: &[u8]) {
        self.op(op::BYTEARRAY8);
        self.0.extend((b.len() as u64).to_le_bytes());
        self.0.extend(b);
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.op(op::NONE),
            Value::Bool(b) => self.op(if *b { op::NEWTRUE } else { op::NEWFALSE }),
            Value::Int(i) => self.int(*i),
            Value::Float(f) => self.float(*f),
            Value::Str(s) => self.str(s),
            Value::Ints(xs) => {
                self.op(op::EMPTY_LIST);
                for chunk in xs.chunks(1000) {
                    self.op(op::MARK);
                    chunk.iter().for_each(|x| self.int(*x));
                    self.op(op::APPENDS);
                }
            }
            Value::List(xs) => {
                self.op(op::EMPTY_LIST);
                for chunk in xs.chunks(1000) {
                    self.op(op::MARK);
                    chunk.iter().for_each(|x| self.value(x));
                    self.op(op::APPENDS);
                }
            }
            Value::Struct(fields) => {
                self.op(op::EMPTY_DICT);
                if !fields.is_empty() {
                    self.op(op::MARK);
                    for (k, x) in fields {
                        self.str(k);
                        self.value(x);
                    }
                    self.op(op::SETITEMS);
                }
            }
        }
    }
    /// `numpy.dtype(code, False, True)` with its `__setstate__` tuple.
    fn dtype(&mut self, code: &str, order: &str, flags: i64) {
        self.global("numpy", "dtype");
        self.str(code);
        self.op(op::NEWFALSE);
        self.op(op::NEWTRUE);
        self.op(op::TUPLE3);
        self.op(op::REDUCE);
        self.op(op::MARK);
        self.int(3);
        self.str(order);
        self.op(op::NONE);
        self.op(op::NONE);
        self.op(op::NONE);
        self.int(-1);
        self.int(-1);
        self.int(flags);
        self.op(op::TUPLE);
        self.op(op::BUILD);
    }
    /// A 2-D object ndarray of shape (1, n) holding `cells`.
    fn object_array(&mut self, cells: &[Value], two_d: bool) {
        // numpy.ndarray((0,), 'b'), then __setstate__ fills shape, dtype and items.
        self.global("numpy", "ndarray");
        self.int(0);
        self.op(op::TUPLE1);
        self.str("b");
        self.op(op::TUPLE2);
        self.op(op::REDUCE);
        self.op(op::MARK);
        self.int(1);
        if two_d {
            self.int(1);
        }
        self.int(cells.len() as i64);
        self.op(if two_d { op::TUPLE2 } else { op::TUPLE1 });
        self.dtype("O8", "|", 63);
        self.op(op::NEWFALSE);
        self.op(op::EMPTY_LIST);
        for chunk in cells.chunks(1000) {
            self.op(op::MARK);
            chunk.iter().for_each(|x| self.value(x));
            self.op(op::APPENDS);
        }
        self.op(op::TUPLE);
        self.op(op::BUILD);
    }
    /// A (1, n) numeric ndarray over raw little-endian bytes:
    /// `numpy.ndarray((1, n), dtype, bytearray)`, writable because the buffer is.
    fn numeric_array(&mut self, code: &str, order: &str, raw: &[u8], n: usize) {
        self.global("numpy", "ndarray");
        self.int(1);
        self.int(n as i64);
        self.op(op::TUPLE2);
        self.dtype(code, order, 0);
        self.bytearray(raw);
        self.op(op::TUPLE3);
        self.op(op::REDUCE);
    }
    fn index_call(&mut self, class: &str) {
        self.global("pandas.core.indexes.base", "_new_Index");
        self.global("pandas", class);
        self.op(op::EMPTY_DICT);
        self.op(op::MARK);
    }
}

/// Encodes one column as a block's values, choosing a numeric block when possible.
fn block_values(out: &mut Out, values: &[Value]) {
    let n = values.len();
    if let Some(raw) = raw_cells(values, |v| match v {
        Value::Int(i) => Some(i.to_le_bytes()),
        _ => None,
    }) {
        out.numeric_array("i8", "<", &raw, n);
    } else if let Some(raw) = raw_cells(values, |v| match v {
        Value::Float(f) => Some(f.to_le_bytes()),
        _ => None,
    }) {
        out.numeric_array("f8", "<", &raw, n);
    } else if let Some(raw) = raw_cells(values, |v| match v {
        Value::Bool(b) => Some([u8::from(*b)]),
        _ => None,
    }) {
        out.numeric_array("b1", "|", &raw, n);
    } else {
        out.object_array(values, true);
    }
}

/// The little-endian bytes of a numeric block, or `None` when some cell is not of
/// the block's type (`cell` says which cells are).
fn raw_cells<const N: usize>(
    values: &[Value],
    cell: impl Fn(&Value) -> Option<[u8; N]>,
) -> Option<Vec<u8>> {
    let mut raw = Vec::with_capacity(values.len() * N);
    for v in values {
        raw.extend(cell(v)?);
    }
    Some(raw)
}

/// Serializes `table` as a pickle that `pandas.read_pickle` loads as a DataFrame.
pub fn to_pickle(table: &Table) -> Vec<u8> {
    let n = table.num_rows();
    let mut out = Out(Vec::new());
    out.0.extend([op::PROTO, 5]);
    out.global("pandas", "DataFrame");
    out.op(op::EMPTY_TUPLE);
    out.op(op::NEWOBJ);
    out.op(op::EMPTY_DICT);
    out.op(op::MARK);
    out.str("_mgr");
    out.global("pandas.core.internals.managers", "BlockManager");
    out.op(op::MARK);
    for (i, col) in table.columns.iter().enumerate() {
        out.global("pandas._libs.internals", "_unpickle_block");
        block_values(&mut out, &col.values);
        out.global("builtins", "slice");
        out.int(i as i64);
        out.int(i as i64 + 1);
        out.int(1);
        out.op(op::TUPLE3);
        out.op(op::REDUCE);
        out.int(2);
        out.op(op::TUPLE3);
        out.op(op::REDUCE);
    }
    out.op(op::TUPLE);
    // axes: [column labels, RangeIndex(0, n)]
    out.op(op::EMPTY_LIST);
    out.op(op::MARK);
    out.index_call("Index");
    out.str("data");
    let labels: Vec<Value> = table
        .columns
        .iter()
        .map(|c| Value::Str(c.name.clone()))
        .collect();
    out.object_array(&labels, false);
    out.str("name");
    out.op(op::NONE);
    out.op(op::SETITEMS);
    out.op(op::TUPLE2);
    out.op(op::REDUCE);
    out.index_call("RangeIndex");
    out.str("name");
    out.op(op::NONE);
    out.str("start");
    out.int(0);
    out.str("stop");
    out.int(n as i64);
    out.str("step");
    out.int(1);
    out.op(op::SETITEMS);
    out.op(op::TUPLE2);
    out.op(op::REDUCE);
    out.op(op::APPENDS);
    out.op(op::TUPLE2);
    out.op(op::REDUCE);
    out.str("_typ");
    out.str("dataframe");
    out.str("_metadata");
    out.op(op::EMPTY_LIST);
    out.str("attrs");
    out.op(op::EMPTY_DICT);
    out.str("_flags");
    out.op(op::EMPTY_DICT);
    out.str("allows_duplicate_labels");
    out.op(op::NEWTRUE);
    out.op(op::SETITEM);
    out.op(op::SETITEMS);
    out.op(op::BUILD);
    out.op(op::STOP);
    out.0
}
