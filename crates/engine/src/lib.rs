//! The `engine` crate (work in progress).
