//! One issuing series (a loaded set and the queries issued against it), in
//! the steps a run takes: generate, issue, wait for the SUT, collect.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::clock::{at_offset, signed_ns, wait_until, TimerSlack};
use super::Logs;
use crate::effective::EffectiveSettings;
use crate::generate::{
    accuracy_log_offset, generate_queries, AccuracyLogRng, GenerateError, Generated, LoadableSet,
};
use crate::logs::accuracy::EntryKind;
use crate::logs::detail::DetailLog;
use crate::recorder::{Recorder, SampleInfo};
use crate::results::PerformanceResult;
use crate::settings::Scenario;
use crate::sut::{QuerySample, Responder, SystemUnderTest};

/// Why issuing stopped before the last generated query (LoadGen's
/// `IssueQueryThread` end conditions).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum EndReason {
    /// Minimum query count and duration met: the normal end of a
    /// performance series that is not Server.
    Natural,
    /// Server: more queries outstanding than `server_max_async_queries`.
    TooManyOutstanding {
        /// Queries issued so far.
        issued: u64,
        /// Of those, not yet complete.
        outstanding: u64,
    },
    /// `max_query_count` reached.
    MaxQueryCount {
        /// Queries issued so far.
        issued: u64,
    },
    /// `max_duration_ms` passed.
    MaxDuration {
        /// Time since the series started.
        duration: Duration,
    },
}

impl EndReason {
    /// LoadGen logs the natural end as a message and every early end as an error.
    fn log(&self, d: &mut DetailLog) {
        match self {
            EndReason::Natural => d.message(&self.to_string()),
            _ => d.error("error_runtime", &self.to_string()),
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::Natural => {
                f.write_str("Ending naturally: Minimum query count and test duration met.")
            }
            EndReason::TooManyOutstanding {
                issued,
                outstanding,
            } => write!(
                f,
                "IssueQueryThread 0 Ending early: Too many outstanding queries. issued {issued} outstanding {outstanding}"
            ),
            EndReason::MaxQueryCount { issued } => write!(
                f,
                "IssueQueryThread 0 Ending early: Max query count reached. query_count {issued}"
            ),
            EndReason::MaxDuration { duration } => write!(
                f,
                "IssueQueryThread 0 Ending early: Max test duration reached. duration_ns {}",
                duration.as_nanos()
            ),
        }
    }
}

/// What issuing did: when each query went out and why it stopped.
pub(super) struct Issued {
    /// When the first query could go out; Server/Offline schedules count from here.
    pub start: Instant,
    /// `start` on the wall clock, for `power_begin`.
    pub start_wall: SystemTime,
    /// When each issued query was handed to the SUT.
    pub at: Vec<Instant>,
    /// Actual − scheduled issue time per issued query (ns).
    pub lateness_ns: Vec<i64>,
    /// Why issuing stopped early, if it did.
    pub end: Option<EndReason>,
}

impl Issued {
    /// How many of the generated queries were issued.
    fn queries(&self) -> usize {
        self.at.len()
    }
}

/// A series ready to issue: its queries and the recorder of the SUT's reports.
pub(super) struct Series<'a> {
    settings: &'a EffectiveSettings,
    accuracy: bool,
    generated: Generated,
    recorder: Arc<Recorder>,
}

impl<'a> Series<'a> {
    /// Generates the queries of `set` and draws, per sample, whether its
    /// response goes to the accuracy log (every sample in an accuracy
    /// series). Sample ids continue from `next_seq` across series.
    pub(super) fn generate(
        settings: &'a EffectiveSettings,
        set: &LoadableSet,
        accuracy: bool,
        acc_rng: &mut AccuracyLogRng,
        next_seq: &mut u64,
    ) -> Result<Self, GenerateError> {
        let offset = accuracy_log_offset(settings.requested.accuracy_log_rng_seed);
        let generated = generate_queries(settings, set, accuracy)?;
        let prob = accuracy_log_probability(settings);
        let mut samples = Vec::new();
        for (qi, q) in generated.queries.iter().enumerate() {
            for &index in &q.indices {
                let v = acc_rng.next_value();
                let val = if v + offset < 1.0 {
                    v + offset
                } else {
                    v + offset - 1.0
                };
                samples.push(SampleInfo {
                    query: qi as u32,
                    index,
                    log_accuracy: accuracy || val <= prob,
                });
            }
        }
        let first_seq = *next_seq;
        *next_seq += samples.len() as u64;
        let recorder = Arc::new(Recorder::new(
            first_seq,
            samples,
            generated.queries.len(),
            settings.scenario != Scenario::Offline,
            settings.requested.use_token_latencies,
        ));
        Ok(Series {
            settings,
            accuracy,
            generated,
            recorder,
        })
    }

    /// The generated queries (all of them, issued or not).
    pub(super) fn generated(&self) -> &Generated {
        &self.generated
    }

    /// Whether the SUT reports a first token before completion.
    fn needs_first_token(&self) -> bool {
        self.settings.scenario != Scenario::Offline
    }

    /// Hands the queries to the SUT on schedule (Server, Offline) or one
    /// after another (SingleStream, MultiStream) until they run out or an
    /// end condition holds.
    pub(super) fn issue(&self, sut: &dyn SystemUnderTest) -> Issued {
        let s = self.settings;
        let queries = &self.generated.queries;
        let responder = Responder::new(self.recorder.clone());
        let timed = matches!(s.scenario, Scenario::Server | Scenario::Offline);
        let mut next_id = self.recorder.first_id + 1;
        let _slack = TimerSlack::tighten();
        let start = Instant::now();
        let mut issued = Issued {
            start,
            start_wall: SystemTime::now(),
            at: Vec::with_capacity(queries.len()),
            lateness_ns: Vec::with_capacity(queries.len()),
            end: None,
        };
        for (qi, q) in queries.iter().enumerate() {
            let scheduled = if timed {
                at_offset(start, q.scheduled_ns)
            } else {
                Instant::now()
            };
            let batch: Vec<QuerySample> = q
                .indices
                .iter()
                .map(|&index| {
                    let id = next_id;
                    next_id += 1;
                    QuerySample {
                        id,
                        index,
                        scheduled,
                    }
                })
                .collect();
            if timed {
                wait_until(scheduled);
            }
            let now = Instant::now();
            issued.at.push(now);
            issued
                .lateness_ns
                .push(now.saturating_duration_since(scheduled).as_nanos() as i64);
            sut.issue(batch, responder.clone());
            if !timed {
                self.recorder.wait_for_query(qi);
            }
            if self.accuracy {
                continue;
            }
            issued.end = self.end_after((qi + 1) as u64, now - start);
            if issued.end.is_some() {
                break;
            }
        }
        issued
    }

    /// The end condition that holds after `issued` queries, `duration`
    /// into a performance series, in the order LoadGen checks them.
    fn end_after(&self, issued: u64, duration: Duration) -> Option<EndReason> {
        let s = self.settings;
        if s.scenario == Scenario::Server {
            if s.max_async_queries > 0 {
                let done = self.recorder.queries_done() as u64;
                let outstanding = issued.saturating_sub(done);
                if outstanding > s.max_async_queries {
                    return Some(EndReason::TooManyOutstanding {
                        issued,
                        outstanding,
                    });
                }
            }
        } else if issued >= s.min_query_count
            && duration >= Duration::from_millis(s.target_duration_ms)
        {
            return Some(EndReason::Natural);
        }
        if s.max_query_count != 0 && issued >= s.max_query_count {
            return Some(EndReason::MaxQueryCount { issued });
        }
        if s.max_duration_ms != 0 && duration > Duration::from_millis(s.max_duration_ms) {
            return Some(EndReason::MaxDuration { duration });
        }
        None
    }

    /// Logs why issuing stopped, tells the SUT no more is coming, and
    /// blocks until it has completed every issued sample.
    pub(super) fn finish(&self, sut: &dyn SystemUnderTest, issued: &Issued, d: &mut DetailLog) {
        if let Some(end) = &issued.end {
            end.log(d);
        }
        sut.flush();
        let samples: usize = self.generated.queries[..issued.queries()]
            .iter()
            .map(|q| q.indices.len())
            .sum();
        self.recorder.wait_for_samples(samples);
    }

    /// Turns the recording into latencies and log entries: the SUT's
    /// errors and the accuracy entries go to the logs, and each completed
    /// sample to the trace. Returns the series' result and when its last
    /// sample completed.
    pub(super) fn collect(&self, issued: &Issued, logs: &mut Logs) -> (PerformanceResult, Instant) {
        let s = self.settings;
        let use_tokens = s.requested.use_token_latencies;
        let needs_first_token = self.needs_first_token();
        let recorder = &*self.recorder;
        let rec = recorder.recording();
        for e in &rec.errors {
            logs.detail.error("error_runtime", e);
        }
        let kind = match (use_tokens, needs_first_token) {
            (false, _) => EntryKind::Plain,
            (true, false) => EntryKind::Tokens,
            (true, true) => EntryKind::TokensWithFirst,
        };
        for e in &rec.accuracy {
            let first = rec.token_data[e.slot].as_deref().unwrap_or(&[]);
            logs.accuracy
                .entry(kind, e.seq_id, e.qsl_idx, &e.data, first, e.n_tokens);
        }
        let queries = &self.generated.queries;
        let start = issued.start;
        // Server and Offline latencies count from the schedule, the others
        // from the actual issue.
        let scheduled = |slot: usize| {
            let q = recorder.samples[slot].query as usize;
            match s.scenario {
                Scenario::Server | Scenario::Offline => at_offset(start, queries[q].scheduled_ns),
                _ => issued.at[q],
            }
        };
        let queries_issued = issued.queries();
        let samples_issued: usize = queries[..queries_issued]
            .iter()
            .map(|q| q.indices.len())
            .sum();
        let mut pr = PerformanceResult {
            queries_issued: queries_issued as u64,
            ..Default::default()
        };
        let mut last_completion = start;
        for slot in 0..samples_issued {
            let Some(done) = rec.complete[slot] else {
                continue;
            };
            let sched = scheduled(slot);
            let lat = signed_ns(done, sched);
            last_completion = last_completion.max(done);
            pr.sample_latencies.push(lat);
            pr.max_latency = pr.max_latency.max(lat as f64 / 1e9);
            if use_tokens {
                let ttft = rec.first_token[slot]
                    .map(|t| signed_ns(t, sched))
                    .unwrap_or(0);
                let n = rec.n_tokens[slot];
                if needs_first_token {
                    pr.first_token_latencies.push(ttft);
                }
                // Integer division; n is never 1 here (LoadGen stores 0 instead).
                pr.time_per_output_token
                    .push((lat - ttft).checked_div(n - 1).unwrap_or(0));
                pr.tokens_per_sample.push(n);
            }
            if let Some(trace) = logs.trace.as_mut() {
                let info = recorder.samples[slot];
                let q = info.query as usize;
                trace.sample(
                    recorder.first_id + slot as u64,
                    q as u64,
                    info.index,
                    signed_ns(sched, logs.origin).max(0) as u64,
                    signed_ns(issued.at[q], sched),
                    lat,
                );
            }
        }
        if s.scenario == Scenario::MultiStream {
            pr.query_latencies = (0..queries_issued)
                .map(|q| {
                    rec.query_done[q]
                        .map(|t| signed_ns(t, issued.at[q]))
                        .unwrap_or(0)
                })
                .collect();
        }
        if queries_issued > 0 {
            let last = queries_issued - 1;
            pr.final_query_scheduled_time = queries[last].scheduled_ns as f64 / 1e9;
            pr.final_query_issued_time = signed_ns(issued.at[last], start) as f64 / 1e9;
            pr.final_query_all_samples_done_time = rec.query_done[last]
                .map(|t| signed_ns(t, start) as f64 / 1e9)
                .unwrap_or(0.0);
        }
        (pr, last_completion)
    }
}

/// The probability with which a performance sample's response is logged:
/// `accuracy_log_probability`, or, with `accuracy_log_sampling_target`,
/// the target over the expected sample count.
fn accuracy_log_probability(s: &EffectiveSettings) -> f64 {
    let r = &s.requested;
    if r.accuracy_log_sampling_target == 0 {
        return r.accuracy_log_probability;
    }
    let mut expected = (s.target_qps * s.min_duration_ms as f64 / 1000.0) as u64;
    let mut minimum = s.min_query_count.wrapping_mul(s.samples_per_query);
    if s.scenario != Scenario::Offline {
        expected = expected.wrapping_mul(s.samples_per_query);
    } else {
        minimum = s.min_sample_count;
    }
    r.accuracy_log_sampling_target as f64 / expected.max(minimum) as f64
}
