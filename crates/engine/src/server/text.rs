//! Text ↔ ids with the o200k_harmony vocabulary embedded in tiktoken-rs, for
//! `text` prompts and the `text` fields of replies. Token counts never come
//! from here: they are the engine's ids.

use tiktoken_rs::o200k_harmony_singleton;

/// Encodes a prompt; harmony markers such as `<|start|>` become their special ids.
pub fn encode(text: &str) -> Vec<u32> {
    o200k_harmony_singleton().encode_with_special_tokens(text)
}

/// Decodes ids arriving in pieces into text, holding back bytes of a UTF-8
/// character split across pieces. Ids outside the tokenizer (reserved ids,
/// a fixture's toy vocabulary) decode to nothing.
#[derive(Default)]
pub struct TextDecoder {
    pending: Vec<u8>,
}

impl TextDecoder {
    pub fn push(&mut self, ids: &[u32]) -> String {
        let bpe = o200k_harmony_singleton();
        for &id in ids {
            if let Ok(bytes) = bpe.decode_bytes(&[id]) {
                self.pending.extend_from_slice(&bytes);
            }
        }
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An error with no error_len is an incomplete tail: keep it for later.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let rest = self.pending.split_off(valid);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        text
    }

    /// Whatever is still held back, lossily.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
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
    let mut d = TextDecoder::default();
    let mut s = d.push(ids);
    s.push_str(&d.finish());
    s
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
