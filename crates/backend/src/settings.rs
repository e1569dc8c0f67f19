//! The MLPerf GPT-OSS-120B reference's generation settings
//! (`generation_config.json` and the model's EOS set), so every backend
//! sends the same thing.

use crate::{BackendError, SamplingParams};

pub use defs::STOP_TOKEN_IDS;

/// `<|end|>` closes the analysis channel mid-answer; stopping on it would
/// cut off the final channel, so it must never be a stop id.
pub use defs::tokens::END as END_TOKEN_ID;

/// `max_new_tokens` of a performance run (README table).
pub const MAX_NEW_TOKENS_PERFORMANCE: u32 = 10240;

/// `max_new_tokens` of an accuracy run (`generation_config.json`).
pub const MAX_NEW_TOKENS_ACCURACY: u32 = 32768;

/// The reference's sampling: temperature 1, top_p 1, top_k off, no seed,
/// stopping on [`STOP_TOKEN_IDS`] (sent explicitly, so a server configured
/// without the model's EOS list still stops where the reference does).
pub fn reference_sampling(max_new_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 1.0,
        top_p: 1.0,
        top_k: -1,
        max_new_tokens,
        stop_token_ids: STOP_TOKEN_IDS.to_vec(),
        ignore_eos: false,
        seed: None,
    }
}

/// Refuses settings that would make a run unfaithful: stopping on `<|end|>`.
/// The HTTP clients run it once per request, before anything is sent (our
/// own engine serves any stop ids it is given).
pub fn check_stop_ids(sampling: &SamplingParams) -> Result<(), BackendError> {
    if sampling.stop_token_ids.contains(&END_TOKEN_ID) {
        return Err(BackendError::InvalidRequest(format!(
            "stop_token_ids contains {END_TOKEN_ID} (<|end|>), which ends the analysis channel, \
             not the answer; the reference stops only on {STOP_TOKEN_IDS:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_settings() {
        let s = reference_sampling(MAX_NEW_TOKENS_PERFORMANCE);
        assert_eq!(s.max_new_tokens, 10240);
        assert_eq!((s.temperature, s.top_p, s.top_k), (1.0, 1.0, -1));
        assert!(!s.stop_token_ids.contains(&END_TOKEN_ID));
        assert!(check_stop_ids(&s).is_ok());
        let mut bad = s;
        bad.stop_token_ids.push(END_TOKEN_ID);
        assert!(check_stop_ids(&bad)
            .unwrap_err()
            .to_string()
            .contains("<|end|>"));
    }
}
