//! The two HTTP protocols' JSON shapes, defined once: what our clients send
//! and read, and what our `serve` reads and sends. Each type follows the
//! real server's own models (SGLang's `GenerateReqInput` and
//! `TokenizerManager` output, vLLM's `CompletionRequest` and
//! `CompletionResponse`); the transcripts under `tests/data/transcripts`
//! pin those shapes to released versions, with the source lines they follow.
//!
//! Reading is lenient where the servers differ (unknown fields are ignored,
//! fields some versions leave out default to `None`); writing emits the
//! fields those servers always emit, `null` included.

pub mod openai;
pub mod sglang;
