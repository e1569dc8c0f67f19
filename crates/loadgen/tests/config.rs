//! Config-file behaviour as loadgen.md §3 documents it (each rule there was
//! checked against the 6.0.17 wheel; `conformance.rs` re-checks a mix of
//! them against the wheel itself).

use loadgen::{ConfType, ConfigFile, ConfigLoader, Scenario, TestSettings};

fn apply(text: &str, model: &str, scenario: &str, t: ConfType) -> TestSettings {
    let mut s = TestSettings::default();
    ConfigFile::parse(text, "t.conf")
        .unwrap()
        .apply(&mut s, model, scenario, t);
    s
}

/// One config text applied for model `m`: the fields it is about, as
/// `{:?}` of a value or a tuple, and what they must be.
struct Case<'a> {
    what: &'static str,
    text: &'static str,
    scenario: &'static str,
    conf_type: ConfType,
    fields: fn(&TestSettings) -> String,
    expected: &'a str,
}

#[test]
fn values_keys_and_precedence() {
    use ConfType::{MlperfConf, Other};
    let default_min_query_count = TestSettings::default().min_query_count.to_string();
    let default_ttft = TestSettings::default().server_ttft_latency.to_string();
    let cases = [
        Case {
            what: "key=value without spaces is ignored",
            text: "*.*.min_query_count=5\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.min_query_count),
            expected: &default_min_query_count,
        },
        Case {
            what: "the last of several values wins",
            text: "*.*.min_query_count = 7 8\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.min_query_count),
            expected: "8",
        },
        Case {
            what: "integers may be octal or hex",
            text: "*.*.min_query_count = 010\n*.*.max_query_count = 0x10\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", (s.min_query_count, s.max_query_count)),
            expected: "(8, 16)",
        },
        Case {
            what: "an integer key takes strtoull's prefix of a double",
            text: "*.*.min_query_count = 1.9e3\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.min_query_count),
            expected: "1",
        },
        Case {
            what: "units: percent, ms to ns, ms",
            text: "*.Server.target_latency_percentile = 99\n*.Server.target_latency = 10\n*.*.min_duration = 600000\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| {
                format!(
                    "{:?}",
                    (
                        s.server_target_latency_percentile,
                        s.server_target_latency_ns,
                        s.min_duration_ms
                    )
                )
            },
            expected: "(0.99, 10000000, 600000)",
        },
        Case {
            what: "*.scenario beats model.* and *.*",
            text: "*.Server.target_qps = 3\nm.*.target_qps = 4\n*.*.target_qps = 5\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.server_target_qps),
            expected: "3.0",
        },
        Case {
            what: "model.scenario beats *.scenario",
            text: "m.Server.target_qps = 2\n*.Server.target_qps = 3\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.server_target_qps),
            expected: "2.0",
        },
        Case {
            what: "model.* beats *.*",
            text: "m.*.target_qps = 4\n*.*.target_qps = 5\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.server_target_qps),
            expected: "4.0",
        },
        Case {
            what: "Offline's target_qps is read under Offline whatever the run's scenario",
            text: "*.Offline.target_qps = 7\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.offline_expected_qps),
            expected: "7.0",
        },
        Case {
            what: "ttft_latency is ignored while use_token_latencies is off",
            text: "m.Server.ttft_latency = 5\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.server_ttft_latency),
            expected: &default_ttft,
        },
        Case {
            what: "ttft_latency is read once use_token_latencies is on",
            text: "m.*.use_token_latencies = 1\nm.Server.ttft_latency = 5\n",
            scenario: "Offline",
            conf_type: Other,
            fields: |s| format!("{:?}", s.server_ttft_latency),
            expected: "5000000",
        },
        Case {
            what: "booleans: exactly 1 for some keys, any non-zero for others; mode by number",
            text: "*.*.sample_concatenate_permutation = 2\n*.*.performance_issue_unique = 2\n*.*.mode = 1\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| {
                format!(
                    "{:?}",
                    (
                        s.sample_concatenate_permutation,
                        s.performance_issue_unique,
                        s.mode
                    )
                )
            },
            expected: "(false, true, AccuracyOnly)",
        },
        Case {
            what: "seeds only from mlperf.conf",
            text: "*.*.qsl_rng_seed = 42\n*.*.accuracy_log_probability = 10\n",
            scenario: "Server",
            conf_type: Other,
            fields: |s| format!("{:?}", s.qsl_rng_seed),
            expected: "0",
        },
        Case {
            what: "seeds from mlperf.conf",
            text: "*.*.qsl_rng_seed = 42\n*.*.accuracy_log_probability = 10\n",
            scenario: "Server",
            conf_type: MlperfConf,
            fields: |s| format!("{:?}", s.qsl_rng_seed),
            expected: "42",
        },
    ];
    for c in &cases {
        let got = (c.fields)(&apply(c.text, "m", c.scenario, c.conf_type));
        assert_eq!(got, c.expected, "{}", c.what);
    }
    // mlperf.conf's accuracy_log_probability is a percentage.
    let s = apply(
        "*.*.qsl_rng_seed = 42\n*.*.accuracy_log_probability = 10\n",
        "m",
        "Server",
        MlperfConf,
    );
    assert!((s.accuracy_log_probability - 0.1).abs() < 1e-15);
}

#[test]
fn comments_and_errors() {
    // '#' as its own token ends the line.
    assert!(ConfigFile::parse("# a comment\n  # indented\n", "x").is_ok());
    for (text, file, at, why) in [
        // '#comment' is a key, and the next token is not '='.
        (
            "ok = 1\n#comment words\n",
            "f.conf",
            "f.conf:2",
            "expected 'key=value'",
        ),
        // A trailing comment after a value is not a number.
        (
            "*.*.min_query_count = 7 # c\n",
            "u.conf",
            "u.conf:1",
            "integer or double",
        ),
    ] {
        let e = ConfigFile::parse(text, file).unwrap_err().to_string();
        assert!(e.contains(at) && e.contains(why), "{e}");
    }
}

/// The built-in mlperf.conf applied for `model` in `scenario`.
fn builtin(model: &str, scenario: Scenario) -> TestSettings {
    let mut s = TestSettings {
        scenario,
        ..TestSettings::default()
    };
    ConfigLoader::default().apply_mlperf_conf(&mut s, model, scenario.as_str());
    s
}

#[test]
fn builtin_gpt_oss_values() {
    let s = builtin("gpt-oss-120b", Scenario::Server);
    assert_eq!(s.performance_sample_count_override, 6396);
    assert_eq!(s.accuracy_sample_count_override, 4395);
    assert!(s.sample_concatenate_permutation && s.use_token_latencies);
    assert_eq!(
        (s.server_ttft_latency, s.server_tpot_latency),
        (3_000_000_000, 80_000_000)
    );
    assert_eq!(s.server_target_latency_ns, 0);
    assert_eq!(s.min_duration_ms, 600_000);
    let s = builtin("gpt-oss-120b-interactive", Scenario::Server);
    assert_eq!(
        (s.server_ttft_latency, s.server_tpot_latency),
        (2_000_000_000, 15_000_000)
    );
    // Offline: no min_query_count in mlperf.conf, so the default 100 stays.
    let s = builtin("gpt-oss-120b", Scenario::Offline);
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
