//! `mlperf-gptoss plan` as a user runs it, checked against the vectors the
//! official LoadGen 6.0.17 produced (shared/vectors/loadgen_vectors.json).

use std::process::Command;

use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/loadgen_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("JSON")
}

fn plan(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .arg("plan")
        .args(args)
        .output()
        .expect("run mlperf-gptoss");
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("plan prints JSON")
}

fn ints(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("int"))
        .collect()
}

#[test]
fn server_plan_with_user_conf() {
    let v = vectors();
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.conf");
    std::fs::write(
        &user,
        "gpt-oss-120b.Server.target_qps = 2000\ngpt-oss-120b.Server.min_duration = 4000\n",
    )
    .unwrap();
    let p = plan(&[
        "--scenario",
        "server",
        "--total-sample-count",
        "6396",
        "--user-conf",
        user.to_str().unwrap(),
    ]);
    assert_eq!(
        ints(&p["loaded_set"]),
        ints(&v["gpt_oss_perf_loaded_set_N6396"])
    );
    let queries = p["queries"].as_array().unwrap();
    let run = &v["gpt_oss_server_perf_run_qps2000_min_duration4000ms"];
    assert_eq!(
        queries.len() as u64,
        run["generated_query_count"].as_u64().unwrap()
    );
    let order: Vec<u64> = queries.iter().map(|q| ints(&q["indices"])[0]).collect();
    assert_eq!(
        order[..6396],
        ints(&v["gpt_oss_server_perf_order_first_cycle_N6396"])[..]
    );
    let sched: Vec<u64> = queries[..20]
        .iter()
        .map(|q| q["scheduled_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(sched, ints(&v["server_schedule_ns_qps2000_first20"]));
    assert_eq!(
        p["series"][0]["generated_query_duration"].as_u64(),
        run["generated_query_duration_ns"].as_u64()
    );
}

#[test]
fn offline_accuracy_plan() {
    let v = vectors();
    let p = plan(&[
        "--scenario",
        "offline",
        "--mode",
        "accuracy",
        "--total-sample-count",
        "4395",
    ]);
    assert_eq!(
        ints(&p["loaded_set"]),
        ints(&v["gpt_oss_acc_loaded_set_N4395"])
    );
    assert_eq!(
        ints(&p["queries"][0]["indices"]),
        ints(&v["gpt_oss_offline_acc_query_order_N4395"])
    );
}

#[test]
fn bad_user_conf_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.conf");
    std::fs::write(
        &user,
        "# ok\ngpt-oss-120b.Server.target_qps = 10 # not allowed\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args([
            "plan",
            "--scenario",
            "server",
            "--total-sample-count",
            "10",
            "--user-conf",
        ])
        .arg(&user)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("user.conf:2"), "{err}");
}
