//! The `harmony` crate (work in progress).
