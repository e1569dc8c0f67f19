//! The `dataset` crate (work in progress).
