//! After an accuracy-mode run: what it wrote and the exact `eval` command
//! that scores it, so the next step is a copy and paste.

use std::path::{Path, PathBuf};

use dataset::{Table, Value};

use super::demo;

/// The reference data `eval` needs for a run's accuracy log.
pub enum ReferenceData {
    /// The demo preset: the bundled sample and its LiveCodeBench problems,
    /// written beside the logs when the run ends.
    Demo,
    /// A dataset file: `eval` reads it if it has `dataset` and
    /// `ground_truth` columns; LiveCodeBench rows need `--lcb-dir`.
    File {
        /// The file, when it has both columns.
        path: Option<PathBuf>,
        /// Some row's sub-dataset is LiveCodeBench.
        has_lcb: bool,
    },
}

impl ReferenceData {
    /// What `eval` can use of `table`, read from `path`.
    pub fn of_table(path: &Path, table: &Table) -> ReferenceData {
        let scorable = table.column("dataset").is_some() && table.column("ground_truth").is_some();
        let has_lcb = table.column("dataset").is_some_and(|c| {
            c.values
                .iter()
                .any(|v| matches!(v, Value::Str(s) if s.to_lowercase().contains("livecodebench")))
        });
        ReferenceData::File {
            path: scorable.then(|| path.to_path_buf()),
            has_lcb,
        }
    }
}

/// Prints what the accuracy run in `outdir` wrote and the `eval` command
/// that scores it; for the demo, first writes the files that command reads.
pub fn announce(outdir: &Path, reference: &ReferenceData) -> anyhow::Result<()> {
    let log = outdir.join("mlperf_log_accuracy.json");
    let (reference, lcb_dir) = match reference {
        ReferenceData::Demo => {
            let inputs = demo::write_eval_inputs(outdir)?;
            eprintln!(
                "wrote {} (the accuracy log), samples.jsonl, results.json, and for eval the demo's \
                 reference data {} and LiveCodeBench problems {}",
                log.display(),
                inputs.reference.display(),
                inputs.lcb_dir.display()
            );
            (
                shell_word(&inputs.reference.to_string_lossy()),
                Some(shell_word(&inputs.lcb_dir.to_string_lossy())),
            )
        }
        ReferenceData::File { path, has_lcb } => {
            eprintln!(
                "wrote {} (the accuracy log), samples.jsonl and results.json",
                log.display()
            );
            let reference = path.as_ref().map_or_else(
                // Without both columns the run's dataset cannot be the reference.
                || "ACC_EVAL_REF.parquet".to_string(),
                |p| shell_word(&p.to_string_lossy()),
            );
            (
                reference,
                has_lcb.then(|| "CODE_GENERATION_LITE_DIR".to_string()),
            )
        }
    };
    let mut command = format!(
        "mlperf-gptoss eval --mlperf-log {} --reference-data {reference}",
        shell_word(&log.to_string_lossy())
    );
    if let Some(dir) = lcb_dir {
        command.push_str(&format!(" --lcb-dir {dir}"));
    }
    eprintln!("score it with:\n  {command}");
    Ok(())
}

/// `word` as one shell word: unchanged when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn words_the_shell_would_split_are_quoted() {
        // (word, what sh must see it as)
        let cases = [
            "mlperf_results/offline/accuracy/mlperf_log_accuracy.json",
            "my runs/log.json",
            "it's",
            "",
            "$HOME/x",
        ];
        for word in cases {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf %s {}", shell_word(word))])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), word, "{word:?}");
        }
    }
}
