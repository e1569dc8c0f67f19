#!/usr/bin/env python3
"""Regenerates golden/ with the official MLPerf compliance scripts.

The compliance tests (crates/cli/tests/compliance.rs) run
`mlperf-gptoss compliance --verify-only` on the logs in logs/ and compare the
verify files, exit statuses and copied files with what the official
`compliance/TEST07/run_verification.py` and `compliance/TEST09/run_verification.py`
produced on the same inputs. This script produces those expectations; it needs a
checkout of github.com/mlcommons/inference (not vendored here):

    python3 make_golden.py /path/to/inference/compliance

Scripts used for the committed golden files: mlcommons/inference at
b66003e10e2db4b8c36a448b0545ec90fcc6e9e9, Python 3.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (log file, extra arguments); thresholds from the official audit.config
# unless overridden. 'with_perf_logs' adds a summary and detail log to copy.
TEST09_CASES = {
    "array_default": ("array.json", [], True),
    "array_pass": ("array.json", ["--min-output-tokens", "4", "--max-output-tokens", "5"], False),
    "truncated_inclusive": ("truncated.json", ["--min-output-tokens", "2.75", "--max-output-tokens", "2.75"], False),
    "odd_entries": ("odd.json", ["--min-output-tokens", "0", "--max-output-tokens", "1e9"], False),
    "lines": ("lines.json", [], False),
    "empty": ("empty.json", [], False),
}

# name -> (what the accuracy script prints, extra arguments)
TEST07_CASES = {
    "score_pass": ("scorer_pass.txt", [], True),
    "score_fail": ("scorer_fail.txt", [], False),
    "score_missing": ("scorer_missing.txt", [], False),
    "score_override": ("scorer_fail.txt", ["--accuracy-threshold", "10"], False),
}


def run_case(official, test, name, log, scorer, extra, with_perf_logs, manifest):
    with tempfile.TemporaryDirectory() as tmp:
        logdir = os.path.join(tmp, "logs")
        out = os.path.join(tmp, "out")
        os.makedirs(logdir)
        shutil.copy(os.path.join(HERE, "logs", log), os.path.join(logdir, "mlperf_log_accuracy.json"))
        if with_perf_logs:
            for f in ("mlperf_log_summary.txt", "mlperf_log_detail.txt"):
                shutil.copy(os.path.join(HERE, "logs", f), logdir)
        cmd = [sys.executable, os.path.join(official, test, "run_verification.py"),
               "-c", logdir, "-o", out,
               "--audit-config", os.path.join(official, test, "gpt-oss-120b", "audit.config")]
        if scorer:
            cmd += ["--accuracy-script", "cat " + os.path.join(HERE, "logs", scorer)]
        cmd += extra
        rc = subprocess.run(cmd, cwd=tmp, stdout=subprocess.DEVNULL).returncode
        files = []
        test_dir = os.path.join(out, test)
        for root, _, names in os.walk(test_dir):
            for n in names:
                files.append(os.path.relpath(os.path.join(root, n), test_dir))
        verify = "verify_accuracy.txt" if test == "TEST07" else "verify_output_len.txt"
        text = None
        if os.path.exists(os.path.join(test_dir, verify)):
            with open(os.path.join(test_dir, verify)) as f:
                text = f.read()
            # The scorer's command line is not part of the file; the log path is
            # replaced so the golden text does not depend on the temp dir.
            golden = os.path.join(HERE, "golden", f"{test}_{name}.txt")
            with open(golden, "w") as f:
                f.write(text)
        manifest[f"{test}_{name}"] = {
            "log": log, "scorer": scorer, "args": extra, "perf_logs": with_perf_logs,
            "exit_status": rc, "files": sorted(files), "has_verify_file": text is not None,
        }


def main():
    official = sys.argv[1]
    os.makedirs(os.path.join(HERE, "golden"), exist_ok=True)
    manifest = {}
    for name, (log, extra, perf) in TEST09_CASES.items():
        run_case(official, "TEST09", name, log, None, extra, perf, manifest)
    for name, (scorer, extra, perf) in TEST07_CASES.items():
        run_case(official, "TEST07", name, "array.json", scorer, extra, perf, manifest)
    with open(os.path.join(HERE, "golden", "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
