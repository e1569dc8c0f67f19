//! Reading a run folder into a [`Run`]: every file that is there and readable
//! goes in; every file that is missing, cut short or of another kind becomes a
//! note that the report shows, so a partial folder still gives a report.

pub mod detail;
pub mod samples;
pub mod scores;
pub mod summary;
pub mod telemetry;

use std::path::{Path, PathBuf};

use crate::ReportError;
use detail::DetailLog;
use samples::SamplesFile;
use scores::{Score, Verify};
use summary::SummaryLog;
use telemetry::{EnergyReport, TelemetryFile};

/// LoadGen's summary log.
pub const SUMMARY: &str = "mlperf_log_summary.txt";
/// LoadGen's detail log.
pub const DETAIL: &str = "mlperf_log_detail.txt";
/// LoadGen's accuracy log.
pub const ACCURACY: &str = "mlperf_log_accuracy.json";
/// `run`'s per-sample records.
pub const SAMPLES: &str = "samples.jsonl";
/// `run`'s own totals.
pub const RESULTS: &str = "results.json";
/// `run`'s scrapes of the servers' `/metrics`.
pub const SERVER_METRICS: &str = "server_metrics.jsonl";
/// `run`'s GPU power readings.
pub const POWER: &str = "power.jsonl";
/// The verify files of the compliance tests, by test.
pub const VERIFY_FILES: [(&str, &str); 2] = [
    ("TEST07", "verify_accuracy.txt"),
    ("TEST09", "verify_output_len.txt"),
];

/// How deep below the run folder files are looked for (a compliance folder
/// keeps its logs in `performance/run_1/` and `accuracy/`).
const MAX_DEPTH: usize = 3;

/// Everything read from one run folder.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// The folder given.
    pub dir: PathBuf,
    /// The files read, relative to `dir`.
    pub read: Vec<String>,
    /// What could not be read, and why; shown at the top of the report.
    pub notes: Vec<String>,
    /// `mlperf_log_summary.txt`.
    pub summary: Option<SummaryLog>,
    /// `mlperf_log_detail.txt`.
    pub detail: Option<DetailLog>,
    /// `samples.jsonl`.
    pub samples: Option<SamplesFile>,
    /// `results.json`.
    pub results: Option<serde_json::Value>,
    /// `server_metrics.jsonl`.
    pub server_metrics: Option<TelemetryFile>,
    /// `power.jsonl`.
    pub power: Option<TelemetryFile>,
    /// `results.json`'s `energy`.
    pub energy: Option<EnergyReport>,
    /// Output tokens per entry of `mlperf_log_accuracy.json`, counted as TEST09 counts them.
    pub logged_output_lengths: Option<Vec<usize>>,
    /// An `eval` result found in the folder.
    pub score: Option<Score>,
    /// Compliance verify files found in the folder.
    pub verifies: Vec<Verify>,
}

impl Run {
    /// Reads what `dir` holds. Errors only when there is nothing to report:
    /// no such folder, or none of the files a run, `eval` or `compliance` writes.
    pub fn read(dir: &Path) -> Result<Run, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::NotAFolder(dir.to_path_buf()));
        }
        let files = list_files(dir);
        let mut run = Run {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        if let Some(text) = run.text_of(&files, SUMMARY) {
            run.summary = Some(SummaryLog::parse(&text));
        }
        if let Some(text) = run.text_of(&files, DETAIL) {
            let log = DetailLog::parse(&text);
            if !log.bad_lines.is_empty() {
                run.notes.push(format!(
                    "{DETAIL}: {} line(s) could not be read (line {}{}); the log may be cut short",
                    log.bad_lines.len(),
                    log.bad_lines[0],
                    if log.bad_lines.len() > 1 { " …" } else { "" }
                ));
            }
            run.detail = Some(log);
        }
        if let Some(text) = run.text_of(&files, SAMPLES) {
            let file = samples::parse(&text);
            run.note_bad_lines(SAMPLES, &file.bad_lines);
            run.samples = Some(file);
        }
        for name in [SERVER_METRICS, POWER] {
            if let Some(text) = run.text_of(&files, name) {
                let file = telemetry::parse(&text);
                run.note_bad_lines(name, &file.bad_lines);
                if name == POWER {
                    run.power = Some(file);
                } else {
                    run.server_metrics = Some(file);
                }
            }
        }
        if let Some(text) = run.text_of(&files, RESULTS) {
            match serde_json::from_str(&text) {
                Ok(v) => {
                    match telemetry::energy(&v) {
                        Ok(e) => run.energy = e,
                        Err(e) => run.notes.push(format!(
                            "{RESULTS}: its energy object cannot be read ({e}); left out"
                        )),
                    }
                    run.results = Some(v);
                }
                Err(e) => run
                    .notes
                    .push(format!("{RESULTS} is not valid JSON ({e}); left out")),
            }
        }
        if let Some(path) = find(&files, ACCURACY) {
            run.read_accuracy_log(path);
        }
        run.read_scores(&files);
        run.check_complete();
        if run.read.is_empty() {
            return Err(ReportError::NothingToReport(dir.to_path_buf()));
        }
        Ok(run)
    }

    /// The folder's name for headings: its last components.
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .dir
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .rev()
            .take(3)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.into_iter().rev().collect::<Vec<_>>().join("/")
    }

    /// Notes the first few lines of `file` that were skipped, and how many more.
    fn note_bad_lines(&mut self, file: &str, bad_lines: &[String]) {
        for bad in bad_lines.iter().take(5) {
            self.notes
                .push(format!("{file} {bad}; that line is left out"));
        }
        if bad_lines.len() > 5 {
            self.notes.push(format!(
                "{file}: {} more unreadable lines left out",
                bad_lines.len() - 5
            ));
        }
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The text of the first file named `name`, noting where it was found or why it could not be read.
    fn text_of(&mut self, files: &[PathBuf], name: &str) -> Option<String> {
        let path = find(files, name)?;
        match std::fs::read(path) {
            Ok(bytes) => {
                self.read.push(self.relative(path));
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            Err(e) => {
                self.notes
                    .push(format!("{}: cannot be read ({e})", path.display()));
                None
            }
        }
    }

    fn read_accuracy_log(&mut self, path: &Path) {
        match eval::compliance::test09::read_output_lengths(path) {
            Ok(read) => {
                self.read.push(self.relative(path));
                for warning in read.warnings.iter().take(3) {
                    self.notes.push(format!("{ACCURACY}: {warning}"));
                }
                if !read.lengths.is_empty() {
                    self.logged_output_lengths = Some(read.lengths);
                }
            }
            Err(e) => self.notes.push(format!("{ACCURACY}: {e}; left out")),
        }
    }

    fn read_scores(&mut self, files: &[PathBuf]) {
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if let Some((test, _)) = VERIFY_FILES.iter().find(|(_, f)| *f == name) {
                if let Ok(text) = std::fs::read_to_string(path) {
                    let rel = self.relative(path);
                    self.read.push(rel.clone());
                    self.verifies.push(scores::verify(test, rel, &text));
                }
                continue;
            }
            if self.score.is_some()
                || [
                    SUMMARY,
                    DETAIL,
                    ACCURACY,
                    SAMPLES,
                    RESULTS,
                    SERVER_METRICS,
                    POWER,
                ]
                .contains(&&*name)
            {
                continue;
            }
            let is_json = name.ends_with(".json");
            if !(is_json || name.ends_with(".txt")) {
                continue;
            }
            // eval's outputs are small; a large file here is something else.
            if std::fs::metadata(path)
                .ok()
                .is_none_or(|m| m.len() > 64 << 20)
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let score = if is_json {
                scores::eval_json(&text)
            } else {
                scores::eval_table(&text)
            };
            if let Some(score) = score {
                self.read.push(self.relative(path));
                self.score = Some(score);
            }
        }
    }

    /// Notes on what a complete folder would hold but this one does not.
    fn check_complete(&mut self) {
        let accuracy_mode = self
            .detail
            .as_ref()
            .and_then(|d| d.text("effective_test_mode"))
            .is_some_and(|m| m.contains("Accuracy"));
        match &self.summary {
            None => self.notes.push(format!(
                "no {SUMMARY}: the verdict and LoadGen's own statistics are not shown"
            )),
            Some(s) if s.verdict().is_none() && !accuracy_mode => self.notes.push(format!(
                "{SUMMARY} has no 'Result is' line: the run did not finish, or the file is cut short"
            )),
            Some(_) => {}
        }
        if self.detail.is_none() {
            self.notes.push(format!(
                "no {DETAIL}: settings, warnings and errors are not shown"
            ));
        }
        if self.samples.is_none() && (self.summary.is_some() || self.detail.is_some()) {
            self.notes.push(format!(
                "no {SAMPLES} (logs of the official harness or LoadGen): latencies come from \
                 LoadGen's percentiles; the timeline and client self-check need {SAMPLES}"
            ));
        }
        if let Some(d) = &self.detail {
            let tokens = d.get("requested_use_token_latencies").is_some();
            let scenario = d.text("effective_scenario").unwrap_or_default();
            if !tokens && !scenario.is_empty() {
                self.notes.push(
                    "these logs carry no token latencies (requested_use_token_latencies is not set): \
                     they are not from gpt-oss-120b or another LLM benchmark, so TTFT and TPOT are not shown"
                        .to_string(),
                );
            }
        }
    }
}

/// The files under `dir`, shallowest first, each level sorted by name.
fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for d in &level {
            let Ok(entries) = std::fs::read_dir(d) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                if p.is_dir() {
                    next.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        level = next;
    }
    files
}

fn find<'a>(files: &'a [PathBuf], name: &str) -> Option<&'a PathBuf> {
    files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_telemetry_lines_and_energy_are_notes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            SAMPLES,
            "{\"id\":1,\"index\":0,\"scheduled_ns\":0,\"issued_ns\":5,\"done_ns\":400}\n",
        );
        write(
            POWER,
            "{\"t_ns\":1,\"watts\":{\"0\":100}}\nnot json\n{\"t_ns\":2,\"gap\":\"n/a\"}\n",
        );
        write(
            SERVER_METRICS,
            "{\"t_ns\":1,\"url\":\"u\",\"metrics\":{\"running\":1}}\n{\"t_ns\":\"x\"}\n",
        );
        write(RESULTS, "{\"energy\": {\"joules\": \"many\"}}");
        let run = Run::read(dir.path()).unwrap();
        let notes = run.notes.join("\n");
        assert!(notes.contains("power.jsonl line 2: "), "{notes}");
        assert!(notes.contains("server_metrics.jsonl line 2: "), "{notes}");
        assert!(
            notes.contains("results.json: its energy object cannot be read"),
            "{notes}"
        );
        assert_eq!(run.power.unwrap().readings.len(), 2);
        assert_eq!(run.server_metrics.unwrap().readings.len(), 1);
        assert!(run.energy.is_none() && run.results.is_some());
    }
}
