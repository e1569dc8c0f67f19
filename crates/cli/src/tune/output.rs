//! `D/tune.json` (rewritten after every probe, so an interrupted search
//! keeps what it did and a rerun resumes), the table on stdout and the
//! user.conf lines to paste.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::probe::Probe;

/// Everything `tune` found, as `tune.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TuneJson {
    /// `server`, `interactive` or `offline`.
    pub scenario: String,
    /// The settings the search depends on; a rerun resumes only if they are the same.
    pub fingerprint: String,
    /// The chosen target QPS (Server/Interactive).
    pub target_qps: Option<f64>,
    /// The highest QPS whose probe was VALID.
    pub highest_pass_qps: Option<f64>,
    /// The lowest QPS above it whose probe was not.
    pub lowest_fail_qps: Option<f64>,
    /// `target_qps = highest_pass_qps · (1 − margin)`.
    pub margin: Option<f64>,
    /// The confirming run's verdict at `target_qps`.
    pub confirmed: Option<bool>,
    /// Offline: the recommended `--max-concurrency` (all endpoints together).
    pub max_concurrency: Option<usize>,
    /// Offline: the knee, per endpoint.
    pub knee_per_endpoint: Option<usize>,
    /// Offline: the highest tokens/s seen.
    pub plateau_tokens_per_second: Option<f64>,
    /// Why the search ended (done, budget spent, no passing QPS, …).
    pub outcome: String,
    /// Every probe, in order.
    pub probes: Vec<Probe>,
}

impl TuneJson {
    /// Reads `dir/tune.json` if a previous run of the same command left
    /// one; a different command's file is an error rather than overwritten.
    pub fn resume_or_new(dir: &Path, scenario: &str, fingerprint: &str) -> anyhow::Result<Self> {
        let path = dir.join("tune.json");
        let fresh = TuneJson {
            scenario: scenario.into(),
            fingerprint: fingerprint.into(),
            ..Default::default()
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(fresh);
        };
        let old: TuneJson = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a tune.json: remove it or pick another --output-dir",
                path.display()
            )
        })?;
        anyhow::ensure!(
            old.fingerprint == fingerprint,
            "{} is from a different tune command ({}); this one is ({fingerprint}): \
             pick another --output-dir or remove the folder to start over",
            path.display(),
            old.fingerprint
        );
        Ok(TuneJson {
            probes: old.probes,
            ..fresh
        })
    }

    /// A recorded probe of this kind at this QPS and concurrency (a resumed search's answer).
    pub fn recorded(&self, kind: &str, qps: f64, concurrency: Option<usize>) -> Option<&Probe> {
        self.probes.iter().find(|p| {
            p.kind == kind
                && (p.qps - qps).abs() <= 1e-9 * qps.abs().max(1.0)
                && p.max_concurrency == concurrency
        })
    }

    /// The folder of probe number `n` (from 1).
    pub fn probe_dir(dir: &Path, n: usize) -> PathBuf {
        dir.join("probes").join(format!("{n:02}"))
    }

    /// Writes `dir/tune.json` through a temporary file, so a crash never leaves half of one.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("tune.json");
        let tmp = dir.join("tune.json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// The human summary: one row per probe.
pub fn write_table(out: &mut impl Write, t: &TuneJson) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>3}  {:<8} {:>9} {:>5} {:>8} {:>8}  {:>9} {:>9}  {:>9} {:>9}  {:<8} reason",
        "#",
        "kind",
        "qps",
        "conc",
        "queries",
        "time s",
        "TTFT p99",
        "(ES est)",
        "TPOT p99",
        "(ES est)",
        "verdict"
    )?;
    for (i, p) in t.probes.iter().enumerate() {
        writeln!(
            out,
            "{:>3}  {:<8} {:>9} {:>5} {:>8} {:>8.1}  {:>9} {:>9}  {:>9} {:>9}  {:<8} {}",
            i + 1,
            p.kind,
            if p.qps > 0.0 {
                format!("{:.3}", p.qps)
            } else {
                "-".into()
            },
            p.max_concurrency.map_or("-".into(), |c| c.to_string()),
            p.queries.map_or("-".into(), |q| q.to_string()),
            p.duration_s,
            opt(p.p99_ttft_ms, 1),
            opt(p.early_stopping_ttft_ms, 1),
            opt(p.p99_tpot_ms, 2),
            opt(p.early_stopping_tpot_ms, 2),
            p.verdict,
            p.reason.replace('\n', " ")
        )?;
    }
    Ok(())
}

/// The user.conf line for the chosen QPS: `<model>.Server.target_qps = Q`.
pub fn user_conf_line(model: &str, target_qps: f64) -> String {
    format!("{model}.Server.target_qps = {target_qps}")
}
