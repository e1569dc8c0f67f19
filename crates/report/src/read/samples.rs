//! `samples.jsonl`: the per-sample records `run` appends as samples complete
//! (crates/cli/src/run/records.rs). A line that is not a record is skipped and
//! reported; the lines around it are kept.

use serde::Deserialize;

/// One sample as `run` recorded it; times are ns since the run started.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Sample {
    /// LoadGen's response id.
    pub id: u64,
    /// The QSL index (dataset row).
    pub index: usize,
    /// When LoadGen scheduled the query (latencies count from here).
    pub scheduled_ns: u64,
    /// When LoadGen handed the sample to the SUT.
    pub issued_ns: u64,
    /// When the request was sent.
    #[serde(default)]
    pub sent_ns: Option<u64>,
    /// When the first token arrived.
    #[serde(default)]
    pub first_token_ns: Option<u64>,
    /// When the result or the error came back.
    pub done_ns: u64,
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: usize,
    /// Tokens generated.
    #[serde(default)]
    pub output_tokens: usize,
    /// Why generation stopped; `None` for a failed request.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Why the request failed.
    #[serde(default)]
    pub error: Option<String>,
}

impl Sample {
    /// Time to first token from the scheduled time, as LoadGen counts it.
    pub fn ttft_ns(&self) -> Option<u64> {
        self.first_token_ns
            .map(|t| t.saturating_sub(self.scheduled_ns))
    }

    /// Time per output token after the first (LoadGen's integer division).
    pub fn tpot_ns(&self) -> Option<u64> {
        let first = self.first_token_ns?;
        (self.output_tokens > 1)
            .then(|| self.done_ns.saturating_sub(first) / (self.output_tokens as u64 - 1))
    }
}

/// The records that could be read, and what could not.
#[derive(Clone, Debug, Default)]
pub struct SamplesFile {
    /// Records in file order.
    pub samples: Vec<Sample>,
    /// `line N: why` for each line that was skipped.
    pub bad_lines: Vec<String>,
}

/// Reads the records in `text`; empty lines are ignored.
pub fn parse(text: &str) -> SamplesFile {
    let mut out = SamplesFile::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Sample>(line) {
            Ok(s) => out.samples.push(s),
            Err(e) => out.bad_lines.push(format!("line {}: {e}", i + 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_skipped_and_named() {
        let text = "{\"id\":1,\"index\":0,\"scheduled_ns\":0,\"issued_ns\":5,\"first_token_ns\":100,\"done_ns\":400,\"output_tokens\":4}\n\
                    {\"id\":2,\"index\":1\n\
                    \n\
                    {\"id\":3,\"index\":2,\"scheduled_ns\":10,\"issued_ns\":12,\"done_ns\":20,\"error\":\"boom\"}\n";
        let f = parse(text);
        assert_eq!(f.samples.len(), 2);
        assert_eq!(f.bad_lines.len(), 1);
        assert!(f.bad_lines[0].starts_with("line 2: "), "{:?}", f.bad_lines);
        assert_eq!(f.samples[0].ttft_ns(), Some(100));
        assert_eq!(f.samples[0].tpot_ns(), Some(100));
        assert_eq!(f.samples[1].ttft_ns(), None);
    }
}
