//! A small harness: run the real `mlperf-gptoss` binary like a user would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The binary, run in `cwd` with a private vocabulary cache.
pub fn mlperf_gptoss(cwd: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args(args)
        .current_dir(cwd)
        .env("TIKTOKEN_RS_CACHE_DIR", cache)
        .env_remove("TIKTOKEN_ENCODINGS_BASE")
        .output()
        .expect("the mlperf-gptoss binary runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails loudly (never skips) when the Python side of a test is missing.
pub fn python_with(modules: &str) -> Command {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output();
    match probe {
        Ok(out) if out.status.success() => Command::new("python3"),
        _ => panic!(
            "this test needs python3 with `{modules}`: run `pip install {}`",
            modules.replace(',', " ")
        ),
    }
}
