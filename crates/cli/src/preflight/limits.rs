//! The scenario's latency limits, read from LoadGen's mlperf.conf data (the
//! built-in copy or `--mlperf-conf`) exactly as a run reads them, so they are
//! written down once: `gpt-oss-120b.Server.ttft_latency` and friends.

use std::path::Path;

use loadgen::ConfigFiles;
use serde::Serialize;

use crate::plan::{base_settings_for, ModeArg, ScenarioArg};

/// TTFT and TPOT bounds of one scenario; none for Offline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    /// The scenario as LoadGen names it (`Server`, `Interactive`, `Offline`).
    pub scenario: &'static str,
    /// The config key prefix the values came from (`gpt-oss-120b.Server`).
    pub source: String,
    /// Time to first token, milliseconds.
    pub ttft_ms: Option<f64>,
    /// Time per output token, milliseconds.
    pub tpot_ms: Option<f64>,
}

impl Limits {
    /// `scenario`'s limits after mlperf.conf (`mlperf_conf` replaces the built-in one).
    pub fn of(scenario: ScenarioArg, mlperf_conf: Option<&Path>) -> anyhow::Result<Limits> {
        let name = scenario.submission_name();
        if matches!(scenario, ScenarioArg::Offline) {
            return Ok(Limits {
                scenario: name,
                ..Limits::none()
            });
        }
        let (base, model) = base_settings_for(scenario, ModeArg::Performance, "gpt-oss-120b");
        let files = ConfigFiles {
            mlperf_conf,
            ..ConfigFiles::default()
        };
        let settings = loadgen::resolve_settings(base, &model, files)?.settings;
        let ms = |ns: u64| Some(ns as f64 / 1e6);
        Ok(Limits {
            scenario: name,
            source: format!("mlperf.conf {model}.Server"),
            ttft_ms: ms(settings.server_ttft_latency),
            tpot_ms: ms(settings.server_tpot_latency),
        })
    }

    /// No limits (Offline).
    pub fn none() -> Limits {
        Limits {
            scenario: "Offline",
            source: String::new(),
            ttft_ms: None,
            tpot_ms: None,
        }
    }

    /// One line for the report's heading.
    pub fn describe(&self) -> String {
        match (self.ttft_ms, self.tpot_ms) {
            (Some(ttft), Some(tpot)) => format!(
                "{} limits TTFT {ttft} ms, TPOT {tpot} ms ({})",
                self.scenario, self.source
            ),
            _ => format!("{} (no latency limits)", self.scenario),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values as the built-in mlperf.conf file spells them, read here
    /// by plain text search rather than by LoadGen's config reader.
    fn conf_value(key: &str) -> f64 {
        loadgen::BUILTIN_MLPERF_CONF
            .lines()
            .find_map(|l| {
                l.strip_prefix(key)?
                    .trim()
                    .strip_prefix('=')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{key} is not in the built-in mlperf.conf"))
    }

    #[test]
    fn server_and_interactive_limits_come_from_mlperf_conf() {
        for (scenario, model) in [
            (ScenarioArg::Server, "gpt-oss-120b"),
            (ScenarioArg::Interactive, "gpt-oss-120b-interactive"),
        ] {
            let limits = Limits::of(scenario, None).unwrap();
            let key = |k: &str| format!("{model}.Server.{k}");
            assert_eq!(limits.ttft_ms, Some(conf_value(&key("ttft_latency"))));
            assert_eq!(limits.tpot_ms, Some(conf_value(&key("tpot_latency"))));
        }
        assert_eq!(
            Limits::of(ScenarioArg::Offline, None).unwrap().ttft_ms,
            None
        );
    }

    #[test]
    fn a_replacement_mlperf_conf_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mlperf.conf");
        std::fs::write(
            &path,
            // As in LoadGen, the limits apply only with token latencies on.
            "gpt-oss-120b.*.use_token_latencies = 1\n\
             gpt-oss-120b.Server.ttft_latency = 1234\n\
             gpt-oss-120b.Server.tpot_latency = 56\n",
        )
        .unwrap();
        let limits = Limits::of(ScenarioArg::Server, Some(&path)).unwrap();
        assert_eq!((limits.ttft_ms, limits.tpot_ms), (Some(1234.0), Some(56.0)));
    }
}
