//! [`OfficialLoadGen`]: the official LoadGen behind the `loadgen::LoadGen`
//! trait, so `run` and `compliance` drive the same SUT with either LoadGen.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use loadgen::{
    ConfigFiles, LoadGen, LogSettings, QuerySample, QuerySampleLibrary, Responder, ResponseSink,
    RunError, SystemUnderTest, TestReport, TestSpec,
};

use crate::detail::DetailLog;
use crate::session::{self, Callbacks, Completer, Mode, Params, Sample, Scenario};

/// The official C++ LoadGen compiled into this build (feature `official`).
/// Without the feature every test fails with how to build it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfficialLoadGen;

impl LoadGen for OfficialLoadGen {
    fn version(&self) -> String {
        match session::version() {
            Some(v) => format!("official LoadGen {v}"),
            None => "official LoadGen (not built into this binary)".into(),
        }
    }

    fn start_test(
        &self,
        sut: &dyn SystemUnderTest,
        qsl: &dyn QuerySampleLibrary,
        spec: &TestSpec,
        logs: &LogSettings,
    ) -> Result<TestReport, RunError> {
        let failed = |message: String| RunError::Failed {
            loadgen: self.version(),
            message,
        };
        preflight(qsl, spec)?;
        let params = Params {
            sut_name: sut.name(),
            qsl_name: qsl.name(),
            total_sample_count: qsl.total_sample_count(),
            performance_sample_count: qsl.performance_sample_count(),
            model: spec.model.clone(),
            scenario: scenario(spec.base.scenario),
            mode: mode(spec.base.mode),
            mlperf_conf: spec.mlperf_conf.clone(),
            user_conf: spec.user_conf.clone(),
            audit_config: spec.audit_config.clone(),
            outdir: logs.outdir.clone(),
            prefix: logs.prefix.clone(),
            suffix: logs.suffix.clone(),
            enable_trace: logs.enable_trace,
        };
        let adapter = Adapter {
            sut,
            qsl,
            responder: OnceLock::new(),
        };
        let outcome = session::run_test(&params, &adapter).map_err(|e| failed(e.to_string()))?;
        let detail_path = logs
            .outdir
            .join(format!("{}detail{}.txt", logs.prefix, logs.suffix));
        let detail = DetailLog::read(&detail_path).map_err(failed)?;
        let mut report = TestReport {
            errors: detail.errors,
            warnings: detail.warnings,
            result_valid: detail.result_valid(),
            first_error: detail.first_error,
            loadgen_version: self.version(),
            ..TestReport::default()
        };
        // Problems on our side of the boundary (a panicking SUT, a bad id)
        // never reach LoadGen's log; they still make the run invalid.
        report.errors += outcome.errors.len() as u64;
        if report.first_error.is_none() {
            report.first_error = outcome.errors.into_iter().next();
        }
        Ok(report)
    }
}

/// Settings the official LoadGen would crash on (no queries to issue, an
/// empty loaded set) are refused before it starts, with the native
/// LoadGen's message: both generate the same queries (the differential
/// suite checks it), so the native plan is the official one. A config file
/// the native reader rejects is left for LoadGen's `FromConfig` to report.
fn preflight(qsl: &dyn QuerySampleLibrary, spec: &TestSpec) -> Result<(), RunError> {
    let files = ConfigFiles {
        mlperf_conf: spec.mlperf_conf.as_deref(),
        user_conf: spec.user_conf.as_deref(),
        audit_config: spec.audit_config.as_deref(),
    };
    let Ok(resolved) = loadgen::resolve_settings(spec.base.clone(), &spec.model, files) else {
        return Ok(());
    };
    loadgen::plan(
        &resolved.settings,
        qsl.total_sample_count() as u64,
        qsl.performance_sample_count() as u64,
    )?;
    Ok(())
}

fn scenario(s: loadgen::Scenario) -> Scenario {
    match s {
        loadgen::Scenario::SingleStream => Scenario::SingleStream,
        loadgen::Scenario::MultiStream => Scenario::MultiStream,
        loadgen::Scenario::Server => Scenario::Server,
        loadgen::Scenario::Offline => Scenario::Offline,
    }
}

fn mode(m: loadgen::Mode) -> Mode {
    match m {
        loadgen::Mode::SubmissionRun => Mode::Submission,
        loadgen::Mode::AccuracyOnly => Mode::AccuracyOnly,
        loadgen::Mode::PerformanceOnly => Mode::PerformanceOnly,
        loadgen::Mode::FindPeakPerformance => Mode::FindPeakPerformance,
    }
}

/// The SUT's reports, forwarded to LoadGen's completion functions.
struct Sink(Completer);

impl ResponseSink for Sink {
    fn first_token(&self, id: u64, tokens: &[u8]) {
        self.0.first_token(id, tokens);
    }
    fn complete(&self, id: u64, data: &[u8], n_tokens: i64) {
        self.0.complete(id, data, n_tokens);
    }
}

/// The shared SUT and QSL seen through the official LoadGen's callbacks.
struct Adapter<'a> {
    sut: &'a dyn SystemUnderTest,
    qsl: &'a dyn QuerySampleLibrary,
    responder: OnceLock<Responder>,
}

impl Callbacks for Adapter<'_> {
    fn issue(&self, samples: &[Sample], completer: &Completer) {
        // The C++ API does not expose the schedule: the query counts as
        // scheduled when LoadGen hands it over.
        let scheduled = Instant::now();
        let responder = self
            .responder
            .get_or_init(|| Responder::new(Arc::new(Sink(completer.clone()))));
        let batch = samples
            .iter()
            .map(|s| QuerySample {
                id: s.id,
                index: s.index,
                scheduled,
            })
            .collect();
        self.sut.issue(batch, responder.clone());
    }
    fn flush(&self) {
        self.sut.flush();
    }
    fn load(&self, indices: &[usize]) {
        self.qsl.load_samples(indices);
    }
    fn unload(&self, indices: &[usize]) {
        self.qsl.unload_samples(indices);
    }
}
