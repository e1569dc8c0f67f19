//! numpy arrays as pandas pickles them: `_frombuffer(bytes, dtype, shape, order)` for numeric
//! blocks, `_reconstruct(ndarray, (0,), b'b')` + `__setstate__` for object blocks, and numpy
//! scalars inside object cells. Only the dtypes a dataset plausibly holds are decoded.

use super::py;
use super::vm::{Graph, Val};
use crate::table::Value;

/// The elements of an array in logical (C) order.
pub enum Cells {
    /// Object dtype: Python objects still in the graph (converted later, with row/column
    /// known for error messages).
    Objects(Vec<Val>),
    /// Numeric dtype, already decoded.
    Values(Vec<Value>),
}

pub struct NdArray {
    pub shape: Vec<usize>,
    pub cells: Cells,
}

#[derive(Clone, Copy)]
struct Dtype {
    kind: u8,
    size: usize,
    big_endian: bool,
}

fn is_fn(name: &str, suffix: &str) -> bool {
    ["numpy.core.", "numpy._core."]
        .iter()
        .any(|p| name.strip_prefix(p) == Some(suffix))
}

fn dtype(g: &Graph, v: Val) -> Result<Dtype, String> {
    let (f, args, state) = py::call(g, v)
        .ok_or_else(|| format!("expected a numpy dtype, found {}", py::describe(g, v)))?;
    if f != "numpy.dtype" {
        return Err(format!("expected a numpy dtype, found {f}"));
    }
    let code = py::string(g, py::item(g, args, 0, "numpy.dtype")?, "numpy.dtype")?;
    let order = match state {
        Some(s) => match py::tuple(g, s, "dtype state")?.get(1) {
            Some(o) => py::string(g, *o, "dtype byte order")?.to_string(),
            None => "|".into(),
        },
        None => "|".into(),
    };
    let (kind, size) = code.split_at(1.min(code.len()));
    let kind = kind.bytes().next().unwrap_or(b'?');
    let size: usize = size.parse().unwrap_or(0);
    let ok = match kind {
        b'f' => size == 4 || size == 8,
        b'i' | b'u' => matches!(size, 1 | 2 | 4 | 8),
        b'b' => size == 1,
        b'O' => true,
        _ => false,
    };
    if !ok {
        return Err(format!(
            "numpy dtype '{code}' is not supported (only int, uint, float, bool and object)"
        ));
    }
    Ok(Dtype {
        kind,
        size,
        big_endian: order == ">",
    })
}

fn decode(dt: Dtype, raw: &[u8]) -> Result<Vec<Value>, String> {
    if dt.kind == b'O' {
        return Err("object array stored as raw bytes".into());
    }
    if raw.len() % dt.size != 0 {
        return Err(format!(
            "array buffer of {} bytes is not a multiple of the item size {}",
            raw.len(),
            dt.size
        ));
    }
    raw.chunks(dt.size)
        .map(|c| {
            let mut b = [0u8; 8];
            if dt.big_endian {
                for (i, x) in c.iter().rev().enumerate() {
                    b[i] = *x;
                }
            } else {
                b[..c.len()].copy_from_slice(c);
            }
            let signed = |bits: usize| {
                let u = u64::from_le_bytes(b);
                let shift = 64 - bits;
                ((u << shift) as i64) >> shift
            };
            Ok(match (dt.kind, dt.size) {
                (b'f', 8) => Value::Float(f64::from_le_bytes(b)),
                (b'f', _) => Value::Float(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
                (b'i', n) => Value::Int(signed(n * 8)),
                (b'u', _) => Value::Int(i64::try_from(u64::from_le_bytes(b)).map_err(|_| {
                    "an unsigned value does not fit in 64-bit signed ints".to_string()
                })?),
                (b'b', _) => Value::Bool(b[0] != 0),
                _ => return Err("unsupported dtype".into()),
            })
        })
        .collect()
}

fn shape_of(g: &Graph, v: Val) -> Result<Vec<usize>, String> {
    py::tuple(g, v, "array shape")?
        .iter()
        .map(|d| {
            usize::try_from(py::int(g, *d, "array shape")?)
                .map_err(|_| "negative array dimension".to_string())
        })
        .collect()
}

/// Reorders Fortran-ordered elements of a 1-D or 2-D array into C order.
fn c_order<T: Clone>(shape: &[usize], items: Vec<T>, fortran: bool) -> Result<Vec<T>, String> {
    let total = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or("array shape is implausibly large")?;
    if items.len() != total {
        return Err(format!(
            "array holds {} elements but its shape {:?} needs {}",
            items.len(),
            shape,
            total
        ));
    }
    if !fortran || shape.len() < 2 {
        return Ok(items);
    }
    if shape.len() > 2 {
        return Err("arrays with more than 2 dimensions are not supported".into());
    }
    let (rows, cols) = (shape[0], shape[1]);
    let mut out = Vec::with_capacity(total);
    for i in 0..rows {
        for j in 0..cols {
            out.push(items[j * rows + i].clone());
        }
    }
    Ok(out)
}

/// Decodes `v` if it is a numpy array node; `Ok(None)` when it is some other call.
pub fn ndarray(g: &Graph, v: Val) -> Result<Option<NdArray>, String> {
    let Some((f, args, state)) = py::call(g, v) else {
        return Ok(None);
    };
    if is_fn(&f, "numeric._frombuffer") {
        let a = py::tuple(g, args, "_frombuffer arguments")?;
        if a.len() < 4 {
            return Err("_frombuffer needs (buffer, dtype, shape, order)".into());
        }
        let raw = py::bytes(g, a[0], "_frombuffer buffer")?;
        let dt = dtype(g, a[1])?;
        let shape = shape_of(g, a[2])?;
        let fortran = py::string(g, a[3], "_frombuffer order")? == "F";
        let vals = c_order(&shape, decode(dt, raw)?, fortran)?;
        return Ok(Some(NdArray {
            shape,
            cells: Cells::Values(vals),
        }));
    }
    if f == "numpy.ndarray" && state.is_none() {
        // numpy.ndarray(shape, dtype, buffer): what our writer emits for numeric blocks.
        let a = py::tuple(g, args, "ndarray arguments")?;
        if a.len() != 3 {
            return Err("numpy.ndarray(...) needs exactly (shape, dtype, buffer)".into());
        }
        let shape = shape_of(g, a[0])?;
        let dt = dtype(g, a[1])?;
        let raw = py::bytes(g, a[2], "ndarray buffer")?;
        let vals = c_order(&shape, decode(dt, raw)?, false)?;
        return Ok(Some(NdArray {
            shape,
            cells: Cells::Values(vals),
        }));
    }
    if is_fn(&f, "multiarray._reconstruct") || f == "numpy.ndarray" {
        // _reconstruct(ndarray, (0,), b'b') or ndarray((0,), 'b'): an empty array whose
        // __setstate__ brings the real shape, dtype and data.
        let st = state.ok_or("numpy array without state")?;
        let mut s = py::tuple(g, st, "ndarray state")?;
        if s.len() == 5 {
            s = &s[1..]; // leading version number
        }
        if s.len() != 4 {
            return Err("ndarray state must be (shape, dtype, is_fortran, data)".into());
        }
        let shape = shape_of(g, s[0])?;
        let dt = dtype(g, s[1])?;
        let fortran = matches!(s[2], Val::Bool(true) | Val::Int(1));
        let cells = if dt.kind == b'O' {
            // Object arrays pickle their items as a list in logical (C) order.
            let items = py::tuple(g, s[3], "object array items")?.to_vec();
            Cells::Objects(c_order(&shape, items, false)?)
        } else {
            let raw = py::bytes(g, s[3], "array data")?;
            Cells::Values(c_order(&shape, decode(dt, raw)?, fortran)?)
        };
        return Ok(Some(NdArray { shape, cells }));
    }
    Ok(None)
}

/// Decodes a numpy scalar (`numpy.core.multiarray.scalar(dtype, bytes)`), e.g. an `np.int64`
/// inside an object column; `Ok(None)` when `v` is not one.
pub fn scalar(g: &Graph, v: Val) -> Result<Option<Value>, String> {
    let Some((f, args, _)) = py::call(g, v) else {
        return Ok(None);
    };
    if !is_fn(&f, "multiarray.scalar") {
        return Ok(None);
    }
    let dt = dtype(g, py::item(g, args, 0, "numpy scalar")?)?;
    let raw = py::bytes(g, py::item(g, args, 1, "numpy scalar")?, "numpy scalar")?;
    let vals = decode(dt, raw)?;
    match vals.as_slice() {
        [one] => Ok(Some(one.clone())),
        _ => Err("numpy scalar with a wrong number of bytes".into()),
    }
}
