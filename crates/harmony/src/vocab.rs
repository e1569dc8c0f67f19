//! The o200k vocabulary for the official `openai-harmony` crate, supplied offline.
//!
//! `openai-harmony` has no embedded vocabulary: it reads `o200k_base.tiktoken`
//! from `$TIKTOKEN_ENCODINGS_BASE`, or from its cache directory, and otherwise
//! downloads it. `tiktoken-rs` embeds the same vocabulary, so we rebuild the
//! byte-identical file from it into the crate's cache directory (never the
//! user's working directory), check its sha256 ourselves, and only then let
//! `openai-harmony` load it. Nothing is ever downloaded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use openai_harmony::{load_harmony_encoding, HarmonyEncoding, HarmonyEncodingName};
use sha2::{Digest, Sha256};

use crate::HarmonyError;

/// sha256 of the official `o200k_base.tiktoken`, as `openai-harmony` checks it.
const VOCAB_SHA256: &str = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d";
/// `openai-harmony` names its cached copy by the sha1 of the download URL.
const CACHE_FILE_NAME: &str = "fb374d419588a4632f3f557e76b4b70aebbca790";
/// Ranks 0..ORDINARY_TOKENS are the ordinary (BPE) part of o200k.
const ORDINARY_TOKENS: u32 = 199_998;

/// The harmony encoding (o200k_harmony), loaded once per process.
pub fn encoding() -> Result<&'static HarmonyEncoding, HarmonyError> {
    static ENCODING: OnceLock<Result<HarmonyEncoding, HarmonyError>> = OnceLock::new();
    ENCODING.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<HarmonyEncoding, HarmonyError> {
    // A user who points TIKTOKEN_ENCODINGS_BASE at their own copy gets it
    // (openai-harmony checks its hash and never downloads in that case).
    if std::env::var_os("TIKTOKEN_ENCODINGS_BASE").is_none() {
        provision_cache_file()?;
    }
    load_harmony_encoding(HarmonyEncodingName::HarmonyGptOss).map_err(|e| {
        HarmonyError::VocabularyLoad {
            detail: format!("{e:#}"),
        }
    })
}

/// The directory `openai-harmony` looks in, resolved the way it resolves it.
fn cache_dir() -> PathBuf {
    match std::env::var_os("TIKTOKEN_RS_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join("tiktoken-rs-cache"),
    }
}

/// Make sure the cache holds the exact vocabulary file, so the crate never downloads it.
fn provision_cache_file() -> Result<(), HarmonyError> {
    let dir = cache_dir();
    let path = dir.join(CACHE_FILE_NAME);
    if std::fs::read(&path).is_ok_and(|bytes| sha256_hex(&bytes) == VOCAB_SHA256) {
        return Ok(());
    }
    let bytes = rebuild_vocab_file()?;
    if sha256_hex(&bytes) != VOCAB_SHA256 {
        return Err(HarmonyError::VocabularyChecksum);
    }
    write_atomically(&dir, &path, &bytes).map_err(|e| HarmonyError::VocabularyCache {
        detail: e.to_string(),
        path,
    })
}

/// The `.tiktoken` text: one `base64(token bytes) rank` line per ordinary rank.
fn rebuild_vocab_file() -> Result<Vec<u8>, HarmonyError> {
    let bpe = tiktoken_rs::o200k_base_singleton();
    let mut out = Vec::with_capacity(3_700_000);
    for rank in 0..ORDINARY_TOKENS {
        let bytes = bpe
            .decode_bytes(&[rank])
            .map_err(|e| HarmonyError::VocabularyRank {
                rank,
                detail: e.to_string(),
            })?;
        let line = format!(
            "{} {rank}\n",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        out.extend_from_slice(line.as_bytes());
    }
    Ok(out)
}

/// Write to a temporary file beside `path`, then rename: concurrent processes never see half a file.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{CACHE_FILE_NAME}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Text back to ids with the official harmony tokenizer, special tokens such
/// as `<|channel|>` becoming their ids: the one encoder for a server's text
/// when it returns no ids (re-tokenized counts are labelled as such).
pub fn encode_text(text: &str) -> Result<Vec<u32>, HarmonyError> {
    Ok(encoding()?.tokenizer().encode_with_special_tokens(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilt_vocabulary_is_the_official_file() {
        let bytes = rebuild_vocab_file().unwrap();
        assert_eq!(bytes.len(), 3_613_922);
        assert_eq!(sha256_hex(&bytes), VOCAB_SHA256);
    }

    #[test]
    fn text_encodes_with_special_tokens_and_decodes_back() {
        let text = "<|channel|>analysis<|message|>Say hi.<|end|>";
        let ids = encode_text(text).unwrap();
        assert_eq!(ids[0], crate::tokens::CHANNEL);
        assert_eq!(ids.last(), Some(&crate::tokens::END));
        assert_eq!(crate::decode(&ids).unwrap(), text);
    }
}
