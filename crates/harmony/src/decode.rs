//! Token ids back to text, special tokens kept (`decode(ids, skip_special_tokens=False)`).
//!
//! The official tokenizer looks every id up in a SipHash map; decoding whole
//! datasets and accuracy logs is dominated by that, so the bytes of every id
//! are copied once into a flat table indexed by id.

use std::sync::OnceLock;

use crate::vocab::encoding;
use crate::{HarmonyError, VOCAB_SIZE};

/// The bytes of every id: `bytes[offsets[id]..offsets[id + 1]]`.
struct DecodeTable {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

fn table() -> Result<&'static DecodeTable, HarmonyError> {
    static TABLE: OnceLock<DecodeTable> = OnceLock::new();
    if let Some(table) = TABLE.get() {
        return Ok(table);
    }
    let tokenizer = encoding()?.tokenizer();
    let mut bytes = Vec::with_capacity(2_000_000);
    let mut offsets = Vec::with_capacity(VOCAB_SIZE as usize + 1);
    offsets.push(0);
    for id in 0..VOCAB_SIZE {
        // Every id below VOCAB_SIZE is an ordinary or special token of o200k_harmony.
        let token = tokenizer
            .decode_bytes([id])
            .map_err(|e| HarmonyError::Decode(format!("the tokenizer has no id {id}: {e}")))?;
        bytes.extend_from_slice(&token);
        offsets.push(bytes.len() as u32);
    }
    Ok(TABLE.get_or_init(|| DecodeTable { bytes, offsets }))
}

/// Decode ids to text. Bytes that are not valid UTF-8 on their own (a
/// sequence cut inside a character) become U+FFFD, as Hugging Face's decode
/// does; for whole prompts this equals harmony's `decode_utf8`.
pub fn decode(ids: &[u32]) -> Result<String, HarmonyError> {
    let table = table()?;
    let mut out = Vec::with_capacity(ids.len() * 4);
    for &id in ids {
        let i = id as usize;
        let (Some(&start), Some(&end)) = (table.offsets.get(i), table.offsets.get(i + 1)) else {
            return Err(HarmonyError::Decode(format!(
                "token id {id} is outside the vocabulary (0..{VOCAB_SIZE})"
            )));
        };
        out.extend_from_slice(&table.bytes[start as usize..end as usize]);
    }
    Ok(match String::from_utf8(out) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}
