//! Python's text forms: `repr(float)`, and `json.dump(obj, f, indent=2)` with its
//! defaults (`ensure_ascii=True`, keys in insertion order), so the `--output-file`
//! is byte-for-byte what the official scorer writes.

use std::fmt::Write as _;

/// A JSON value with ordered objects.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `None` / `null`.
    Null,
    /// `True` / `False`.
    Bool(bool),
    /// A Python int (LoadGen ids and counts fit).
    Int(i128),
    /// A Python float, written with `repr(float)`.
    Float(f64),
    /// A str, escaped as `json.dump` escapes it.
    Str(String),
    /// A list.
    Arr(Vec<Json>),
    /// A dict, in insertion order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs.
    pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// `Str` or `Null`.
    pub fn opt_str(s: Option<String>) -> Json {
        s.map_or(Json::Null, Json::Str)
    }

    /// `json.dumps(self, indent=2)`.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Json::Float(f) => out.push_str(&float_json(*f)),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(items) if items.is_empty() => out.push_str("{}"),
            Json::Arr(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    out.push_str(if n == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push(']');
            }
            Json::Obj(items) => {
                out.push('{');
                for (n, (key, value)) in items.iter().enumerate() {
                    out.push_str(if n == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    write_str(out, key);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// A JSON string as `json.dumps` writes it with `ensure_ascii=True`.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// `float.__repr__` as `json` uses it (`NaN`, `Infinity`, `-Infinity` for the specials).
fn float_json(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(f)
    }
}

/// Python `repr(f)` for a float: the shortest round-trip digits, fixed notation for
/// decimal exponents -4..16, otherwise `d.ddde+XX`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{f:e}"); // shortest digits, e.g. "-1.5e-7", "7e1"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if (point as usize) >= digits.len() {
            format!(
                "{sign}{digits}{}.0",
                "0".repeat(point as usize - digits.len())
            )
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (a, b) = digits.split_at(1);
        let frac = if b.is_empty() {
            String::new()
        } else {
            format!(".{b}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{a}{frac}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_like_python() {
        assert_eq!(float_repr(70.0), "70.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(83.13333333333334), "83.13333333333334");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
    }

    #[test]
    fn dump_like_python() {
        let v = Json::obj([
            ("a", Json::Arr(vec![Json::Int(1), Json::Float(2.5)])),
            ("é\"", Json::Obj(vec![])),
            ("n", Json::Null),
        ]);
        assert_eq!(
            v.dump(),
            "{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"\\u00e9\\\"\": {},\n  \"n\": null\n}"
        );
        assert_eq!(
            Json::Str("😀\u{7f}".into()).dump(),
            "\"\\ud83d\\ude00\\u007f\""
        );
    }
}
