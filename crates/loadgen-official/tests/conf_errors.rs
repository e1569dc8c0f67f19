//! Our reading of a rejected config file against the official LoadGen
//! wheel's: the same messages for the same lines.

use std::process::Command;

#[test]
fn the_messages_are_the_ones_the_official_loadgen_logs() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# comment = x\n\
                *.Offline.target_qps = 100 # a trailing comment is a bad value\n\
                *.Offline.min_duration = fast\n\
                gpt-oss-120b.Server.target_qps 5\n\
                *.Server.min_query_count = 0x10\n\
                *.Server.target_qps = 1e3 2.5\n\
                \n\
                *.Server.max_duration = 12ms\n\
                #notacomment = 1\n\
                *.Server.min_duration = -inf\n";
    let conf = dir.path().join("user.conf");
    std::fs::write(&conf, text).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/wheel_conf_errors.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&conf)
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "needs python3 with the official wheel (pip install -r .ci/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let official: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(!official.is_empty());
    assert_eq!(
        loadgen_official::conf_errors::from_config_errors(text),
        official
    );
}
