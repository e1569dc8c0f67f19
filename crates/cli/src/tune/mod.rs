//! `mlperf-gptoss tune`: the highest Server/Interactive `target_qps` that
//! LoadGen judges VALID, or the Offline `--max-concurrency` where tokens/s
//! stops rising, found with short real LoadGen runs ("probes") within a
//! wall-clock budget.
//!
//! Server/Interactive: a capacity estimate (an Offline burst, or
//! `--start-qps`), then bracketing and bisection (`search`), each probe a
//! LoadGen Server run whose verdict is LoadGen's own (`probe`); then the
//! margin the probes' spread supports (`margin`) and a confirming run at the
//! chosen QPS. Every probe is recorded in `D/tune.json` as soon as it ends
//! (`output`), so Ctrl-C keeps them and the same command resumes.

mod margin;
mod output;
mod probe;
mod search;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use loadgen::{ConfigFiles, TestSettings};

use crate::plan::{ModeArg, ScenarioArg};
use crate::progress::StatusLine;
use crate::run;
use output::TuneJson;
use probe::{Probe, Request};
use search::{ConcurrencySweep, QpsSearch, Step, SweepStep};

/// Command-line arguments of `tune`: every `run` flag, and the search's own.
#[derive(clap::Args)]
#[group(id = "tune_args")]
pub struct Args {
    /// The run flags; --output-dir D gets D/tune.json and D/probes/NN/.
    #[command(flatten)]
    run: run::Args,
    /// Wall-clock bound on the whole search, confirming run included (90s, 30m, 1h).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    budget: Duration,
    /// Server/Interactive: min_duration of each search probe; Offline: of each sweep probe.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    probe_duration: Duration,
    /// Server/Interactive: the first QPS to probe, instead of an Offline burst's estimate.
    #[arg(long)]
    start_qps: Option<f64>,
    /// Server/Interactive: min_duration of the confirming run [default: the config files', 600 s in mlperf.conf].
    #[arg(long, value_parser = parse_duration)]
    confirm_duration: Option<Duration>,
}

/// `90`, `90s`, `500ms`, `30m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write e.g. 90s, 500ms, 30m or 1h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s, m or h")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// Samples in the Offline burst that estimates capacity.
const BURST_QUERIES: u64 = 256;
/// The fewest queries a search probe issues: h(1) + 1, the fewest at which
/// early stopping tolerates one query over the limit (with fewer than h(0) =
/// 459 no probe could pass at all). A user.conf asking for more wins.
const PROBE_MIN_QUERIES: u64 = 662;
/// First guess of a probe's time beyond its schedule (connecting, draining).
const FIRST_OVERHEAD_S: f64 = 2.0;

/// What every probe of one `tune` shares.
struct Tune {
    args: Args,
    dir: PathBuf,
    /// The config key's model: gpt-oss-120b or gpt-oss-120b-interactive.
    model: String,
    /// The user's user.conf text (or the demo preset's), put before each probe's lines.
    user_conf: String,
    /// The user's settings, resolved as LoadGen will (limits, min query count).
    settings: TestSettings,
    /// Dataset rows (the QSL counts for planning a probe).
    samples: u64,
    started: Instant,
    /// The most a probe took beyond its schedule so far, seconds.
    overhead_s: f64,
    record: TuneJson,
    status: Arc<Mutex<String>>,
}

/// Runs the search and prints the table and the user.conf lines.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        matches!(args.run.mode, ModeArg::Performance),
        "tune runs performance probes: leave out --mode"
    );
    let mut tune = Tune::new(args)?;
    let status = tune.status.clone();
    let progress = StatusLine::start(move || status.lock().map(|s| s.clone()).unwrap_or_default());
    let result = match tune.args.run.scenario {
        ScenarioArg::Offline => tune.offline(),
        _ => tune.server(),
    };
    progress.finish();
    let code = result?;
    let mut out = std::io::stdout().lock();
    output::write_table(&mut out, &tune.record)?;
    tune.print_result(&mut out)?;
    Ok(code)
}

impl Tune {
    fn new(args: Args) -> anyhow::Result<Self> {
        let dir = args.run.output_dir.clone();
        let (base, model) =
            crate::plan::base_settings_for(args.run.scenario, ModeArg::Performance, "gpt-oss-120b");
        let demo = args.run.dataset.is_none();
        let user_conf = match &args.run.config.user_conf {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading --user-conf {}", path.display()))?,
            None if demo => run::demo::USER_CONF.to_string(),
            None => String::new(),
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let conf_path = dir.join("user.conf");
        std::fs::write(&conf_path, &user_conf)
            .with_context(|| format!("writing {}", conf_path.display()))?;
        let audit = args.run.config.audit_config_or_cwd();
        let files = ConfigFiles {
            mlperf_conf: args.run.config.mlperf_conf.as_deref(),
            user_conf: Some(&conf_path),
            audit_config: audit.as_deref(),
        };
        let settings = loadgen::resolve_settings(base, &model, files)?.settings;
        let mut samples = match &args.run.dataset {
            Some(path) => {
                let table = dataset::read_table(path)?;
                dataset::prompt_tokens(&table, path)?.len()
            }
            None => run::demo::prompts()?.len(),
        };
        if let Some(n) = args.run.max_samples {
            samples = samples.min(n);
        }
        anyhow::ensure!(samples > 0, "the dataset has no samples");
        preflight(&args.run)?;
        let fingerprint = fingerprint(&args, &user_conf);
        let record = TuneJson::resume_or_new(&dir, args.run.scenario.dir_name(), &fingerprint)?;
        if !record.probes.is_empty() {
            eprintln!(
                "tune: resuming from {} ({} probes done)",
                dir.join("tune.json").display(),
                record.probes.len()
            );
        }
        Ok(Tune {
            args,
            dir,
            model,
            user_conf,
            settings,
            samples: samples as u64,
            started: Instant::now(),
            overhead_s: FIRST_OVERHEAD_S,
            record,
            status: Arc::new(Mutex::new("tune: starting".into())),
        })
    }

    fn remaining_s(&self) -> f64 {
        self.args.budget.as_secs_f64() - self.started.elapsed().as_secs_f64()
    }

    /// The recorded probe for `req`, or a new run of it; `None` when its
    /// expected time (`cost_s`) does not fit the budget.
    fn probe(&mut self, req: &Request, cost_s: f64) -> anyhow::Result<Option<Probe>> {
        let concurrency = req.max_concurrency;
        if let Some(p) = self.record.recorded(req.kind, req.qps, concurrency) {
            return Ok(Some(p.clone()));
        }
        if cost_s > self.remaining_s() {
            return Ok(None);
        }
        let n = self.record.probes.len() + 1;
        let dir = TuneJson::probe_dir(&self.dir, n);
        // A probe interrupted before it was recorded left a partial folder.
        let _ = std::fs::remove_dir_all(&dir);
        let mut args = self.args.run.clone();
        if req.kind == "estimate" || req.kind == "sweep" {
            args.scenario = ScenarioArg::Offline;
            if args.max_concurrency.is_none() && req.max_concurrency.is_none() {
                args.max_concurrency = Some(tokio::sync::Semaphore::MAX_PERMITS);
            }
        }
        let Some(p) = probe::run_probe(
            &args,
            &self.user_conf,
            self.args.run.report_all_tokens,
            req,
            &dir,
        ) else {
            anyhow::bail!(
                "interrupted (Ctrl-C): the {} probes done so far are kept in {}; \
                 run the same command again to resume",
                self.record.probes.len(),
                self.dir.join("tune.json").display()
            );
        };
        self.record.probes.push(p.clone());
        self.record.save(&self.dir)?;
        Ok(Some(p))
    }

    /// The schedule's length of a Server probe at `qps` with `min_duration`,
    /// as LoadGen will generate it, plus the overhead seen so far.
    fn server_cost_s(&self, req: &Request) -> f64 {
        let mut s = self.settings.clone();
        s.server_target_qps = req.qps;
        if let Some(d) = req.min_duration {
            s.min_duration_ms = d.as_millis() as u64;
        }
        s.min_query_count = s.min_query_count.max(req.min_queries);
        let schedule = loadgen::plan(&s, self.samples, self.samples)
            .ok()
            .and_then(|p| p.series.last().map(|x| x.generated.duration_ns))
            .unwrap_or(0) as f64
            / 1e9;
        schedule + self.overhead_s
    }

    /// Learns the overhead from a probe that ran: its time beyond its schedule.
    fn learn(&mut self, p: &Probe, planned_s: f64) {
        let schedule = planned_s - self.overhead_s;
        if p.verdict != "error" {
            self.overhead_s = self.overhead_s.max(p.duration_s - schedule);
        }
    }

    /// A Server probe at `qps`: `search` probes run `--probe-duration` and at
    /// least [`PROBE_MIN_QUERIES`]; the confirming run keeps the config's
    /// minimums unless `--confirm-duration` shortens the duration.
    fn server_request(&self, kind: &'static str, qps: f64) -> Request {
        let key = format!("{}.Server", self.model);
        let (min_duration, min_queries) = match kind {
            "search" => (
                Some(self.args.probe_duration),
                self.settings.min_query_count.max(PROBE_MIN_QUERIES),
            ),
            _ => (self.args.confirm_duration, self.settings.min_query_count),
        };
        let mut overrides = format!("{key}.target_qps = {qps}\n");
        if let Some(d) = min_duration {
            overrides += &format!("{key}.min_duration = {}\n", d.as_millis());
        }
        overrides += &format!("{key}.min_query_count = {min_queries}\n");
        Request {
            kind,
            qps,
            max_concurrency: None,
            overrides,
            min_duration,
            min_queries,
        }
    }

    fn say(&self, line: String) {
        if let Ok(mut s) = self.status.lock() {
            *s = line;
        }
    }

    /// The Server/Interactive search.
    fn server(&mut self) -> anyhow::Result<ExitCode> {
        let probe_d = self.args.probe_duration;
        let least = probe_d.as_secs_f64();
        anyhow::ensure!(
            self.args.budget.as_secs_f64() > least,
            "--budget {:?} is too small for even one probe: a probe runs at least --probe-duration {:?}, \
             plus some seconds to start and drain; raise --budget or lower --probe-duration",
            self.args.budget,
            probe_d
        );
        let start = match self.args.start_qps {
            Some(q) => {
                anyhow::ensure!(
                    q.is_finite() && q > 0.0,
                    "--start-qps must be a positive number"
                );
                q
            }
            None => self.estimate()?,
        };
        let mut search = QpsSearch::new(start);
        let mut ran = 0usize;
        self.record.outcome = loop {
            let q = match search.next() {
                Step::Probe(q) => q,
                Step::Done => break "bracketed within 2 %".into(),
                Step::NoPass => break "no passing QPS".into(),
            };
            let req = self.server_request("search", q);
            let cost = self.server_cost_s(&req);
            self.say(format!(
                "tune: probe {} of ~{}: {q:.3} qps; bracket [{}, {}); last {}; {:.0} s of budget left",
                self.record.probes.len() + 1,
                self.record.probes.len() + 2 + search.remaining(),
                search.lo.map_or("-".into(), |v| format!("{v:.3}")),
                search.hi.map_or("-".into(), |v| format!("{v:.3}")),
                self.record.probes.last().map_or("-", |p| p.verdict.as_str()),
                self.remaining_s()
            ));
            let Some(p) = self.probe(&req, cost)? else {
                anyhow::ensure!(
                    ran > 0 || search.lo.is_some() || search.hi.is_some(),
                    "--budget {:?} is too small for even one probe: a probe at {q:.3} qps takes about \
                     {cost:.0} s; raise --budget or lower --probe-duration",
                    self.args.budget
                );
                break "budget spent".into();
            };
            ran += 1;
            self.learn(&p, cost);
            search.record(q, p.verdict());
        };
        self.record.highest_pass_qps = search.lo;
        self.record.lowest_fail_qps = search.hi;
        let Some(lo) = search.lo else {
            let why: Vec<String> = self
                .record
                .probes
                .iter()
                .filter(|p| p.kind == "search")
                .map(|p| format!("{:.3} qps: {}", p.qps, p.reason))
                .collect();
            self.record.outcome = format!("no passing QPS ({})", self.record.outcome);
            self.record.save(&self.dir)?;
            let mut out = std::io::stdout().lock();
            output::write_table(&mut out, &self.record)?;
            anyhow::bail!(
                "no passing QPS: no probe was VALID; {}",
                why.last()
                    .map_or("no probe ran".into(), |w| format!("the last one at {w}"))
            );
        };
        let margin = self.margin(lo, search.hi);
        self.record.margin = Some(margin);
        let mut target = floor2(lo * (1.0 - margin));
        for attempt in 0..2 {
            let req = self.server_request("confirm", target);
            let cost = self.server_cost_s(&req);
            self.say(format!(
                "tune: confirming run at {target} qps (about {cost:.0} s)"
            ));
            let Some(p) = self.probe(&req, cost)? else {
                self.record.outcome += "; the confirming run did not fit the budget";
                break;
            };
            self.record.target_qps = Some(target);
            self.record.confirmed = Some(p.verdict == "VALID");
            if p.verdict == "VALID" || attempt == 1 {
                break;
            }
            target = floor2(target * (1.0 - margin.max(search::RESOLUTION)));
        }
        if self.record.target_qps.is_none() {
            self.record.target_qps = Some(target);
        }
        self.record.save(&self.dir)?;
        Ok(match self.record.confirmed {
            Some(false) => {
                eprintln!(
                    "error: the confirming run at {target} qps was INVALID ({}); the boundary moved \
                     between probes: rerun with longer --probe-duration",
                    self.record.probes.last().map_or("", |p| p.reason.as_str())
                );
                ExitCode::FAILURE
            }
            _ => ExitCode::SUCCESS,
        })
    }

    /// Samples/s of an Offline burst: the capacity; the search starts at 80 % of it.
    fn estimate(&mut self) -> anyhow::Result<f64> {
        let key = "gpt-oss-120b.Offline";
        let req = Request {
            kind: "estimate",
            qps: 0.0,
            max_concurrency: None,
            overrides: format!("{key}.min_duration = 0\n{key}.min_query_count = {BURST_QUERIES}\n"),
            min_duration: None,
            min_queries: BURST_QUERIES,
        };
        self.say("tune: estimating capacity with an Offline burst".into());
        let p = self
            .probe(&req, 0.0)?
            .context("the budget ran out before the capacity estimate")?;
        match (p.samples_per_second, p.verdict.as_str()) {
            (Some(sps), v) if v != "error" && sps > 0.0 => Ok(0.8 * sps),
            _ => anyhow::bail!(
                "the capacity estimate (an Offline burst of {BURST_QUERIES} samples, logs in {}) failed: {}; \
                 check the endpoint, or give --start-qps",
                p.logs.display(),
                p.reason
            ),
        }
    }

    /// The margin from the search probes' p99 spread (`margin.rs`).
    fn margin(&self, lo: f64, hi: Option<f64>) -> f64 {
        let points = |f: fn(&Probe) -> Option<f64>| -> Vec<margin::Point> {
            self.record
                .probes
                .iter()
                .filter(|p| p.kind == "search" && p.verdict != "error")
                .filter_map(|p| {
                    f(p).map(|ms| margin::Point {
                        qps: p.qps,
                        p99: ms * 1e6,
                        valid: p.verdict == "VALID",
                    })
                })
                .collect()
        };
        let s = &self.settings;
        let constraints = [
            (points(|p| p.p99_ttft_ms), s.server_ttft_latency as f64),
            (points(|p| p.p99_tpot_ms), s.server_tpot_latency as f64),
        ];
        margin::margin(&constraints, lo, hi.map(|hi| hi / lo - 1.0))
    }

    /// The Offline sweep: per-endpoint concurrency 1, 2, 4, … until tokens/s stops rising.
    fn offline(&mut self) -> anyhow::Result<ExitCode> {
        let endpoints = self.args.run.backend.endpoint.len().max(1);
        let mut sweep = ConcurrencySweep::new(4096);
        let probe_ms = self.args.probe_duration.as_millis();
        let mut expected_qps = 1.0f64;
        let mut cost = self.args.probe_duration.as_secs_f64() + self.overhead_s;
        anyhow::ensure!(
            self.args.budget.as_secs_f64() > cost,
            "--budget {:?} is too small for even one probe of --probe-duration {:?} (about {cost:.0} s); \
             raise --budget or lower --probe-duration",
            self.args.budget,
            self.args.probe_duration
        );
        self.record.outcome = loop {
            let SweepStep::Probe(c) = sweep.next() else {
                break "tokens/s stopped rising".into();
            };
            let total = c * endpoints;
            let key = "gpt-oss-120b.Offline";
            let req = Request {
                kind: "sweep",
                qps: 0.0,
                max_concurrency: Some(total),
                overrides: format!(
                    "{key}.min_duration = {probe_ms}\n{key}.target_qps = {expected_qps}\n\
                     {key}.min_query_count = {}\n",
                    4 * total
                ),
                min_duration: Some(self.args.probe_duration),
                min_queries: 4 * total as u64,
            };
            self.say(format!(
                "tune: probe {}: --max-concurrency {total} ({c} per endpoint); {:.0} s of budget left",
                self.record.probes.len() + 1,
                self.remaining_s()
            ));
            let Some(p) = self.probe(&req, cost)? else {
                break "budget spent".into();
            };
            cost = cost.max(p.duration_s * 1.2);
            match (p.tokens_per_second, p.verdict.as_str()) {
                (Some(tps), v) if v != "error" => {
                    sweep.record(c, tps);
                    // The next probe doubles concurrency: expect up to twice the samples/s.
                    expected_qps = 2.0 * p.samples_per_second.unwrap_or(expected_qps);
                }
                _ => {
                    break format!(
                        "the probe at --max-concurrency {total} failed: {}",
                        p.reason
                    )
                }
            }
        };
        let knee = sweep.knee();
        self.record.knee_per_endpoint = knee;
        self.record.max_concurrency = knee.map(|k| k * endpoints);
        self.record.plateau_tokens_per_second = sweep.plateau();
        self.record.save(&self.dir)?;
        anyhow::ensure!(
            knee.is_some(),
            "no Offline probe measured tokens/s: {}",
            self.record.outcome
        );
        Ok(ExitCode::SUCCESS)
    }

    fn print_result(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let r = &self.record;
        writeln!(out, "\n{}: {}", r.scenario, r.outcome)?;
        if let (Some(k), Some(tps)) = (r.max_concurrency, r.plateau_tokens_per_second) {
            writeln!(
                out,
                "plateau {tps:.0} tokens/s; knee at --max-concurrency {k} ({} per endpoint)",
                r.knee_per_endpoint.unwrap_or(k)
            )?;
        }
        if let Some(target) = r.target_qps {
            writeln!(
                out,
                "highest VALID {} qps, lowest INVALID {} qps, margin {:.1} % → target_qps {target}{}",
                r.highest_pass_qps.map_or("-".into(), |v| format!("{v:.3}")),
                r.lowest_fail_qps.map_or("-".into(), |v| format!("{v:.3}")),
                100.0 * r.margin.unwrap_or(0.0),
                match r.confirmed {
                    Some(true) => " (confirmed VALID)",
                    Some(false) => " (confirming run INVALID)",
                    None => " (not confirmed)",
                }
            )?;
            writeln!(out, "\n# user.conf")?;
            writeln!(out, "{}", output::user_conf_line(&self.model, target))?;
        }
        writeln!(out, "\ndetails: {}", self.dir.join("tune.json").display())
    }
}

/// Requests per endpoint that warm the server up before the first probe.
const WARM_UP_REQUESTS: usize = 4;

/// An HTTP backend must answer before the search starts: a wrong URL fails
/// in seconds, not as a search in which every probe failed. Then a few short
/// requests warm each server up, so that its lazy start (a vocabulary load,
/// a first connection) does not land in the first probe's p99. Their
/// failures are left to the probes to record.
fn preflight(run: &run::Args) -> anyhow::Result<()> {
    if run.backend.backend == crate::backend_args::BackendArg::Embedded {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let backend = run
        .backend
        .build(run.backend.timeout()?, &runtime)
        .context("tune: the backend is not ready, so no probe can run")?;
    let requests = WARM_UP_REQUESTS * run.backend.endpoint.len().max(1);
    runtime.block_on(async {
        let warm = (0..requests).map(|i| {
            let backend = backend.clone();
            async move {
                let ids = (0..16u32).map(|t| 1000 + 7 * t + i as u32).collect();
                let request = backend::GenerateRequest::reference(ids, 2, true);
                if let Ok(generation) = backend.generate(request).await {
                    let _ = generation.finish().await;
                }
            }
        });
        join_all(warm).await;
    });
    Ok(())
}

/// Runs the futures concurrently to completion (tokio has no `join_all`).
async fn join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let mut set = tokio::task::JoinSet::new();
    for f in futures {
        set.spawn(f);
    }
    while set.join_next().await.is_some() {}
}

/// Rounds down to 0.01 QPS (what a person pastes).
fn floor2(q: f64) -> f64 {
    (q * 100.0).floor() / 100.0
}

/// The settings a search's probes depend on: a rerun with the same ones resumes.
fn fingerprint(args: &Args, user_conf: &str) -> String {
    let r = &args.run;
    // FNV-1a of the user.conf text: stable across builds, unlike std's hasher.
    let conf = user_conf.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!(
        "scenario={} backend={:?} endpoints={:?} model={} dataset={:?} max_samples={:?} \
         max_new_tokens={:?} max_concurrency={:?} loadgen={:?} probe={:?} start_qps={:?} \
         confirm={:?} user_conf={conf:016x}",
        r.scenario.dir_name(),
        r.backend.backend,
        r.backend.endpoint,
        r.backend.model.model,
        r.dataset,
        r.max_samples,
        r.max_new_tokens,
        r.max_concurrency,
        r.loadgen,
        args.probe_duration,
        args.start_qps,
        args.confirm_duration,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        for (text, secs) in [
            ("90", 90.0),
            ("90s", 90.0),
            ("500ms", 0.5),
            ("30m", 1800.0),
            ("1h", 3600.0),
        ] {
            assert_eq!(parse_duration(text).unwrap().as_secs_f64(), secs, "{text}");
        }
        assert!(parse_duration("ten")
            .unwrap_err()
            .contains("not a duration"));
        assert!(parse_duration("5d").unwrap_err().contains("unit"));
    }
}
