//! LoadGen's four log files, byte for byte: each file has one writer.

pub mod fmt;
