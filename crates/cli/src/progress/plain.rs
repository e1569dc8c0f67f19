//! The live view off a terminal: the same figures as one plain line,
//! printed every few seconds, so CI logs stay readable.

use super::state::{clock, ms, Latency, LiveState};

/// One line with every figure of the live view.
pub fn line(state: &LiveState) -> String {
    let progress = match state.expected_samples {
        Some(total) => format!("{}/{total} samples done", state.done),
        None => format!("{} samples done", state.done),
    };
    let time = match state.expected_duration {
        Some(d) if !d.is_zero() => format!("{} of {}", clock(state.elapsed), clock(d)),
        _ => clock(state.elapsed),
    };
    let mut line = format!(
        "{progress} ({} failed), {time}, issued {}, in flight {}, {:.0} tokens/s",
        state.failed,
        state.issued,
        state.in_flight(),
        state.tokens_per_s
    );
    if let Some(lag) = state.issue_lag {
        line.push_str(&format!(", issue lag p99 {}", ms(lag.p99)));
    }
    line.push_str(&format!(
        ", TTFT {}, TPOT {}",
        latency(&state.ttft),
        latency(&state.tpot)
    ));
    for p in &state.early_stopping {
        line.push_str(&format!(
            ", {} early stopping projected {}",
            p.metric,
            if p.passes() { "pass" } else { "FAIL" }
        ));
    }
    if state.interrupted {
        line.push_str(" (interrupted)");
    }
    line
}

fn latency(l: &Latency) -> String {
    let value = l.value.map_or("-".to_string(), ms);
    let p = format!("p{:.0}", l.percentile * 100.0);
    match l.limit {
        Some(limit) => format!("{p} {value} (limit {})", ms(limit)),
        None => format!("{p} {value}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::progress::state::Projection;

    #[test]
    fn the_plain_line_carries_the_same_figures() {
        let state = LiveState {
            expected_samples: Some(100),
            expected_duration: Some(Duration::from_secs(120)),
            elapsed: Duration::from_secs(30),
            issued: 40,
            done: 25,
            failed: 1,
            tokens_per_s: 99.6,
            ttft: Latency {
                value: Some(Duration::from_millis(250)),
                limit: Some(Duration::from_millis(3000)),
                percentile: 0.99,
            },
            tpot: Latency {
                percentile: 0.99,
                ..Latency::default()
            },
            early_stopping: vec![Projection {
                metric: "TTFT",
                measured: 25,
                over: 0,
                at_queries: 100,
                needed: 459,
            }],
            ..LiveState::default()
        };
        assert_eq!(
            line(&state),
            "25/100 samples done (1 failed), 0:30 of 2:00, issued 40, in flight 15, 100 tokens/s, \
             TTFT p99 250.0 ms (limit 3000.0 ms), TPOT p99 -, TTFT early stopping projected FAIL"
        );
    }
}
