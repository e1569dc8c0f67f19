//! Text ↔ ids with the o200k_harmony vocabulary embedded in tiktoken-rs, for
//! `text` prompts and the `text` fields of replies. Token counts never come
//! from here: they are the engine's ids.

use harmony::UnknownIds;
use tiktoken_rs::o200k_harmony_singleton;

/// Encodes a prompt; harmony markers such as `<|start|>` become their special ids.
pub fn encode(text: &str) -> Vec<u32> {
    o200k_harmony_singleton().encode_with_special_tokens(text)
}

/// Decodes ids arriving in pieces into text, holding back bytes of a UTF-8
/// character split across pieces: harmony's decoder, with ids outside the
/// tokenizer (a fixture's toy vocabulary) decoding to nothing.
pub struct TextDecoder(harmony::TextDecoder);

impl Default for TextDecoder {
    fn default() -> Self {
        TextDecoder(harmony::TextDecoder::new(UnknownIds::Skip))
    }
}

impl TextDecoder {
    /// The text of `ids`, less an incomplete character at the end.
    pub fn push(&mut self, ids: &[u32]) -> String {
        // Under `UnknownIds::Skip` no id is an error.
        self.0.push(ids).unwrap_or_default()
    }

    /// Whatever is still held back, lossily.
    pub fn finish(&mut self) -> String {
        self.0.finish()
    }
}

/// The `text` of a finished reply: SGLang and vLLM both leave the matched
/// stop token out of it (it stays in the ids).
pub fn reply_text(out: &backend::GenerateOutput) -> String {
    let ids = &out.output_ids;
    match out.finish_reason {
        backend::FinishReason::Stop if !ids.is_empty() => decode(&ids[..ids.len() - 1]),
        _ => decode(ids),
    }
}

/// Decodes a complete id list.
pub fn decode(ids: &[u32]) -> String {
    // Under `UnknownIds::Skip` no id is an error.
    harmony::decode_with(ids, UnknownIds::Skip).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrips_and_keeps_split_characters_whole() {
        let ids = encode("<|start|>user<|message|>héllo wörld ✓");
        assert_eq!(ids[0], 200006);
        assert_eq!(decode(&ids), "<|start|>user<|message|>héllo wörld ✓");
        let mut d = TextDecoder::default();
        let mut s = String::new();
        for id in &ids {
            s.push_str(&d.push(&[*id]));
        }
        s.push_str(&d.finish());
        assert_eq!(s, "<|start|>user<|message|>héllo wörld ✓");
        assert_eq!(decode(&[300000]), "");
    }
}
