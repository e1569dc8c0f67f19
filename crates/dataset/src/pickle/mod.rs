//! pandas pickles: a safe interpreter ([`vm`]) builds a symbolic graph, the pandas layer
//! ([`pandas`]) rebuilds the DataFrame from it, and [`writer`] emits a pickle pandas loads.

mod arrow_buffers;
mod cursor;
mod numpy;
mod op;
mod pandas;
mod py;
mod vm;
mod writer;

use crate::table::Table;

pub use op::ALL as OPCODES;
pub use writer::to_pickle;

/// Why a pickle could not be read, with the advice to print after it.
#[derive(Debug)]
pub struct PickleFailure {
    pub detail: String,
    pub fix: &'static str,
}

/// Runs a pickle of one plain Python value (no globals) and converts it as an object cell
/// would be: how the tests check every opcode against what CPython's `pickle` wrote.
pub fn read_plain_value(data: Vec<u8>) -> Result<crate::table::Value, String> {
    let graph = vm::run(data, &|_, _| false).map_err(|e| format!("{e:?}"))?;
    py::to_value(&graph, graph.root)
}

/// Reads a `DataFrame.to_pickle` file without executing anything in it.
pub fn read(data: Vec<u8>) -> Result<Table, PickleFailure> {
    let graph = vm::run(data, &pandas::allowed).map_err(|e| match e {
        vm::VmError::Forbidden(what) => PickleFailure {
            detail: format!("not a pandas DataFrame pickle: it calls {what}"),
            fix: "nothing in it was executed; only use DataFrames saved with df.to_pickle(), or convert the data to Parquet",
        },
        vm::VmError::Corrupt(why) => PickleFailure {
            detail: format!("the pickle is truncated or corrupt: {why}"),
            fix: "re-download or re-export the file",
        },
    })?;
    pandas::frame(&graph).map_err(|detail| PickleFailure {
        detail,
        fix: "re-save it with df.to_pickle() from pandas 2 or 3 (object, numeric or str columns), or export it to Parquet",
    })
}
