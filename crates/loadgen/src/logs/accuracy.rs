//! `mlperf_log_accuracy.json`: `[`, entries `\n{ ... }` separated by `,`,
//! then `\n]\n`; response bytes as upper-case hex.

use std::fmt::Write as _;

/// Upper-case hex of `bytes`, no separators.
pub fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// Builds the accuracy log incrementally, as LoadGen's logger does.
pub struct AccuracyLog {
    pub text: String,
    needs_comma: bool,
}

impl Default for AccuracyLog {
    fn default() -> Self {
        AccuracyLog {
            text: "[".to_string(),
            needs_comma: false,
        }
    }
}

/// Which fields an entry carries (LoadGen decides by `use_token_latencies`
/// and whether the scenario needs first tokens).
#[derive(Clone, Copy, Debug)]
pub enum EntryKind {
    Plain,
    Tokens,
    TokensWithFirst,
}

impl AccuracyLog {
    pub fn entry(
        &mut self,
        kind: EntryKind,
        seq_id: u64,
        qsl_idx: usize,
        data: &[u8],
        first: &[u8],
        n_tokens: i64,
    ) {
        self.text
            .push_str(if self.needs_comma { ",\n{ " } else { "\n{ " });
        let _ = write!(
            self.text,
            "\"seq_id\" : {seq_id}, \"qsl_idx\" : {qsl_idx}, \"data\" : \"{}\"",
            hex_upper(data)
        );
        match kind {
            EntryKind::Plain => {}
            EntryKind::Tokens => {
                let _ = write!(self.text, ", \"token_count\" : {n_tokens}");
            }
            EntryKind::TokensWithFirst => {
                let _ = write!(
                    self.text,
                    ", \"token_data\" : \"{}\", \"token_count\" : {n_tokens}",
                    hex_upper(first)
                );
            }
        }
        self.text.push_str(" }");
        self.needs_comma = true;
    }

    /// The finished file.
    pub fn finish(mut self) -> String {
        self.text.push_str("\n]\n");
        self.text
    }
}
