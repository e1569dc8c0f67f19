//! The few constants that several crates need, in one dependency-free place:
//! the GPT-OSS vocabulary size, the harmony token ids the benchmark names,
//! the model's stop ids and the dataset columns a prompt is read from.
//!
//! Each value is data from the model or the reference (`tokenizer_config`,
//! `generation_config.json`, `harmonize_inputs.py`); nothing here decides
//! behaviour.

/// Size of the model's vocabulary (o200k_harmony, padded): valid token ids
/// are `0..VOCAB_SIZE`.
pub const VOCAB_SIZE: u32 = 201_088;

/// Harmony token ids the benchmark refers to by name.
pub mod tokens {
    /// `<|endoftext|>`, also the model's pad id.
    pub const END_OF_TEXT: u32 = 199_999;
    /// `<|return|>`: the end of the final answer.
    pub const RETURN: u32 = 200_002;
    /// `<|constrain|>`: a tool call's content type follows.
    pub const CONSTRAIN: u32 = 200_003;
    /// `<|channel|>`: the channel name follows.
    pub const CHANNEL: u32 = 200_005;
    /// `<|start|>`: a message header begins.
    pub const START: u32 = 200_006;
    /// `<|end|>`: the end of one message, never of the answer.
    pub const END: u32 = 200_007;
    /// `<|message|>`: the message body follows.
    pub const MESSAGE: u32 = 200_008;
    /// `<|call|>`: the end of a tool call.
    pub const CALL: u32 = 200_012;
}

/// `<|return|>`, `<|endoftext|>`, `<|call|>`: the model's `eos_token_id`
/// list, in `generation_config.json`'s order.
pub const STOP_TOKEN_IDS: [u32; 3] = [tokens::RETURN, tokens::END_OF_TEXT, tokens::CALL];

/// The columns a raw dataset row's question is read from, in the order the
/// reference tries them.
pub const QUERY_COLUMNS: [&str; 3] = ["question", "prompt", "query"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_ids_never_include_end() {
        assert!(!STOP_TOKEN_IDS.contains(&tokens::END));
        assert!(STOP_TOKEN_IDS.iter().all(|&id| id < VOCAB_SIZE));
    }
}
