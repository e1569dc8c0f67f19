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
    /// openai: the server returns only text and refuses unknown request
    /// fields (TensorRT-LLM's trtllm-serve): do not ask for token ids, count
    /// tokens by re-tokenizing its text with the harmony o200k tokenizer
    /// (labelled "re-tokenized" in samples.jsonl and the summary).
    #[arg(long)]
    pub text_only: bool,
    /// openai: the model name to put in every request (trtllm-serve requires
    /// one; vLLM and SGLang accept none when they serve one model).
    #[arg(long, value_name = "NAME")]
    pub served_model_name: Option<String>,
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
                self.endpoint.is_empty()
                    && self.ca_cert.is_empty()
                    && !self.text_only
                    && self.served_model_name.is_none(),
                "--endpoint, --ca-cert, --text-only and --served-model-name are for \
                 --backend sglang or openai, not embedded"
            );
            return Ok(self.model.build()?.0);
        }
        anyhow::ensure!(
            !self.endpoint.is_empty(),
            "--backend {:?} needs at least one --endpoint URL",
            self.backend
        );
        let config = http_config(timeout, &self.ca_cert);
        let pool = runtime.block_on(async {
            let pool = EndpointPool::new(&self.endpoint, config)?;
            for ready in pool.check_ready(Duration::from_secs(10)).await? {
                eprintln!("endpoint {} is ready ({})", ready.endpoint, ready.probe);
            }
            anyhow::Ok(pool)
        })?;
        anyhow::ensure!(
            self.backend == BackendArg::Openai
                || (!self.text_only && self.served_model_name.is_none()),
            "--text-only and --served-model-name are for --backend openai"
        );
        let openai = OpenAiOptions {
            text_only: self.text_only,
            served_model_name: self.served_model_name.clone(),
        };
        Ok(http_backend(self.backend, pool, &openai))
    }
}

/// The HTTP settings of `--timeout` and `--ca-cert`.
pub fn http_config(timeout: Duration, ca_certs: &[std::path::PathBuf]) -> HttpConfig {
    HttpConfig {
        request_timeout: timeout,
        ca_certs: ca_certs.to_vec(),
        ..HttpConfig::default()
    }
}

/// What `--text-only` and `--served-model-name` ask of an OpenAI client.
#[derive(Clone, Debug, Default)]
pub struct OpenAiOptions {
    /// Ask for text only and count tokens by re-tokenizing it.
    pub text_only: bool,
    /// The `model` field to send (trtllm-serve requires it).
    pub served_model_name: Option<String>,
}

/// The client `kind` names over `pool`: OpenAI's protocol for `openai`,
/// SGLang's otherwise.
pub fn http_backend(
    kind: BackendArg,
    pool: EndpointPool,
    openai: &OpenAiOptions,
) -> Arc<dyn Backend> {
    match kind {
        BackendArg::Openai => {
            let mut client = OpenAiBackend::new(pool);
            if openai.text_only {
                client = client.text_only();
            }
            if let Some(name) = &openai.served_model_name {
                client = client.with_model(name);
            }
            Arc::new(client)
        }
        _ => Arc::new(SglangBackend::new(pool)),
    }
}
