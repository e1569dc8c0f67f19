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

/// `mlperf-gptoss serve --model sim` as a real process; killed on drop.
pub struct Server {
    pub child: std::process::Child,
    pub url: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
