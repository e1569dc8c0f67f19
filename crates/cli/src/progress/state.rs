//! The figures a live view shows, as plain data: the run fills one in from
//! its records every refresh, the screen and the plain lines only format it
//! (so the layout can be tested on a fixed state).

use std::time::Duration;

/// Everything on the live view at one moment.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// What runs: scenario, mode, backend.
    pub title: String,
    /// Since the run started.
    pub elapsed: Duration,
    /// Samples LoadGen will issue, when its plan could be computed.
    pub expected_samples: Option<u64>,
    /// How long the run is planned to last (Server: its schedule; Offline: its minimum duration).
    pub expected_duration: Option<Duration>,
    /// Samples LoadGen has handed to the SUT.
    pub issued: u64,
    /// Samples completed, failed ones included.
    pub done: u64,
    /// Samples whose request failed.
    pub failed: u64,
    /// The first failure, as recorded.
    pub first_error: Option<String>,
    /// How late LoadGen issued samples after their scheduled time.
    pub issue_lag: Option<Lag>,
    /// Output tokens per second since the run started.
    pub tokens_per_s: f64,
    /// Output tokens per second over the last few seconds.
    pub recent_tokens_per_s: f64,
    /// Time to first token, over the most recent samples.
    pub ttft: Latency,
    /// Time per output token, over the most recent samples.
    pub tpot: Latency,
    /// Samples the rolling percentiles are taken over (at most).
    pub window: usize,
    /// The early-stopping verdicts projected to the end of the run (Server and Interactive).
    pub early_stopping: Vec<Projection>,
    /// Log messages held back while the screen is up (the last few).
    pub messages: Vec<String>,
    /// Ctrl-C was pressed: the run is winding down.
    pub interrupted: bool,
}

impl LiveState {
    /// Samples issued and not completed yet.
    pub fn in_flight(&self) -> u64 {
        self.issued.saturating_sub(self.done)
    }
}

/// Issue lateness (issued − scheduled) of the samples so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lag {
    /// The 99th percentile.
    pub p99: Duration,
    /// The latest sample.
    pub max: Duration,
}

/// A rolling latency percentile against the scenario's limit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Latency {
    /// The rolling value at the scenario's percentile; None before any sample.
    pub value: Option<Duration>,
    /// The scenario's limit (Server: 3000/80 ms, Interactive: 2000/15 ms); None for Offline.
    pub limit: Option<Duration>,
    /// The percentile the limit applies to (0.99).
    pub percentile: f64,
}

impl Latency {
    /// Whether the value is within the limit; None without a value or a limit.
    pub fn within(&self) -> Option<bool> {
        Some(self.value? <= self.limit?)
    }
}

/// LoadGen's early-stopping criterion for one latency, projected to the end
/// of the run as if the share of over-limit samples so far held.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// `TTFT` or `TPOT`.
    pub metric: &'static str,
    /// Samples measured so far.
    pub measured: u64,
    /// Of those, over the limit.
    pub over: u64,
    /// Queries the run will have issued at its end.
    pub at_queries: u64,
    /// The fewest queries early stopping needs at the projected over-limit count.
    pub needed: u64,
}

impl Projection {
    /// Early stopping passes at the end if the rate holds.
    pub fn passes(&self) -> bool {
        self.at_queries >= self.needed
    }
}

/// `d` in milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `d` as `m:ss` (or `h:mm:ss`).
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_ms_read_as_a_person_writes_them() {
        assert_eq!(clock(Duration::from_secs(59)), "0:59");
        assert_eq!(clock(Duration::from_secs(61)), "1:01");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(ms(Duration::from_micros(123_460)), "123.5 ms");
    }
}
