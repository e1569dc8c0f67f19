//! Timing: that the stream really streams, and how its first token and the
//! tokens after it compare with the scenario's limits.

use std::time::Duration;

use super::{ms, some_of, Check, Limits, Probe, Status};

/// A stream counts as buffered when its chunks arrive within this share of
/// the request's time…
const BUFFERED_SHARE: f64 = 0.1;
/// …and less than this apart on average (parsing chunks that arrived
/// together takes microseconds; a real decode step takes milliseconds).
const BUFFERED_GAP: Duration = Duration::from_millis(1);

/// `streaming`: streamed ids arrive while the reply is generated, the first
/// well before the last, not all at once at the end (a buffering proxy, or
/// a server that ignores `stream`).
pub(super) fn streaming<'a>(streams: impl Iterator<Item = &'a Probe>) -> Check {
    let check = |status, text: String| Check::new("streaming", status, text);
    let mut buffered = Vec::new();
    let mut good: Option<(&Probe, Duration, Duration)> = None;
    for p in streams {
        let out = match &p.output {
            Ok(out) => out,
            Err(e) => return check(Status::Fail, format!("{}: {e}", p.label)),
        };
        let n = out.output_ids.len();
        if n < 2 {
            continue;
        }
        let (Some(first), Some(last)) = (p.first_token, p.last_token) else {
            buffered.push(format!(
                "{}: no ids before the final reply of {n} ids at {}",
                p.label,
                ms(p.elapsed)
            ));
            continue;
        };
        if p.events < 2 {
            buffered.push(format!(
                "{}: all {} ids in one chunk at {}",
                p.label,
                p.streamed_ids,
                ms(first)
            ));
            continue;
        }
        let spread = last - first;
        let gap = spread / (p.events as u32 - 1);
        if spread.as_secs_f64() < BUFFERED_SHARE * last.as_secs_f64() && gap < BUFFERED_GAP {
            buffered.push(format!(
                "{}: {} chunks, the first at {} and the last at {}",
                p.label,
                p.events,
                ms(first),
                ms(last)
            ));
        } else if good.is_none_or(|(_, f, l)| last - first > l - f) {
            good = Some((p, first, last));
        }
    }
    if !buffered.is_empty() {
        return check(
            Status::Fail,
            format!(
                "the stream arrives all at once at the end ({}): something buffers it (a \
                 proxy: turn its buffering off, e.g. nginx proxy_buffering off), so TTFT \
                 would be measured as the whole request",
                some_of(&buffered)
            ),
        );
    }
    match good {
        Some((p, first, last)) => check(
            Status::Pass,
            format!(
                "{}: first of {} chunks at {}, last at {} ({} ids)",
                p.label,
                p.events,
                ms(first),
                ms(last),
                p.streamed_ids
            ),
        ),
        None => check(
            Status::Warn,
            "no streamed reply had two or more ids, so streaming could not be seen".into(),
        ),
    }
}

/// The median and the largest of `values`.
fn median_max(mut values: Vec<Duration>) -> Option<(Duration, Duration)> {
    values.sort();
    Some((*values.get(values.len() / 2)?, *values.last()?))
}

/// `latency`: TTFT and TPOT of the streamed answers, one at a time, against
/// the scenario's limits. LoadGen holds the 99th percentile under load to
/// them; a server over them with nothing else to do cannot pass.
pub(super) fn latency<'a>(
    streams: impl Iterator<Item = &'a Probe>,
    limits: &Limits,
    stream_failed: bool,
) -> Check {
    let check = |status, text: String| Check::new("latency", status, text);
    if stream_failed {
        return check(
            Status::Skip,
            "the stream is not real (see streaming), so first-token times would be wrong".into(),
        );
    }
    let (mut ttfts, mut tpots) = (Vec::new(), Vec::new());
    for p in streams {
        let (Some(first), Ok(out)) = (p.first_token, &p.output) else {
            continue;
        };
        ttfts.push(first);
        let n = out.output_ids.len();
        if n >= 2 {
            tpots.push(p.elapsed.saturating_sub(first) / (n as u32 - 1));
        }
    }
    let Some((ttft, ttft_max)) = median_max(ttfts.clone()) else {
        return check(Status::Skip, "no streamed reply to time".into());
    };
    let mut rows = vec![("TTFT", ttft, ttft_max, limits.ttft_ms)];
    if let Some((tpot, tpot_max)) = median_max(tpots) {
        rows.push(("TPOT", tpot, tpot_max, limits.tpot_ms));
    }
    let mut status = Status::Pass;
    let mut text = Vec::new();
    for (what, median, max, limit) in rows {
        let mut line = format!("{what} median {} (max {})", ms(median), ms(max));
        if let Some(limit) = limit {
            let limit = Duration::from_secs_f64(limit / 1e3);
            line += &format!(", limit {}", ms(limit));
            if median > limit {
                status = Status::Fail;
                line += " EXCEEDED with no other load";
            } else if max > limit {
                status = status.max(Status::Warn);
                line += " exceeded by one probe";
            }
        }
        text.push(line);
    }
    let mut text = format!("{} over {} streamed probes", text.join("; "), ttfts.len());
    if limits.ttft_ms.is_none() {
        text += &format!("; {} has no latency limits", limits.scenario);
        return check(Status::Skip, text);
    }
    text += &format!(" ({})", limits.source);
    check(status, text)
}

#[cfg(test)]
mod tests {
    use backend::FinishReason;

    use super::super::fixtures::{probe, MS};
    use super::*;

    #[test]
    fn a_stream_is_buffered_only_when_its_chunks_arrive_together() {
        // (case, first, last, events, elapsed, status)
        let cases = [
            (
                "tokens spread over the reply",
                10,
                100,
                20,
                100,
                Status::Pass,
            ),
            ("all at the end", 400, 400, 20, 400, Status::Fail),
            ("one chunk", 400, 400, 1, 400, Status::Fail),
            // A long first token, then a real decode: not buffered.
            (
                "slow first token, 2 ms a token",
                3000,
                3038,
                20,
                3040,
                Status::Pass,
            ),
        ];
        for (case, first, last, events, elapsed, status) in cases {
            let mut p = probe(&[1; 20], FinishReason::Length, true);
            p.first_token = Some(first * MS);
            p.last_token = Some(last * MS);
            p.events = events;
            p.elapsed = elapsed * MS;
            let check = streaming([&p].into_iter());
            assert_eq!(check.status, status, "{case}: {}", check.evidence);
        }
    }

    #[test]
    fn latency_fails_only_when_the_median_is_over_the_limit() {
        let limits = Limits {
            scenario: "Server",
            source: "test".into(),
            ttft_ms: Some(50.0),
            tpot_ms: Some(1000.0),
        };
        // (first-token times of three probes in ms, status)
        let cases = [
            ([10, 20, 30], Status::Pass),
            ([10, 20, 60], Status::Warn),
            ([10, 60, 70], Status::Fail),
        ];
        for (ttfts, status) in cases {
            let probes: Vec<Probe> = ttfts
                .iter()
                .map(|&t| {
                    let mut p = probe(&[1, 2], FinishReason::Length, true);
                    p.first_token = Some(t * MS);
                    p
                })
                .collect();
            let check = latency(probes.iter(), &limits, false);
            assert_eq!(check.status, status, "{ttfts:?}: {}", check.evidence);
        }
        let check = latency(std::iter::empty(), &limits, true);
        assert_eq!(check.status, Status::Skip);
    }
}
