//! `submission pack`: the tree as submitters hand it in, a gzipped tar of the
//! `<division>/` folders (nothing beside them: not the full logs, the runs or
//! the state file) and the archive's sha1 in `sha1sum` format. It runs
//! `check` first and refuses a tree with problems unless told otherwise.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sha1::{Digest, Sha1};

use super::layout::DIVISIONS;

/// `submission pack`.
#[derive(clap::Args)]
pub struct Args {
    /// The submission directory (holding closed/, open/ or network/).
    submission_dir: PathBuf,
    /// The archive [default: <submission-dir>/<org>.tar.gz].
    #[arg(long)]
    output: Option<PathBuf>,
    /// Pack even when `submission check` finds problems (they are still printed).
    #[arg(long)]
    allow_problems: bool,
}

/// Checks, packs, and prints the archive and its sha1.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = &args.submission_dir;
    let problems = super::check::check(root);
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() && !args.allow_problems {
        anyhow::bail!(
            "submission check found {} problem(s) in {}; fix them, or pass --allow-problems to pack anyway",
            problems.len(),
            root.display()
        );
    }
    let divisions: Vec<&str> = DIVISIONS
        .iter()
        .copied()
        .filter(|d| root.join(d).is_dir())
        .collect();
    anyhow::ensure!(
        !divisions.is_empty(),
        "{}: no closed/, open/ or network/ folder to pack",
        root.display()
    );
    let output = match args.output {
        Some(p) => p,
        None => {
            let org = std::fs::read_dir(root.join(divisions[0]))?
                .flatten()
                .find(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .unwrap_or_else(|| "submission".into());
            root.join(format!("{org}.tar.gz"))
        }
    };
    pack(root, &divisions, &output)?;
    let sha1 = sha1_file(&output)?;
    let name = output
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let sha1_path = PathBuf::from(format!("{}.sha1", output.display()));
    std::fs::write(&sha1_path, format!("{sha1}  {name}\n"))
        .with_context(|| format!("writing {}", sha1_path.display()))?;
    println!(
        "{}\nsha1 {sha1} (also in {})",
        output.display(),
        sha1_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the archive: every file under each division, in sorted order.
fn pack(root: &Path, divisions: &[&str], output: &Path) -> anyhow::Result<()> {
    let tmp = PathBuf::from(format!("{}.tmp", output.display()));
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    let mut files = Vec::new();
    for d in divisions {
        walk(&root.join(d), &mut files)?;
    }
    files.sort();
    for path in files {
        let name = path.strip_prefix(root).unwrap_or(&path);
        tar.append_path_with_name(&path, name)
            .with_context(|| format!("adding {} to {}", path.display(), tmp.display()))?;
    }
    tar.into_inner()?.finish()?;
    std::fs::rename(&tmp, output).with_context(|| format!("writing {}", output.display()))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    out.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn sha1_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
