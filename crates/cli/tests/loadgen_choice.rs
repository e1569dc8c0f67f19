//! `--loadgen official` in a build without the official LoadGen: a clear
//! error that says how to build it, before anything runs.
#![cfg(not(feature = "official-loadgen"))]

mod common;

use common::{mlperf_gptoss, stderr};

#[test]
fn official_without_the_feature_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["run"][..], &["compliance", "test09"][..]] {
        let mut args = command.to_vec();
        args.extend(["--loadgen", "official", "--output-dir", "out"]);
        let out = mlperf_gptoss(dir.path(), dir.path(), &args);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("built without the official LoadGen")
                && err.contains("scripts/fetch-official-loadgen.sh")
                && err.contains("cargo build --release --features official-loadgen"),
            "{command:?}: {err}"
        );
        assert!(!dir.path().join("out").exists(), "{command:?} wrote logs");
    }
}
