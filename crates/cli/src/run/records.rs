//! Per-sample records: appended to `samples.jsonl` the moment a sample
//! completes (a crash loses nothing that finished), and the running figures
//! the live view shows (issued samples and their lateness included).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

/// One sample as it happened; times are nanoseconds since the run started.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRecord {
    /// LoadGen's response id for this sample.
    pub id: u64,
    /// The QSL index (the dataset row).
    pub index: usize,
    /// When LoadGen scheduled the query; LoadGen's latencies count from here.
    pub scheduled_ns: u64,
    /// When LoadGen handed the sample to the SUT (at or just after `scheduled_ns`).
    pub issued_ns: u64,
    /// When the request was sent (after waiting for a concurrency slot).
    pub sent_ns: Option<u64>,
    /// When the first token arrived (or, for a stream that delivered none,
    /// when the SUT reported one to LoadGen).
    pub first_token_ns: Option<u64>,
    /// When the final result (or the error) came back.
    pub done_ns: u64,
    /// Tokens of the prompt sent.
    pub prompt_tokens: usize,
    /// Tokens the server generated (all of them, whatever was reported to
    /// LoadGen): its ids counted, or its text re-tokenized.
    pub output_tokens: usize,
    /// Where `output_tokens` came from: `server` (its ids) or `re-tokenized`
    /// (its text, with the harmony o200k tokenizer); `None` for a failure.
    pub token_source: Option<&'static str>,
    /// The server's own count (`completion_tokens`), kept beside ours.
    pub server_output_tokens: Option<usize>,
    /// The server's count and ours differ.
    pub counts_disagree: Option<bool>,
    /// Why generation stopped (`stop`, `length`); `None` for a failed request.
    pub finish_reason: Option<String>,
    /// Why the request failed; `None` when it finished.
    pub error: Option<String>,
}

/// Where records go, and running totals for the live line.
pub struct Records {
    origin: Instant,
    file: Mutex<BufWriter<File>>,
    live: Mutex<Live>,
}

/// Running totals over the records so far: the live view and `results.json`.
#[derive(Default, Clone)]
pub struct Live {
    /// Samples LoadGen has handed to the SUT.
    pub issued: usize,
    /// Per issued sample, how late it was issued after its scheduled time.
    pub issue_lag_ns: Vec<u64>,
    /// Samples completed, failed ones included.
    pub done: usize,
    /// Samples whose request failed.
    pub errors: usize,
    /// Tokens generated over all samples.
    pub output_tokens: usize,
    /// Time to first token per sample, from its scheduled time, as LoadGen
    /// counts it; in completion order (the live view's rolling window is the tail).
    pub ttft_ns: Vec<u64>,
    /// Time per output token after the first, per sample of more than one token.
    pub tpot_ns: Vec<u64>,
    /// The first error, shown at the end.
    pub first_error: Option<String>,
    /// LoadGen's measured window so far: the first sample's issue and the
    /// last completion, nanoseconds since the run started.
    pub window_ns: Option<(u64, u64)>,
    /// Samples whose tokens were counted by re-tokenizing the server's text.
    pub retokenized: usize,
    /// Samples whose server count differs from ours.
    pub counts_disagree: usize,
}

impl Records {
    /// Creates the records file; times are kept as nanoseconds since `origin`.
    pub fn create(path: &Path, origin: Instant) -> std::io::Result<Records> {
        Ok(Records {
            origin,
            file: Mutex::new(BufWriter::new(File::create(path)?)),
            live: Mutex::new(Live::default()),
        })
    }

    /// Nanoseconds since the run started.
    pub fn since_origin(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    /// Counts samples LoadGen handed to the SUT at `at`.
    pub fn issued(&self, samples: &[loadgen::QuerySample], at: Instant) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.issued += samples.len();
        live.issue_lag_ns.extend(
            samples
                .iter()
                .map(|s| at.saturating_duration_since(s.scheduled).as_nanos() as u64),
        );
    }

    /// Appends one record and flushes it to the file.
    pub fn append(&self, record: &SampleRecord) {
        {
            let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            live.done += 1;
            live.output_tokens += record.output_tokens;
            let (first, last) = live.window_ns.unwrap_or((record.issued_ns, record.done_ns));
            live.window_ns = Some((first.min(record.issued_ns), last.max(record.done_ns)));
            live.retokenized += (record.token_source == Some("re-tokenized")) as usize;
            live.counts_disagree += (record.counts_disagree == Some(true)) as usize;
            if let Some(err) = &record.error {
                live.errors += 1;
                live.first_error.get_or_insert_with(|| {
                    format!("sample {} (index {}): {err}", record.id, record.index)
                });
            }
            // As LoadGen measures them: TTFT from the scheduled time, TPOT over the tokens after the first.
            if let Some(first) = record.first_token_ns {
                live.ttft_ns.push(first.saturating_sub(record.scheduled_ns));
                if record.output_tokens > 1 {
                    live.tpot_ns.push(
                        record.done_ns.saturating_sub(first) / (record.output_tokens as u64 - 1),
                    );
                }
            }
        }
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let written = serde_json::to_writer(&mut *file, record)
            .map_err(std::io::Error::from)
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.flush());
        if let Err(e) = written {
            tracing::error!("cannot append to samples.jsonl: {e}");
        }
    }

    /// A copy of the running totals.
    pub fn live(&self) -> Live {
        self.inspect(Live::clone)
    }

    /// Reads the running totals in place (the live view, every refresh, without copying them).
    pub fn inspect<R>(&self, read: impl FnOnce(&Live) -> R) -> R {
        read(&self.live.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Nearest-rank percentile of unsorted values (for display only; LoadGen's own figures are in its logs).
pub fn percentile(values: &[u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}
