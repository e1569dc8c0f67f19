//! The official MLPerf LoadGen (C++), compiled in with the `official`
//! feature, driving the same SUT as the native LoadGen.
//!
//! Layers, bottom up:
//! * `loadgen-official-sys` compiles LoadGen's sources after checking them
//!   against LoadGen's own SHA-1 record.
//! * `cpp/shim.cc` (ours) flattens the C++ API to a C ABI that no C++
//!   exception crosses.
//! * [`session`]: a safe wrapper: one test on its own thread, callbacks
//!   that never unwind into C++, completions checked against the samples
//!   LoadGen has outstanding, one test per process.
//! * [`OfficialLoadGen`]: the `loadgen::LoadGen` trait over all that, so
//!   the SUT the native LoadGen drives runs unchanged.
//! * [`detail`]: reading the detail log back for the run report.
//!
//! Without the feature everything compiles but [`run_test`] returns
//! [`Error::NotBuilt`], whose message says how to build it.

pub mod conf_errors;
pub mod detail;
mod ffi;
mod official;
pub mod session;

use loadgen_official_sys as _;

pub use detail::DetailLog;
pub use official::OfficialLoadGen;
pub use session::{
    run_test, version, Callbacks, Completer, Error, Mode, Outcome, Params, Sample, Scenario,
};

/// Whether this build has the official LoadGen in it.
pub const BUILT: bool = loadgen_official_sys::BUILT;
