//! From a dataset row to a harmony conversation, as the reference builds it.
//!
//! The rules (which column holds the query, which builder a dataset name
//! picks, what each failure says) follow `harmonize_inputs.py`; the error
//! texts of rejected rows are the reference's own, so logs compare 1:1.

use std::fmt;
use std::str::FromStr;

use openai_harmony::chat::{
    DeveloperContent, Message, ReasoningEffort as HarmonyEffort, Role, SystemContent,
};

use crate::prompts::{Builder, PromptTable};
use crate::{HarmonyError, QUERY_COLUMNS};

/// The reasoning effort written into the system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasoningEffort {
    /// `Reasoning: low`.
    Low,
    /// `Reasoning: medium`.
    Medium,
    /// `Reasoning: high`, the reference's default.
    High,
}

impl ReasoningEffort {
    /// The word written into the system message and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }

    fn to_harmony(self) -> HarmonyEffort {
        match self {
            ReasoningEffort::Low => HarmonyEffort::Low,
            ReasoningEffort::Medium => HarmonyEffort::Medium,
            ReasoningEffort::High => HarmonyEffort::High,
        }
    }
}

impl FromStr for ReasoningEffort {
    type Err = String;
    /// Case-insensitive, as the reference's `--reasoning-effort`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(ReasoningEffort::Low),
            "medium" => Ok(ReasoningEffort::Medium),
            "high" => Ok(ReasoningEffort::High),
            _ => Err(format!(
                "unknown reasoning effort '{s}': use low, medium or high"
            )),
        }
    }
}

impl fmt::Display for ReasoningEffort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings shared by every row of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptSettings {
    /// The effort every row's system message names.
    pub reasoning_effort: ReasoningEffort,
    /// `Current date:` in the system message (the reference uses 2025-09-30).
    pub conversation_date: String,
}

impl Default for PromptSettings {
    /// The reference's defaults: effort high, its conversation start date.
    fn default() -> Self {
        PromptSettings {
            reasoning_effort: ReasoningEffort::High,
            conversation_date: PromptTable::get().system.conversation_start_date.clone(),
        }
    }
}

/// One turn of a chat-history query (healthbench's `prompt` column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    /// `user` or `assistant`; anything else is rejected, as the reference asserts.
    pub role: String,
    /// The turn's text.
    pub content: String,
}

/// A cell as the prompt builders see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A string cell.
    Text(String),
    /// A list of `{role, content}` messages.
    Chat(Vec<ChatTurn>),
    /// Anything else (NaN, None, a number …), shown as Python would print it.
    Other(String),
}

/// Read access to one dataset row; `None` means the column does not exist.
pub trait Row {
    /// The cell of `column` in this row.
    fn cell(&self, column: &str) -> Option<Cell>;
}

/// Why a row could not be turned into a prompt. The first line of each
/// message is exactly the reference's; extra lines say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The `dataset` cell names no builder.
    #[error("Unknown dataset '{dataset}' at index {index}")]
    UnknownDataset {
        /// The cell as Python prints it.
        dataset: String,
        /// The row's label.
        index: usize,
    },
    /// None of [`QUERY_COLUMNS`] exists.
    #[error("No query column found (tried: question, prompt, query) at index {index}")]
    NoQueryColumn {
        /// The row's label.
        index: usize,
    },
    /// The builder rejected the query cell (the reference's exception in `process_row`).
    #[error("Error processing {dataset} at index {index}: {reason}")]
    Builder {
        /// The dataset name the builder was chosen by.
        dataset: String,
        /// The row's label.
        index: usize,
        /// The reference's exception text on the first line, then what to do.
        reason: String,
    },
    /// The harmony layer failed on a row it accepted: a bug, not bad input.
    #[error(transparent)]
    Render(#[from] HarmonyError),
}

impl RowError {
    /// What the user can do about it (not part of the reference's message).
    pub fn hint(&self) -> String {
        match self {
            RowError::UnknownDataset { .. } => format!(
                "the 'dataset' column must be one of: {}",
                PromptTable::get().known_datasets().join(", ")
            ),
            RowError::NoQueryColumn { .. } => {
                "add a 'question', 'prompt' or 'query' column holding the text to ask".into()
            }
            RowError::Builder { .. } => "fix or drop this row".into(),
            RowError::Render(_) => "report this as a bug with the row's contents".into(),
        }
    }
}

/// The builder chosen for a row, and the messages that follow the shared prefix.
pub(crate) struct RowMessages<'t> {
    pub(crate) builder_key: &'t str,
    pub(crate) builder: &'t Builder,
    pub(crate) dataset: String,
    /// The query: one user message, or healthbench's whole history.
    pub(crate) tail: Vec<Message>,
}

/// Pick the builder and turn the row's query into messages.
pub(crate) fn row_messages<'t>(
    table: &'t PromptTable,
    index: usize,
    row: &dyn Row,
) -> Result<RowMessages<'t>, RowError> {
    let dataset = match row.cell("dataset") {
        None => table.dataset_when_column_missing.clone(),
        Some(Cell::Text(name)) => name,
        Some(Cell::Other(repr)) => repr,
        Some(Cell::Chat(_)) => "<list>".to_string(),
    };
    let (builder_key, builder) =
        table
            .builder_for(&dataset)
            .ok_or_else(|| RowError::UnknownDataset {
                dataset: dataset.clone(),
                index,
            })?;
    let builder_error = |reason: String| RowError::Builder {
        dataset: dataset.clone(),
        index,
        reason,
    };
    let tail = if builder.appends_user_query {
        let (column, cell) = QUERY_COLUMNS
            .iter()
            .find_map(|c| row.cell(c).map(|cell| (*c, cell)))
            .ok_or(RowError::NoQueryColumn { index })?;
        match cell {
            Cell::Text(text) => vec![Message::from_role_and_content(Role::User, text)],
            Cell::Other(repr) => {
                return Err(builder_error(format!(
                    "1 validation error for Message\ncolumn '{column}' holds {repr}, not text; fill the cell or drop the row"
                )))
            }
            Cell::Chat(_) => {
                return Err(builder_error(format!(
                    "1 validation error for Message\ncolumn '{column}' holds a list of messages, not text"
                )))
            }
        }
    } else {
        match row.cell("prompt") {
            Some(Cell::Chat(turns)) => chat_messages(&turns).map_err(builder_error)?,
            // The reference iterates the cell: an empty string, like an empty list, is a
            // history of no messages, and the prompt is system and developer alone.
            Some(Cell::Text(text)) if text.is_empty() => Vec::new(),
            Some(Cell::Text(_)) | Some(Cell::Other(_)) => {
                return Err(builder_error(
                    "'prompt' must be a list of {role, content} messages".into(),
                ))
            }
            None => return Err(builder_error("'prompt'".into())),
        }
    };
    Ok(RowMessages {
        builder_key,
        builder,
        dataset,
        tail,
    })
}

/// healthbench: user turns stay user, assistant turns get no channel.
fn chat_messages(turns: &[ChatTurn]) -> Result<Vec<Message>, String> {
    turns
        .iter()
        .map(|turn| {
            let role = match turn.role.as_str() {
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => return Err(format!("Unknown role: {other}")),
            };
            Ok(Message::from_role_and_content(role, turn.content.clone()))
        })
        .collect()
}

/// System, developer and few-shot messages: the part of every prompt that
/// depends only on the builder and the run's settings.
pub(crate) fn prefix_messages(
    table: &PromptTable,
    builder: &Builder,
    settings: &PromptSettings,
) -> Vec<Message> {
    let system = &table.system;
    let system_content = SystemContent::new()
        .with_model_identity(system.model_identity.clone())
        .with_knowledge_cutoff(system.knowledge_cutoff.clone())
        .with_reasoning_effort(settings.reasoning_effort.to_harmony())
        .with_conversation_start_date(settings.conversation_date.clone())
        .with_required_channels(system.valid_channels.iter().cloned());
    let mut messages = vec![
        Message::from_role_and_content(Role::System, system_content),
        Message::from_role_and_content(
            Role::Developer,
            DeveloperContent::new().with_instructions(builder.instructions.clone()),
        ),
    ];
    for shot in &builder.few_shot {
        messages.push(Message::from_role_and_content(
            Role::User,
            shot.user.clone(),
        ));
        messages.push(
            Message::from_role_and_content(Role::Assistant, shot.assistant_final.clone())
                .with_channel("final"),
        );
    }
    messages
}
