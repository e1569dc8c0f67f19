//! Token ids back to text, special tokens kept (`decode(ids, skip_special_tokens=False)`).
//!
//! The one decoder of the benchmark, for whole id lists (prompts, accuracy logs) and
//! for ids that arrive in pieces (a server's stream), with an explicit policy for ids
//! the vocabulary lacks. The bytes of every id are copied once from tiktoken-rs's
//! o200k_harmony into a flat table indexed by id: looking ids up in the tokenizer's
//! SipHash map dominated decoding whole datasets, and the table needs no vocabulary
//! file (a test proves it equal to the official encoding for every id).

use std::sync::OnceLock;

use crate::{HarmonyError, VOCAB_SIZE};

/// What to do with an id outside the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownIds {
    /// Fail with [`HarmonyError::UnknownId`]: for ids that must be the model's (prompts,
    /// accuracy logs).
    Error,
    /// Decode it to nothing: for a server's replies, whose ids may come from a toy or
    /// simulated model.
    Skip,
}

/// The bytes of every id below [`VOCAB_SIZE`]: `bytes[offsets[id]..offsets[id + 1]]`.
struct DecodeTable {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
    /// False for an id the tokenizer lacks (none in o200k_harmony; kept for safety).
    known: Vec<bool>,
}

impl DecodeTable {
    fn get() -> &'static DecodeTable {
        static TABLE: OnceLock<DecodeTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            let bpe = tiktoken_rs::o200k_harmony_singleton();
            let mut table = DecodeTable {
                bytes: Vec::with_capacity(2_000_000),
                offsets: Vec::with_capacity(VOCAB_SIZE as usize + 1),
                known: Vec::with_capacity(VOCAB_SIZE as usize),
            };
            table.offsets.push(0);
            for id in 0..VOCAB_SIZE {
                let token = bpe.decode_bytes(&[id]);
                table.known.push(token.is_ok());
                table.bytes.extend_from_slice(&token.unwrap_or_default());
                table.offsets.push(table.bytes.len() as u32);
            }
            table
        })
    }

    fn token(&self, id: u32) -> Option<&[u8]> {
        let i = id as usize;
        if !*self.known.get(i)? {
            return None;
        }
        Some(&self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize])
    }

    /// Appends the bytes of `ids`; `first` is the position of `ids[0]` in the whole input.
    fn append(
        &self,
        ids: &[u32],
        first: usize,
        unknown: UnknownIds,
        out: &mut Vec<u8>,
    ) -> Result<(), HarmonyError> {
        for (i, &id) in ids.iter().enumerate() {
            match (self.token(id), unknown) {
                (Some(bytes), _) => out.extend_from_slice(bytes),
                (None, UnknownIds::Skip) => {}
                (None, UnknownIds::Error) => {
                    return Err(HarmonyError::UnknownId {
                        id,
                        position: first + i,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Decodes ids to text, failing on an id outside the vocabulary. Bytes that are not
/// valid UTF-8 on their own (a sequence cut inside a character) become U+FFFD, as
/// Hugging Face's decode does; for whole prompts this equals harmony's `decode_utf8`.
pub fn decode(ids: &[u32]) -> Result<String, HarmonyError> {
    decode_with(ids, UnknownIds::Error)
}

/// [`decode`] with the given policy for ids outside the vocabulary.
pub fn decode_with(ids: &[u32], unknown: UnknownIds) -> Result<String, HarmonyError> {
    let mut out = Vec::with_capacity(ids.len() * 4);
    DecodeTable::get().append(ids, 0, unknown, &mut out)?;
    Ok(match String::from_utf8(out) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// Decodes ids that arrive in pieces, holding back the bytes of a UTF-8 character
/// split across pieces, so that every piece of text is whole. All pieces pushed, then
/// [`TextDecoder::finish`], give the same text as [`decode_with`] on all the ids.
#[derive(Debug)]
pub struct TextDecoder {
    pending: Vec<u8>,
    unknown: UnknownIds,
    /// Ids pushed so far, for the position in errors.
    seen: usize,
}

impl TextDecoder {
    /// A decoder with the given policy for ids outside the vocabulary.
    pub fn new(unknown: UnknownIds) -> Self {
        TextDecoder {
            pending: Vec::new(),
            unknown,
            seen: 0,
        }
    }

    /// The text of `ids`, less any incomplete character at the end (kept for the next
    /// piece). Bytes that can never become valid become U+FFFD.
    pub fn push(&mut self, ids: &[u32]) -> Result<String, HarmonyError> {
        let first = self.seen;
        self.seen += ids.len();
        DecodeTable::get().append(ids, first, self.unknown, &mut self.pending)?;
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An error with no error_len is an incomplete tail: keep it for later.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let rest = self.pending.split_off(valid);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        Ok(text)
    }

    /// Whatever is still held back, lossily.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}
