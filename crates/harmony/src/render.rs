//! Rendering conversations to token ids with the official `openai-harmony` crate.
//!
//! Every prompt of a builder starts with the same system, developer and
//! few-shot messages, so [`Prompter`] renders that prefix once per builder
//! with the official renderer, and per row only frames the row's own plain
//! text messages: `<|start|>` role `<|message|>` text `<|end|>`, then
//! `<|start|>assistant`, every piece encoded by the official tokenizer. (The
//! official renderer rebuilds a set of all 1,091 special tokens for every
//! formatting token it writes, which cost a sixth of `harmonize`'s time.)
//! Harmony renders each message on its own (no BPE merge crosses a message),
//! and none of our conversations has an `analysis` message for
//! `auto_drop_analysis` to drop, so prefix + tail equals the official
//! whole-conversation render; a test checks that for every builder vector.

use std::collections::HashMap;

use openai_harmony::chat::{Content, Conversation, Message, Role};
use openai_harmony::HarmonyEncoding;

use crate::conversation::{prefix_messages, row_messages, PromptSettings, Row, RowError};
use crate::prompts::PromptTable;
use crate::vocab::encoding;
use crate::{tokens, HarmonyError};

/// Renders dataset rows to prompt token ids for one run's settings.
pub struct Prompter {
    table: &'static PromptTable,
    settings: PromptSettings,
    /// Rendered system + developer + few-shot ids, per builder key.
    prefixes: HashMap<String, Vec<u32>>,
    framing: Framing,
}

/// Frames a row's plain text messages with the official encoding's tokenizer.
struct Framing {
    enc: &'static HarmonyEncoding,
}

impl Framing {
    fn new() -> Result<Self, HarmonyError> {
        Ok(Framing { enc: encoding()? })
    }

    /// `messages` (plain text, no channel or recipient) then `<|start|>assistant`.
    fn render_tail(&self, messages: &[Message], out: &mut Vec<u32>) -> Result<(), HarmonyError> {
        let tokenizer = self.enc.tokenizer();
        for (index, message) in messages.iter().enumerate() {
            let not_plain = |what| HarmonyError::NotPlainText {
                message: index,
                what,
            };
            if message.channel.is_some() {
                return Err(not_plain("channel"));
            }
            if message.recipient.is_some() {
                return Err(not_plain("recipient"));
            }
            if message.content_type.is_some() {
                return Err(not_plain("content type"));
            }
            if message.author.name.is_some() {
                return Err(not_plain("author name"));
            }
            out.push(tokens::START);
            out.extend(tokenizer.encode_ordinary(message.author.role.as_str()));
            out.push(tokens::MESSAGE);
            for content in &message.content {
                let Content::Text(text) = content else {
                    return Err(not_plain("non-text content"));
                };
                out.extend(tokenizer.encode_ordinary(&text.text));
            }
            out.push(tokens::END);
        }
        out.push(tokens::START);
        out.extend(tokenizer.encode_ordinary(Role::Assistant.as_str()));
        Ok(())
    }
}

/// A rendered row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    /// The prompt's token ids, ending in `<|start|>assistant`.
    pub ids: Vec<u32>,
    /// The dataset name the row was looked up under.
    pub dataset: String,
    /// Which builder made it (`aime`, `gpqa`, …).
    pub builder: String,
}

impl Prompter {
    /// Renders every builder's shared prefix for `settings`, once.
    pub fn new(settings: PromptSettings) -> Result<Self, HarmonyError> {
        let table = PromptTable::get();
        let mut prefixes = HashMap::new();
        for (key, builder) in &table.builders {
            let messages = prefix_messages(table, builder, &settings);
            prefixes.insert(key.clone(), render_messages(&messages)?);
        }
        Ok(Prompter {
            table,
            settings,
            prefixes,
            framing: Framing::new()?,
        })
    }

    /// The settings every prompt is rendered with.
    pub fn settings(&self) -> &PromptSettings {
        &self.settings
    }

    /// The prompt for one row; `index` is the row's label, used in errors.
    pub fn render_row(&self, index: usize, row: &dyn Row) -> Result<RenderedPrompt, RowError> {
        let parts = row_messages(self.table, index, row)?;
        let prefix = &self.prefixes[parts.builder_key];
        let mut ids = Vec::with_capacity(prefix.len() + 1024);
        ids.extend_from_slice(prefix);
        self.framing.render_tail(&parts.tail, &mut ids)?;
        Ok(RenderedPrompt {
            ids,
            dataset: parts.dataset,
            builder: parts.builder_key.to_string(),
        })
    }
}

/// The prompt [`Prompter::render_row`] gives, rendered as one conversation without
/// the prefix cache. Slower; it exists so tests can prove the fast path equal to it.
pub fn render_row_whole(
    prompter: &Prompter,
    index: usize,
    row: &dyn Row,
) -> Result<Vec<u32>, RowError> {
    let parts = row_messages(prompter.table, index, row)?;
    let mut messages = prefix_messages(prompter.table, parts.builder, &prompter.settings);
    messages.extend(parts.tail);
    Ok(render_completion(
        &Conversation::from_messages(messages),
        true,
    )?)
}

/// `render_conversation_for_completion(convo, Role.ASSISTANT)` with Python's
/// default config when `auto_drop_analysis` is true (the reference's call).
pub fn render_completion(
    conversation: &Conversation,
    auto_drop_analysis: bool,
) -> Result<Vec<u32>, HarmonyError> {
    let enc = encoding()?;
    let result = if auto_drop_analysis {
        enc.render_conversation_for_completion(
            conversation,
            Role::Assistant,
            Some(&Default::default()),
        )
    } else {
        // openai-harmony 0.0.8 does not export its config type; `None` means "drop nothing".
        enc.render_conversation_for_completion(conversation, Role::Assistant, None)
    };
    result.map_err(|e| HarmonyError::Render {
        detail: format!("{e:#}"),
    })
}

/// `render_conversation_for_training(convo)` with Python's default config.
pub fn render_training(conversation: &Conversation) -> Result<Vec<u32>, HarmonyError> {
    encoding()?
        .render_conversation_for_training(conversation, Some(&Default::default()))
        .map_err(|e| HarmonyError::Render {
            detail: format!("{e:#}"),
        })
}

/// Messages only, with Python's default config.
fn render_messages(messages: &[Message]) -> Result<Vec<u32>, HarmonyError> {
    encoding()?
        .render_conversation(messages, Some(&Default::default()))
        .map_err(|e| HarmonyError::Render {
            detail: format!("{e:#}"),
        })
}
