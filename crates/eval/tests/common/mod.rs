//! Building gpt-oss completions and LoadGen accuracy logs for tests.
#![allow(dead_code)]

pub mod corpus;
