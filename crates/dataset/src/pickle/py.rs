//! Read-only views of the unpickled graph as Python values: accessors that say what they
//! expected when the graph has another shape, and the conversion of a cell to a [`Value`].

use super::numpy;
use super::vm::{Graph, Obj, Val};
use crate::table::Value;

/// Nesting deeper than this is treated as corrupt (it also stops self-referencing lists).
const MAX_DEPTH: usize = 64;

/// Short description of a value, for error messages.
pub fn describe(g: &Graph, v: Val) -> String {
    match v {
        Val::None => "None".into(),
        Val::Bool(_) => "a bool".into(),
        Val::Int(_) => "an int".into(),
        Val::Float(_) => "a float".into(),
        Val::Ref(_) => match g.get(v) {
            Some(Obj::BigInt(_)) => "an int too large for 64 bits".into(),
            Some(Obj::Str(_)) => "a str".into(),
            Some(Obj::Bytes(_)) => "bytes".into(),
            Some(Obj::Tuple(_)) => "a tuple".into(),
            Some(Obj::List(_)) => "a list".into(),
            Some(Obj::Dict(_)) => "a dict".into(),
            Some(Obj::Set(_)) => "a set".into(),
            Some(Obj::Global { module, name }) => format!("{module}.{name}"),
            Some(Obj::Call { func, .. }) => match global(g, *func) {
                Some((m, n)) => format!("a {m}.{n} object"),
                None => "an object".into(),
            },
            None => "a dangling reference".into(),
        },
    }
}

/// `(module, name)` when `v` is a global.
pub fn global(g: &Graph, v: Val) -> Option<(&str, &str)> {
    match g.get(v) {
        Some(Obj::Global { module, name }) => Some((module, name)),
        _ => None,
    }
}

/// A call node: `(qualified function name, args, state)`.
pub fn call(g: &Graph, v: Val) -> Option<(String, Val, Option<Val>)> {
    match g.get(v) {
        Some(Obj::Call { func, args, state }) => {
            let (m, n) = global(g, *func)?;
            Some((format!("{m}.{n}"), *args, *state))
        }
        _ => None,
    }
}

pub fn tuple<'g>(g: &'g Graph, v: Val, what: &str) -> Result<&'g [Val], String> {
    match g.get(v) {
        Some(Obj::Tuple(t)) | Some(Obj::List(t)) => Ok(t),
        _ => Err(format!(
            "{what}: expected a tuple or list, found {}",
            describe(g, v)
        )),
    }
}

pub fn string<'g>(g: &'g Graph, v: Val, what: &str) -> Result<&'g str, String> {
    match g.get(v) {
        Some(Obj::Str(s)) => Ok(s),
        _ => Err(format!("{what}: expected a str, found {}", describe(g, v))),
    }
}

pub fn bytes<'g>(g: &'g Graph, v: Val, what: &str) -> Result<&'g [u8], String> {
    match g.get(v) {
        Some(Obj::Bytes(r)) => Ok(g.bytes(r)),
        _ => Err(format!("{what}: expected bytes, found {}", describe(g, v))),
    }
}

pub fn int(g: &Graph, v: Val, what: &str) -> Result<i64, String> {
    match v {
        Val::Int(i) => Ok(i),
        _ => Err(format!("{what}: expected an int, found {}", describe(g, v))),
    }
}

/// Looks up a str key in a dict node.
pub fn dict_get(g: &Graph, d: Val, key: &str) -> Option<Val> {
    match g.get(d) {
        Some(Obj::Dict(items)) => items
            .iter()
            .find(|(k, _)| matches!(g.get(*k), Some(Obj::Str(s)) if s == key))
            .map(|(_, v)| *v),
        _ => None,
    }
}

/// The positional element `i` of a tuple node.
pub fn item(g: &Graph, t: Val, i: usize, what: &str) -> Result<Val, String> {
    tuple(g, t, what)?
        .get(i)
        .copied()
        .ok_or_else(|| format!("{what}: expected at least {} elements", i + 1))
}

/// Converts one cell of an object column to a [`Value`].
pub fn to_value(g: &Graph, v: Val) -> Result<Value, String> {
    to_value_at(g, v, 0)
}

fn to_value_at(g: &Graph, v: Val, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("values nested too deeply (or a list that contains itself)".into());
    }
    match g.budget.get().checked_sub(1) {
        Some(left) => g.budget.set(left),
        None => {
            return Err(
                "the pickle expands to far more values than its size allows (shared references used as a bomb?)"
                    .into(),
            )
        }
    }
    Ok(match v {
        Val::None => Value::Null,
        Val::Bool(b) => Value::Bool(b),
        Val::Int(i) => Value::Int(i),
        Val::Float(f) => Value::Float(f),
        Val::Ref(_) => match g.get(v) {
            Some(Obj::Str(s)) => Value::Str(s.clone()),
            Some(Obj::BigInt(n)) => {
                return Err(format!("a Python int of {n} bytes does not fit in 64 bits"))
            }
            Some(Obj::Tuple(items)) | Some(Obj::List(items)) | Some(Obj::Set(items)) => {
                let vals = items
                    .iter()
                    .map(|x| to_value_at(g, *x, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::list(vals)
            }
            Some(Obj::Dict(items)) => {
                let mut fields = Vec::with_capacity(items.len());
                for (k, x) in items {
                    let key = match (k, g.get(*k)) {
                        (_, Some(Obj::Str(s))) => s.clone(),
                        (Val::Int(i), _) => i.to_string(),
                        _ => return Err(format!("a dict key is {}", describe(g, *k))),
                    };
                    fields.push((key, to_value_at(g, *x, depth + 1)?));
                }
                Value::Struct(fields)
            }
            Some(Obj::Call { .. }) => {
                if let Some(s) = numpy::scalar(g, v)? {
                    return Ok(s);
                }
                if let Some(arr) = numpy::ndarray(g, v)? {
                    let vals = match arr.cells {
                        numpy::Cells::Values(vs) => vs,
                        numpy::Cells::Objects(os) => os
                            .iter()
                            .map(|x| to_value_at(g, *x, depth + 1))
                            .collect::<Result<Vec<_>, _>>()?,
                    };
                    return Ok(Value::list(vals));
                }
                return Err(format!(
                    "a cell holds {}, which is not supported",
                    describe(g, v)
                ));
            }
            _ => {
                return Err(format!(
                    "a cell holds {}, which is not supported",
                    describe(g, v)
                ))
            }
        },
    })
}
