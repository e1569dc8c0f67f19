//! The pandas layer: recognises exactly the globals a `DataFrame.to_pickle` file uses
//! (pandas 1.x–3.x, numpy 1 and 2, pyarrow strings) and rebuilds the frame's columns from
//! the symbolic graph. Blocks are placed by their `BlockManager` placement, so columns come
//! out in the frame's order. Nothing is ever called; unknown globals are rejected by the VM.

use super::vm::{Graph, Val};
use super::{arrow_buffers, numpy, py};
use crate::table::{Column, Table, Value};

/// The globals a pandas DataFrame pickle may reference. Everything else is rejected.
const ALLOWED: &[&str] = &[
    "pandas.core.frame.DataFrame",
    "pandas.DataFrame",
    "pandas.core.internals.managers.BlockManager",
    "pandas._libs.internals._unpickle_block",
    "pandas.core.indexes.base._new_Index",
    "pandas.core.indexes.base.Index",
    "pandas.Index",
    "pandas.core.indexes.range.RangeIndex",
    "pandas.RangeIndex",
    "pandas.arrays.ArrowStringArray",
    "pandas.core.arrays.string_arrow.ArrowStringArray",
    "pandas.core.arrays.string_arrow.ArrowStringArrayNumpySemantics",
    "pandas.StringDtype",
    "pandas.core.arrays.string_.StringDtype",
    "pyarrow.lib._restore_array",
    "pyarrow.lib.chunked_array",
    "pyarrow.lib.type_for_alias",
    "pyarrow.lib.py_buffer",
    "builtins.slice",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
];

/// Whether the VM may create the global `module.name`: the known ones, plus any other name
/// inside pandas, numpy or pyarrow. Those stay symbolic (nothing is ever called) and are
/// refused by this layer only where the frame uses them, so the error can name the
/// column (a categorical, a datetime, ...). Everything else (`os.system`, `builtins.eval`)
/// is refused outright by the VM.
pub fn allowed(module: &str, name: &str) -> bool {
    let qualified = format!("{module}.{name}");
    ALLOWED.contains(&qualified.as_str())
        || ["pandas", "numpy", "pyarrow"]
            .iter()
            .any(|p| module == *p || module.strip_prefix(p).is_some_and(|r| r.starts_with('.')))
}

const DATAFRAME: &[&str] = &["pandas.core.frame.DataFrame", "pandas.DataFrame"];

/// Values of one block: a 2-D numpy array (columns × rows) or a 1-D extension array.
enum BlockValues {
    Matrix(numpy::NdArray),
    Strings(Vec<Value>),
}

/// Rebuilds the DataFrame pickled in `g`.
pub fn frame(g: &Graph) -> Result<Table, String> {
    let (f, _, state) = py::call(g, g.root).ok_or_else(|| {
        format!(
            "not a pandas DataFrame pickle: the top-level object is {}",
            py::describe(g, g.root)
        )
    })?;
    if !DATAFRAME.contains(&f.as_str()) {
        return Err(format!(
            "not a pandas DataFrame pickle: the top-level object is a {f} (a Series or Index?)"
        ));
    }
    let state = state.ok_or("the DataFrame has no state")?;
    let mgr = py::dict_get(g, state, "_mgr").ok_or(
        "the DataFrame state has no '_mgr' (pickles from pandas older than 1.0 are not supported)",
    )?;
    let (mf, margs, _) = py::call(g, mgr)
        .ok_or_else(|| format!("'_mgr' is {}, not a BlockManager", py::describe(g, mgr)))?;
    if mf != "pandas.core.internals.managers.BlockManager" {
        return Err(format!("'_mgr' is a {mf}, not a BlockManager"));
    }
    if py::tuple(g, margs, "BlockManager arguments")?.len() < 2 {
        return Err(
            "the BlockManager is stored in an older pandas layout (not blocks + axes)".into(),
        );
    }
    let blocks = py::tuple(g, py::item(g, margs, 0, "BlockManager")?, "blocks")?;
    let axes = py::tuple(g, py::item(g, margs, 1, "BlockManager")?, "axes")?;
    if axes.len() != 2 {
        return Err(format!(
            "a DataFrame has 2 axes, this one has {}",
            axes.len()
        ));
    }
    let names = column_labels(g, axes[0])?;
    let nrows = row_count(g, axes[1])?;

    let mut cols: Vec<Option<Vec<Value>>> = vec![None; names.len()];
    for (bi, b) in blocks.iter().enumerate() {
        place_block(g, *b, bi, nrows, &names, &mut cols)?;
    }
    let mut columns = Vec::with_capacity(names.len());
    for (name, values) in names.into_iter().zip(cols) {
        let values = values.ok_or_else(|| format!("no block holds column '{name}'"))?;
        columns.push(Column { name, values });
    }
    Ok(Table { columns })
}

/// Decodes one `_unpickle_block(values, placement, ndim)` and stores its columns.
fn place_block(
    g: &Graph,
    b: Val,
    bi: usize,
    nrows: usize,
    names: &[String],
    cols: &mut [Option<Vec<Value>>],
) -> Result<(), String> {
    let what = format!("block {bi}");
    let (f, args, _) = py::call(g, b)
        .ok_or_else(|| format!("{what} is {}, not a pandas block", py::describe(g, b)))?;
    if f != "pandas._libs.internals._unpickle_block" {
        return Err(format!("{what} is a {f}, not a pandas block"));
    }
    let a = py::tuple(g, args, &what)?;
    if a.len() < 2 {
        return Err(format!("{what}: expected (values, placement, ndim)"));
    }
    let placement = positions(g, a[1], &what, names.len())?;
    let cols_named = placement
        .iter()
        .map(|&p| format!("'{}'", names.get(p).map_or("?", String::as_str)))
        .collect::<Vec<_>>()
        .join(", ");
    let what = format!("the block of column(s) {cols_named}");
    let values = block_values(g, a[0], &what)?;
    let per_column: Vec<Vec<Value>> = match values {
        BlockValues::Strings(v) => vec![v],
        BlockValues::Matrix(arr) => {
            let (k, n) = match arr.shape.as_slice() {
                [k, n] => (*k, *n),
                [n] => (1, *n),
                s => return Err(format!("{what}: unexpected array shape {s:?}")),
            };
            if n != nrows {
                return Err(format!("{what} has {n} rows, the index has {nrows}"));
            }
            let mut out = Vec::with_capacity(k);
            for i in 0..k {
                let col = placement.get(i).and_then(|&p| names.get(p));
                let cname = col.map(String::as_str).unwrap_or("?");
                let vals = match &arr.cells {
                    numpy::Cells::Values(v) => v[i * n..(i + 1) * n].to_vec(),
                    numpy::Cells::Objects(o) => o[i * n..(i + 1) * n]
                        .iter()
                        .enumerate()
                        .map(|(row, x)| {
                            py::to_value(g, *x)
                                .map_err(|e| format!("row {row}, column '{cname}': {e}"))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                };
                out.push(vals);
            }
            out
        }
    };
    if per_column.len() != placement.len() {
        return Err(format!(
            "{what} holds {} columns but is placed at {} positions",
            per_column.len(),
            placement.len()
        ));
    }
    for (vals, p) in per_column.into_iter().zip(placement) {
        if vals.len() != nrows {
            return Err(format!(
                "{what} has {} rows, the index has {nrows}",
                vals.len()
            ));
        }
        let slot = cols.get_mut(p).ok_or_else(|| {
            format!(
                "{what} is placed at column {p}, beyond the {} columns",
                names.len()
            )
        })?;
        if slot.is_some() {
            return Err(format!("two blocks hold column {p}"));
        }
        *slot = Some(vals);
    }
    Ok(())
}

fn block_values(g: &Graph, v: Val, what: &str) -> Result<BlockValues, String> {
    if let Some(arr) = numpy::ndarray(g, v).map_err(|e| format!("{what}: {e}"))? {
        return Ok(BlockValues::Matrix(arr));
    }
    if let Some(s) = arrow_strings(g, v).map_err(|e| format!("{what}: {e}"))? {
        return Ok(BlockValues::Strings(s));
    }
    Err(format!(
        "{what} holds {}, which is not supported (only numpy arrays and Arrow strings)",
        py::describe(g, v)
    ))
}

/// Decodes a pandas `ArrowStringArray`; `Ok(None)` when `v` is something else.
fn arrow_strings(g: &Graph, v: Val) -> Result<Option<Vec<Value>>, String> {
    let Some((f, _, state)) = py::call(g, v) else {
        return Ok(None);
    };
    if !f.ends_with(".ArrowStringArray") && !f.ends_with(".ArrowStringArrayNumpySemantics") {
        return Ok(None);
    }
    let state = state.ok_or("ArrowStringArray without state")?;
    let pa = py::dict_get(g, state, "_pa_array")
        .or_else(|| py::dict_get(g, state, "_data"))
        .ok_or("ArrowStringArray state has no '_pa_array'")?;
    arrow_buffers::array(g, pa).map(Some)
}

/// Block placement: `slice(start, stop, step)`, an int array, or a list of ints.
/// Positions are bounded by `ncols` before anything is collected, so a hostile slice
/// cannot make us allocate without limit.
fn positions(g: &Graph, v: Val, what: &str, ncols: usize) -> Result<Vec<usize>, String> {
    let bad = |e: String| format!("{what} placement: {e}");
    if let Some((f, args, _)) = py::call(g, v) {
        if f == "builtins.slice" {
            let a = py::tuple(g, args, "slice").map_err(bad)?;
            let get = |i: usize, default: i64| -> Result<i64, String> {
                match a.get(i) {
                    None | Some(Val::None) => Ok(default),
                    Some(x) => py::int(g, *x, "slice bound"),
                }
            };
            let (start, stop, step) = (
                get(0, 0).map_err(bad)?,
                get(1, 0).map_err(bad)?,
                get(2, 1).map_err(bad)?,
            );
            let (start, stop) = if a.len() == 1 {
                (0, start)
            } else {
                (start, stop)
            };
            if step <= 0 || start < 0 || stop < start || stop > ncols as i64 {
                return Err(bad(format!("unsupported slice({start}, {stop}, {step})")));
            }
            return Ok((start..stop)
                .step_by(step as usize)
                .map(|x| x as usize)
                .collect());
        }
        if let Some(arr) = numpy::ndarray(g, v).map_err(bad)? {
            let vals = match arr.cells {
                numpy::Cells::Values(v) => v,
                numpy::Cells::Objects(_) => return Err(bad("object array".into())),
            };
            return vals
                .into_iter()
                .map(|x| match x {
                    Value::Int(i) if i >= 0 => Ok(i as usize),
                    _ => Err(bad("not a non-negative int".into())),
                })
                .collect();
        }
    }
    py::tuple(g, v, what)
        .map_err(bad)?
        .iter()
        .map(|x| {
            usize::try_from(py::int(g, *x, "position")?)
                .map_err(|_| "negative position".to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)
}

/// `_new_Index(cls, dict)` → `(class name, dict)`.
fn index_parts(g: &Graph, v: Val, what: &str) -> Result<(String, Val), String> {
    let (f, args, _) = py::call(g, v)
        .ok_or_else(|| format!("{what} is {}, not a pandas Index", py::describe(g, v)))?;
    if f != "pandas.core.indexes.base._new_Index" {
        return Err(format!("{what} is a {f}, not a pandas Index"));
    }
    let cls = py::item(g, args, 0, what)?;
    let (_, name) = py::global(g, cls).ok_or_else(|| format!("{what}: unknown index class"))?;
    Ok((name.to_string(), py::item(g, args, 1, what)?))
}

fn index_data(g: &Graph, d: Val, what: &str) -> Result<Vec<Value>, String> {
    let data = py::dict_get(g, d, "data").ok_or_else(|| format!("{what} has no data"))?;
    if let Some(arr) = numpy::ndarray(g, data)? {
        return match arr.cells {
            numpy::Cells::Values(v) => Ok(v),
            numpy::Cells::Objects(o) => o.iter().map(|x| py::to_value(g, *x)).collect(),
        };
    }
    if let Some(s) = arrow_strings(g, data)? {
        return Ok(s);
    }
    Err(format!("{what} holds {}", py::describe(g, data)))
}

/// Column labels; strings as they are, integer labels as their decimal text.
fn column_labels(g: &Graph, v: Val) -> Result<Vec<String>, String> {
    let (cls, d) = index_parts(g, v, "the column index")?;
    if cls != "Index" {
        return Err(format!("the column index is a {cls}; only flat column labels are supported (flatten MultiIndex columns before saving)"));
    }
    index_data(g, d, "the column index")?
        .into_iter()
        .map(|l| match l {
            Value::Str(s) => Ok(s),
            Value::Int(i) => Ok(i.to_string()),
            other => Err(format!("a column label is a {}, not a str", other.kind())),
        })
        .collect()
}

/// Number of rows from the row index. A RangeIndex is expected; any other flat `Index` is
/// accepted too and its labels dropped, because rows are addressed by position (QSL index).
fn row_count(g: &Graph, v: Val) -> Result<usize, String> {
    let (cls, d) = index_parts(g, v, "the row index")?;
    match cls.as_str() {
        "RangeIndex" => {
            let get = |k: &str, default: i64| match py::dict_get(g, d, k) {
                Some(x) => py::int(g, x, k),
                None => Ok(default),
            };
            let (start, stop, step) = (get("start", 0)?, get("stop", 0)?, get("step", 1)?);
            if step == 0 {
                return Err("RangeIndex with step 0".into());
            }
            // i128: no overflow whatever bounds the file holds.
            let (start, stop, step) = (start as i128, stop as i128, step as i128);
            let n = if step > 0 {
                (stop - start + step - 1).div_euclid(step)
            } else {
                (start - stop - step - 1).div_euclid(-step)
            };
            usize::try_from(n.max(0)).map_err(|_| "RangeIndex is implausibly long".to_string())
        }
        "Index" => Ok(index_data(g, d, "the row index")?.len()),
        other => Err(format!(
            "the row index is a {other}; save the frame after df.reset_index(drop=True)"
        )),
    }
}
