//! LiveCodeBench test fixtures shared by tests/lcb.rs and tests/lcb_problems.rs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use eval::lcb::{self, LcbConfig, LcbProblems, SampleRun};
use serde_json::json;

/// Writes `spec` (see tests/py/write_lcb_problems.py) to `dir/file`.
pub fn write_problems(dir: &Path, file: &str, spec: serde_json::Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/write_lcb_problems.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(dir.join(file))
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    serde_json::to_writer(child.stdin.take().unwrap(), &spec).unwrap();
    assert!(child.wait().unwrap().success());
}

pub fn config() -> LcbConfig {
    LcbConfig {
        test_timeout: Duration::from_secs(1),
        total_timeout: None,
        workers: 2,
        ..LcbConfig::default()
    }
}

pub fn run(problems: &LcbProblems, id: &str, code: &str) -> SampleRun {
    let p = problems.get(id).unwrap_or_else(|| panic!("{id} loaded"));
    let cfg = config();
    let r = lcb::run_sample(
        &cfg,
        p,
        code,
        lcb::outer_timeout(cfg.test_timeout, p.n_tests),
    )
    .expect("the run starts");
    assert!(r.elapsed < Duration::from_secs(120), "{r:?}");
    r
}

/// Problems used by most tests: stdin ones and call-based ones, with private
/// tests in both encodings.
pub fn problems() -> (tempfile::TempDir, LcbProblems) {
    let dir = tempfile::tempdir().unwrap();
    write_problems(
        dir.path(),
        "test.jsonl",
        json!([
            // Doubles a number; private tests compressed as in the real dataset.
            {"question_id": "double", "func_name": null, "encode": true,
             "public": [["3\n", "6\n"]],
             "private": [["10\n", "20\n"], ["-4\n", "-8"]]},
            // Prints a float; expected with more digits.
            {"question_id": "half", "func_name": null, "encode": false,
             "public": [["1\n", "0.50\n"]], "private": [["3\n", "1.500000\n"]]},
            // Two lines out.
            {"question_id": "two_lines", "func_name": null, "encode": true,
             "public": [["2 3\n", "5\n6\n"]], "private": []},
            // LeetCode style: sum of a list and a pair.
            {"question_id": "pair", "func_name": "pairUp", "encode": true,
             "public": [["[1, 2]\n3", "[3, 3]"]],
             "private": [["[]\n0", "[0, 0]"], ["[5]\n7", "[5, 7]"]]},
        ]),
    );
    write_problems(
        dir.path(),
        "test2.jsonl",
        json!([
            {"question_id": "echo", "func_name": null, "encode": false,
             "public": [["hello world\n", "hello world\n"]], "private": [["a\nb\n", "a"]]},
        ]),
    );
    // Large private tests: pickled with BINUNICODE outside a frame, as the
    // dataset's megabyte-sized tests are.
    let numbers: Vec<String> = (1..=100_000).map(|i| i.to_string()).collect();
    write_problems(
        dir.path(),
        "test6.jsonl",
        json!([
            {"question_id": "big_sum", "func_name": null, "encode": true,
             "public": [["1 2 3\n", "6\n"]],
             "private": [[format!("{}\n", numbers.join(" ")), "5000050000\n"]]},
        ]),
    );
    let problems = LcbProblems::load(dir.path()).unwrap();
    (dir, problems)
}
