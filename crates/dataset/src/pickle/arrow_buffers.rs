//! Arrow string arrays as pyarrow pickles them (`pyarrow.lib._restore_array` with raw
//! buffers), which is how pandas 3 stores `str` columns and column labels. The layouts are
//! decoded here from the buffers themselves: validity bitmap (LSB first), offsets (i32 for
//! `string`, i64 for `large_string`) and UTF-8 data, all shifted by the array offset.

use super::py;
use super::vm::{Graph, Val};
use crate::table::Value;

/// Decodes an Arrow string array from its buffers into `Str`/`Null` cells.
pub fn decode_strings(
    large: bool,
    length: usize,
    offset: usize,
    validity: Option<&[u8]>,
    offsets: &[u8],
    data: &[u8],
) -> Result<Vec<Value>, String> {
    let width = if large { 8 } else { 4 };
    let need = offset
        .checked_add(length)
        .and_then(|n| n.checked_add(1))
        .and_then(|n| n.checked_mul(width))
        .ok_or("Arrow array length is implausibly large")?;
    if offsets.len() < need && length > 0 {
        return Err(format!(
            "Arrow offsets buffer has {} bytes, {} needed",
            offsets.len(),
            need
        ));
    }
    let off = |i: usize| -> Result<usize, String> {
        let b = &offsets[i * width..(i + 1) * width];
        let v = if large {
            i64::from_le_bytes(b.try_into().map_err(|_| "bad offset")?)
        } else {
            i32::from_le_bytes(b.try_into().map_err(|_| "bad offset")?) as i64
        };
        usize::try_from(v).map_err(|_| "negative Arrow offset".to_string())
    };
    let mut out = Vec::with_capacity(length);
    for i in 0..length {
        let pos = offset + i;
        if let Some(bits) = validity {
            let byte = bits
                .get(pos / 8)
                .ok_or("Arrow validity bitmap is too short")?;
            if byte & (1 << (pos % 8)) == 0 {
                out.push(Value::Null);
                continue;
            }
        }
        let (start, end) = (off(pos)?, off(pos + 1)?);
        let s = data
            .get(start..end)
            .ok_or("Arrow string offsets point outside the data buffer")?;
        let s = std::str::from_utf8(s).map_err(|_| "an Arrow string is not valid UTF-8")?;
        out.push(Value::Str(s.to_string()));
    }
    Ok(out)
}

/// The bytes of `pyarrow.py_buffer(bytes)`, or `None` for a missing buffer.
fn buffer(g: &Graph, v: Val) -> Result<Option<&[u8]>, String> {
    if matches!(v, Val::None) {
        return Ok(None);
    }
    match py::call(g, v) {
        Some((f, args, _)) if f == "pyarrow.lib.py_buffer" => Ok(Some(py::bytes(
            g,
            py::item(g, args, 0, "py_buffer")?,
            "py_buffer",
        )?)),
        _ => Err(format!(
            "expected an Arrow buffer, found {}",
            py::describe(g, v)
        )),
    }
}

/// Decodes a pickled pyarrow array (`_restore_array`) or chunked array (`chunked_array`).
pub fn array(g: &Graph, v: Val) -> Result<Vec<Value>, String> {
    let (f, args, _) = py::call(g, v)
        .ok_or_else(|| format!("expected a pyarrow array, found {}", py::describe(g, v)))?;
    match f.as_str() {
        "pyarrow.lib.chunked_array" => {
            let chunks = py::tuple(g, py::item(g, args, 0, "chunked_array")?, "chunks")?;
            let mut out = Vec::new();
            for c in chunks {
                out.extend(array(g, *c)?);
            }
            Ok(out)
        }
        "pyarrow.lib._restore_array" => {
            // data = (type, length, null_count, offset, buffers, children, dictionary)
            let data = py::item(g, args, 0, "_restore_array")?;
            let t = py::tuple(g, data, "Arrow array data")?;
            if t.len() < 5 {
                return Err(
                    "Arrow array data must have (type, length, nulls, offset, buffers)".into(),
                );
            }
            let alias = match py::call(g, t[0]) {
                Some((f, a, _)) if f == "pyarrow.lib.type_for_alias" => {
                    py::string(g, py::item(g, a, 0, "type_for_alias")?, "Arrow type")?.to_string()
                }
                _ => return Err(format!("unsupported Arrow type {}", py::describe(g, t[0]))),
            };
            let large = match alias.as_str() {
                "string" | "str" | "utf8" => false,
                "large_string" | "large_str" | "large_utf8" => true,
                other => {
                    return Err(format!(
                        "Arrow arrays of type '{other}' are not supported (only string and large_string)"
                    ))
                }
            };
            let length = usize::try_from(py::int(g, t[1], "Arrow length")?)
                .map_err(|_| "negative Arrow length")?;
            let offset = usize::try_from(py::int(g, t[3], "Arrow offset")?)
                .map_err(|_| "negative Arrow offset")?;
            let bufs = py::tuple(g, t[4], "Arrow buffers")?;
            if bufs.len() != 3 {
                return Err(format!(
                    "an Arrow string array has 3 buffers, found {}",
                    bufs.len()
                ));
            }
            let validity = buffer(g, bufs[0])?;
            let offsets = buffer(g, bufs[1])?.unwrap_or(&[]);
            let data = buffer(g, bufs[2])?.unwrap_or(&[]);
            decode_strings(large, length, offset, validity, offsets, data)
        }
        other => Err(format!("expected a pyarrow array, found {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_layout_with_nulls_and_offset() {
        // ["ab", null, "", "c"], viewed from offset 1 -> [null, "", "c"]
        let offsets: Vec<u8> = [0i32, 2, 2, 2, 3]
            .iter()
            .flat_map(|o| o.to_le_bytes())
            .collect();
        let validity = [0b1101u8];
        let v = decode_strings(false, 3, 1, Some(&validity), &offsets, b"abc").unwrap();
        assert_eq!(
            v,
            vec![Value::Null, Value::Str("".into()), Value::Str("c".into())]
        );
    }

    #[test]
    fn large_string_layout() {
        let offsets: Vec<u8> = [0i64, 1, 3].iter().flat_map(|o| o.to_le_bytes()).collect();
        let v = decode_strings(true, 2, 0, None, &offsets, "xé".as_bytes()).unwrap();
        assert_eq!(v, vec![Value::Str("x".into()), Value::Str("é".into())]);
    }

    #[test]
    fn offsets_outside_data_are_an_error() {
        let offsets: Vec<u8> = [0i32, 9].iter().flat_map(|o| o.to_le_bytes()).collect();
        assert!(decode_strings(false, 1, 0, None, &offsets, b"ab").is_err());
    }
}
