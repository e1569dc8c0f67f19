//! The run engine (LoadGen's `StartTest`): loads samples, issues queries
//! on schedule, waits for the SUT, computes results and writes the four
//! log files.

mod clock;
mod find_peak;
mod series;

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use crate::api::{LoadGen, NativeLoadGen};
use crate::config::ConfigError;
use crate::effective::EffectiveSettings;
use crate::generate::{loadable_sets, AccuracyLogRng, GenerateError, LoadableSet};
use crate::logs::accuracy::AccuracyLog;
use crate::logs::detail::{DetailLog, Value};
use crate::logs::detail_run::{log_effective, log_requested, log_results, log_version};
use crate::logs::trace::TraceLog;
use crate::logs::{summary, wallclock};
use crate::plan::Resolved;
use crate::results::PerformanceSummary;
use crate::settings::Mode;
use crate::sut::{QuerySampleLibrary, SystemUnderTest};
use series::Series;

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
    /// LoadGen's verdict, its `result_validity` (VALID is `true`);
    /// `None` when no performance series ran. Each LoadGen fills it from
    /// its own verdict, so callers report either the same way.
    pub result_valid: Option<bool>,
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

/// The four log files while the run writes them.
struct Logs {
    detail: DetailLog,
    summary: String,
    accuracy: AccuracyLog,
    trace: Option<TraceLog>,
    /// The run's time zero: detail-log and trace times count from here.
    origin: Instant,
}

/// Runs a test: the settings come from [`crate::resolve_settings`].
/// Blocks until every issued sample has been reported complete.
///
/// This is the native engine's own entry, for callers that resolved the
/// settings themselves; [`NativeLoadGen`] resolves a [`crate::TestSpec`]
/// and calls it.
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
    let total = qsl.total_sample_count() as u64;
    let effective = log_test_start(&mut logs.detail, origin_wall, sut, qsl, resolved);
    let mut run = Run {
        sut,
        qsl,
        settings: &effective,
        logs,
        acc_rng: AccuracyLogRng::default(),
        next_seq: 0,
        report: TestReport {
            config_errors: resolved.config_errors.clone(),
            loadgen_version: NativeLoadGen.version(),
            ..TestReport::default()
        },
    };
    if let Err(e) = run.all_series(total) {
        run.logs.detail.error("error_runtime", &e.to_string());
    }
    let Run {
        mut logs,
        mut report,
        ..
    } = run;
    report.errors = logs.detail.errors;
    report.first_error = logs.detail.first_error.clone();
    report.warnings = logs.detail.warnings;
    logs.summary
        .push_str(&summary::write_footer(report.warnings, report.errors));
    write_logs(logs, log_settings, origin_wall)?;
    Ok(report)
}

/// The detail log's header: version, names, QSL counts, config problems and
/// the requested and effective settings. Returns the effective settings.
fn log_test_start(
    d: &mut DetailLog,
    origin_wall: SystemTime,
    sut: &dyn SystemUnderTest,
    qsl: &dyn QuerySampleLibrary,
    resolved: &Resolved,
) -> EffectiveSettings {
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
    effective
}

/// A test in progress: what its series share.
struct Run<'a> {
    sut: &'a dyn SystemUnderTest,
    qsl: &'a dyn QuerySampleLibrary,
    settings: &'a EffectiveSettings,
    logs: Logs,
    /// One accuracy-log sampling stream across all series, as in LoadGen.
    acc_rng: AccuracyLogRng,
    /// The sequence id of the next sample issued.
    next_seq: u64,
    report: TestReport,
}

impl Run<'_> {
    /// The accuracy series (AccuracyOnly, SubmissionRun), then the
    /// performance series (PerformanceOnly, SubmissionRun), or
    /// FindPeakPerformance's search (`find_peak.rs`).
    fn all_series(&mut self, total: u64) -> Result<(), GenerateError> {
        let s = self.settings;
        let (accuracy, performance) = match s.mode {
            Mode::SubmissionRun => (true, true),
            Mode::AccuracyOnly => (true, false),
            Mode::PerformanceOnly => (false, true),
            Mode::FindPeakPerformance => return self.find_peak(total),
        };
        if accuracy {
            self.logs.detail.message("Starting accuracy mode");
            for set in loadable_sets(s, s.accuracy_sample_count, total) {
                self.series(&set, true)?;
            }
        }
        if performance {
            self.logs.detail.message("Starting performance mode");
            let set = loadable_sets(s, s.performance_sample_count, total)
                .into_iter()
                .next()
                .ok_or(GenerateError::EmptySet)?;
            self.series(&set, false)?;
        }
        Ok(())
    }

    /// One series: load the set, generate, issue, wait for the SUT,
    /// collect, log, unload.
    fn series(&mut self, set: &LoadableSet, accuracy: bool) -> Result<(), GenerateError> {
        self.load(set);
        let settings = self.settings;
        let result = self.issue_series(settings, set, accuracy)?;
        if let Some(summary) = result {
            self.log_performance(summary);
        }
        self.qsl.unload_samples(&set.set);
        Ok(())
    }

    /// Logs the set (`loaded_qsl_set`) and has the QSL load it.
    fn load(&mut self, set: &LoadableSet) {
        self.logs
            .detail
            .log("loaded_qsl_set", Value::Indices(&set.set));
        self.qsl.load_samples(&set.set);
    }

    /// LoadGen's `IssueQueries` over a loaded set with `settings`: generate,
    /// issue, wait for the SUT, collect. Returns the performance summary of
    /// a performance series (not yet logged), `None` for an accuracy one.
    fn issue_series(
        &mut self,
        settings: &EffectiveSettings,
        set: &LoadableSet,
        accuracy: bool,
    ) -> Result<Option<PerformanceSummary>, GenerateError> {
        let series = Series::generate(
            settings,
            set,
            accuracy,
            &mut self.acc_rng,
            &mut self.next_seq,
        )?;
        let g = series.generated();
        let d = &mut self.logs.detail;
        d.log("generated_query_count", g.queries.len() as u64);
        d.log("generated_samples_per_query", g.samples_per_query);
        d.log("generated_query_duration", g.duration_ns);

        let issued = series.issue(self.sut);
        series.finish(self.sut, &issued, &mut self.logs.detail);
        let (result, last_completion) = series.collect(&issued, &mut self.logs);

        let d = &mut self.logs.detail;
        for key in [
            "logger_swap_request_slots_retry_count",
            "logger_swap_request_slots_retry_retry_count",
            "logger_swap_request_slots_retry_reencounter_count",
            "logger_start_reading_entries_retry_count",
            "logger_tls_total_log_cas_fail_count",
            "logger_tls_total_swap_buffers_slot_retry_count",
        ] {
            d.log(key, 0u64);
        }
        let end_wall = issued.start_wall + (last_completion - issued.start);
        d.log("power_begin", wallclock::power(issued.start_wall).as_str());
        d.log("power_end", wallclock::power(end_wall).as_str());
        if accuracy {
            return Ok(None);
        }
        self.report.issue_lateness_ns = issued.lateness_ns;
        Ok(Some(PerformanceSummary::new(
            self.sut.name(),
            settings.clone(),
            result,
        )))
    }

    /// The run's result: the summary file, the detail log's result keys and
    /// the report.
    fn log_performance(&mut self, summary: PerformanceSummary) {
        self.logs
            .summary
            .push_str(&summary::write_summary(&summary));
        log_results(&mut self.logs.detail, &summary);
        self.report.result_valid = Some(summary.valid());
        self.report.performance = Some(summary);
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
    Ok(())
}
