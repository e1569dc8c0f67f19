//! The native run engine's [`ResponseSink`]: records, per series, when
//! each sample got its first token and completed, and what LoadGen's
//! error rules say about the reports (loadgen.md §7.2).
//!
//! Each report is timestamped once, on entry, with a monotonic clock, as
//! LoadGen's `FirstTokenComplete` / `QuerySamplesComplete` do; everything
//! else (latencies, logs) is derived later, off the hot path.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::sut::ResponseSink;

/// Per-sample facts fixed at generation time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleInfo {
    pub query: u32,
    pub index: usize,
    /// Whether its response bytes go to the accuracy log.
    pub log_accuracy: bool,
}

/// One entry of `mlperf_log_accuracy.json`, in completion order.
#[derive(Clone, Debug)]
pub(crate) struct AccuracyEntry {
    pub seq_id: u64,
    pub qsl_idx: usize,
    pub data: Vec<u8>,
    pub n_tokens: i64,
    pub slot: usize,
}

/// What the responder records; read once the series is over.
#[derive(Debug)]
pub(crate) struct Recording {
    pub complete: Vec<Option<Instant>>,
    pub first_token: Vec<Option<Instant>>,
    pub n_tokens: Vec<i64>,
    pub token_data: Vec<Option<Vec<u8>>>,
    pub accuracy: Vec<AccuracyEntry>,
    pub query_remaining: Vec<u32>,
    pub query_done: Vec<Option<Instant>>,
    pub completed: usize,
    pub errors: Vec<String>,
}

/// The recording of one series and what the run engine waits on.
#[derive(Debug)]
pub(crate) struct Recorder {
    /// Id of the first sample of this series, minus one (ids start at 1).
    pub first_id: u64,
    pub samples: Vec<SampleInfo>,
    needs_first_token: bool,
    use_tokens: bool,
    state: Mutex<Recording>,
    changed: Condvar,
}

impl Recorder {
    pub(crate) fn new(
        first_id: u64,
        samples: Vec<SampleInfo>,
        queries: usize,
        needs_first_token: bool,
        use_tokens: bool,
    ) -> Self {
        let n = samples.len();
        let mut query_remaining = vec![0u32; queries];
        for s in &samples {
            query_remaining[s.query as usize] += 1;
        }
        Recorder {
            first_id,
            samples,
            needs_first_token,
            use_tokens,
            state: Mutex::new(Recording {
                complete: vec![None; n],
                first_token: vec![None; n],
                n_tokens: vec![i64::MIN; n],
                token_data: vec![None; n],
                accuracy: Vec::new(),
                query_remaining,
                query_done: vec![None; queries],
                completed: 0,
                errors: Vec::new(),
            }),
            changed: Condvar::new(),
        }
    }

    fn slot(&self, id: u64) -> Option<usize> {
        let slot = id.checked_sub(self.first_id + 1)? as usize;
        (slot < self.samples.len()).then_some(slot)
    }

    /// The recording so far (the run engine reads it once the series is over).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Recording> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until `pred` holds for the recording.
    pub(crate) fn wait_until(&self, pred: impl Fn(&Recording) -> bool) {
        let mut st = self.lock();
        while !pred(&st) {
            st = self.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl ResponseSink for Recorder {
    /// The first token of sample `id` is ready; `tokens` are its bytes
    /// (token ids as little-endian int32 by convention).
    fn first_token(&self, id: u64, tokens: &[u8]) {
        let now = Instant::now();
        let Some(slot) = self.slot(id) else {
            self.lock().errors.push(format!(
                "Received completion for an old sample. Actual id: {id}"
            ));
            return;
        };
        let log = self.samples[slot].log_accuracy;
        let mut st = self.lock();
        if st.complete[slot].is_some() {
            st.errors
                .push("Attempted to record token latency after sample was completed".into());
            return;
        }
        if st.first_token[slot].is_some() {
            st.errors
                .push("Attempted to complete a sample twice.".into());
            return;
        }
        st.first_token[slot] = Some(now);
        if log {
            st.token_data[slot] = Some(tokens.to_vec());
        }
    }

    /// Sample `id` is done: `data` is the whole response (token ids as
    /// bytes), `n_tokens` the number of output tokens.
    fn complete(&self, id: u64, data: &[u8], n_tokens: i64) {
        let now = Instant::now();
        let Some(slot) = self.slot(id) else {
            self.lock().errors.push(format!(
                "Received completion for an old sample. Actual id: {id}"
            ));
            return;
        };
        let info = self.samples[slot];
        let copy = info.log_accuracy.then(|| data.to_vec());
        let mut st = self.lock();
        if st.complete[slot].is_some() {
            st.errors
                .push("Attempted to complete a sample twice.".into());
            return;
        }
        let mut n = n_tokens;
        if self.use_tokens {
            if self.needs_first_token && st.first_token[slot].is_none() {
                st.errors.push(
                    "Attempted to record a sample latency before it's first token latency".into(),
                );
            }
            if n == 0 {
                st.errors.push(
                    "n_tokens argument missing or attempted to record 0 as number of tokens".into(),
                );
            } else if n < 0 {
                st.errors
                    .push("Attempted to record a negative number of tokens".into());
                n = 0;
            } else if n == 1 {
                st.errors
                    .push("Number of tokens need to be greater than 1".into());
                n = 0;
            }
        }
        st.complete[slot] = Some(now);
        st.n_tokens[slot] = n;
        if let Some(data) = copy {
            let seq_id = self.first_id + slot as u64;
            st.accuracy.push(AccuracyEntry {
                seq_id,
                qsl_idx: info.index,
                data,
                n_tokens,
                slot,
            });
        }
        let q = info.query as usize;
        st.query_remaining[q] -= 1;
        if st.query_remaining[q] == 0 {
            st.query_done[q] = Some(now);
        }
        st.completed += 1;
        drop(st);
        self.changed.notify_all();
    }
}
