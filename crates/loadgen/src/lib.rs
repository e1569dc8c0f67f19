//! The `loadgen` crate (work in progress).
