//! `mlperf_log_summary.txt` as LoadGen (ours or the official one) writes it:
//! `key : value` lines, the recommendations and the early-stopping blocks.

/// One early-stopping block of the summary (`TTFT Early Stopping Result:` …).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EarlyStoppingText {
    /// `TTFT`, `TPOT`, or empty for the e2e-latency block.
    pub label: String,
    /// The block's ` * ` lines, without the bullet.
    pub lines: Vec<String>,
    /// "Would need to run at least N more queries": N.
    pub more_needed: Option<u64>,
}

/// What the summary says, as text; the numbers are read on demand.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SummaryLog {
    /// `key : value` pairs in file order (keys trimmed).
    pub fields: Vec<(String, String)>,
    /// The ` * ` lines under `Recommendations:`.
    pub recommendations: Vec<String>,
    /// The early-stopping blocks.
    pub early_stopping: Vec<EarlyStoppingText>,
    /// The footer's error and warning lines ("No warnings encountered during test.").
    pub footer: Vec<String>,
}

enum Block {
    None,
    Recommendations,
    EarlyStopping,
}

impl SummaryLog {
    /// Reads the summary's text; lines it does not know are skipped.
    pub fn parse(text: &str) -> SummaryLog {
        let mut log = SummaryLog::default();
        let mut block = Block::None;
        for line in text.lines() {
            let trimmed = line.trim();
            if let Some(label) = trimmed.strip_suffix("Early Stopping Result:") {
                log.early_stopping.push(EarlyStoppingText {
                    label: label.trim().to_string(),
                    ..Default::default()
                });
                block = Block::EarlyStopping;
                continue;
            }
            if trimmed == "Recommendations:" {
                block = Block::Recommendations;
                continue;
            }
            if let Some(item) = trimmed.strip_prefix("* ") {
                match block {
                    Block::Recommendations => log.recommendations.push(item.to_string()),
                    Block::EarlyStopping => {
                        if let Some(last) = log.early_stopping.last_mut() {
                            last.lines.push(item.to_string());
                            if let Some(n) = item
                                .strip_prefix("Would need to run at least ")
                                .and_then(|rest| rest.split_whitespace().next())
                                .and_then(|n| n.parse().ok())
                            {
                                last.more_needed = Some(n);
                            }
                        }
                    }
                    Block::None => {}
                }
                continue;
            }
            if trimmed.ends_with("encountered during test.")
                || trimmed.ends_with("See detailed log.")
            {
                log.footer.push(trimmed.to_string());
                continue;
            }
            if let Some((key, value)) = trimmed.split_once(':') {
                let (key, value) = (key.trim(), value.trim());
                if !key.is_empty() && !value.is_empty() {
                    block = Block::None;
                    log.fields.push((key.to_string(), value.to_string()));
                }
            }
        }
        log
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key` as a number.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// `VALID` or `INVALID`, as the summary prints it.
    pub fn verdict(&self) -> Option<&str> {
        self.get("Result is")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_blocks_and_recommendations() {
        let text = "Scenario : Server\nResult is : INVALID\n  Early stopping satisfied: NO\n\
                    Recommendations:\n * TTFT constrain not met: Reduce target QPS to improve latency.\n\
                    TTFT Early Stopping Result:\n * Run unsuccessful.\n * Processed 10 queries.\n\
                    * Would need to run at least 449 more queries,\n with the run being successful\n\
                    TPOT Early Stopping Result:\n * Run successful.\n\
                    99.00 percentile first token latency (ns)   : 1234\n\
                    \nNo warnings encountered during test.\n";
        let s = SummaryLog::parse(text);
        assert_eq!(s.verdict(), Some("INVALID"));
        assert_eq!(s.get("Early stopping satisfied"), Some("NO"));
        assert_eq!(s.recommendations.len(), 1);
        assert_eq!(s.early_stopping.len(), 2);
        assert_eq!(s.early_stopping[0].label, "TTFT");
        assert_eq!(s.early_stopping[0].more_needed, Some(449));
        assert_eq!(s.early_stopping[1].more_needed, None);
        assert_eq!(
            s.number("99.00 percentile first token latency (ns)"),
            Some(1234.0)
        );
        assert_eq!(s.footer, ["No warnings encountered during test."]);
    }
}
