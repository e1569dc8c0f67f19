//! Per-sample records: appended to `samples.jsonl` the moment a sample
//! completes (a crash loses nothing that finished), and the live figures the
//! terminal line shows.

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
    pub first_token_ns: Option<u64>,
    pub done_ns: u64,
    pub prompt_tokens: usize,
    /// Tokens the server generated (all of them, whatever was reported to LoadGen).
    pub output_tokens: usize,
    pub finish_reason: Option<String>,
    pub error: Option<String>,
}

/// Where records go, and running totals for the live line.
pub struct Records {
    origin: Instant,
    file: Mutex<BufWriter<File>>,
    live: Mutex<Live>,
}

#[derive(Default, Clone)]
pub struct Live {
    pub done: usize,
    pub errors: usize,
    pub output_tokens: usize,
    pub ttft_ns: Vec<u64>,
    pub tpot_ns: Vec<u64>,
    /// The first error, shown at the end.
    pub first_error: Option<String>,
}

impl Records {
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

    /// Appends one record and flushes it to the file.
    pub fn append(&self, record: &SampleRecord) {
        {
            let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            live.done += 1;
            live.output_tokens += record.output_tokens;
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

    pub fn live(&self) -> Live {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
