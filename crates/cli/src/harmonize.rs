//! `mlperf-gptoss harmonize` (work in progress).

/// Command-line arguments of `harmonize`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("`harmonize` is not implemented yet")
}
