//! Counters the engine thread and the HTTP layer keep, read by `/metrics`
//! and by tests. Relaxed atomics: each value is a monotone count or a
//! gauge, never used to order other memory.

use std::sync::atomic::{AtomicU64, Ordering};

use backend::GenerateOutput;

/// Totals over finished requests, counted the same way wherever requests
/// finish (the engine, the HTTP server in front of any backend).
#[derive(Debug, Default)]
pub struct Finished {
    /// Requests that ended with an output.
    pub requests: AtomicU64,
    /// Prompt tokens of those requests.
    pub prompt_tokens: AtomicU64,
    /// Generated tokens of those requests.
    pub generation_tokens: AtomicU64,
}

impl Finished {
    /// Counts one finished request.
    pub fn record(&self, out: &GenerateOutput) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens
            .fetch_add(out.prompt_tokens as u64, Ordering::Relaxed);
        self.generation_tokens
            .fetch_add(out.completion_tokens as u64, Ordering::Relaxed);
    }
}

/// The engine thread's counters: what it finished, and how it batched.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests the engine finished.
    pub finished: Finished,
    /// Forward passes run.
    pub steps: AtomicU64,
    /// Sequences in the running batch now.
    pub running: AtomicU64,
    /// Requests queued for a place in the batch now.
    pub waiting: AtomicU64,
    /// Most sequences ever in one step (shows batching happened).
    pub max_batch: AtomicU64,
    /// KV-cache tokens held by the running batch after the last step.
    pub kv_tokens: AtomicU64,
    /// Tokens sampled so far, finished requests or not.
    pub generated_tokens: AtomicU64,
}

impl Stats {
    /// Reads one counter.
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}
