//! What a SUT implementer sees: the [`SystemUnderTest`] and
//! [`QuerySampleLibrary`] traits and the [`Responder`] that reports
//! results back from any thread or async task.
//!
//! The responder is a handle over a [`ResponseSink`], so the same SUT can be
//! driven by this crate's run engine or by another LoadGen (the official
//! C++ one through a binding): each LoadGen supplies its own sink.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// One sample handed to the SUT: an opaque id to report back, and the QSL
/// index of the sample's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuerySample {
    /// Opaque and never 0; pass it back to [`Responder`].
    pub id: u64,
    /// The QSL sample index.
    pub index: usize,
    /// When LoadGen scheduled the query (Server: its Poisson arrival time, which
    /// LoadGen's latencies start from; Offline: the start of the run). The SUT
    /// is called at or just after it. With the official LoadGen it is the
    /// moment `IssueQuery` was called: its C++ API does not expose the
    /// schedule.
    pub scheduled: Instant,
}

/// The system under test. `issue` must return quickly (Server issues on
/// the scheduling thread); do the work on other threads or tasks and
/// report through the responder.
pub trait SystemUnderTest: Send + Sync {
    /// The name in the logs (`sut_name`).
    fn name(&self) -> String;
    /// Receives the samples of one query.
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder);
    /// Called once after the last `issue` of each series.
    fn flush(&self) {}
}

/// The dataset side: how many samples exist and loading them before use.
pub trait QuerySampleLibrary: Send + Sync {
    /// The name in the logs (`qsl_name`).
    fn name(&self) -> String {
        "QSL".to_string()
    }
    /// Every sample the dataset holds; accuracy runs issue all of them.
    fn total_sample_count(&self) -> usize;
    /// How many samples fit in memory at once; performance runs issue
    /// from a loaded set of this size.
    fn performance_sample_count(&self) -> usize;
    /// Called (untimed) before a series with the indices it will use.
    fn load_samples(&self, _indices: &[usize]) {}
    /// Called (untimed) after a series with the indices it used.
    fn unload_samples(&self, _indices: &[usize]) {}
}

/// Where a LoadGen takes a SUT's reports (native engine or official C++ LoadGen).
///
/// Implementations timestamp each report on entry, as LoadGen's
/// `FirstTokenComplete` / `QuerySamplesComplete` do, and keep everything
/// else (latencies, logs) off this hot path.
pub trait ResponseSink: Send + Sync {
    /// The first token of sample `id` is ready; `tokens` are its bytes.
    fn first_token(&self, id: u64, tokens: &[u8]);
    /// Sample `id` is done: `data` is the whole response, `n_tokens` the
    /// number of output tokens.
    fn complete(&self, id: u64, data: &[u8], n_tokens: i64);
}

/// Reports first tokens and completions for the samples of a run to the
/// LoadGen that issued them. Cheap to clone; usable from any thread or
/// async task.
#[derive(Clone)]
pub struct Responder {
    sink: Arc<dyn ResponseSink>,
}

impl Responder {
    /// A responder that hands every report to `sink`; a LoadGen makes one
    /// per series and passes clones to `SystemUnderTest::issue`.
    pub fn new(sink: Arc<dyn ResponseSink>) -> Self {
        Responder { sink }
    }

    /// The first token of sample `id` is ready; `tokens` are its bytes
    /// (token ids as little-endian int32 by convention).
    pub fn first_token(&self, id: u64, tokens: &[u8]) {
        self.sink.first_token(id, tokens);
    }

    /// Sample `id` is done: `data` is the whole response (token ids as
    /// bytes), `n_tokens` the number of output tokens.
    pub fn complete(&self, id: u64, data: &[u8], n_tokens: i64) {
        self.sink.complete(id, data, n_tokens);
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder").finish_non_exhaustive()
    }
}
