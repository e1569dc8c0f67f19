//! `mlperf-gptoss serve`: the embedded engine (or the synthetic timing
//! model) behind SGLang- and OpenAI-compatible HTTP, until SIGINT/SIGTERM,
//! which stop new connections and let in-flight requests finish.

use std::process::ExitCode;

use anyhow::Context;

use crate::model_args::ModelArgs;

/// Command-line arguments of `serve`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (SGLang's default is 30000; 0 picks a free one).
    #[arg(long, default_value_t = 30000)]
    port: u16,
    /// How /generate streams output_ids and text: only the new ones (SGLang's
    /// --incremental-streaming-output) or all so far (SGLang's default).
    #[arg(long, value_enum, default_value = "incremental")]
    stream_output: StreamOutputArg,
}

/// `--stream-output`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum StreamOutputArg {
    /// Each chunk holds only the new ids and text.
    Incremental,
    /// Each chunk repeats every id and all text so far.
    Cumulative,
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

/// Serves until SIGTERM or Ctrl-C, then drains the requests in flight.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (backend, info) = args.model.build()?;
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
        let options = engine::ServeOptions {
            sglang_stream_output: match args.stream_output {
                StreamOutputArg::Incremental => engine::StreamOutput::Incremental,
                StreamOutputArg::Cumulative => engine::StreamOutput::Cumulative,
            },
        };
        engine::serve_with(listener, backend, info, options, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
