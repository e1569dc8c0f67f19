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
mod error;
mod parse;
mod prompts;
mod render;
mod vocab;

pub use conversation::{Cell, ChatTurn, PromptSettings, ReasoningEffort, Row, RowError};
pub use decode::{decode, decode_with, TextDecoder, UnknownIds};
pub use error::HarmonyError;
pub use parse::{parse_completion, ParsedCompletion, ParsedMessage};
pub use render::{Prompter, RenderedPrompt};
pub use vocab::{encode_text, encoding};

/// The shared constants, re-exported so that callers of this crate name them here.
pub use defs::{tokens, QUERY_COLUMNS, VOCAB_SIZE};

/// The official crate, re-exported so callers build conversations with its types.
pub use openai_harmony;

/// For this crate's tests only: the embedded prompt data and the whole-conversation
/// renders that the per-row fast path is checked against. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::prompts::{Builder, FewShot, PromptTable, SystemSettings};
    pub use crate::render::{render_completion, render_row_whole, render_training};
}
