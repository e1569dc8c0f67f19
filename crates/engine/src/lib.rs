//! The `engine` crate: the embedded GPT-OSS engine, so the whole benchmark
//! runs on a laptop with no GPU and no downloads.
//!
//! What it owns:
//! * [`model`]: the GPT-OSS forward pass in f32 on the CPU, loading Hugging
//!   Face checkpoints with MXFP4 experts ([`mxfp4`], [`safetensors`]).
//! * [`tiny`]: a built-in model with the real 201,088-id vocabulary and
//!   seeded weights, used when no checkpoint is given.
//! * [`scheduler`]: the [`Engine`] — KV caches, continuous batching, chunked
//!   prefill, sampling — implementing [`backend::Backend`] in-process.
//! * [`server`]: SGLang- and OpenAI-compatible HTTP in front of any backend.
//! * [`sim`]: a synthetic timing model for load-testing clients.
//!
//! What it does not: tokenization of datasets (`harmony`), LoadGen
//! (`loadgen`), talking to remote servers (`backend`'s clients).
//!
//! ```no_run
//! use engine::model::{GptOss, Logits, Segment};
//! let model = GptOss::load(std::path::Path::new("tiny-gpt-oss"))?;
//! let mut cache = model.new_cache();
//! let logits = model.forward(&mut [Segment { tokens: &[1, 2, 3], cache: &mut cache, logits: Logits::Last }])?;
//! # Ok::<(), engine::EngineError>(())
//! ```

pub mod config;
pub mod kv_cache;
pub mod model;
pub mod mxfp4;
pub mod ops;
pub mod safetensors;
pub mod sampling;
pub mod scheduler;
pub mod server;
pub mod sim;
pub mod tiny;

pub use scheduler::{Engine, EngineConfig, ModelInfo};

/// Errors of the engine; each names the file, tensor or request concerned.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The checkpoint or config could not be used.
    #[error("cannot load the model: {0}")]
    Load(String),
    /// A request the model cannot run (bad ids, too long).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}
