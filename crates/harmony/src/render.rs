//! Rendering conversations to token ids with the official `openai-harmony` crate.
//!
//! Every prompt of a builder starts with the same system, developer and
//! few-shot messages, so [`Prompter`] renders that prefix once per builder and
//! renders only the row's own messages per row. Harmony renders each message
//! on its own (no BPE merge crosses a message), and none of our conversations
//! has an `analysis` message for `auto_drop_analysis` to drop, so
//! prefix + tail equals the whole-conversation render; a test checks that for
//! every builder.

use std::collections::HashMap;

use openai_harmony::chat::{Conversation, Message, Role};

use crate::conversation::{prefix_messages, row_messages, PromptSettings, Row, RowError};
use crate::prompts::PromptTable;
use crate::vocab::encoding;
use crate::HarmonyError;

/// Renders dataset rows to prompt token ids for one run's settings.
pub struct Prompter {
    table: &'static PromptTable,
    settings: PromptSettings,
    /// Rendered system + developer + few-shot ids, per builder key.
    prefixes: HashMap<String, Vec<u32>>,
}

/// A rendered row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    pub ids: Vec<u32>,
    /// The dataset name the row was looked up under.
    pub dataset: String,
    /// Which builder made it (`aime`, `gpqa`, …).
    pub builder: String,
}

impl Prompter {
    pub fn new(settings: PromptSettings) -> Result<Self, HarmonyError> {
        let table = PromptTable::get();
        let mut prefixes = HashMap::new();
        for (key, builder) in &table.builders {
            let messages = prefix_messages(table, builder, &settings);
            prefixes.insert(key.clone(), render_messages(&messages, false)?);
        }
        Ok(Prompter {
            table,
            settings,
            prefixes,
        })
    }

    pub fn settings(&self) -> &PromptSettings {
        &self.settings
    }

    /// The prompt for one row; `index` is the row's label, used in errors.
    pub fn render_row(&self, index: usize, row: &dyn Row) -> Result<RenderedPrompt, RowError> {
        let parts = row_messages(self.table, index, row)?;
        let prefix = &self.prefixes[parts.builder_key];
        let tail =
            render_messages(&parts.tail, true).map_err(|e| RowError::Render(e.to_string()))?;
        let mut ids = Vec::with_capacity(prefix.len() + tail.len());
        ids.extend_from_slice(prefix);
        ids.extend_from_slice(&tail);
        Ok(RenderedPrompt {
            ids,
            dataset: parts.dataset,
            builder: parts.builder_key.to_string(),
        })
    }

    /// The same prompt rendered as one conversation, without the prefix cache.
    /// Slower; it exists so tests can prove [`Prompter::render_row`] equal to it.
    pub fn render_row_whole(&self, index: usize, row: &dyn Row) -> Result<Vec<u32>, RowError> {
        let parts = row_messages(self.table, index, row)?;
        let mut messages = prefix_messages(self.table, parts.builder, &self.settings);
        messages.extend(parts.tail);
        render_completion(&Conversation::from_messages(messages), true)
            .map_err(|e| RowError::Render(e.to_string()))
    }
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
    result.map_err(|e| HarmonyError::Render(format!("{e:#}")))
}

/// `render_conversation_for_training(convo)` with Python's default config.
pub fn render_training(conversation: &Conversation) -> Result<Vec<u32>, HarmonyError> {
    encoding()?
        .render_conversation_for_training(conversation, Some(&Default::default()))
        .map_err(|e| HarmonyError::Render(format!("{e:#}")))
}

/// Messages only (`for_completion` adds `<|start|>assistant`).
fn render_messages(messages: &[Message], for_completion: bool) -> Result<Vec<u32>, HarmonyError> {
    let enc = encoding()?;
    let result = if for_completion {
        enc.render_conversation_for_completion(messages, Role::Assistant, Some(&Default::default()))
    } else {
        enc.render_conversation(messages, Some(&Default::default()))
    };
    result.map_err(|e| HarmonyError::Render(format!("{e:#}")))
}
