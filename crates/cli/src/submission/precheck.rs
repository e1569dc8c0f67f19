//! The checks `submission run` makes before hours of GPU time: the three
//! datasets (row counts, reasoning effort), the scenarios, and whether the
//! user.conf's settings can give a valid run length; and the plan's
//! estimated duration per step, from the same settings.

use std::path::{Path, PathBuf};

use loadgen::{ConfigFiles, EffectiveSettings};

use super::check::{MIN_DURATION_MS, PERFORMANCE_ROWS};
use crate::plan::{base_settings_for, ModeArg, ScenarioArg};

/// One of the benchmark's three datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    /// `perf_eval_ref`: performance runs and TEST09.
    Performance,
    /// `acc_eval_ref`: the accuracy runs.
    Accuracy,
    /// `acc_eval_compliance_gpqa`: TEST07.
    Compliance,
}

impl Set {
    /// The file name without its extension, as MLCommons publishes it.
    pub fn stem(self) -> &'static str {
        match self {
            Set::Performance => "perf_eval_ref",
            Set::Accuracy => "acc_eval_ref",
            Set::Compliance => "acc_eval_compliance_gpqa",
        }
    }

    /// Its row count.
    pub fn rows(self) -> usize {
        match self {
            Set::Performance => 6396,
            Set::Accuracy => 4395,
            Set::Compliance => 990,
        }
    }

    /// The reasoning effort its prompts carry (the reference README: low for
    /// performance, high for accuracy; TEST07 is run with high).
    pub fn effort(self) -> &'static str {
        match self {
            Set::Performance => "low",
            Set::Accuracy | Set::Compliance => "high",
        }
    }
}

/// The datasets found and checked.
#[derive(Clone, Debug)]
pub struct Datasets {
    /// perf_eval_ref.
    pub performance: PathBuf,
    /// acc_eval_ref.
    pub accuracy: PathBuf,
    /// acc_eval_compliance_gpqa.
    pub compliance: PathBuf,
    /// The accuracy set has LiveCodeBench rows (scoring them needs --lcb-dir).
    pub accuracy_has_lcb: bool,
}

impl Datasets {
    /// The file of one set.
    pub fn path(&self, set: Set) -> &Path {
        match set {
            Set::Performance => &self.performance,
            Set::Accuracy => &self.accuracy,
            Set::Compliance => &self.compliance,
        }
    }
}

/// Finds `<stem>.{parquet,pkl,jsonl}` in `dir`, `dir/perf/` or `dir/acc/` (the download's layout).
fn find(dir: &Path, set: Set) -> Option<PathBuf> {
    ["", "perf", "acc"].iter().find_map(|sub| {
        ["parquet", "pkl", "jsonl"].iter().find_map(|ext| {
            let p = dir.join(sub).join(format!("{}.{ext}", set.stem()));
            p.is_file().then_some(p)
        })
    })
}

/// Finds and checks the three datasets; every problem is one line.
pub fn datasets(dir: &Path) -> Result<Datasets, Vec<String>> {
    let mut problems = Vec::new();
    let mut found = Vec::new();
    let mut has_lcb = false;
    for set in [Set::Performance, Set::Accuracy, Set::Compliance] {
        let Some(path) = find(dir, set) else {
            problems.push(format!(
                "{}: no {}.parquet (or .pkl, .jsonl) here or in perf/, acc/: download the MLCommons gpt-oss-120b datasets into --datasets",
                dir.display(),
                set.stem()
            ));
            found.push(PathBuf::new());
            continue;
        };
        match check_set(&path, set) {
            Ok(lcb) => has_lcb |= set == Set::Accuracy && lcb,
            Err(e) => problems.extend(e),
        }
        found.push(path);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Datasets {
        performance: found[0].clone(),
        accuracy: found[1].clone(),
        compliance: found[2].clone(),
        accuracy_has_lcb: has_lcb,
    })
}

/// Row count and reasoning effort of one set; returns whether it has LiveCodeBench rows.
fn check_set(path: &Path, set: Set) -> Result<bool, Vec<String>> {
    let shown = path.display();
    let table = dataset::read_table(path).map_err(|e| vec![format!("{shown}: {e}")])?;
    let prompts =
        dataset::prompt_tokens(&table, path).map_err(|e| vec![format!("{shown}: {e}")])?;
    let mut problems = Vec::new();
    if prompts.len() != set.rows() {
        problems.push(format!(
            "{shown}: {} rows, expected {} (the {} set); a partial dataset gives a run the checker rejects",
            prompts.len(),
            set.rows(),
            set.stem()
        ));
    }
    let want = format!("Reasoning: {}", set.effort());
    let rows = prompts.len();
    for row in [0, rows / 2, rows.saturating_sub(1)] {
        let Some(ids) = prompts.get(row) else {
            continue;
        };
        let head = &ids[..ids.len().min(256)];
        let text = harmony::decode(head).unwrap_or_default();
        if !text.contains(&want) {
            let found = text
                .find("Reasoning: ")
                .map(|i| text[i..].split('\n').next().unwrap_or_default().to_string())
                .unwrap_or_else(|| "no 'Reasoning:' line in the system message".into());
            problems.push(format!(
                "{shown}: row {row}: expected '{want}' in the prompt, found {found}; re-harmonize it with --reasoning-effort {}",
                set.effort()
            ));
            break;
        }
    }
    let lcb = table.column("dataset").is_some_and(|c| {
        c.values
            .iter()
            .any(|v| matches!(v, dataset::Value::Str(s) if s.contains("livecodebench")))
    });
    if problems.is_empty() {
        Ok(lcb)
    } else {
        Err(problems)
    }
}

/// The config files every step reads.
pub struct Configs<'a> {
    /// `--mlperf-conf`.
    pub mlperf_conf: Option<&'a Path>,
    /// `--user-conf`.
    pub user_conf: Option<&'a Path>,
}

/// The effective performance-mode settings of a scenario.
pub fn performance_settings(
    scenario: ScenarioArg,
    configs: &Configs<'_>,
) -> anyhow::Result<EffectiveSettings> {
    let (base, model) = base_settings_for(scenario, ModeArg::Performance, "gpt-oss-120b");
    let files = ConfigFiles {
        mlperf_conf: configs.mlperf_conf,
        user_conf: configs.user_conf,
        audit_config: None,
    };
    let resolved = loadgen::resolve_settings(base, &model, files)?;
    Ok(EffectiveSettings::new(
        &resolved.settings,
        PERFORMANCE_ROWS,
        PERFORMANCE_ROWS,
    ))
}

/// Why this scenario's performance run could not be valid for the checker, one line each.
pub fn run_length(scenario: ScenarioArg, eff: &EffectiveSettings) -> Vec<String> {
    let name = scenario.submission_name();
    let mut out = Vec::new();
    if eff.min_duration_ms < MIN_DURATION_MS {
        out.push(format!(
            "{name}: min_duration is {} ms; the checker wants at least 600000 (remove min_duration from the user.conf)",
            eff.min_duration_ms
        ));
    }
    if scenario == ScenarioArg::Offline && eff.samples_per_query < PERFORMANCE_ROWS {
        out.push(format!(
            "Offline: target_qps {} gives {} samples per query; the checker wants at least 6396. LoadGen \
             sizes an Offline query as 1.1 x min_duration x target_qps (1.1 x 600 s x {} = {}), so set \
             gpt-oss-120b.Offline.target_qps to at least 9.7 in the user.conf (LoadGen then pads the query \
             to whole passes over the 6396 samples: 12792 at 10)",
            eff.target_qps,
            eff.samples_per_query,
            eff.target_qps,
            eff.samples_per_query
        ));
    }
    out
}

/// What the TEST07 step adds to the user.conf: its compliance set has 990 rows,
/// fewer than mlperf.conf's performance_sample_count_override of 6396, with
/// which LoadGen cannot build an Offline query (the official one crashes).
pub const TEST07_USER_CONF: &str = "\n# Added by `mlperf-gptoss submission run` for TEST07: the GPQA compliance set has 990 rows.\n\
gpt-oss-120b.*.performance_sample_count_override = 990\n\
gpt-oss-120b-interactive.*.performance_sample_count_override = 990\n";

/// Writes `<dir>/user.conf`: the user's user.conf followed by `extra`.
pub fn user_conf_with(
    user_conf: Option<&Path>,
    extra: &str,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let mut text = match user_conf {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => String::new(),
    };
    text.push_str(extra);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("user.conf");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The estimated seconds of a step: the samples LoadGen will issue (its own
/// plan, with the step's audit.config) at the effective target_qps, and in
/// performance mode at least the run's min_duration.
pub fn estimate_seconds(
    scenario: ScenarioArg,
    mode: ModeArg,
    audit: Option<&Path>,
    rows: usize,
    configs: &Configs<'_>,
) -> anyhow::Result<(usize, f64)> {
    let (base, model) = base_settings_for(scenario, mode, "gpt-oss-120b");
    let files = ConfigFiles {
        mlperf_conf: configs.mlperf_conf,
        user_conf: configs.user_conf,
        audit_config: audit,
    };
    let resolved = loadgen::resolve_settings(base, &model, files)?;
    let plan = loadgen::plan(&resolved.settings, rows as u64, rows as u64)?;
    let issued: usize = plan
        .series
        .iter()
        .flat_map(|s| s.issued_queries())
        .map(|q| q.indices.len())
        .sum();
    let qps = plan.effective.target_qps.max(1e-9);
    let floor = match mode {
        ModeArg::Accuracy => 0.0,
        _ => plan.effective.min_duration_ms as f64 / 1000.0,
    };
    let seconds = (issued as f64 / qps).max(floor);
    Ok((issued, seconds))
}
