//! Completion token ids → messages (analysis / commentary / final).
//!
//! Model output is often cut short (max tokens reached, no `<|return|>`), so
//! parsing never fails: whatever the official streaming parser completed is
//! kept, and a message still open at the end is returned with `complete: false`.

use openai_harmony::chat::{Content, Message, Role};
use openai_harmony::{ParseOptions, StreamableParser};

use crate::decode::decode;
use crate::vocab::encoding;
use crate::HarmonyError;

/// One message of a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMessage {
    /// The author's role, normally `assistant`.
    pub role: String,
    /// `analysis`, `commentary` or `final`, when the header named one.
    pub channel: Option<String>,
    /// A tool call's recipient.
    pub recipient: Option<String>,
    /// A tool call's content type (`<|constrain|>json`).
    pub content_type: Option<String>,
    /// The message's text.
    pub text: String,
    /// False for a message the completion ended inside of.
    pub complete: bool,
}

/// The messages of a completion, and why parsing stopped early, if it did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedCompletion {
    /// The messages in order; the last may be incomplete.
    pub messages: Vec<ParsedMessage>,
    /// Set when a token did not fit the format; tokens after it are ignored.
    pub error: Option<String>,
}

impl ParsedCompletion {
    /// Text of the last message on the `final` channel, if any.
    pub fn final_text(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.channel.as_deref() == Some("final"))
            .map(|m| m.text.as_str())
    }
}

/// Parse the ids a model generated after a prompt ending in `<|start|>assistant`.
pub fn parse_completion(ids: &[u32]) -> Result<ParsedCompletion, HarmonyError> {
    let enc = encoding()?;
    let mut parser = StreamableParser::new_with_options(
        enc.clone(),
        Some(Role::Assistant),
        ParseOptions { strict: false },
    )
    .map_err(|e| HarmonyError::Parse {
        detail: format!("{e:#}"),
    })?;
    let mut error = None;
    for &id in ids {
        if let Err(e) = parser.process(id) {
            error = Some(format!("{e:#}"));
            break;
        }
    }
    let open_message = open_message(&parser)?;
    let mut messages: Vec<ParsedMessage> = parser.messages().iter().map(complete_message).collect();
    messages.extend(open_message);
    Ok(ParsedCompletion { messages, error })
}

/// The message the parser is inside of, if the completion ended in its content.
fn open_message(parser: &StreamableParser) -> Result<Option<ParsedMessage>, HarmonyError> {
    #[derive(serde::Deserialize)]
    struct State {
        state: String,
        #[serde(default)]
        content_tokens: Vec<u32>,
    }
    let json = parser.state_json().map_err(|e| HarmonyError::Parse {
        detail: format!("{e:#}"),
    })?;
    let state: State = serde_json::from_str(&json).map_err(|e| HarmonyError::Parse {
        detail: e.to_string(),
    })?;
    if state.state != "Content" {
        return Ok(None);
    }
    Ok(Some(ParsedMessage {
        role: role_name(parser.current_role().as_ref()),
        channel: parser.current_channel(),
        recipient: parser.current_recipient(),
        content_type: parser.current_content_type(),
        // Lossy: a cut completion may end inside a multi-byte character.
        text: decode(&state.content_tokens)?,
        complete: false,
    }))
}

fn complete_message(message: &Message) -> ParsedMessage {
    let text = message
        .content
        .iter()
        .filter_map(|c| match c {
            Content::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect();
    ParsedMessage {
        role: role_name(Some(&message.author.role)),
        channel: message.channel.clone(),
        recipient: message.recipient.clone(),
        content_type: message.content_type.clone(),
        text,
        complete: true,
    }
}

fn role_name(role: Option<&Role>) -> String {
    role.map(|r| r.as_str().to_string()).unwrap_or_default()
}
