//! The TEST07 and TEST09 compliance checks of gpt-oss-120b, verified as the
//! official `compliance/TEST0x/run_verification.py` scripts do (upstream-gptoss.md
//! §8.5–8.8).
//!
//! Both tests are a performance-mode run with an `audit.config` ([`audit`]) that
//! logs every sample to `mlperf_log_accuracy.json`; then:
//!
//! - [`test07`]: the accuracy scorer runs on that log; its `'exact_match': X`
//!   line is parsed and must be at least `test07_accuracy_threshold` (60.698).
//! - [`test09`]: the mean number of output tokens per logged entry (counted in
//!   `data` only) must lie in `[test09_min_output_tokens, test09_max_output_tokens]`
//!   (1150.38 – 1406.02).
//!
//! Each writes its verify file (`verify_accuracy.txt` / `verify_output_len.txt`,
//! ending in `TEST PASS` or `TEST FAIL`) and [`copy_logs`] lays the logs out as
//! the submission expects: `<out>/TEST0x/{verify file, accuracy/, performance/run_1/}`.

pub mod audit;
pub mod test07;
pub mod test09;

use std::path::{Path, PathBuf};

use crate::EvalError;

/// The LoadGen files a compliance run leaves in its log directory.
pub const ACCURACY_LOG: &str = "mlperf_log_accuracy.json";
const SUMMARY_LOG: &str = "mlperf_log_summary.txt";
const DETAIL_LOG: &str = "mlperf_log_detail.txt";

/// Which compliance test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// TEST07: accuracy of a compliance accuracy run.
    Test07,
    /// TEST09: mean output length.
    Test09,
}

impl Test {
    /// The folder name the submission layout uses.
    pub fn name(self) -> &'static str {
        match self {
            Test::Test07 => "TEST07",
            Test::Test09 => "TEST09",
        }
    }

    /// The verify file the submission checker greps for `TEST PASS`.
    pub fn verify_file(self) -> &'static str {
        match self {
            Test::Test07 => "verify_accuracy.txt",
            Test::Test09 => "verify_output_len.txt",
        }
    }

    /// The built-in audit.config of this test for gpt-oss-120b.
    pub fn audit_config(self) -> &'static str {
        match self {
            Test::Test07 => audit::TEST07_AUDIT_CONFIG,
            Test::Test09 => audit::TEST09_AUDIT_CONFIG,
        }
    }
}

/// The accuracy log of a compliance run's log directory, or an error that says
/// what is missing (as the official scripts refuse to start without it).
pub fn accuracy_log_in(log_dir: &Path) -> Result<PathBuf, EvalError> {
    if !log_dir.is_dir() {
        return Err(EvalError::Compliance(format!(
            "compliance directory does not exist: {}; pass the directory holding the run's LoadGen logs",
            log_dir.display()
        )));
    }
    let log = log_dir.join(ACCURACY_LOG);
    if !log.is_file() {
        return Err(EvalError::Compliance(format!(
            "accuracy log not found: {}; the compliance run must be a performance run with the test's audit.config",
            log.display()
        )));
    }
    Ok(log)
}

/// Writes `verify_text` as the test's verify file in `<out_dir>/<TEST0x>/` and copies
/// the run's logs beside it: the accuracy log to `accuracy/`, the summary and
/// detail logs (where present) to `performance/run_1/`. Returns the test folder.
pub fn copy_logs(
    test: Test,
    log_dir: &Path,
    out_dir: &Path,
    verify_text: &str,
) -> Result<PathBuf, EvalError> {
    let test_dir = out_dir.join(test.name());
    let accuracy_dir = test_dir.join("accuracy");
    let performance_dir = test_dir.join("performance").join("run_1");
    for dir in [&accuracy_dir, &performance_dir] {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            path: dir.clone(),
            action: "creating the directory",
            source,
        })?;
    }
    let verify = test_dir.join(test.verify_file());
    std::fs::write(&verify, verify_text).map_err(|source| EvalError::Io {
        path: verify.clone(),
        action: "writing",
        source,
    })?;
    copy(&log_dir.join(ACCURACY_LOG), &accuracy_dir)?;
    for name in [SUMMARY_LOG, DETAIL_LOG] {
        let from = log_dir.join(name);
        if from.exists() {
            copy(&from, &performance_dir)?;
        }
    }
    Ok(test_dir)
}

fn copy(from: &Path, to_dir: &Path) -> Result<(), EvalError> {
    let to = to_dir.join(from.file_name().unwrap_or_default());
    std::fs::copy(from, &to)
        .map(|_| ())
        .map_err(|source| EvalError::Io {
            path: from.to_path_buf(),
            action: "copying the log into the compliance folder",
            source,
        })
}
