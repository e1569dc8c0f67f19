//! LiveCodeBench problems: `code_generation_lite` files with
//! private tests in both encodings (the compressed one made by real Python
//! pickle + zlib + base64), and damaged or missing files, each a clear error
//! naming the file and line.

#[path = "common/lcb.rs"]
mod fixtures;

use std::process::Command;

use eval::lcb::{LcbProblems, Problem};
use eval::EvalError;
use fixtures::{problems, run};

#[test]
fn loads_both_encodings_public_then_private() {
    let (dir, problems) = problems();
    assert_eq!(problems.len(), 6);
    assert_eq!(problems.total, 6);
    assert_eq!(
        problems.missing,
        vec!["test3.jsonl", "test4.jsonl", "test5.jsonl"]
    );
    let double: &Problem = problems.get("double").unwrap();
    assert_eq!(double.n_tests, 3);
    assert_eq!(double.fn_name, None);
    assert_eq!(double.file, dir.path().join("test.jsonl"));
    assert_eq!(double.line, 1);
    let (public, private) = double.tests_json().unwrap();
    let private: serde_json::Value = serde_json::from_str(&private).unwrap();
    assert_eq!(private[1]["input"], "-4\n");
    assert!(public.contains("\"3\\n\""));
    let pair = problems.get("pair").unwrap();
    assert_eq!(pair.fn_name.as_deref(), Some("pairUp"));
    assert_eq!(pair.n_tests, 3);
    assert_eq!(problems.get("echo").unwrap().line, 1);
    // Keeping only some problems still reads (and checks) all of them.
    let keep = ["pair".to_string()].into_iter().collect();
    let some = LcbProblems::load_with(dir.path(), Some(&keep)).unwrap();
    assert_eq!((some.len(), some.total), (1, 6));
    // A megabyte-sized private test decodes and runs.
    let big = problems.get("big_sum").unwrap();
    assert!(big.tests_json().unwrap().1.len() > 500_000);
    let r = run(
        &problems,
        "big_sum",
        "print(sum(map(int, input().split())))",
    );
    assert!(r.passed, "{r:?}");
}

#[test]
fn missing_or_damaged_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = LcbProblems::load(dir.path()).unwrap_err();
    assert!(matches!(err, EvalError::LcbFiles { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.path().display().to_string())
            && msg.contains("test.jsonl")
            && msg.contains("test6.jsonl"),
        "{msg}"
    );

    let good = r#"{"question_id": "q1", "public_test_cases": "[]", "private_test_cases": "[]", "metadata": "{}"}"#;
    let cases = [
        ("not json at all", "not a code_generation_lite problem"),
        (
            r#"{"question_id": "q2", "public_test_cases": "[]", "metadata": "{}"}"#,
            "private_test_cases",
        ),
        (
            r#"{"question_id": "q3", "public_test_cases": "[{\"input\": \"1\", \"output\": \"2\", \"testtype\": \"magic\"}]", "private_test_cases": "[]", "metadata": "{}"}"#,
            "'public_test_cases'",
        ),
        (
            r#"{"question_id": "q4", "public_test_cases": "[]", "private_test_cases": "@@@not base64@@@", "metadata": "{}"}"#,
            "'private_test_cases'",
        ),
        (
            // Valid base64 of bytes that are not zlib.
            r#"{"question_id": "q5", "public_test_cases": "[]", "private_test_cases": "aGVsbG8=", "metadata": "{}"}"#,
            "zlib",
        ),
        (
            r#"{"question_id": "q6", "public_test_cases": "[]", "private_test_cases": "[]", "metadata": "[1]"}"#,
            "'metadata'",
        ),
    ];
    for (bad, needle) in cases {
        std::fs::write(dir.path().join("test3.jsonl"), format!("{good}\n\n{bad}\n")).unwrap();
        let msg = LcbProblems::load(dir.path()).unwrap_err().to_string();
        let place = format!("{}:3:", dir.path().join("test3.jsonl").display());
        assert!(msg.starts_with(&place) && msg.contains(needle), "{msg}");
    }
    // A pickle that would call something is refused, never executed.
    let evil = Command::new("python3")
        .args([
            "-c",
            "import base64, pickle, zlib, os\n\
             class E:\n    def __reduce__(self):\n        return (os.system, ('touch /tmp/lcb-pwned',))\n\
             print(base64.b64encode(zlib.compress(pickle.dumps(E()))).decode())",
        ])
        .output()
        .unwrap();
    let evil = String::from_utf8(evil.stdout).unwrap();
    let line = format!(
        r#"{{"question_id": "q7", "public_test_cases": "[]", "private_test_cases": "{}", "metadata": "{{}}"}}"#,
        evil.trim()
    );
    std::fs::write(dir.path().join("test3.jsonl"), line).unwrap();
    let msg = LcbProblems::load(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("not a pickled str (nothing was executed)"),
        "{msg}"
    );
}
