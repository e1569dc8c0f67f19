//! Harmony conversations for the GPT-OSS benchmark.
//!
//! This crate owns the prompt side of the benchmark: the reference's
//! per-dataset prompt builders (as embedded data), rendering conversations to
//! token ids with the official `openai-harmony` crate, decoding ids back to
//! text with special tokens kept, and parsing a model's completion into its
//! analysis / commentary / final messages. It does not read dataset files
//! (that is the `dataset` crate) and never touches the network: the o200k
//! vocabulary comes from the copy embedded in `tiktoken-rs`.
//!
//! ```no_run
//! use harmony::{Cell, PromptSettings, Prompter, Row};
//!
//! struct One(&'static str, &'static str);
//! impl Row for One {
//!     fn cell(&self, column: &str) -> Option<Cell> {
//!         match column {
//!             "dataset" => Some(Cell::Text(self.0.into())),
//!             "question" => Some(Cell::Text(self.1.into())),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! let prompter = Prompter::new(PromptSettings::default())?;
//! let prompt = prompter.render_row(0, &One("aime2025", "What is 1 + 1?"))?;
//! println!("{} tokens: {}", prompt.ids.len(), harmony::decode(&prompt.ids)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod conversation;
mod decode;
mod parse;
mod prompts;
mod render;
mod vocab;

pub use conversation::{
    Cell, ChatTurn, PromptSettings, ReasoningEffort, Row, RowError, QUERY_COLUMNS,
};
pub use decode::decode;
pub use parse::{parse_completion, ParsedCompletion, ParsedMessage};
pub use prompts::{Builder, FewShot, PromptTable, SystemSettings};
pub use render::{render_completion, render_training, Prompter, RenderedPrompt};
pub use vocab::encoding;

/// The official crate, re-exported so callers build conversations with its types.
pub use openai_harmony;

/// Size of the model's vocabulary (o200k_harmony, padded): valid ids are below it.
pub const VOCAB_SIZE: u32 = 201_088;

/// Harmony token ids the benchmark refers to by name.
pub mod tokens {
    pub const RETURN: u32 = 200_002;
    pub const CONSTRAIN: u32 = 200_003;
    pub const CHANNEL: u32 = 200_005;
    pub const START: u32 = 200_006;
    pub const END: u32 = 200_007;
    pub const MESSAGE: u32 = 200_008;
    pub const CALL: u32 = 200_012;
    pub const END_OF_TEXT: u32 = 199_999;
}

/// Failures of the harmony layer itself (not of a dataset row).
#[derive(Debug, Clone, thiserror::Error)]
pub enum HarmonyError {
    #[error("harmony vocabulary: {0}")]
    Vocabulary(String),
    #[error("harmony render failed: {0}")]
    Render(String),
    #[error("cannot decode token ids: {0}")]
    Decode(String),
    #[error("cannot parse completion: {0}")]
    Parse(String),
}
