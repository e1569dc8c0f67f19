//! Reading `mlperf.conf`, `user.conf` and `audit.config` as LoadGen does.
//!
//! LoadGen's reader is a whitespace tokenizer with quirks that change which
//! settings a run gets, so they are reproduced on purpose: `key=value`
//! without spaces is silently ignored, a trailing `# comment` after a value
//! is an error, the last of several values wins, any error discards the
//! whole file, integers may be octal or hex, and lookups try
//! `model.scenario.key`, `*.scenario.key`, `model.*.key`, `*.*.key` in
//! that order. The built-in mlperf.conf is applied once, before the first
//! user.conf ([`ConfigLoader`] keeps that per-process state per run).

use std::collections::HashMap;
use std::path::Path;

use crate::cnum::{is_config_number, strtod, strtoull};
use crate::settings::{Mode, TestSettings};

/// The mlperf.conf values built into this crate (LoadGen 6.0.17's, v6.1
/// seeds; the wildcard lines and the gpt-oss-120b models).
pub const BUILTIN_MLPERF_CONF: &str = include_str!("../data/mlperf.conf");

/// Which role a config file plays (LoadGen's `conf_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfType {
    /// mlperf.conf: may set seeds and `accuracy_log_probability`.
    MlperfConf,
    /// user.conf: the first one also applies mlperf.conf first.
    UserConf,
    /// audit.config or any other file: never sets seeds.
    Other,
}

/// A config file that could not be used. Nothing from it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: can't open file: {source}")]
    Open {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A line LoadGen's tokenizer rejects.
    #[error("{path}:{line}: {message} (LoadGen ignores the whole file)")]
    Syntax {
        /// The file.
        path: String,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
}

/// The key/value pairs of one config file, after LoadGen's tokenizer.
#[derive(Clone, Debug, Default)]
pub struct ConfigFile {
    kv: HashMap<String, String>,
}

impl ConfigFile {
    /// Tokenizes `text`; `path` only names the file in errors. Returns the
    /// first error (LoadGen would log one per bad line and apply nothing).
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let mut kv = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let err = |message: &str| ConfigError::Syntax {
                path: path.to_string(),
                line: n + 1,
                message: message.to_string(),
            };
            let mut key: Option<&str> = None;
            let mut looking_for = 0; // 0 key, 1 '=', 2 value
            for tok in line.split_ascii_whitespace() {
                if tok == "#" && looking_for != 2 {
                    break;
                }
                match looking_for {
                    2 => {
                        if !is_config_number(tok) {
                            return Err(err("value needs to be integer or double"));
                        }
                        if let Some(k) = key {
                            kv.insert(k.to_string(), tok.to_string());
                        }
                    }
                    1 if tok != "=" => return Err(err("expected 'key=value'")),
                    0 => {
                        key = Some(tok);
                        looking_for = 1;
                    }
                    _ => looking_for = 2,
                }
            }
        }
        Ok(ConfigFile { kv })
    }

    /// Reads and tokenizes a file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Open {
            path: name.clone(),
            source,
        })?;
        Self::parse(&text, &name)
    }

    /// The raw value for `key` under LoadGen's wildcard order.
    pub fn lookup(&self, model: &str, scenario: &str, key: &str) -> Option<&str> {
        [
            format!("{model}.{scenario}.{key}"),
            format!("*.{scenario}.{key}"),
            format!("{model}.*.{key}"),
            format!("*.*.{key}"),
        ]
        .iter()
        .find_map(|k| self.kv.get(k).map(String::as_str))
    }

    fn int(&self, model: &str, scenario: &str, key: &str, mult: u64) -> Option<u64> {
        self.lookup(model, scenario, key)
            .map(|v| strtoull(v).0.wrapping_mul(mult))
    }

    fn double(&self, model: &str, scenario: &str, key: &str, mult: f64) -> Option<f64> {
        self.lookup(model, scenario, key)
            .map(|v| strtod(v).0 * mult)
    }

    /// Applies this file's keys to `s` as `TestSettings::FromConfig` does
    /// after parsing, for `model` and the scenario spelled `scenario`.
    pub fn apply(&self, s: &mut TestSettings, model: &str, scenario: &str, conf_type: ConfType) {
        let m = model;
        let sc = scenario;
        let set_u = |dst: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        let set_f = |dst: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        if let Some(v) = self.int(m, sc, "mode", 1) {
            match v {
                0 => s.mode = Mode::SubmissionRun,
                1 => s.mode = Mode::AccuracyOnly,
                2 => s.mode = Mode::PerformanceOnly,
                3 => s.mode = Mode::FindPeakPerformance,
                _ => {}
            }
        }
        if conf_type == ConfType::MlperfConf {
            set_u(&mut s.qsl_rng_seed, self.int(m, sc, "qsl_rng_seed", 1));
            set_u(
                &mut s.sample_index_rng_seed,
                self.int(m, sc, "sample_index_rng_seed", 1),
            );
            set_u(
                &mut s.schedule_rng_seed,
                self.int(m, sc, "schedule_rng_seed", 1),
            );
            set_f(
                &mut s.accuracy_log_probability,
                self.double(m, sc, "accuracy_log_probability", 0.01),
            );
            if let Some(v) = self.int(m, sc, "test05", 1) {
                s.test05 = v == 1;
            }
            set_u(
                &mut s.test05_qsl_rng_seed,
                self.int(m, sc, "test05_qsl_rng_seed", 1),
            );
            set_u(
                &mut s.test05_sample_index_rng_seed,
                self.int(m, sc, "test05_sample_index_rng_seed", 1),
            );
            set_u(
                &mut s.test05_schedule_rng_seed,
                self.int(m, sc, "test05_schedule_rng_seed", 1),
            );
        }
        if let Some(v) = self.int(m, sc, "use_token_latencies", 1) {
            s.use_token_latencies = v == 1;
        }
        if s.use_token_latencies {
            set_u(
                &mut s.server_ttft_latency,
                self.int(m, "Server", "ttft_latency", 1_000_000),
            );
            set_u(
                &mut s.server_tpot_latency,
                self.int(m, "Server", "tpot_latency", 1_000_000),
            );
        }
        if let Some(v) = self.int(m, sc, "infer_token_latencies", 1) {
            s.infer_token_latencies = v == 1;
        }
        if s.infer_token_latencies {
            set_u(
                &mut s.token_latency_scaling_factor,
                self.int(m, sc, "token_latency_scaling_factor", 1),
            );
        }
        set_f(
            &mut s.single_stream_target_latency_percentile,
            self.double(m, "SingleStream", "target_latency_percentile", 0.01),
        );
        set_f(
            &mut s.multi_stream_target_latency_percentile,
            self.double(m, "MultiStream", "target_latency_percentile", 0.01),
        );
        set_u(
            &mut s.multi_stream_samples_per_query,
            self.int(m, "MultiStream", "samples_per_query", 1),
        );
        set_f(
            &mut s.server_target_latency_percentile,
            self.double(m, "Server", "target_latency_percentile", 0.01),
        );
        set_u(
            &mut s.server_target_latency_ns,
            self.int(m, "Server", "target_latency", 1_000_000),
        );
        if let Some(v) = self.int(m, sc, "performance_issue_unique", 1) {
            s.performance_issue_unique = v != 0;
        }
        if let Some(v) = self.int(m, sc, "performance_issue_same", 1) {
            s.performance_issue_same = v != 0;
        }
        set_u(
            &mut s.performance_issue_same_index,
            self.int(m, sc, "performance_issue_same_index", 1),
        );
        if let Some(v) = self.int(m, sc, "sample_concatenate_permutation", 1) {
            s.sample_concatenate_permutation = v == 1;
        }
        if let Some(v) = self.int(m, "Server", "coalesce_queries", 1) {
            s.server_coalesce_queries = v != 0;
        }
        if let Some(v) = self.int(m, "Server", "max_async_queries", 1) {
            s.server_max_async_queries = v as i32;
        }
        set_u(&mut s.min_duration_ms, self.int(m, sc, "min_duration", 1));
        set_u(&mut s.max_duration_ms, self.int(m, sc, "max_duration", 1));
        set_u(
            &mut s.min_query_count,
            self.int(m, sc, "min_query_count", 1),
        );
        set_u(
            &mut s.max_query_count,
            self.int(m, sc, "max_query_count", 1),
        );
        set_u(
            &mut s.performance_sample_count_override,
            self.int(m, sc, "performance_sample_count_override", 1),
        );
        set_u(
            &mut s.accuracy_sample_count_override,
            self.int(m, sc, "accuracy_sample_count_override", 1),
        );
        set_f(
            &mut s.single_stream_expected_latency_ns,
            self.double(m, "SingleStream", "target_latency", 1e6),
        );
        set_f(
            &mut s.multi_stream_expected_latency_ns,
            self.double(m, "MultiStream", "target_latency", 1e6),
        );
        set_f(
            &mut s.server_target_qps,
            self.double(m, "Server", "target_qps", 1.0),
        );
        set_f(
            &mut s.offline_expected_qps,
            self.double(m, "Offline", "target_qps", 1.0),
        );
        if let Some(v) = self.int(m, sc, "print_timestamps", 1) {
            s.print_timestamps = v != 0;
        }
        set_u(
            &mut s.accuracy_log_rng_seed,
            self.int(m, sc, "accuracy_log_rng_seed", 1),
        );
        set_u(
            &mut s.accuracy_log_sampling_target,
            self.int(m, sc, "accuracy_log_sampling_target", 1),
        );
    }
}

/// LoadGen's process-wide config state, made explicit: which mlperf.conf
/// stands in for the built-in one, and how many user.conf files were
/// applied (the second one logs an error instead of re-applying
/// mlperf.conf).
#[derive(Clone, Debug)]
pub struct ConfigLoader {
    mlperf_conf: ConfigFile,
    user_conf_count: u32,
    /// `error_invalid_config` messages LoadGen would log.
    pub errors: Vec<String>,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        let mlperf_conf =
            ConfigFile::parse(BUILTIN_MLPERF_CONF, "built-in mlperf.conf").unwrap_or_default();
        ConfigLoader {
            mlperf_conf,
            user_conf_count: 0,
            errors: Vec::new(),
        }
    }
}

impl ConfigLoader {
    /// Uses `file` in place of the built-in mlperf.conf (mlperf-gptoss's
    /// `--mlperf-conf`): it is applied exactly as the embedded copy would be.
    pub fn with_mlperf_conf(file: ConfigFile) -> Self {
        ConfigLoader {
            mlperf_conf: file,
            user_conf_count: 0,
            errors: Vec::new(),
        }
    }

    /// `TestSettings::FromConfig(path, model, scenario, conf_type)`: for a
    /// user.conf the built-in mlperf.conf is applied first even when the
    /// file then turns out unreadable, as in LoadGen.
    pub fn from_config(
        &mut self,
        s: &mut TestSettings,
        path: &Path,
        model: &str,
        scenario: &str,
        conf_type: ConfType,
    ) -> Result<(), ConfigError> {
        if conf_type == ConfType::UserConf {
            self.before_user_conf(s, model, scenario);
        }
        let file = ConfigFile::read(path)?;
        file.apply(s, model, scenario, conf_type);
        Ok(())
    }

    fn before_user_conf(&mut self, s: &mut TestSettings, model: &str, scenario: &str) {
        if self.user_conf_count == 0 {
            self.apply_mlperf_conf(s, model, scenario);
        } else {
            self.errors.push(
                "Multiple conf files are used. This is not valid for official submission."
                    .to_string(),
            );
        }
        self.user_conf_count += 1;
    }

    /// `TestSettings::FromConfig` for a file already read.
    pub fn apply(
        &mut self,
        s: &mut TestSettings,
        file: &ConfigFile,
        model: &str,
        scenario: &str,
        conf_type: ConfType,
    ) {
        if conf_type == ConfType::UserConf {
            self.before_user_conf(s, model, scenario);
        }
        file.apply(s, model, scenario, conf_type);
    }

    /// Applies the (built-in or replacement) mlperf.conf as conf_type 0.
    pub fn apply_mlperf_conf(&self, s: &mut TestSettings, model: &str, scenario: &str) {
        self.mlperf_conf
            .apply(s, model, scenario, ConfType::MlperfConf);
    }
}
