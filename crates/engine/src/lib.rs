//! The `engine` crate: the embedded GPT-OSS engine, so the whole benchmark
//! runs on a laptop with no GPU and no downloads.
//!
//! What it owns:
//! * [`GptOss`]: the GPT-OSS forward pass in f32 on the CPU, loading Hugging
//!   Face checkpoints with MXFP4 experts.
//! * [`tiny`] and [`GeneratedModel`]: models with the real 201,088-id
//!   vocabulary and seeded weights, used when no checkpoint is given and by
//!   the benchmark.
//! * [`Engine`]: KV caches, continuous batching, chunked prefill, sampling,
//!   implementing [`backend::Backend`] in-process.
//! * [`serve`]: SGLang- and OpenAI-compatible HTTP in front of any backend.
//! * [`SimModel`]: a synthetic timing model for load-testing clients.
//!
//! What it does not: tokenization of datasets (`harmony`), LoadGen
//! (`loadgen`), talking to remote servers (`backend`'s clients).
//!
//! ```no_run
//! use engine::{GptOss, Logits, Segment};
//! let model = GptOss::load(std::path::Path::new("tiny-gpt-oss"))?;
//! let mut cache = model.new_cache();
//! let logits = model.forward(&mut [Segment { tokens: &[1, 2, 3], cache: &mut cache, logits: Logits::Last }])?;
//! # Ok::<(), engine::EngineError>(())
//! ```

mod config;
mod error;
mod kv_cache;
mod model;
mod mxfp4;
mod ops;
mod safetensors;
mod sampling;
mod scheduler;
mod server;
mod sim;
mod stats;
mod tiny;

pub use config::{Config, RopeConfig, Yarn};
pub use error::EngineError;
pub use kv_cache::KvCache;
pub use model::{GptOss, Logits, Segment};
pub use safetensors::Dtype;
pub use scheduler::{Engine, EngineConfig, ModelInfo};
pub use server::{router, router_with, serve, serve_with, ServeOptions, StreamOutput};
pub use sim::{OutputLen, SimConfig, SimModel};
pub use stats::{Finished, Stats};
pub use tiny::{tiny, GeneratedModel, TINY_SEED};

/// Internals that the integration tests and the benchmark reach into: the
/// checkpoint reader and writer, the MXFP4 decoder, greedy sampling and the
/// server's tokenizer. Not part of the API; may change at any time.
#[doc(hidden)]
pub mod __private {
    pub use crate::mxfp4::{decode_row, Mxfp4Experts};
    pub use crate::safetensors::{serialize, Checkpoint, TensorView};
    pub use crate::sampling::argmax;
    pub use crate::server::text::encode;
}
