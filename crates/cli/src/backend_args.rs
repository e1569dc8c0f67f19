//! Which backend generates the tokens: the flags `run` and `infer` share
//! (`--backend`, `--endpoint`, the embedded model's flags, `--timeout`), and
//! the one place that turns them into a ready [`Backend`].

use std::sync::Arc;
use std::time::Duration;

use backend::{Backend, EndpointPool, HttpConfig, OpenAiBackend, SglangBackend};

use crate::model_args::ModelArgs;

/// Which server generates the tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// The embedded engine, in-process (see --model).
    Embedded,
    /// SGLang's native /generate API at --endpoint.
    Sglang,
    /// An OpenAI-compatible /v1/completions API (vLLM, TensorRT-LLM, SGLang) at --endpoint.
    Openai,
}

/// The backend flags, flattened into each command that generates tokens.
#[derive(clap::Args, Clone)]
pub struct BackendArgs {
    /// Where tokens are generated: the embedded engine or a server at --endpoint.
    #[arg(long, value_enum, default_value = "embedded")]
    pub backend: BackendArg,
    /// Server URL for sglang/openai; repeat for several endpoints.
    #[arg(long)]
    pub endpoint: Vec<String>,
    /// The embedded model, for `--backend embedded`.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Seconds before one request is abandoned and recorded as an error.
    #[arg(long, default_value_t = 1200.0)]
    pub timeout: f64,
    /// A PEM file of certificate authorities to trust for https:// endpoints,
    /// besides the public web roots (a private CA); may repeat.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Vec<std::path::PathBuf>,
}

impl BackendArgs {
    /// `--timeout` as a duration, refused unless positive and finite.
    pub fn timeout(&self) -> anyhow::Result<Duration> {
        anyhow::ensure!(
            self.timeout.is_finite() && self.timeout > 0.0,
            "--timeout must be a positive number of seconds"
        );
        Ok(Duration::from_secs_f64(self.timeout))
    }

    /// The backend named on the command line; HTTP endpoints must answer a
    /// readiness probe before any work starts, so a typo fails in seconds.
    pub fn build(
        &self,
        timeout: Duration,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Arc<dyn Backend>> {
        if self.backend == BackendArg::Embedded {
            anyhow::ensure!(
                self.endpoint.is_empty() && self.ca_cert.is_empty(),
                "--endpoint and --ca-cert are for --backend sglang or openai, not embedded"
            );
            return Ok(self.model.build()?.0);
        }
        anyhow::ensure!(
            !self.endpoint.is_empty(),
            "--backend {:?} needs at least one --endpoint URL",
            self.backend
        );
        let config = HttpConfig {
            request_timeout: timeout,
            ca_certs: self.ca_cert.clone(),
            ..HttpConfig::default()
        };
        let pool = runtime.block_on(async {
            let pool = EndpointPool::new(&self.endpoint, config)?;
            for ready in pool.check_ready(Duration::from_secs(10)).await? {
                eprintln!("endpoint {} is ready ({})", ready.endpoint, ready.probe);
            }
            anyhow::Ok(pool)
        })?;
        Ok(match self.backend {
            BackendArg::Openai => Arc::new(OpenAiBackend::new(pool)),
            _ => Arc::new(SglangBackend::new(pool)),
        })
    }
}
