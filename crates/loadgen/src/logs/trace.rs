//! `mlperf_log_trace.json`: Chrome trace events (times in µs with three
//! decimals). We write the per-sample async events and the footer; the
//! file is, like LoadGen's, meant for a trace viewer, not for submission.

use std::fmt::Write as _;

/// A trace being written.
pub struct TraceLog {
    pub text: String,
    pid: u32,
}

impl TraceLog {
    pub fn new() -> Self {
        TraceLog {
            text: "{\"traceEvents\":[\n".to_string(),
            pid: std::process::id(),
        }
    }

    /// One sample's begin/end pair; times in ns from the trace origin.
    #[allow(clippy::too_many_arguments)]
    pub fn sample(
        &mut self,
        seq: u64,
        query_seq: u64,
        idx: usize,
        scheduled_ns: u64,
        issue_start_ns: i64,
        complete_ns: i64,
    ) {
        let us = |ns: i128| format!("{}.{:03}", ns.div_euclid(1000), ns.rem_euclid(1000));
        let _ = writeln!(
            self.text,
            "{{\"name\":\"Sample\",\"cat\":\"default\",\"ph\":\"b\",\"pid\":{},\"id\":{seq},\"ts\":{},\"args\":{{\"sample_seq\":{seq},\"query_seq\":{query_seq},\"sample_idx\":{idx},\"issue_start_ns\":{issue_start_ns},\"complete_ns\":{complete_ns}}}}},",
            self.pid,
            us(scheduled_ns as i128)
        );
        let _ = writeln!(
            self.text,
            "{{\"name\":\"Sample\",\"cat\":\"default\",\"ph\":\"e\", \"pid\":{},\"id\":{seq},\"ts\":{}}},",
            self.pid,
            us(scheduled_ns as i128 + complete_ns as i128)
        );
    }

    /// Closes the event list; `origin_us` is the origin's wall time in µs.
    pub fn finish(mut self, origin_us: f64) -> String {
        let _ = write!(
            self.text,
            "{{\"name\":\"LastTrace\"}}\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{{\n\"ts\":{origin_us:.3},\n\"version\":\"MLPerf LoadGen v1.0\"\n}}\n}}\n"
        );
        self.text
    }
}

impl Default for TraceLog {
    fn default() -> Self {
        Self::new()
    }
}
