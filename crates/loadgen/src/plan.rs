//! A dry run: the settings a run would use and everything it would load
//! and issue, computed without a SUT (`mlperf-gptoss plan`).

use std::path::Path;

use crate::config::{ConfType, ConfigError, ConfigFile, ConfigLoader};
use crate::effective::EffectiveSettings;
use crate::generate::{generate_queries, loadable_sets, GenerateError, Generated, LoadableSet};
use crate::settings::{Mode, TestSettings};

/// The config files of a run. `mlperf_conf` replaces the built-in copy.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConfigFiles<'a> {
    /// Replaces the built-in mlperf.conf.
    pub mlperf_conf: Option<&'a Path>,
    /// The submitter's settings.
    pub user_conf: Option<&'a Path>,
    /// A compliance test's overrides, applied last.
    pub audit_config: Option<&'a Path>,
}

/// Requested settings after all config files, with what LoadGen logs
/// about them.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The settings after every file.
    pub settings: TestSettings,
    /// An audit.config was applied ("Found Audit Config file" warning).
    pub audit_applied: bool,
    /// `error_invalid_config` messages (e.g. several user.conf files).
    pub config_errors: Vec<String>,
}

/// Applies mlperf.conf, user.conf and audit.config to `base` (whose
/// scenario and mode are already set) in LoadGen's order: the built-in (or
/// replacement) mlperf.conf as if by the first `FromConfig(user.conf)`,
/// then user.conf, then audit.config with model `*`. `model` is the config
/// model name, e.g. `gpt-oss-120b-interactive` for Interactive runs.
/// Unlike LoadGen, a file with a syntax error is an error here rather than
/// silently ignored.
pub fn resolve_settings(
    base: TestSettings,
    model: &str,
    files: ConfigFiles<'_>,
) -> Result<Resolved, ConfigError> {
    let mut loader = match files.mlperf_conf {
        Some(p) => ConfigLoader::with_mlperf_conf(ConfigFile::read(p)?),
        None => ConfigLoader::default(),
    };
    let mut s = base;
    let scenario = s.scenario.as_str();
    match files.user_conf {
        Some(p) => loader.from_config(&mut s, p, model, scenario, ConfType::UserConf)?,
        None => loader.apply_mlperf_conf(&mut s, model, scenario),
    }
    let mut audit_applied = false;
    if let Some(p) = files.audit_config {
        let file = ConfigFile::read(p)?;
        file.apply(&mut s, "*", scenario, ConfType::Other);
        audit_applied = true;
    }
    if s.test05 {
        s.mode = Mode::PerformanceOnly;
        s.qsl_rng_seed = s.test05_qsl_rng_seed;
        s.sample_index_rng_seed = s.test05_sample_index_rng_seed;
        s.schedule_rng_seed = s.test05_schedule_rng_seed;
    }
    Ok(Resolved {
        settings: s,
        audit_applied,
        config_errors: loader.errors,
    })
}

/// One issuing series: a loaded set and the queries issued against it.
#[derive(Clone, Debug)]
pub struct Series {
    /// An accuracy series (every response logged) rather than the performance one.
    pub accuracy: bool,
    /// The samples loaded for it.
    pub loaded: LoadableSet,
    /// Its generated queries.
    pub generated: Generated,
    /// How many of the generated queries LoadGen issues: all of them, or
    /// in a performance run the first `max_query_count` (the run ends
    /// there). Time-dependent early ends (`max_duration`,
    /// `max_async_queries`) are not predicted.
    pub issued: usize,
}

impl Series {
    /// The queries that are issued, in order.
    pub fn issued_queries(&self) -> &[crate::Query] {
        &self.generated.queries[..self.issued]
    }
}

/// Everything a run would load and issue, in order.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The effective settings the plan was made with.
    pub effective: EffectiveSettings,
    /// The series, in run order.
    pub series: Vec<Series>,
}

/// The series LoadGen runs for these settings and QSL counts: accuracy
/// sets (AccuracyOnly, SubmissionRun) then the performance set
/// (PerformanceOnly, SubmissionRun; FindPeakPerformance is planned as its
/// first performance run).
pub fn plan(s: &TestSettings, qsl_total: u64, qsl_performance: u64) -> Result<Plan, GenerateError> {
    let effective = EffectiveSettings::new(s, qsl_performance, qsl_total);
    let mut series = Vec::new();
    let (acc, perf) = match effective.mode {
        Mode::SubmissionRun => (true, true),
        Mode::AccuracyOnly => (true, false),
        Mode::PerformanceOnly | Mode::FindPeakPerformance => (false, true),
    };
    if acc {
        for loaded in loadable_sets(&effective, effective.accuracy_sample_count, qsl_total) {
            let generated = generate_queries(&effective, &loaded, true)?;
            let issued = generated.queries.len();
            series.push(Series {
                accuracy: true,
                loaded,
                generated,
                issued,
            });
        }
    }
    if perf {
        let loaded = loadable_sets(&effective, effective.performance_sample_count, qsl_total)
            .into_iter()
            .next()
            .ok_or(GenerateError::EmptySet)?;
        let generated = generate_queries(&effective, &loaded, false)?;
        let mut issued = generated.queries.len();
        if effective.max_query_count != 0 {
            issued = issued.min(effective.max_query_count.try_into().unwrap_or(usize::MAX));
        }
        series.push(Series {
            accuracy: false,
            loaded,
            generated,
            issued,
        });
    }
    Ok(Plan { effective, series })
}

impl Plan {
    /// Writes `{"loaded_set": [...], "loaded_sets": [[...]], "queries":
    /// [{"scheduled_ns", "indices"}], "series": [...]}`. `loaded_set` is
    /// every loaded set in load order, concatenated; the schedule restarts
    /// at 0 for each series (each loaded set, then performance).
    pub fn write_json<W: std::io::Write>(&self, out: &mut W) -> std::io::Result<()> {
        let ints = |v: &[usize]| {
            let mut s = String::with_capacity(v.len() * 6 + 2);
            s.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push_str(&x.to_string());
            }
            s.push(']');
            s
        };
        let loaded: Vec<usize> = self
            .series
            .iter()
            .flat_map(|s| s.loaded.set.iter().copied())
            .collect();
        write!(
            out,
            "{{\"loaded_set\": {}, \"loaded_sets\": [",
            ints(&loaded)
        )?;
        for (i, s) in self.series.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            write!(out, "{sep}{}", ints(&s.loaded.set))?;
        }
        write!(out, "], \"queries\": [")?;
        let mut first = true;
        for s in &self.series {
            for q in s.issued_queries() {
                let sep = if first { "" } else { ", " };
                first = false;
                write!(
                    out,
                    "{sep}{{\"scheduled_ns\": {}, \"indices\": {}}}",
                    q.scheduled_ns,
                    ints(&q.indices)
                )?;
            }
        }
        write!(out, "], \"series\": [")?;
        for (i, s) in self.series.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            write!(
                out,
                "{sep}{{\"mode\": \"{}\", \"query_count\": {}, \"issued_query_count\": {}, \"generated_samples_per_query\": {}, \"generated_query_duration\": {}}}",
                if s.accuracy { "accuracy" } else { "performance" },
                s.generated.queries.len(),
                s.issued,
                s.generated.samples_per_query,
                s.generated.duration_ns
            )?;
        }
        writeln!(out, "]}}")
    }
}
