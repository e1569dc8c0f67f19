//! `mlperf-gptoss serve`: the embedded engine (or the synthetic timing
//! model) behind SGLang- and OpenAI-compatible HTTP, until SIGINT/SIGTERM,
//! which stop new connections and let in-flight requests finish.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::Backend;
use engine::sim::{OutputLen, SimConfig, SimModel};
use engine::{Engine, EngineConfig, ModelInfo};

/// Command-line arguments of `serve`.
#[derive(clap::Args)]
pub struct Args {
    /// `tiny` (built-in GPT-OSS with the real vocabulary and seeded weights),
    /// `sim` (synthetic timing model, no compute), or a Hugging Face GPT-OSS
    /// checkpoint folder (config.json + safetensors with MXFP4 experts).
    #[arg(long, default_value = "tiny")]
    model: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (SGLang's default is 30000; 0 picks a free one).
    #[arg(long, default_value_t = 30000)]
    port: u16,
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

fn backend_for(args: &Args) -> anyhow::Result<(Arc<dyn Backend>, ModelInfo)> {
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
            let model = engine::tiny::tiny().context("building the built-in tiny model")?;
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
            let model = engine::model::GptOss::load(&dir)?;
            let engine = Engine::start(model, engine_cfg(path.to_string()));
            let info = engine.info().clone();
            Ok((Arc::new(engine), info))
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (backend, info) = backend_for(&args)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let addr = format!("{}:{}", args.host, args.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: pick another --host/--port"))?;
        let local = listener.local_addr()?;
        tracing::info!(model = %info.model_name, "serving");
        // The one line scripts and tests wait for.
        println!("listening on http://{local}");
        engine::server::serve(listener, backend, info, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
