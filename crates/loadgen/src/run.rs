//! The run engine (LoadGen's `StartTest`): loads samples, issues queries
//! on schedule, waits for the SUT, computes results and writes the four
//! log files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::api::{LoadGen, NativeLoadGen};
use crate::config::ConfigError;
use crate::effective::EffectiveSettings;
use crate::generate::{
    accuracy_log_offset, generate_queries, loadable_sets, AccuracyLogRng, GenerateError, Generated,
    LoadableSet,
};
use crate::logs::accuracy::{AccuracyLog, EntryKind};
use crate::logs::detail::{DetailLog, Value};
use crate::logs::detail_run::{log_effective, log_requested, log_results, log_version};
use crate::logs::trace::TraceLog;
use crate::logs::{summary, wallclock};
use crate::plan::Resolved;
use crate::recorder::{Recorder, SampleInfo};
use crate::results::{PerformanceResult, PerformanceSummary};
use crate::settings::{Mode, Scenario};
use crate::sut::{QuerySample, QuerySampleLibrary, Responder, SystemUnderTest};

/// Where and how the log files are written (LoadGen's `LogSettings`).
#[derive(Clone, Debug)]
pub struct LogSettings {
    /// The directory the four files go to (created if missing).
    pub outdir: PathBuf,
    /// Put before each file's name (`mlperf_log_`).
    pub prefix: String,
    /// Put after each file's name, before the extension.
    pub suffix: String,
    /// Whether `mlperf_log_trace.json` gets events (else it is empty).
    pub enable_trace: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            outdir: ".".into(),
            prefix: "mlperf_log_".into(),
            suffix: String::new(),
            enable_trace: true,
        }
    }
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A log file or the log directory could not be written.
    #[error("cannot write log file {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The settings generate nothing to issue (LoadGen would crash).
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// A config file (mlperf.conf, user.conf, audit.config) could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A LoadGen other than the native engine failed for its own reasons.
    #[error("{loadgen} could not run the test: {message}")]
    Failed {
        /// Which LoadGen ([`crate::LoadGen::version`]).
        loadgen: String,
        /// What it reported.
        message: String,
    },
}

/// What a run produced, besides the log files.
#[derive(Debug, Default)]
pub struct TestReport {
    /// The performance result (performance and submission runs).
    pub performance: Option<PerformanceSummary>,
    /// Actual issue − scheduled issue per query of the performance series
    /// (ns); how closely the schedule was kept.
    pub issue_lateness_ns: Vec<i64>,
    /// Errors logged in the detail log; any makes the run invalid.
    pub errors: u64,
    /// Warnings logged in the detail log.
    pub warnings: u64,
    /// The first error's text (all of them are in the detail log).
    pub first_error: Option<String>,
    /// What reading the config files reported (`error_invalid_config`),
    /// for the caller to show as warnings.
    pub config_errors: Vec<String>,
    /// Which LoadGen ran the test ([`crate::LoadGen::version`]).
    pub loadgen_version: String,
}

struct Logs {
    detail: DetailLog,
    summary: String,
    accuracy: AccuracyLog,
    trace: Option<TraceLog>,
    origin: Instant,
}

/// Runs a test: the settings come from [`crate::resolve_settings`].
/// Blocks until every issued sample has been reported complete.
pub fn start_test(
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    resolved: &Resolved,
    log_settings: &LogSettings,
) -> Result<TestReport, RunError> {
    let origin = Instant::now();
    let origin_wall = SystemTime::now();
    let mut logs = Logs {
        detail: DetailLog::new(origin),
        summary: String::new(),
        accuracy: AccuracyLog::default(),
        trace: log_settings.enable_trace.then(TraceLog::new),
        origin,
    };
    let d = &mut logs.detail;
    let t0 = Instant::now();
    let sut_name = sut.name();
    let name_ns = t0.elapsed().as_nanos() as u64;
    log_version(d);
    d.log("test_datetime", wallclock::iso8601(origin_wall).as_str());
    d.log("sut_name", sut_name.as_str());
    d.log("get_sut_name_duration_ns", name_ns);
    d.log("qsl_name", qsl.name().as_str());
    let total = qsl.total_sample_count() as u64;
    let perf_count = qsl.performance_sample_count() as u64;
    d.log("qsl_reported_total_count", total);
    d.log("qsl_reported_performance_count", perf_count);
    for e in &resolved.config_errors {
        d.error("error_invalid_config", e);
    }
    if resolved.audit_applied {
        d.warning("Found Audit Config file (audit.config). Overriding TestSettings from audit.config file.");
    }
    let effective = EffectiveSettings::new(&resolved.settings, perf_count, total);
    for e in &effective.errors {
        d.error("error_invalid_test_settings", e);
    }
    log_requested(d, &resolved.settings);
    log_effective(d, &effective);

    let mut report = TestReport {
        config_errors: resolved.config_errors.clone(),
        loadgen_version: NativeLoadGen.version(),
        ..TestReport::default()
    };
    let mut acc_rng = AccuracyLogRng::default();
    let mut next_seq: u64 = 0;
    let (acc, perf) = match effective.mode {
        Mode::SubmissionRun => (true, true),
        Mode::AccuracyOnly => (true, false),
        Mode::PerformanceOnly | Mode::FindPeakPerformance => (false, true),
    };
    let mut result = Ok(());
    if acc {
        logs.detail.message("Starting accuracy mode");
        for set in loadable_sets(&effective, effective.accuracy_sample_count, total) {
            if let Err(e) = run_series(
                sut,
                qsl,
                &effective,
                &set,
                true,
                &mut logs,
                &mut acc_rng,
                &mut next_seq,
                &mut report,
            ) {
                result = Err(e);
                break;
            }
        }
    }
    if perf && result.is_ok() {
        logs.detail.message("Starting performance mode");
        match loadable_sets(&effective, effective.performance_sample_count, total)
            .into_iter()
            .next()
        {
            Some(set) => {
                result = run_series(
                    sut,
                    qsl,
                    &effective,
                    &set,
                    false,
                    &mut logs,
                    &mut acc_rng,
                    &mut next_seq,
                    &mut report,
                )
            }
            None => result = Err(GenerateError::EmptySet.into()),
        }
    }
    if let Err(RunError::Generate(e)) = &result {
        logs.detail.error("error_runtime", &e.to_string());
    }
    report.errors = logs.detail.errors;
    report.first_error = logs.detail.first_error.clone();
    report.warnings = logs.detail.warnings;
    logs.summary
        .push_str(&summary::write_footer(report.warnings, report.errors));
    write_logs(logs, log_settings, origin_wall)?;
    match result {
        Err(RunError::Io { path, source }) => Err(RunError::Io { path, source }),
        _ => Ok(report),
    }
}

fn write_logs(logs: Logs, ls: &LogSettings, origin_wall: SystemTime) -> Result<(), RunError> {
    let io = |path: &PathBuf, source| RunError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&ls.outdir).map_err(|e| io(&ls.outdir, e))?;
    let name = |n: &str, ext: &str| {
        ls.outdir
            .join(format!("{}{n}{}.{ext}", ls.prefix, ls.suffix))
    };
    let files = [
        (name("summary", "txt"), logs.summary),
        (name("detail", "txt"), logs.detail.text),
        (name("accuracy", "json"), logs.accuracy.finish()),
        (
            name("trace", "json"),
            match logs.trace {
                Some(t) => {
                    let us = origin_wall
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_nanos() as f64
                        / 1000.0;
                    t.finish(us)
                }
                None => String::new(),
            },
        ),
    ];
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    let _ = logs.origin;
    Ok(())
}

/// `start + ns`, saturating instead of panicking for absurd schedules.
fn at_offset(start: Instant, ns: u64) -> Instant {
    let mut d = Duration::from_nanos(ns);
    loop {
        if let Some(t) = start.checked_add(d) {
            return t;
        }
        d /= 2;
    }
}

/// Sleeps most of the way to `target`, then spins: spinning alone would
/// take the CPU from the SUT, sleeping alone overshoots by the timer slack.
fn wait_until(target: Instant) {
    loop {
        let now = Instant::now();
        if now >= target {
            return;
        }
        let left = target - now;
        if left > Duration::from_micros(40) {
            std::thread::sleep(left - Duration::from_micros(25));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Linux timer slack for the issuing thread: the default 50 µs would make
/// every sleep up to 50 µs late. Restored when dropped.
struct TimerSlack(Option<i64>);

#[cfg(target_os = "linux")]
mod slack {
    extern "C" {
        pub fn prctl(option: i32, ...) -> i32;
    }
    pub const PR_SET_TIMERSLACK: i32 = 29;
    pub const PR_GET_TIMERSLACK: i32 = 30;
}

impl TimerSlack {
    fn tighten() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET/SET_TIMERSLACK only read or set a per-thread
            // integer; no memory is passed.
            let old = unsafe { slack::prctl(slack::PR_GET_TIMERSLACK, 0u64, 0u64, 0u64, 0u64) };
            if old > 0
                && unsafe { slack::prctl(slack::PR_SET_TIMERSLACK, 1u64, 0u64, 0u64, 0u64) } == 0
            {
                return TimerSlack(Some(i64::from(old)));
            }
        }
        TimerSlack(None)
    }
}

impl Drop for TimerSlack {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(old) = self.0 {
            // SAFETY: as above.
            unsafe { slack::prctl(slack::PR_SET_TIMERSLACK, old as u64, 0u64, 0u64, 0u64) };
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_series(
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    s: &EffectiveSettings,
    set: &LoadableSet,
    accuracy: bool,
    logs: &mut Logs,
    acc_rng: &mut AccuracyLogRng,
    next_seq: &mut u64,
    report: &mut TestReport,
) -> Result<(), RunError> {
    let r = &s.requested;
    logs.detail.log("loaded_qsl_set", Value::Indices(&set.set));
    qsl.load_samples(&set.set);
    let offset = accuracy_log_offset(r.accuracy_log_rng_seed);
    let g: Generated = generate_queries(s, set, accuracy)?;
    logs.detail
        .log("generated_query_count", g.queries.len() as u64);
    logs.detail
        .log("generated_samples_per_query", g.samples_per_query);
    logs.detail.log("generated_query_duration", g.duration_ns);
    let mut prob = r.accuracy_log_probability;
    if r.accuracy_log_sampling_target > 0 {
        let mut expected = (s.target_qps * s.min_duration_ms as f64 / 1000.0) as u64;
        let mut minimum = s.min_query_count.wrapping_mul(s.samples_per_query);
        if s.scenario != Scenario::Offline {
            expected = expected.wrapping_mul(s.samples_per_query);
        } else {
            minimum = s.min_sample_count;
        }
        prob = r.accuracy_log_sampling_target as f64 / expected.max(minimum) as f64;
    }
    let first_seq = *next_seq;
    let mut samples = Vec::new();
    for (qi, q) in g.queries.iter().enumerate() {
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
    *next_seq += samples.len() as u64;
    let needs_first_token = s.scenario != Scenario::Offline;
    let recorder = Arc::new(Recorder::new(
        first_seq,
        samples,
        g.queries.len(),
        needs_first_token,
        r.use_token_latencies,
    ));
    let responder = Responder::new(recorder.clone());

    // Issue.
    let mut ids = first_seq + 1;
    let mut issued_at: Vec<Instant> = Vec::with_capacity(g.queries.len());
    let mut lateness = Vec::with_capacity(g.queries.len());
    let _slack = TimerSlack::tighten();
    let start = Instant::now();
    let start_wall = SystemTime::now();
    let mut end_note: Option<(bool, String)> = None;
    for (qi, q) in g.queries.iter().enumerate() {
        let timed = matches!(s.scenario, Scenario::Server | Scenario::Offline);
        let scheduled = if timed {
            at_offset(start, q.scheduled_ns)
        } else {
            Instant::now()
        };
        let batch: Vec<QuerySample> = q
            .indices
            .iter()
            .map(|&index| {
                let id = ids;
                ids += 1;
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
        issued_at.push(now);
        lateness.push(now.saturating_duration_since(scheduled).as_nanos() as i64);
        sut.issue(batch, responder.clone());
        if matches!(s.scenario, Scenario::SingleStream | Scenario::MultiStream) {
            recorder.wait_until(|st| st.query_done[qi].is_some());
        }
        if accuracy {
            continue;
        }
        let issued = (qi + 1) as u64;
        let duration = now - start;
        if s.scenario == Scenario::Server {
            if s.max_async_queries > 0 {
                let done = recorder
                    .lock()
                    .query_done
                    .iter()
                    .filter(|d| d.is_some())
                    .count() as u64;
                let outstanding = issued.saturating_sub(done);
                if outstanding > s.max_async_queries {
                    end_note = Some((true, format!("IssueQueryThread 0 Ending early: Too many outstanding queries. issued {issued} outstanding {outstanding}")));
                    break;
                }
            }
        } else if issued >= s.min_query_count
            && duration >= Duration::from_millis(s.target_duration_ms)
        {
            end_note = Some((
                false,
                "Ending naturally: Minimum query count and test duration met.".into(),
            ));
            break;
        }
        if s.max_query_count != 0 && issued >= s.max_query_count {
            end_note = Some((true, format!("IssueQueryThread 0 Ending early: Max query count reached. query_count {issued}")));
            break;
        }
        if s.max_duration_ms != 0 && duration > Duration::from_millis(s.max_duration_ms) {
            end_note = Some((
                true,
                format!(
                    "IssueQueryThread 0 Ending early: Max test duration reached. duration_ns {}",
                    duration.as_nanos()
                ),
            ));
            break;
        }
    }
    let queries_issued = issued_at.len();
    let samples_issued: usize = g.queries[..queries_issued]
        .iter()
        .map(|q| q.indices.len())
        .sum();
    if let Some((is_error, text)) = end_note {
        if is_error {
            logs.detail.error("error_runtime", &text);
        } else {
            logs.detail.message(&text);
        }
    }
    sut.flush();
    recorder.wait_until(|st| st.completed >= samples_issued);
    if !accuracy {
        report.issue_lateness_ns = lateness;
    }

    // Collect.
    let shared = &*recorder;
    let st = recorder.lock();
    for e in &st.errors {
        logs.detail.error("error_runtime", e);
    }
    let kind = match (r.use_token_latencies, needs_first_token) {
        (false, _) => EntryKind::Plain,
        (true, false) => EntryKind::Tokens,
        (true, true) => EntryKind::TokensWithFirst,
    };
    for e in &st.accuracy {
        let first = st.token_data[e.slot].as_deref().unwrap_or(&[]);
        logs.accuracy
            .entry(kind, e.seq_id, e.qsl_idx, &e.data, first, e.n_tokens);
    }
    let sched_of = |slot: usize| {
        let q = shared.samples[slot].query as usize;
        match s.scenario {
            Scenario::Server | Scenario::Offline => at_offset(start, g.queries[q].scheduled_ns),
            _ => issued_at[q],
        }
    };
    let signed = |a: Instant, b: Instant| -> i64 {
        if a >= b {
            (a - b).as_nanos() as i64
        } else {
            -((b - a).as_nanos() as i64)
        }
    };
    let mut pr = PerformanceResult {
        queries_issued: queries_issued as u64,
        ..Default::default()
    };
    let mut max_completion = start;
    for slot in 0..samples_issued {
        let Some(done) = st.complete[slot] else {
            continue;
        };
        let sched = sched_of(slot);
        let lat = signed(done, sched);
        max_completion = max_completion.max(done);
        pr.sample_latencies.push(lat);
        pr.max_latency = pr.max_latency.max(lat as f64 / 1e9);
        if r.use_token_latencies {
            let ttft = st.first_token[slot].map(|t| signed(t, sched)).unwrap_or(0);
            let n = st.n_tokens[slot];
            if needs_first_token {
                pr.first_token_latencies.push(ttft);
            }
            // Integer division; n is never 1 here (LoadGen stores 0 instead).
            pr.time_per_output_token
                .push((lat - ttft).checked_div(n - 1).unwrap_or(0));
            pr.tokens_per_sample.push(n);
        }
        if let Some(trace) = logs.trace.as_mut() {
            let q = shared.samples[slot].query as usize;
            let sched_from_origin = signed(sched, logs.origin).max(0) as u64;
            trace.sample(
                shared.first_id + slot as u64,
                q as u64,
                shared.samples[slot].index,
                sched_from_origin,
                signed(issued_at[q], sched),
                lat,
            );
        }
    }
    if s.scenario == Scenario::MultiStream {
        pr.query_latencies = (0..queries_issued)
            .map(|q| {
                st.query_done[q]
                    .map(|t| signed(t, issued_at[q]))
                    .unwrap_or(0)
            })
            .collect();
    }
    if queries_issued > 0 {
        let last = queries_issued - 1;
        pr.final_query_scheduled_time = g.queries[last].scheduled_ns as f64 / 1e9;
        pr.final_query_issued_time = signed(issued_at[last], start) as f64 / 1e9;
        pr.final_query_all_samples_done_time = st.query_done[last]
            .map(|t| signed(t, start) as f64 / 1e9)
            .unwrap_or(0.0);
    }
    drop(st);
    for key in [
        "logger_swap_request_slots_retry_count",
        "logger_swap_request_slots_retry_retry_count",
        "logger_swap_request_slots_retry_reencounter_count",
        "logger_start_reading_entries_retry_count",
        "logger_tls_total_log_cas_fail_count",
        "logger_tls_total_swap_buffers_slot_retry_count",
    ] {
        logs.detail.log(key, 0u64);
    }
    let end_wall = start_wall + (max_completion - start);
    logs.detail
        .log("power_begin", wallclock::power(start_wall).as_str());
    logs.detail
        .log("power_end", wallclock::power(end_wall).as_str());
    if !accuracy {
        let summary = PerformanceSummary::new(sut.name(), s.clone(), pr);
        logs.summary.push_str(&summary::write_summary(&summary));
        log_results(&mut logs.detail, &summary);
        report.performance = Some(summary);
    }
    qsl.unload_samples(&set.set);
    Ok(())
}
