//! The build script itself, run by a real `cargo build` of this crate (in a
//! target folder of its own): altered sources and missing sources fail the
//! build with a message that names the file or says what to do, before
//! anything is compiled.
#![cfg(feature = "official")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn build_with(src: Option<&Path>) -> Output {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-script-check");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "--offline",
        "--features",
        "official",
        "--manifest-path",
    ])
    .arg(&manifest)
    .env("CARGO_TARGET_DIR", &target)
    .env_remove("MLPERF_LOADGEN_SRC");
    if let Some(src) = src {
        cmd.env("MLPERF_LOADGEN_SRC", src);
    }
    cmd.output().unwrap()
}

#[test]
fn altered_or_missing_sources_fail_the_build() {
    let sdist = PathBuf::from(std::env::var_os("MLPERF_LOADGEN_SRC").expect(
        "the official feature needs MLPERF_LOADGEN_SRC (scripts/fetch-official-loadgen.sh)",
    ));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("loadgen");
    assert!(Command::new("cp")
        .arg("-a")
        .arg(&sdist)
        .arg(&copy)
        .status()
        .unwrap()
        .success());
    let victim = copy.join("loadgen.cc");
    let mut bytes = std::fs::read(&victim).unwrap();
    let at = bytes.len() / 3;
    bytes[at] = if bytes[at] == b' ' { b'\t' } else { b' ' };
    std::fs::write(&victim, bytes).unwrap();

    let out = build_with(Some(&copy));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("loadgen.cc has SHA-1"), "{stderr}");
    assert!(!stderr.contains("results.cc has SHA-1"), "{stderr}");

    let out = build_with(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("needs the official LoadGen sources in MLPERF_LOADGEN_SRC")
            && stderr.contains("fetch-official-loadgen.sh"),
        "{stderr}"
    );
}
