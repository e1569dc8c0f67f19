//! The one error type of the harmony layer itself. A dataset row that cannot be turned
//! into a prompt is a [`crate::RowError`]; this is what went wrong underneath it, and
//! each variant names the thing that failed: the vocabulary rank, the cache file, the
//! message of a row, the token id and its position.

use std::path::PathBuf;

use crate::VOCAB_SIZE;

/// A failure of the vocabulary, the renderer, the decoder or the completion parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HarmonyError {
    /// tiktoken-rs, the offline source of the o200k vocabulary, lacks an ordinary rank.
    #[error("harmony vocabulary: tiktoken-rs has no token {rank}: {detail}")]
    VocabularyRank {
        /// The missing rank.
        rank: u32,
        /// tiktoken-rs's own message.
        detail: String,
    },
    /// The vocabulary rebuilt from tiktoken-rs is not byte-identical to the official file.
    #[error(
        "harmony vocabulary: the o200k vocabulary rebuilt from tiktoken-rs does not match the \
         official file's sha256; this build has an incompatible tiktoken-rs"
    )]
    VocabularyChecksum,
    /// The rebuilt vocabulary could not be written where openai-harmony looks for it.
    #[error(
        "harmony vocabulary: cannot write the cache {}: {detail}; set TIKTOKEN_RS_CACHE_DIR \
         to a writable directory",
        path.display()
    )]
    VocabularyCache {
        /// The cache file.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// openai-harmony refused the vocabulary (or a user's `TIKTOKEN_ENCODINGS_BASE` copy).
    #[error("harmony vocabulary: openai-harmony could not load o200k_harmony: {detail}")]
    VocabularyLoad {
        /// openai-harmony's message, with its causes.
        detail: String,
    },
    /// The official renderer failed on a conversation.
    #[error("harmony render failed: {detail}")]
    Render {
        /// openai-harmony's message, with its causes.
        detail: String,
    },
    /// A row's own message carries a channel, recipient, author name or non-text
    /// content, which the per-row framing does not write.
    #[error(
        "harmony render failed: message {message} of the row is not plain text \
         (it has a {what}); report this as a bug with the row's contents"
    )]
    NotPlainText {
        /// Index of the message among the row's own messages (after the shared prefix).
        message: usize,
        /// What makes it not plain: `channel`, `recipient`, `content type`, `author name`
        /// or `non-text content`.
        what: &'static str,
    },
    /// A token id the vocabulary does not have, under [`crate::UnknownIds::Error`].
    #[error(
        "cannot decode token ids: id {id} at position {position} is outside the vocabulary \
         (0..{VOCAB_SIZE})"
    )]
    UnknownId {
        /// The id.
        id: u32,
        /// Its position in the ids given to the decoder (counted across a stream's pieces).
        position: usize,
    },
    /// The official streaming parser could not be set up or report its state.
    #[error("cannot parse completion: {detail}")]
    Parse {
        /// openai-harmony's (or serde's) message.
        detail: String,
    },
}
