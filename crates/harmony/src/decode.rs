//! Token ids back to text, special tokens kept (`decode(ids, skip_special_tokens=False)`).

use crate::vocab::encoding;
use crate::HarmonyError;

/// Decode ids to text. Bytes that are not valid UTF-8 on their own (a
/// sequence cut inside a character) become U+FFFD, as Hugging Face's decode
/// does; for whole prompts this equals harmony's `decode_utf8`.
pub fn decode(ids: &[u32]) -> Result<String, HarmonyError> {
    let bytes = encoding()?
        .tokenizer()
        .decode_bytes(ids)
        .map_err(|e| HarmonyError::Decode(format!("{e}; every id must be below 201088")))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}
