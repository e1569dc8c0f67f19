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
use crate::HarmonyError;

/// Renders dataset rows to prompt token ids for one run's settings.
pub struct Prompter {
    table: &'static PromptTable,
    settings: PromptSettings,
    /// Rendered system + developer + few-shot ids, per builder key.
    prefixes: HashMap<String, Vec<u32>>,
    framing: Framing,
}

/// The ids that frame a plain text message, taken from the official encoding.
struct Framing {
    enc: &'static HarmonyEncoding,
    start: u32,
    message: u32,
    end: u32,
}

impl Framing {
    fn new() -> Result<Self, HarmonyError> {
        let enc = encoding()?;
        let special = |text: &str| match enc.tokenizer().encode_with_special_tokens(text)[..] {
            [id] => Ok(id),
            _ => Err(HarmonyError::Render(format!(
                "{text} is not one special token"
            ))),
        };
        Ok(Framing {
            enc,
            start: special("<|start|>")?,
            message: special("<|message|>")?,
            end: special("<|end|>")?,
        })
    }

    /// `messages` (plain text, no channel or recipient) then `<|start|>assistant`.
    fn render_tail(&self, messages: &[Message], out: &mut Vec<u32>) -> Result<(), HarmonyError> {
        let tokenizer = self.enc.tokenizer();
        for message in messages {
            let plain = message.channel.is_none()
                && message.recipient.is_none()
                && message.content_type.is_none()
                && message.author.name.is_none();
            if !plain {
                return Err(HarmonyError::Render(
                    "a row's own messages must be plain text".into(),
                ));
            }
            out.push(self.start);
            out.extend(tokenizer.encode_ordinary(message.author.role.as_str()));
            out.push(self.message);
            for content in &message.content {
                let Content::Text(text) = content else {
                    return Err(HarmonyError::Render(
                        "a row's own messages must be plain text".into(),
                    ));
                };
                out.extend(tokenizer.encode_ordinary(&text.text));
            }
            out.push(self.end);
        }
        out.push(self.start);
        out.extend(tokenizer.encode_ordinary(Role::Assistant.as_str()));
        Ok(())
    }
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
            prefixes.insert(key.clone(), render_messages(&messages)?);
        }
        Ok(Prompter {
            table,
            settings,
            prefixes,
            framing: Framing::new()?,
        })
    }

    pub fn settings(&self) -> &PromptSettings {
        &self.settings
    }

    /// The prompt for one row; `index` is the row's label, used in errors.
    pub fn render_row(&self, index: usize, row: &dyn Row) -> Result<RenderedPrompt, RowError> {
        let parts = row_messages(self.table, index, row)?;
        let prefix = &self.prefixes[parts.builder_key];
        let mut ids = Vec::with_capacity(prefix.len() + 1024);
        ids.extend_from_slice(prefix);
        self.framing
            .render_tail(&parts.tail, &mut ids)
            .map_err(|e| RowError::Render(e.to_string()))?;
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

/// Messages only, with Python's default config.
fn render_messages(messages: &[Message]) -> Result<Vec<u32>, HarmonyError> {
    encoding()?
        .render_conversation(messages, Some(&Default::default()))
        .map_err(|e| HarmonyError::Render(format!("{e:#}")))
}
