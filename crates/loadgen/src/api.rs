//! The LoadGen side of the SUT/LoadGen boundary: what "a LoadGen" is, so
//! that the native engine of this crate and the official C++ LoadGen
//! (through a binding) can drive the same SUT and QSL.

use std::path::PathBuf;

use crate::plan::{resolve_settings, ConfigFiles};
use crate::run::{start_test, LogSettings, RunError, TestReport};
use crate::settings::TestSettings;
use crate::sut::{QuerySampleLibrary, SystemUnderTest};

/// Which test to run: the scenario/mode base settings, the model key for the config files
/// (`gpt-oss-120b` or `gpt-oss-120b-interactive`), and the config files themselves.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// Scenario and mode set; every other field is LoadGen's default until
    /// the config files change it.
    pub base: TestSettings,
    /// The model name the config files' keys are looked up under.
    pub model: String,
    /// Replaces the built-in mlperf.conf.
    pub mlperf_conf: Option<PathBuf>,
    /// The submitter's settings (target QPS, sample counts, …).
    pub user_conf: Option<PathBuf>,
    /// A compliance test's overrides, applied last.
    pub audit_config: Option<PathBuf>,
}

/// A LoadGen: it reads the spec's config files, loads and issues samples to
/// the SUT, measures, and writes LoadGen's log files.
pub trait LoadGen: Send + Sync {
    /// One line for screens and results.json, e.g.
    /// "native (mlperf-gptoss 0.1.0, matches official 6.0.17)".
    fn version(&self) -> String;
    /// Blocks until every issued sample has been completed; writes the log files.
    fn start_test(
        &self,
        sut: &dyn SystemUnderTest,
        qsl: &dyn QuerySampleLibrary,
        spec: &TestSpec,
        logs: &LogSettings,
    ) -> Result<TestReport, RunError>;
}

/// This crate's own run engine: it resolves the spec with
/// [`resolve_settings`], then runs [`start_test`]. Its logs have the
/// official layout, but it is not the official LoadGen.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeLoadGen;

impl LoadGen for NativeLoadGen {
    fn version(&self) -> String {
        format!(
            "native LoadGen (mlperf-gptoss {}, matches official {}), not the official LoadGen; \
             not valid for submission",
            env!("CARGO_PKG_VERSION"),
            crate::logs::detail_run::LOADGEN_VERSION
        )
    }

    fn start_test(
        &self,
        sut: &dyn SystemUnderTest,
        qsl: &dyn QuerySampleLibrary,
        spec: &TestSpec,
        logs: &LogSettings,
    ) -> Result<TestReport, RunError> {
        let files = ConfigFiles {
            mlperf_conf: spec.mlperf_conf.as_deref(),
            user_conf: spec.user_conf.as_deref(),
            audit_config: spec.audit_config.as_deref(),
        };
        let resolved = resolve_settings(spec.base.clone(), &spec.model, files)?;
        start_test(sut, qsl, &resolved, logs)
    }
}
