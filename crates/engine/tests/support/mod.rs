//! What the engine's integration tests share: the transformers-made fixture
//! and its golden values, and a JSON GET against a server under test.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

use serde_json::Value;

/// The tiny GPT-OSS checkpoint whose outputs transformers recorded.
pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/tiny-gpt-oss")
}

/// The fixture's `golden.json`: transformers' logits and greedy tokens.
pub fn golden() -> Value {
    let text = std::fs::read_to_string(fixture().join("golden.json")).expect("golden.json");
    serde_json::from_str(&text).expect("golden.json parses")
}

/// A JSON list of token ids.
pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// `GET url`, its body parsed as JSON.
pub async fn get_json(c: &reqwest::Client, url: String) -> Value {
    c.get(url).send().await.unwrap().json().await.unwrap()
}
