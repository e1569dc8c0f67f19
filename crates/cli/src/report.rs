//! `mlperf-gptoss report`: one self-contained HTML file from one or more run
//! folders (the `report` crate reads and renders), and what `run` prints and
//! writes about its report at its end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// Command-line arguments of `report`.
#[derive(clap::Args)]
pub struct Args {
    /// Run folders: what `run` or `compliance` wrote (e.g. mlperf_results/server/performance),
    /// or a folder of logs from the official harness. Several are compared side by side.
    #[arg(required = true, value_name = "RUN_DIR")]
    dirs: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short, long, default_value = "report.html")]
    output: PathBuf,
}

/// Writes the report and lists what could not be read.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    write(&args.dirs, &args.output)?;
    Ok(ExitCode::SUCCESS)
}

fn write(dirs: &[PathBuf], output: &Path) -> anyhow::Result<()> {
    let notes = report::write_report(dirs, output)?;
    for (dir, notes) in notes {
        for note in notes {
            eprintln!("note: {}: {note}", dir.display());
        }
    }
    eprintln!("report: {}", output.display());
    Ok(())
}

/// The end of `run`: the client self-check line, and with `--report` the
/// report beside the logs. A report that cannot be written is a warning: the
/// run and its logs stand.
pub fn after_run(outdir: &Path, write_report: bool) {
    if let Some(check) = report::self_check(outdir) {
        eprintln!("  {}", check.line());
    }
    if write_report {
        let path = outdir.join("report.html");
        if let Err(e) = write(&[outdir.to_path_buf()], &path)
            .with_context(|| format!("writing the report of {}", outdir.display()))
        {
            eprintln!("warning: {e:#}");
        }
    }
}
