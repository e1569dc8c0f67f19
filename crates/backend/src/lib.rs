//! The `backend` crate (work in progress).
