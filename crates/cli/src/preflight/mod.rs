//! `mlperf-gptoss preflight`: in well under a minute, checks that a server
//! is fit for hours of runs — reachable, returning token ids, stopping where
//! the reference stops, honouring `max_new_tokens`, sampling, streaming for
//! real, counting what it sends, answering in harmony, fast enough for the
//! scenario, and serving requests concurrently — and prints each check as
//! PASS, WARN, FAIL or SKIP with its evidence. `run --preflight` runs it
//! first and stops before LoadGen on a FAIL.
//!
//! `probes` sends the requests, `checks` judges what came back, `limits`
//! reads the scenario's latency limits, `report` prints and saves the result.

mod checks;
mod limits;
mod probes;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use backend::EndpointPool;

use crate::backend_args::{http_backend, http_config, BackendArg, OpenAiOptions};
use crate::plan::ScenarioArg;
use limits::Limits;
use report::{EndpointReport, Report, Status};

/// How long the readiness probe waits for each answer.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Command-line arguments of `preflight`.
#[derive(clap::Args)]
pub struct Args {
    /// Server URL; repeat to check several (each on its own).
    #[arg(long, required = true)]
    endpoint: Vec<String>,
    /// The server's protocol: sglang (SGLang's /generate) or openai
    /// (/v1/completions: vLLM, TensorRT-LLM, SGLang).
    #[arg(long, default_value = "sglang", value_parser = server_protocol)]
    backend: BackendArg,
    /// Whose TTFT/TPOT limits (from mlperf.conf) the probes are held to.
    #[arg(long, value_enum, default_value = "server")]
    scenario: ScenarioArg,
    /// Also write the report as JSON to this file (keep it with the submission's notes).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Requests sent at once by the concurrency check.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Output-token budget of each answer probe (a short question at low reasoning effort).
    #[arg(long, default_value_t = 512)]
    max_new_tokens: u32,
    /// Seconds before one probe request is abandoned.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// A PEM file of certificate authorities to trust for https:// endpoints; may repeat.
    #[arg(long, value_name = "PEM")]
    ca_cert: Vec<PathBuf>,
    /// mlperf.conf to read the latency limits from instead of the built-in one.
    #[arg(long)]
    mlperf_conf: Option<PathBuf>,
}

/// `--backend`: the HTTP kinds only, since preflight checks a server.
fn server_protocol(text: &str) -> Result<BackendArg, String> {
    use clap::ValueEnum;
    match BackendArg::from_str(text, true) {
        Ok(BackendArg::Embedded) | Err(_) => {
            Err("preflight checks a server: use sglang or openai".into())
        }
        Ok(kind) => Ok(kind),
    }
}

/// What to check and how hard: from `preflight`'s flags or from `run`'s.
pub struct Settings {
    /// The protocol (never the embedded engine).
    pub backend: BackendArg,
    /// The servers, each checked on its own.
    pub endpoints: Vec<String>,
    /// Extra certificate authorities for https.
    pub ca_certs: Vec<PathBuf>,
    /// The latency limits.
    pub limits: Limits,
    /// How much the probes send.
    pub plan: probes::Plan,
}

/// Runs the checks, prints the report on stdout, writes `--json`; exits
/// non-zero on any FAIL.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.timeout.is_finite() && args.timeout > 0.0,
        "--timeout must be a positive number of seconds"
    );
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(
        args.max_new_tokens > probes::CAP,
        "--max-new-tokens must be more than {} (the max_new_tokens check's own limit)",
        probes::CAP
    );
    let settings = Settings {
        backend: args.backend,
        endpoints: args.endpoint,
        ca_certs: args.ca_cert,
        limits: Limits::of(args.scenario, args.mlperf_conf.as_deref())?,
        plan: probes::Plan {
            answer_tokens: args.max_new_tokens,
            concurrency: args.concurrency,
            timeout: Duration::from_secs_f64(args.timeout),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(check(settings))?;
    print!("{}", report.text());
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    Ok(if report.verdict == Status::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `run --preflight`: the checks with `run`'s backend and scenario, printed
/// on stderr; an error (so LoadGen never starts) on any FAIL.
pub fn before_run(run: &crate::run::Args, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let b = &run.backend;
    anyhow::ensure!(
        b.backend != BackendArg::Embedded,
        "--preflight checks a server: use it with --backend sglang or openai and --endpoint"
    );
    let settings = Settings {
        backend: b.backend,
        endpoints: b.endpoint.clone(),
        ca_certs: b.ca_cert.clone(),
        limits: Limits::of(run.scenario, run.config.mlperf_conf.as_deref())?,
        plan: probes::Plan {
            answer_tokens: 512,
            concurrency: 8,
            timeout: b.timeout()?.min(Duration::from_secs(30)),
        },
    };
    let report = runtime.block_on(check(settings))?;
    eprint!("{}", report.text());
    anyhow::ensure!(
        report.verdict != Status::Fail,
        "preflight: {} check(s) FAILED (listed above); LoadGen was not started. Fix the \
         server, or run without --preflight",
        report.count(Status::Fail)
    );
    Ok(())
}

/// Checks every endpoint at once.
pub async fn check(settings: Settings) -> anyhow::Result<Report> {
    let prompt = Arc::new(probes::prompt()?);
    let settings = Arc::new(settings);
    let tasks: Vec<_> = settings
        .endpoints
        .iter()
        .map(|url| {
            let (settings, prompt, url) = (settings.clone(), prompt.clone(), url.clone());
            tokio::spawn(async move { check_endpoint(&settings, url, prompt).await })
        })
        .collect();
    let mut endpoints = Vec::new();
    for task in tasks {
        endpoints.push(task.await?);
    }
    let backend = match settings.backend {
        BackendArg::Openai => "openai",
        _ => "sglang",
    };
    Ok(Report::new(backend, settings.limits.clone(), endpoints))
}

/// Every check of one endpoint.
async fn check_endpoint(settings: &Settings, url: String, prompt: Arc<Vec<u32>>) -> EndpointReport {
    let config = http_config(settings.plan.timeout, &settings.ca_certs);
    let ready = backend::check_ready(&config, &url, READY_TIMEOUT).await;
    let mut report = EndpointReport {
        endpoint: url.clone(),
        checks: vec![checks::reachable(&ready)],
    };
    let Ok(ready) = ready else {
        let why = "not checked: the server is unreachable";
        report.checks.extend(checks::skipped(why));
        return report;
    };
    match EndpointPool::new(&[url], config) {
        Err(e) => {
            report.checks[0] = report::Check::new("reachable", Status::Fail, e.to_string());
            let why = "not checked: no client for this URL";
            report.checks.extend(checks::skipped(why));
        }
        Ok(pool) => {
            let client = http_backend(settings.backend, pool, &OpenAiOptions::default());
            let probes = probes::run(client, prompt, &settings.plan).await;
            report
                .checks
                .extend(checks::evaluate(&ready, &probes, &settings.limits));
        }
    }
    report
}
