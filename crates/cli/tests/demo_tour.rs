//! The README's tour on the bundled sample, as a new user types it: `run`,
//! `run --mode accuracy`, then the `eval` command the accuracy run prints.
//! The tiny model's answers are noise, so its score is about 0, but every
//! row must be scored; answer logs written here check that the bundled
//! sample and its LiveCodeBench problems can score 100 and 0.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_success, mlperf_gptoss, stderr};
use testkit::{answered, offline_log};

/// The bundled sample's rows: (dataset, ground truth).
fn sample_rows() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                row["dataset"].as_str().unwrap().to_string(),
                row["ground_truth"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The `eval` arguments from the line `  mlperf-gptoss eval …` that a run printed.
fn printed_eval_args(run: &Output) -> Vec<String> {
    let err = stderr(run);
    let line = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("mlperf-gptoss "))
        .unwrap_or_else(|| panic!("no eval command printed:\n{err}"));
    // The demo's paths are plain words, so splitting on spaces is what a shell does.
    line.split(' ').map(str::to_string).collect()
}

/// Runs the printed eval command, with the accuracy log replaced by `log` if given.
fn eval(cwd: &Path, args: &[String], log: Option<&Path>) -> Output {
    let mut args = args.to_vec();
    if let Some(log) = log {
        let at = args.iter().position(|a| a == "--mlperf-log").unwrap() + 1;
        args[at] = log.to_string_lossy().into_owned();
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    mlperf_gptoss(cwd, cwd, &args)
}

/// Per dataset (lower-cased, as the scorer groups), rows of the sample.
fn rows_per_dataset(rows: &[(String, String)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (dataset, _) in rows {
        *counts.entry(dataset.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// Asserts that the printed table has a row `dataset correct total` for each dataset.
#[track_caller]
fn assert_table(
    stdout: &str,
    expected: &BTreeMap<String, usize>,
    correct: impl Fn(usize) -> usize,
) {
    for (dataset, &total) in expected {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(dataset.as_str()))
            .unwrap_or_else(|| panic!("{dataset} not scored:\n{stdout}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            (
                cells[1].parse::<usize>().unwrap(),
                cells[2].parse::<usize>().unwrap()
            ),
            (correct(total), total),
            "{row}"
        );
    }
}

/// An answer that is right (`right`) or wrong for a row of the sample; code
/// for LiveCodeBench, written here from each problem's statement.
fn answer(dataset: &str, truth: &str, right: bool) -> String {
    if dataset.contains("livecodebench") {
        let code = match (truth, right) {
            ("demo_triplet", true) => {
                "a = list(map(int, input().split()))\nbest = 0\nfor i in range(len(a)):\n    for j in range(i + 1, len(a)):\n        for k in range(j + 1, len(a)):\n            best = max(best, (a[i] - a[j]) * a[k])\nprint(best)"
            }
            ("demo_lis", true) => {
                "class Solution:\n    def lengthOfLIS(self, nums):\n        best = [1] * len(nums)\n        for i in range(len(nums)):\n            for j in range(i):\n                if nums[j] < nums[i]:\n                    best[i] = max(best[i], best[j] + 1)\n        return max(best)"
            }
            ("demo_sum", true) => "a, b = map(int, input().split())\nprint(a + b)",
            ("demo_lis", false) => "class Solution:\n    def lengthOfLIS(self, nums):\n        return len(nums)",
            (_, false) => "print(1)",
            (other, true) => panic!("no solution written for {other}"),
        };
        return format!("```python\n{code}\n```");
    }
    if right {
        return if dataset.contains("aime") {
            format!("\\boxed{{{truth}}}")
        } else {
            truth.to_string()
        };
    }
    if dataset.contains("aime") {
        "\\boxed{1000}".into()
    } else {
        // A letter other than the truth, inside every sub-dataset's range.
        if truth == "A" { "B" } else { "A" }.into()
    }
}

/// An Offline accuracy log answering every row of the sample.
fn answers_log(dir: &Path, rows: &[(String, String)], right: bool) -> PathBuf {
    let entries: Vec<(usize, Vec<u32>)> = rows
        .iter()
        .enumerate()
        .map(|(i, (dataset, truth))| (i, answered("Let me think.", &answer(dataset, truth, right))))
        .collect();
    let path = dir.join(if right { "right.json" } else { "wrong.json" });
    std::fs::write(&path, offline_log(&entries)).unwrap();
    path
}

#[test]
fn run_then_accuracy_run_then_the_printed_eval_scores_every_row() {
    let cwd = tempfile::tempdir().unwrap();
    let run = mlperf_gptoss(cwd.path(), cwd.path(), &["run"]);
    assert_success(&run, "run");
    assert!(cwd
        .path()
        .join("mlperf_results/offline/performance/mlperf_log_summary.txt")
        .is_file());

    let accuracy = mlperf_gptoss(cwd.path(), cwd.path(), &["run", "--mode", "accuracy"]);
    assert_success(&accuracy, "run --mode accuracy");
    let args = printed_eval_args(&accuracy);
    assert_eq!(
        args,
        [
            "eval",
            "--mlperf-log",
            "mlperf_results/offline/accuracy/mlperf_log_accuracy.json",
            "--reference-data",
            "mlperf_results/offline/accuracy/demo_reference.jsonl",
            "--lcb-dir",
            "mlperf_results/offline/accuracy/demo_lcb",
        ]
    );

    let rows = sample_rows();
    let expected = rows_per_dataset(&rows);
    let scored = eval(cwd.path(), &args, None);
    assert_success(&scored, "the printed eval command");
    let out = String::from_utf8_lossy(&scored.stdout).into_owned();
    // Every row scored, the code ones by running it; the tiny model's score is whatever it is.
    for (dataset, &total) in &expected {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(dataset.as_str()))
            .unwrap_or_else(|| panic!("{dataset} not scored:\n{out}"));
        assert_eq!(
            row.split_whitespace().nth(2),
            Some(total.to_string().as_str()),
            "{row}"
        );
    }
    assert!(out.contains("'exact_match': "), "{out}");
    let lcb_rows = rows
        .iter()
        .filter(|(d, _)| d.contains("livecodebench"))
        .count();
    assert!(lcb_rows > 0);
    assert!(
        stderr(&scored).contains("LiveCodeBench"),
        "{}",
        stderr(&scored)
    );

    // The same command on logs of right and of wrong answers.
    for (right, score) in [(true, "100.000"), (false, "0.000")] {
        let log = answers_log(cwd.path(), &rows, right);
        let scored = eval(cwd.path(), &args, Some(&log));
        assert_success(&scored, "eval of written answers");
        let out = String::from_utf8_lossy(&scored.stdout).into_owned();
        assert_table(&out, &expected, |total| if right { total } else { 0 });
        assert!(out.ends_with(&format!("'exact_match': {score}\n")), "{out}");
    }
}
