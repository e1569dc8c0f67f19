//! Config-file behaviour as loadgen.md §3 documents it (each rule there was
//! checked against the 6.0.17 wheel; `conformance.rs` re-checks a mix of
//! them against the wheel itself).

use loadgen::{ConfType, ConfigFile, ConfigLoader, Mode, Scenario, TestSettings};

fn apply(text: &str, model: &str, scenario: &str, t: ConfType) -> TestSettings {
    let mut s = TestSettings::default();
    ConfigFile::parse(text, "t.conf")
        .unwrap()
        .apply(&mut s, model, scenario, t);
    s
}

#[test]
fn key_equals_value_without_spaces_is_ignored() {
    let s = apply("*.*.min_query_count=5\n", "m", "Server", ConfType::Other);
    assert_eq!(s.min_query_count, TestSettings::default().min_query_count);
}

#[test]
fn comments_and_errors() {
    // '#' as its own token ends the line.
    assert!(ConfigFile::parse("# a comment\n  # indented\n", "x").is_ok());
    // '#comment' is a key, and the next token is not '='.
    let e = ConfigFile::parse("ok = 1\n#comment words\n", "f.conf")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("f.conf:2") && e.contains("expected 'key=value'"),
        "{e}"
    );
    // A trailing comment after a value is not a number.
    let e = ConfigFile::parse("*.*.min_query_count = 7 # c\n", "u.conf")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("u.conf:1") && e.contains("integer or double"),
        "{e}"
    );
}

#[test]
fn last_value_wins_and_number_formats() {
    let s = apply(
        "*.*.min_query_count = 7 8\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert_eq!(s.min_query_count, 8);
    let s = apply(
        "*.*.min_query_count = 010\n*.*.max_query_count = 0x10\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert_eq!((s.min_query_count, s.max_query_count), (8, 16));
    let s = apply(
        "*.*.min_query_count = 1.9e3\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert_eq!(s.min_query_count, 1);
}

#[test]
fn units() {
    let s = apply(
        "*.Server.target_latency_percentile = 99\n*.Server.target_latency = 10\n*.*.min_duration = 600000\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert_eq!(s.server_target_latency_percentile, 0.99);
    assert_eq!(s.server_target_latency_ns, 10_000_000);
    assert_eq!(s.min_duration_ms, 600_000);
}

#[test]
fn wildcard_precedence() {
    let text = "*.Server.target_qps = 3\nm.*.target_qps = 4\n*.*.target_qps = 5\n";
    assert_eq!(
        apply(text, "m", "Server", ConfType::Other).server_target_qps,
        3.0
    );
    let text = "m.Server.target_qps = 2\n*.Server.target_qps = 3\n";
    assert_eq!(
        apply(text, "m", "Server", ConfType::Other).server_target_qps,
        2.0
    );
    let text = "m.*.target_qps = 4\n*.*.target_qps = 5\n";
    assert_eq!(
        apply(text, "m", "Server", ConfType::Other).server_target_qps,
        4.0
    );
}

#[test]
fn fixed_scenario_keys_and_token_latency_gate() {
    // target_qps for Offline is read under "Offline" whatever the run's scenario.
    let s = apply("*.Offline.target_qps = 7\n", "m", "Server", ConfType::Other);
    assert_eq!(s.offline_expected_qps, 7.0);
    // ttft/tpot only once use_token_latencies is on.
    let s = apply(
        "m.Server.ttft_latency = 5\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert_eq!(
        s.server_ttft_latency,
        TestSettings::default().server_ttft_latency
    );
    let s = apply(
        "m.*.use_token_latencies = 1\nm.Server.ttft_latency = 5\n",
        "m",
        "Offline",
        ConfType::Other,
    );
    assert_eq!(s.server_ttft_latency, 5_000_000);
}

#[test]
fn booleans() {
    let s = apply(
        "*.*.sample_concatenate_permutation = 2\n*.*.performance_issue_unique = 2\n*.*.mode = 1\n",
        "m",
        "Server",
        ConfType::Other,
    );
    assert!(!s.sample_concatenate_permutation, "true only for exactly 1");
    assert!(s.performance_issue_unique, "true for any non-zero value");
    assert_eq!(s.mode, Mode::AccuracyOnly);
}

#[test]
fn seeds_only_from_mlperf_conf() {
    let text = "*.*.qsl_rng_seed = 42\n*.*.accuracy_log_probability = 10\n";
    let s = apply(text, "m", "Server", ConfType::Other);
    assert_eq!(s.qsl_rng_seed, 0);
    let s = apply(text, "m", "Server", ConfType::MlperfConf);
    assert_eq!(s.qsl_rng_seed, 42);
    assert!((s.accuracy_log_probability - 0.1).abs() < 1e-15);
}

#[test]
fn builtin_gpt_oss_values() {
    let mut s = TestSettings {
        scenario: Scenario::Server,
        ..TestSettings::default()
    };
    ConfigLoader::default().apply_mlperf_conf(&mut s, "gpt-oss-120b", "Server");
    assert_eq!(s.performance_sample_count_override, 6396);
    assert_eq!(s.accuracy_sample_count_override, 4395);
    assert!(s.sample_concatenate_permutation && s.use_token_latencies);
    assert_eq!(
        (s.server_ttft_latency, s.server_tpot_latency),
        (3_000_000_000, 80_000_000)
    );
    assert_eq!(s.server_target_latency_ns, 0);
    assert_eq!(s.min_duration_ms, 600_000);
    let mut s = TestSettings {
        scenario: Scenario::Server,
        ..TestSettings::default()
    };
    ConfigLoader::default().apply_mlperf_conf(&mut s, "gpt-oss-120b-interactive", "Server");
    assert_eq!(
        (s.server_ttft_latency, s.server_tpot_latency),
        (2_000_000_000, 15_000_000)
    );
    // Offline: no min_query_count in mlperf.conf, so the default 100 stays.
    let mut s = TestSettings {
        scenario: Scenario::Offline,
        ..TestSettings::default()
    };
    ConfigLoader::default().apply_mlperf_conf(&mut s, "gpt-oss-120b", "Offline");
    assert_eq!(s.min_query_count, 100);
}

#[test]
fn second_user_conf_does_not_reapply_mlperf_conf() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("user.conf");
    std::fs::write(&p, "*.Server.target_qps = 3\n").unwrap();
    let mut loader = ConfigLoader::default();
    let mut a = TestSettings::default();
    loader
        .from_config(&mut a, &p, "gpt-oss-120b", "Server", ConfType::UserConf)
        .unwrap();
    assert_eq!(a.performance_sample_count_override, 6396);
    let mut b = TestSettings::default();
    loader
        .from_config(&mut b, &p, "gpt-oss-120b", "Server", ConfType::UserConf)
        .unwrap();
    assert_eq!(
        b.performance_sample_count_override, 0,
        "no mlperf.conf values the second time"
    );
    assert_eq!(loader.errors.len(), 1);
    // A missing file names the path.
    let e = loader
        .from_config(
            &mut b,
            &dir.path().join("nope.conf"),
            "m",
            "Server",
            ConfType::Other,
        )
        .unwrap_err();
    assert!(e.to_string().contains("nope.conf"), "{e}");
}
