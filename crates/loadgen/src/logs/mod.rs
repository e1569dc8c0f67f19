//! LoadGen's four log files, byte for byte: each file has one writer.

pub mod accuracy;
pub mod detail;
pub mod detail_run;
pub mod fmt;
pub mod summary;
pub mod trace;
pub mod wallclock;
