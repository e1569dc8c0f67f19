//! LiveCodeBench execution: small problems in the real
//! `code_generation_lite` format (private tests encoded by real Python
//! pickle + zlib + base64), real python3 processes in the sandbox, and the
//! verdict each program gets under the official rules (upstream-gptoss.md §6.4).
//! Timeouts are shortened (1 s per test); nothing here asserts on timing.

#[path = "common/lcb.rs"]
mod fixtures;
#[path = "common/process.rs"]
mod process;

use std::time::Duration;

use eval::lcb::{self, LcbConfig, Status};
use eval::GroundTruth;
use fixtures::{config, problems, run};
use process::survives;

/// One program run against one problem, and what the official rules give it.
struct Program {
    problem: &'static str,
    code: &'static str,
    /// The per-test results (1 pass, 0 False, -2 wrong, -3 time limit, -4 error).
    results: &'static [i64],
    /// A phrase the error must contain, where the wording matters.
    error: Option<&'static str>,
    why: &'static str,
}

const fn program(
    problem: &'static str,
    code: &'static str,
    results: &'static [i64],
    why: &'static str,
) -> Program {
    Program {
        problem,
        code,
        results,
        error: None,
        why,
    }
}

/// Runs each program and checks its results, and the pass flag and status that
/// follow from them by the official rules (pass: every result positive; otherwise
/// the first non-positive result says why).
fn check(programs: &[Program]) {
    let (_dir, problems) = problems();
    for p in programs {
        let r = run(&problems, p.problem, p.code);
        assert_eq!(r.results, p.results, "{}: {r:?}", p.why);
        let status = match p.results.iter().find(|&&x| x <= 0) {
            None => Status::Passed,
            Some(-3) => Status::TimeLimit,
            Some(-4) => Status::RuntimeError,
            Some(_) => Status::WrongAnswer,
        };
        assert_eq!(
            (r.passed, r.status()),
            (status == Status::Passed, status),
            "{}: {r:?}",
            p.why
        );
        assert!(!r.outer_timeout, "{}: {r:?}", p.why);
        if let Some(phrase) = p.error {
            let error = r.error.as_deref().unwrap_or_default();
            assert!(error.contains(phrase), "{}: {r:?}", p.why);
        }
    }
}

#[test]
fn stdin_programs_pass_with_official_comparison() {
    check(&[
        program("double", "import sys\ndef main():\n    n = int(sys.stdin.readline())\n    print(n * 2)\n\nif __name__ == '__main__':\n    main()\n", &[1, 1, 1], "a trailing `if __name__ == '__main__':` is unwrapped; imports stay at the top"),
        program("half", "print(int(input()) / 2, '  ')", &[1, 1], "tokens equal as decimals: 0.5 == 0.50, 1.5 == 1.500000; trailing spaces ignored"),
        program("two_lines", "a, b = map(int, input().split())\nprint(a + b)\nprint(a * b)", &[1], "input() sees the test input"),
        program("two_lines", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b, a * b, sep='\\n')", &[1], "sys.stdin.read() sees the test input"),
        program("two_lines", "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint(f'{a+b}\\n{a*b}')", &[1], "sys.stdin.buffer sees the test input"),
        program("double", "print(int(input()) * 2)\nexit()\nprint('never')", &[1, 1, 1], "exit() ends the program normally, keeping what it printed"),
        program("echo", "print(input())", &[1, 1], "only the first line is compared for \"a\\nb\\n\" -> \"a\" (input() reads one line)"),
    ]);
}

#[test]
fn stdin_failures_have_official_codes_and_stop_at_the_first() {
    check(&[
        program(
            "double",
            "n = int(input())\nprint(n * 2 if n < 5 else n)",
            &[1, -2],
            "wrong on the second test: results stop there",
        ),
        Program {
            error: Some("1 output lines, 2 expected"),
            ..program(
                "two_lines",
                "a, b = map(int, input().split())\nprint(a + b, a * b)",
                &[-2],
                "line count differs",
            )
        },
        program("half", "print('half')", &[-2], "not numbers and not equal"),
        program(
            "double",
            "print(int(input()) // 0)",
            &[-4],
            "runtime error on the first test",
        ),
        program(
            "double",
            "while True:\n    pass",
            &[-3],
            "over the per-test limit (1 s here)",
        ),
        Program {
            error: Some("could not run the tests"),
            ..program(
                "double",
                "print(",
                &[-4],
                "a syntax error fails the whole sample as one runtime error",
            )
        },
    ]);
}

#[test]
fn official_quirks_of_the_stdin_mock() {
    check(&[
        program("double", "import sys\nfor line in sys.stdin:\n    print(int(line) * 2)", &[-4], "the official stdin mock is not iterable: `for line in sys.stdin` is a runtime error"),
        program("two_lines", "a, b = map(int, open(0).read().split())\nprint(a + b)\nprint(a * b)", &[-4], "open() is mocked in builtins, but the preamble's `from io import *` binds the real io.open in the program's globals: open(0) reads the (empty) real stdin"),
        program("double", "print(int(input()) * 2)\nquit()", &[-4], "quit is set to None by the reliability guard"),
        program("double", "import os\nos.getcwd()", &[-4], "destructive os functions are None"),
        program("double", "import resource\nprint(int(input()) * 2)", &[-4], "`resource` cannot be imported"),
        program("double", "class Solution:\n    pass\nprint(int(input()) * 2)", &[-4], "`class Solution` in a stdin program: the official loader looks for it on the module"),
        program("double", "import sys\nprint(int(input()) * 2)\nsys.stdout.close()", &[-4], "sys.stdout.close() fails (the capture's close takes an argument)"),
        program("double", "import os\nos.write(1, str(int(input()) * 2).encode())", &[-2], "writes to fd 1 bypass the capture: nothing is seen"),
    ]);
}

#[test]
fn call_based_with_and_without_solution_class() {
    check(&[
        program("pair", "class Solution:\n    def pairUp(self, nums: List[int], k: int) -> List[int]:\n        return [sum(nums), k]\n", &[1, 1, 1], "a Solution class"),
        program("pair", "def pairUp(nums, k):\n    return sum(nums), k\n", &[1, 1, 1], "a module-level function, returning a tuple (counts as a list)"),
        program("pair", "def pairUp(nums, k):\n    return [sum(nums), k + (len(nums) == 1)]\n", &[1, 1, 0], "wrong on the third test: recorded as False (0), then stop"),
        program("pair", "def other(nums, k):\n    return [0, 0]\n", &[-4], "the method is missing: one runtime error"),
        program("pair", "def pairUp(nums, k):\n    while True:\n        pass\n", &[-3], "time limit inside the call"),
        program("pair", "def pairUp(nums, k):\n    return [nums[5], k]\n", &[-4], "runtime error inside the call"),
        program("pair", "class Solution:\n    def pairUp(self, nums, k):\n        return [sum(Counter(nums).elements()), gcd(k, 0)]\n", &[1, 1, 1], "the import preamble is there (List, Counter, gcd, ...)"),
    ]);
}

#[test]
fn a_sample_that_outlives_the_outer_limit_counts_minus_one() {
    let (_dir, problems) = problems();
    // Ignoring the alarm defeats the per-test limit; the outer limit
    // ((1 + 1) × 3 + 5 = 11 s here) kills the process: every test -1.
    let code =
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n";
    let r = run(&problems, "double", code);
    assert!(r.outer_timeout, "{r:?}");
    assert_eq!((r.passed, r.results.clone()), (false, vec![-1, -1, -1]));
    assert_eq!(r.status(), Status::OuterTimeout);
    // Leaving without an answer (SystemExit at the top of a call-based program,
    // os._exit) also counts -1 for every test.
    let r = run(&problems, "pair", "import sys\nsys.exit(0)\n");
    assert_eq!(
        (r.results.clone(), r.status()),
        (vec![-1, -1, -1], Status::NoAnswer),
        "{r:?}"
    );
    let r = run(&problems, "double", "import os\nos._exit(0)");
    assert_eq!(r.results, vec![-1, -1, -1], "{r:?}");
}

#[test]
fn misbehaving_programs_are_contained() {
    let (_dir, problems) = problems();
    // A child process left behind (os.fork is None, posix_spawn is not): it is
    // killed with the sandbox, and the sample is simply wrong.
    let code = "import os, sys\npid = os.posix_spawn('/bin/sleep', ['sleep', '1000'], {})\nsys.stderr.write(f'child={pid}\\n')\nprint('x')";
    let r = run(&problems, "double", code);
    assert_eq!(r.results, vec![-2], "{r:?}");
    let pid: i32 = r
        .stderr_tail
        .split("child=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {:?}", r.stderr_tail));
    assert!(!survives(pid), "child {pid} still running");
    // Flooding stderr and allocating without bound end the sample, not us.
    let r = run(
        &problems,
        "double",
        "import sys\nwhile True:\n    sys.stderr.write('x' * 65536)",
    );
    assert!(!r.passed);
    // A per-test limit far beyond the allocation's time, so that on a loaded
    // machine the memory limit, not the alarm, is what ends it.
    let small = LcbConfig {
        address_space: 512 << 20,
        test_timeout: Duration::from_secs(20),
        ..config()
    };
    let p = problems.get("double").unwrap();
    let code = "a = []\nwhile True:\n    a.append(' ' * (1 << 24))";
    let r = lcb::run_sample(&small, p, code, Duration::from_secs(60)).unwrap();
    assert!(!r.passed);
    assert!(
        matches!(r.status(), Status::RuntimeError | Status::NoAnswer),
        "{r:?}"
    );
}

#[test]
fn dataset_verdicts_are_worded_as_officially() {
    let (_dir, problems) = problems();
    let gt = |s: &str| GroundTruth::Str(s.into());
    let truths = [
        gt("double"),
        gt("double"),
        gt("nope"),
        gt("double"),
        GroundTruth::Missing,
        gt(""),
        GroundTruth::Int(7),
        gt("pair"),
    ];
    let codes = [
        Some("print(int(input()) * 2)"),
        Some("print(1)"),
        Some("print(1)"),
        None,
        Some("print(1)"),
        Some("print(1)"),
        Some("print(1)"),
        Some(""),
    ];
    let samples: Vec<lcb::Sample<'_>> = codes
        .iter()
        .zip(&truths)
        .map(|(c, g)| lcb::Sample {
            code: c.map(String::from),
            ground_truth: g,
        })
        .collect();
    let (verdicts, stats) =
        lcb::grade_dataset("livecodebench_v6", &samples, &problems, &config()).unwrap();
    let details: Vec<(&str, bool)> = verdicts
        .iter()
        .map(|(v, _)| (v.details.as_str(), v.is_correct))
        .collect();
    assert_eq!(
        details,
        vec![
            ("All tests passed", true),
            ("Failed one or more test cases", false),
            ("Question ID 'nope' not found in benchmark", false),
            ("No code extracted from model output", false),
            ("No ground truth available", false),
            ("No code or question_id provided", false),
            ("Question ID '7' not found in benchmark", false),
            ("No code or question_id provided", false),
        ]
    );
    assert!(verdicts[0].1.is_some() && verdicts[2].1.is_none());
    assert_eq!(verdicts[3].0.extracted, None);
    assert_eq!(verdicts[1].0.extracted.as_deref(), Some("print(1)"));
    assert_eq!(stats.samples, 8);
    assert_eq!(stats.no_code, 1);
    assert_eq!(stats.not_run, 5);
    assert_eq!(stats.by_status.get(&Status::Passed), Some(&1));
    assert_eq!(stats.by_status.get(&Status::WrongAnswer), Some(&1));
    assert!(
        stats
            .line()
            .starts_with("livecodebench_v6: 8 samples, 1 passed, 1 wrong answer"),
        "{}",
        stats.line()
    );
}

#[test]
fn many_samples_in_parallel_keep_their_order() {
    let (_dir, problems) = problems();
    let p = problems.get("double").unwrap();
    let codes: Vec<String> = (0..12)
        .map(|i| match i % 3 {
            0 => "print(int(input()) * 2)".to_string(),
            1 => "import os\nos._exit(3)".to_string(),
            _ => format!("print({i})"),
        })
        .collect();
    let jobs: Vec<lcb::Job<'_>> = codes
        .iter()
        .map(|c| lcb::Job {
            problem: p,
            code: c,
        })
        .collect();
    let mut done = 0;
    let cfg = LcbConfig {
        workers: 4,
        ..config()
    };
    let runs = lcb::run_jobs(&jobs, &cfg, |_, _| done += 1).unwrap();
    assert_eq!(done, 12);
    for (i, r) in runs.iter().enumerate() {
        let want = match i % 3 {
            0 => Status::Passed,
            1 => Status::NoAnswer,
            _ => Status::WrongAnswer,
        };
        assert_eq!(r.status(), want, "sample {i}: {r:?}");
    }
}

#[test]
fn the_total_budget_aborts_like_the_official_timeout() {
    let (_dir, problems) = problems();
    let p = problems.get("double").unwrap();
    let hang =
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n";
    let jobs = vec![
        lcb::Job {
            problem: p,
            code: hang
        };
        3
    ];
    let cfg = LcbConfig {
        workers: 1,
        total_timeout: Some(Duration::from_secs(2)),
        ..config()
    };
    match lcb::run_jobs(&jobs, &cfg, |_, _| {}) {
        Err(lcb::PoolError::Budget { done, total }) => assert_eq!((done, total), (0, 3)),
        other => panic!("{other:?}"),
    }
    // Through grade_dataset it is an error that says what to do.
    let gt = GroundTruth::Str("double".into());
    let samples = vec![lcb::Sample {
        code: Some(hang.into()),
        ground_truth: &gt,
    }];
    let err = lcb::grade_dataset("livecodebench_v6", &samples, &problems, &cfg).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("budget of 2 s") && msg.contains("--lcb-total-timeout 0"),
        "{msg}"
    );
}

#[test]
fn a_python_that_cannot_run_the_harness_is_one_clear_error() {
    assert!(lcb::check_python(&config()).is_ok());
    for python in ["/nonexistent/python3", "/bin/false"] {
        let cfg = LcbConfig {
            python: python.into(),
            ..config()
        };
        let msg = lcb::check_python(&cfg).unwrap_err().to_string();
        assert!(
            msg.contains(python) && msg.contains("LiveCodeBench"),
            "{msg}"
        );
    }
}
