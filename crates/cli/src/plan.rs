//! `mlperf-gptoss plan` (work in progress).

/// Command-line arguments of `plan`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("`plan` is not implemented yet")
}
