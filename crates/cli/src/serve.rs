//! `mlperf-gptoss serve` (work in progress).

/// Command-line arguments of `serve`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("`serve` is not implemented yet")
}
