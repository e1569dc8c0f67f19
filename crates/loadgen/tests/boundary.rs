//! The SUT/LoadGen boundary: a SUT driven through the [`LoadGen`] trait,
//! and a [`Responder`] over a sink that is not the native engine's.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use loadgen::{
    LoadGen, LogSettings, Mode, NativeLoadGen, QuerySample, QuerySampleLibrary, Responder,
    ResponseSink, RunError, Scenario, SystemUnderTest, TestSettings, TestSpec,
};

struct EchoSut;

impl SystemUnderTest for EchoSut {
    fn name(&self) -> String {
        "EchoSUT".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        for s in samples {
            let tokens: Vec<u8> = [7i32, 8, 9].iter().flat_map(|t| t.to_le_bytes()).collect();
            responder.first_token(s.id, &tokens[..4]);
            responder.complete(s.id, &tokens, 3);
        }
    }
}

struct Qsl(usize);

impl QuerySampleLibrary for Qsl {
    fn total_sample_count(&self) -> usize {
        self.0
    }
    fn performance_sample_count(&self) -> usize {
        self.0
    }
}

fn server_spec(user_conf: std::path::PathBuf) -> TestSpec {
    TestSpec {
        base: TestSettings {
            scenario: Scenario::Server,
            mode: Mode::PerformanceOnly,
            ..TestSettings::default()
        },
        model: "gpt-oss-120b".into(),
        mlperf_conf: None,
        user_conf: Some(user_conf),
        audit_config: None,
    }
}

#[test]
fn the_native_loadgen_behind_the_trait_reads_the_specs_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("user.conf");
    std::fs::write(
        &conf,
        "gpt-oss-120b.Server.target_qps = 4000\n\
         *.*.min_duration = 1\n\
         *.*.min_query_count = 37\n\
         *.*.performance_sample_count_override = 37\n",
    )
    .unwrap();
    let logs = LogSettings {
        outdir: dir.path().join("logs"),
        enable_trace: false,
        ..Default::default()
    };
    let loadgen: &dyn LoadGen = &NativeLoadGen;
    let report = loadgen
        .start_test(&EchoSut, &Qsl(37), &server_spec(conf), &logs)
        .unwrap();
    assert_eq!(report.errors, 0, "{:?}", report.first_error);
    assert!(
        report.config_errors.is_empty(),
        "{:?}",
        report.config_errors
    );
    assert_eq!(report.loadgen_version, loadgen.version());
    assert!(
        report
            .loadgen_version
            .contains("not the official LoadGen; not valid for submission"),
        "{}",
        report.loadgen_version
    );
    let detail = std::fs::read_to_string(logs.outdir.join("mlperf_log_detail.txt")).unwrap();
    for line in [
        r#""key": "requested_server_target_qps", "value": 4000"#,
        r#""key": "requested_min_query_count", "value": 37"#,
        r#""key": "effective_performance_sample_count", "value": 37"#,
    ] {
        assert!(detail.contains(line), "missing {line} in\n{detail}");
    }
}

#[test]
fn a_broken_user_conf_is_a_config_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("user.conf");
    std::fs::write(
        &conf,
        "*.*.min_query_count = 3\n*.*.min_duration = 1 # ms\n",
    )
    .unwrap();
    let logs = LogSettings {
        outdir: dir.path().join("logs"),
        ..Default::default()
    };
    let err = NativeLoadGen
        .start_test(&EchoSut, &Qsl(4), &server_spec(conf.clone()), &logs)
        .unwrap_err();
    assert!(matches!(err, RunError::Config(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{}:2", conf.display())),
        "the message names the file and line: {text}"
    );
    assert!(!logs.outdir.exists(), "nothing was run or written");
}

/// One report as a sink saw it: kind, id, bytes, token count.
type Report = (&'static str, u64, Vec<u8>, i64);

/// A sink that keeps what it was told, as another LoadGen's binding would
/// forward it.
#[derive(Default)]
struct Kept(Mutex<Vec<Report>>);

impl ResponseSink for Kept {
    fn first_token(&self, id: u64, tokens: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push(("first", id, tokens.to_vec(), 0));
    }
    fn complete(&self, id: u64, data: &[u8], n_tokens: i64) {
        self.0
            .lock()
            .unwrap()
            .push(("complete", id, data.to_vec(), n_tokens));
    }
}

#[test]
fn a_responder_hands_every_report_to_its_sink_from_any_thread() {
    let sink = Arc::new(Kept::default());
    let responder = Responder::new(sink.clone());
    let samples: Vec<QuerySample> = (1..=3)
        .map(|id| QuerySample {
            id,
            index: id as usize * 10,
            scheduled: Instant::now(),
        })
        .collect();
    let r = responder.clone();
    std::thread::spawn(move || EchoSut.issue(samples, r))
        .join()
        .unwrap();
    let kept = sink.0.lock().unwrap();
    let expected: Vec<Report> = (1..=3)
        .flat_map(|id| {
            [
                ("first", id, vec![7, 0, 0, 0], 0),
                ("complete", id, vec![7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0], 3),
            ]
        })
        .collect();
    assert_eq!(*kept, expected);
}
