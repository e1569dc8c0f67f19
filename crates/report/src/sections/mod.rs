//! The report's sections, each built from a [`Run`] (or several, for the
//! comparison) into a plain value the template renders.

pub mod accuracy;
pub mod compare;
pub mod energy;
pub mod facts;
pub mod failures;
pub mod latency;
pub mod lengths;
pub mod selfcheck;
pub mod telemetry;
pub mod timeline;
pub mod verdict;

use serde::Serialize;

use crate::read::Run;
use facts::Facts;

/// Everything the template shows of one run.
#[derive(Serialize)]
pub struct RunView {
    /// The run's heading.
    pub label: String,
    /// The folder, as given.
    pub dir: String,
    /// Files read.
    pub read: Vec<String>,
    /// What could not be read.
    pub notes: Vec<String>,
    /// Verdict and settings.
    pub verdict: Option<verdict::Verdict>,
    /// Latency.
    pub latency: Option<latency::Latency>,
    /// Timeline.
    pub timeline: Option<timeline::Timeline>,
    /// Energy over the measured window.
    pub energy: Option<energy::Energy>,
    /// Client self-check.
    pub self_check: Option<selfcheck::SelfCheck>,
    /// Output lengths.
    pub lengths: Option<lengths::Lengths>,
    /// Accuracy and compliance.
    pub accuracy: Option<accuracy::Accuracy>,
    /// Failed samples.
    pub failures: Option<failures::Failures>,
}

impl RunView {
    /// Builds every section of `run`.
    pub fn new(run: &Run, facts: &Facts) -> RunView {
        let samples = run
            .samples
            .as_ref()
            .map(|f| f.samples.as_slice())
            .unwrap_or_default();
        RunView {
            label: run.label(),
            dir: run.dir.display().to_string(),
            read: run.read.clone(),
            notes: run.notes.clone(),
            verdict: verdict::build(run),
            latency: latency::build(run, facts),
            timeline: timeline::build(samples, run.server_metrics.as_ref(), run.power.as_ref()),
            energy: energy::build(run.energy.as_ref()),
            self_check: selfcheck::SelfCheck::new(samples, facts),
            lengths: lengths::build(run),
            accuracy: accuracy::build(run),
            failures: failures::build(samples),
        }
    }
}
