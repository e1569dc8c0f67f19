//! The official MLPerf LoadGen, compiled from its C++ sources when the
//! `official` feature is on (see `build.rs` and this crate's README).
//!
//! This crate only builds and links the library; the `loadgen-official`
//! crate holds the C ABI shim and the safe wrapper. Without the feature it
//! is empty apart from [`BUILT`], so default builds need no C++ compiler
//! and no LoadGen sources.

/// Whether the official LoadGen was compiled into this build.
pub const BUILT: bool = cfg!(feature = "official");

#[cfg(test)]
mod sources;

#[cfg(test)]
mod tests;
