//! The client's own lateness: how long after LoadGen scheduled a query the
//! SUT was handed it (issue lateness), and how long after that the request
//! went out (send lateness: waiting for a concurrency slot). When these eat a
//! visible share of the TTFT budget, the client, not the server, limited the run.

use serde::Serialize;

use super::facts::{num, Facts};
use crate::read::samples::Sample;
use crate::stats::percentile;

/// The share of the TTFT limit (or of [`FALLBACK_BUDGET_MS`]) the client may
/// take at p99 before the report says it limited the run: 1% of Server's
/// 3000 ms is 30 ms, more than a healthy client ever needs.
pub const CLIENT_SHARE: f64 = 0.01;
/// The budget without a TTFT limit (Offline), in ms.
pub const FALLBACK_BUDGET_MS: f64 = 1000.0;

/// p50 / p99 / max of a lateness, in ms.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Spread {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile (LoadGen's rule).
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Spread {
    fn of(mut ns: Vec<f64>) -> Option<Spread> {
        ns.sort_by(f64::total_cmp);
        Some(Spread {
            p50_ms: percentile(&ns, 0.5)? / 1e6,
            p99_ms: percentile(&ns, 0.99)? / 1e6,
            max_ms: ns.last()? / 1e6,
        })
    }

    fn text(&self) -> String {
        format!(
            "{}/{}/{} ms",
            num(self.p50_ms),
            num(self.p99_ms),
            num(self.max_ms)
        )
    }
}

/// The client self-check of a run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SelfCheck {
    /// issued − scheduled.
    pub issue: Spread,
    /// sent − issued, over the samples that were sent.
    pub send: Option<Spread>,
    /// Why the client limited the run, when it did.
    pub limited: Option<String>,
}

impl SelfCheck {
    /// Computes the self-check; `None` without records.
    pub fn new(samples: &[Sample], facts: &Facts) -> Option<SelfCheck> {
        let issue = Spread::of(
            samples
                .iter()
                .map(|s| s.issued_ns.saturating_sub(s.scheduled_ns) as f64)
                .collect(),
        )?;
        let send = Spread::of(
            samples
                .iter()
                .filter_map(|s| Some(s.sent_ns?.saturating_sub(s.issued_ns) as f64))
                .collect(),
        );
        let budget_ms = facts
            .ttft_limit_ns
            .filter(|_| facts.is_server())
            .map_or(FALLBACK_BUDGET_MS, |l| l / 1e6)
            * CLIENT_SHARE;
        let mut limited = None;
        if issue.p99_ms > budget_ms {
            limited = Some(format!(
                "the client issued queries late: p99 issue lateness {} ms is over {} ms \
                 ({}% of the TTFT budget); LoadGen counts this lateness against the server",
                num(issue.p99_ms),
                num(budget_ms),
                num(CLIENT_SHARE * 100.0)
            ));
        } else if let Some(send) = send
            .as_ref()
            .filter(|s| s.p99_ms > budget_ms && facts.is_server())
        {
            limited = Some(format!(
                "requests waited for a client concurrency slot: p99 send lateness {} ms is over {} ms; \
                 raise --max-concurrency",
                num(send.p99_ms),
                num(budget_ms)
            ));
        }
        Some(SelfCheck {
            issue,
            send,
            limited,
        })
    }

    /// The one-line form `run` prints at its end.
    pub fn line(&self) -> String {
        let mut line = format!(
            "client self-check: issue lateness p50/p99/max {}",
            self.issue.text()
        );
        if let Some(send) = &self.send {
            line.push_str(&format!(", send lateness {}", send.text()));
        }
        match &self.limited {
            Some(why) => line.push_str(&format!("; CLIENT-LIMITED: {why}")),
            None => line.push_str("; the client kept up"),
        }
        line
    }
}
