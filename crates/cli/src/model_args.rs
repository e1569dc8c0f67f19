//! Which model generates tokens: the flags `serve` and `run` share, and
//! the one place that turns them into a [`Backend`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::Backend;
use engine::{Engine, EngineConfig, ModelInfo, OutputLen, SimConfig, SimModel};

/// The embedded model and its engine limits.
#[derive(clap::Args, Clone, Debug)]
pub struct ModelArgs {
    /// `tiny` (built-in GPT-OSS with the real vocabulary and seeded weights),
    /// `sim` (synthetic timing model, no compute), or a Hugging Face GPT-OSS
    /// checkpoint folder (config.json + safetensors with MXFP4 experts).
    #[arg(long, default_value = "tiny")]
    pub model: String,
    /// Most sequences decoded together; more requests wait in a queue.
    #[arg(long, default_value_t = 256)]
    max_running_requests: usize,
    /// Tokens per engine step: prompts longer than this are prefilled in chunks.
    #[arg(long, default_value_t = 512)]
    chunked_prefill_size: usize,
    /// Longest prompt + output, in tokens.
    #[arg(long, default_value_t = 32768)]
    context_length: usize,
    /// sim: time to first token, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    sim_ttft_ms: f64,
    /// sim: time per output token after the first, in milliseconds.
    #[arg(long, default_value_t = 5.0)]
    sim_tpot_ms: f64,
    /// sim: output lengths: max (= max_new_tokens), fixed:N, uniform:LO:HI or exp:MEAN.
    #[arg(long, default_value = "max")]
    sim_output_len: OutputLen,
    /// sim: tokens per streamed chunk (SGLang's --stream-interval).
    #[arg(long, default_value_t = 1)]
    sim_stream_interval: usize,
    /// sim: requests generating at once; the rest queue.
    #[arg(long, default_value_t = 1024)]
    sim_max_concurrency: usize,
}

fn ms(v: f64, flag: &str) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        v.is_finite() && v >= 0.0,
        "{flag} must be a non-negative number of milliseconds, got {v}"
    );
    Ok(Duration::from_secs_f64(v / 1000.0))
}

impl ModelArgs {
    /// Starts the chosen model; `info` says what it is (name, vocabulary, synthetic or not).
    pub fn build(&self) -> anyhow::Result<(Arc<dyn Backend>, ModelInfo)> {
        let args = self;
        let engine_cfg = |name: String| EngineConfig {
            max_running: args.max_running_requests.max(1),
            max_step_tokens: args.chunked_prefill_size.max(1),
            max_context: args.context_length.max(2),
            model_name: name,
        };
        match args.model.as_str() {
            "sim" => {
                let sim = SimModel::new(SimConfig {
                    ttft: ms(args.sim_ttft_ms, "--sim-ttft-ms")?,
                    tpot: ms(args.sim_tpot_ms, "--sim-tpot-ms")?,
                    output_len: args.sim_output_len.clone(),
                    stream_interval: args.sim_stream_interval.max(1),
                    max_concurrency: args.sim_max_concurrency.max(1),
                    max_context: args.context_length.max(2),
                });
                let info = sim.info();
                Ok((Arc::new(sim), info))
            }
            "tiny" => {
                let model = engine::tiny().context("building the built-in tiny model")?;
                let engine = Engine::start(
                    model,
                    engine_cfg("gpt-oss-tiny (built-in, seeded weights)".into()),
                );
                let info = engine.info().clone();
                Ok((Arc::new(engine), info))
            }
            path => {
                let dir = PathBuf::from(path);
                anyhow::ensure!(
                    dir.is_dir(),
                    "--model {path}: not tiny, sim, or a checkpoint folder (config.json + model.safetensors)"
                );
                let model = engine::GptOss::load(&dir)?;
                let engine = Engine::start(model, engine_cfg(path.to_string()));
                let info = engine.info().clone();
                Ok((Arc::new(engine), info))
            }
        }
    }
}
