//! The in-memory data frame every reader produces and every writer consumes.
//!
//! Kept deliberately small: a cell is a [`Value`], a column is a name plus cells, and a
//! [`Table`] is an ordered list of equally long columns. Row order is the file's order,
//! which is also the QSL index, so nothing here ever reorders rows.

/// One cell. Readers produce `Ints` for any list whose elements are all integers
/// (including an empty list).
#[derive(Debug, Clone)]
pub enum Value {
    /// Python `None`, Parquet/Arrow null, JSON `null` (and a key missing from a JSON line).
    Null,
    /// A Python / Arrow / JSON boolean.
    Bool(bool),
    /// Any integer that fits in 64 bits (wider Python ints are an error when read).
    Int(i64),
    /// pandas `NaN` stays `Float(NaN)`, distinct from `Null`.
    Float(f64),
    /// Text: Python `str`, Arrow `string`/`large_string`, JSON string.
    Str(String),
    /// A list of integers, e.g. token ids.
    Ints(Vec<i64>),
    /// Any other list (mixed, floats, strings, structs).
    List(Vec<Value>),
    /// A record with ordered fields, e.g. one `{content, role}` message.
    Struct(Vec<(String, Value)>),
}

/// Cells are data, not arithmetic: two `NaN` cells are equal, so a table read back after a
/// round trip compares equal to the original.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Ints(a), Value::Ints(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Struct(a), Value::Struct(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// A short name of the cell's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Ints(_) => "list of int",
            Value::List(_) => "list",
            Value::Struct(_) => "struct",
        }
    }

    /// Builds a list value, choosing `Ints` when every element is an integer.
    pub fn list(items: Vec<Value>) -> Value {
        if items.iter().all(|v| matches!(v, Value::Int(_))) {
            Value::Ints(
                items
                    .into_iter()
                    .filter_map(|v| match v {
                        Value::Int(i) => Some(i),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            Value::List(items)
        }
    }
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column label (pandas' column name, the Parquet field, the JSON key).
    pub name: String,
    /// One cell per row, in row order.
    pub values: Vec<Value>,
}

/// A data frame: ordered named columns of equal length (row order = the file's order = QSL index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The columns in the file's order; writers keep it.
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (0 for a table without columns).
    pub fn num_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Replaces the column called `name` in place (keeping its position), or appends it.
    pub fn set_column(&mut self, name: &str, values: Vec<Value>) {
        match self.columns.iter_mut().find(|c| c.name == name) {
            Some(col) => col.values = values,
            None => self.columns.push(Column {
                name: name.to_string(),
                values,
            }),
        }
    }

    /// The column names in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}
