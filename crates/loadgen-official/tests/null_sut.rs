//! The official LoadGen driven through the safe wrapper by a null SUT that
//! completes every sample with five tokens, from a thread of its own.
//! LoadGen allows one test per process, so each test reruns this test
//! binary for just itself (`in_own_process`).

use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

use loadgen_official::{Callbacks, Completer, Error, Mode, Params, Sample, Scenario};

fn tokens() -> Vec<u8> {
    [7i32, 8, 9, 10, 11]
        .iter()
        .flat_map(|t| t.to_le_bytes())
        .collect()
}

/// Hands samples to a worker thread that completes them (as a real SUT
/// completes from its own threads).
struct NullSut {
    streaming: bool,
    work: Mutex<mpsc::Sender<(Vec<Sample>, Completer)>>,
    loaded: Mutex<Vec<usize>>,
}

impl NullSut {
    fn start(streaming: bool) -> (Self, std::thread::JoinHandle<usize>) {
        let (tx, rx) = mpsc::channel::<(Vec<Sample>, Completer)>();
        let worker = std::thread::spawn(move || {
            let data = tokens();
            let mut done = 0;
            for (samples, completer) in rx {
                for s in samples {
                    if streaming {
                        completer.first_token(s.id, &data[..4]);
                    }
                    completer.complete(s.id, &data, 5);
                    done += 1;
                }
            }
            done
        });
        let sut = NullSut {
            streaming,
            work: Mutex::new(tx),
            loaded: Mutex::new(Vec::new()),
        };
        (sut, worker)
    }
}

impl Callbacks for NullSut {
    fn issue(&self, samples: &[Sample], completer: &Completer) {
        let _ = self.streaming;
        self.work
            .lock()
            .unwrap()
            .send((samples.to_vec(), completer.clone()))
            .unwrap();
    }
    fn load(&self, indices: &[usize]) {
        self.loaded.lock().unwrap().extend_from_slice(indices);
    }
}

fn params(dir: &Path, scenario: Scenario, user_conf: &str, samples: usize) -> Params {
    let conf = dir.join("user.conf");
    std::fs::write(&conf, user_conf).unwrap();
    Params {
        sut_name: "NullSUT".into(),
        qsl_name: "NullQSL".into(),
        total_sample_count: samples,
        performance_sample_count: samples,
        model: "gpt-oss-120b".into(),
        scenario,
        mode: Mode::PerformanceOnly,
        mlperf_conf: None,
        user_conf: Some(conf),
        audit_config: None,
        outdir: dir.join("logs"),
        prefix: "mlperf_log_".into(),
        suffix: String::new(),
        enable_trace: false,
    }
}

const OFFLINE_CONF: &str = "gpt-oss-120b.Offline.target_qps = 1000\n\
                            gpt-oss-120b.Offline.min_duration = 100\n";

#[test]
fn without_the_feature_it_says_how_to_build_it() {
    if loadgen_official::BUILT {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (sut, _worker) = NullSut::start(false);
    let err = loadgen_official::run_test(
        &params(dir.path(), Scenario::Offline, OFFLINE_CONF, 10),
        &sut,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotBuilt));
    let text = err.to_string();
    assert!(
        text.contains("fetch-official-loadgen.sh") && text.contains("--features official-loadgen"),
        "{text}"
    );
    assert_eq!(loadgen_official::version(), None);
}

#[cfg(feature = "official")]
mod official {
    use std::path::PathBuf;
    use std::process::Command;

    use loadgen_official::DetailLog;

    use super::*;

    const CHILD: &str = "LOADGEN_OFFICIAL_TEST_CHILD";

    /// Runs the calling test's body in a fresh process (this binary, only
    /// that test); returns true in the child, where the body should run.
    fn in_own_process(name: &str) -> bool {
        if std::env::var_os(CHILD).is_some() {
            return true;
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} failed in its own process:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{name} did not run in the child"
        );
        false
    }

    fn wheel_run(dir: &Path, scenario: &str, user_conf: &str, samples: usize) -> DetailLog {
        let conf = dir.join("user.conf");
        std::fs::write(&conf, user_conf).unwrap();
        let outdir = dir.join("logs");
        std::fs::create_dir_all(&outdir).unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/wheel_null_sut.py");
        let out = Command::new("python3")
            .arg(script)
            .args([
                scenario,
                conf.to_str().unwrap(),
                outdir.to_str().unwrap(),
                &samples.to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        DetailLog::read(&outdir.join("mlperf_log_detail.txt")).unwrap()
    }

    fn issued(log: &DetailLog) -> usize {
        let n = |k: &str| log.values[k].as_u64().unwrap() as usize;
        n("result_query_count") * n("generated_samples_per_query")
    }

    #[test]
    fn offline_run_logs_the_official_identity_of_the_wheel() {
        if !in_own_process("official::offline_run_logs_the_official_identity_of_the_wheel") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (sut, worker) = NullSut::start(false);
        let p = params(dir.path(), Scenario::Offline, OFFLINE_CONF, 64);
        let outcome = loadgen_official::run_test(&p, &sut).unwrap();
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        let loaded = sut.loaded.lock().unwrap().len();
        drop(sut);
        let ours = DetailLog::read(&p.outdir.join("mlperf_log_detail.txt")).unwrap();
        assert_eq!(ours.errors, 0, "{:?}", ours.first_error);
        assert_eq!(worker.join().unwrap(), issued(&ours));
        assert_eq!(loaded, 64);

        let wheel_dir = tempfile::tempdir().unwrap();
        let wheel = wheel_run(wheel_dir.path(), "Offline", OFFLINE_CONF, 64);
        for key in [
            "loadgen_version",
            "loadgen_file_sha1",
            "loadgen_git_commit_date",
            "loadgen_git_status_message",
        ] {
            assert_eq!(ours.values.get(key), wheel.values.get(key), "{key}");
        }
        assert_eq!(ours.values["loadgen_version"], "6.0.17 @ d6147c7eb7");
        assert_eq!(
            loadgen_official::version().as_deref(),
            Some("6.0.17 @ d6147c7eb7")
        );
        // The same settings issue the same work.
        for key in [
            "generated_query_count",
            "generated_samples_per_query",
            "effective_target_qps",
            "effective_sample_index_rng_seed",
        ] {
            assert_eq!(ours.values.get(key), wheel.values.get(key), "{key}");
        }
        // A second test in the same process is refused, not run on stale state.
        let (sut, _worker) = NullSut::start(false);
        let again = params(dir.path(), Scenario::Offline, OFFLINE_CONF, 64);
        let err = loadgen_official::run_test(&again, &sut).unwrap_err();
        assert!(matches!(err, Error::AlreadyRan), "{err}");
    }

    #[test]
    fn server_run_streams_first_tokens_and_is_valid() {
        if !in_own_process("official::server_run_streams_first_tokens_and_is_valid") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (sut, worker) = NullSut::start(true);
        let conf = "gpt-oss-120b.Server.target_qps = 2000\n\
                    gpt-oss-120b.Server.min_duration = 200\n\
                    gpt-oss-120b.Server.min_query_count = 200\n";
        let p = params(dir.path(), Scenario::Server, conf, 50);
        let outcome = loadgen_official::run_test(&p, &sut).unwrap();
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        drop(sut);
        let log = DetailLog::read(&p.outdir.join("mlperf_log_detail.txt")).unwrap();
        assert_eq!(log.errors, 0, "{:?}", log.first_error);
        assert_eq!(worker.join().unwrap(), issued(&log));
        assert_eq!(log.values["effective_scenario"], "Server");
        assert_eq!(log.values["requested_use_token_latencies"], true);
    }

    /// Panics in `issue`; the samples still get completed so LoadGen ends.
    struct PanickingSut;
    impl Callbacks for PanickingSut {
        fn issue(&self, _samples: &[Sample], _completer: &Completer) {
            panic!("the backend exploded");
        }
    }

    #[test]
    fn a_panicking_sut_ends_the_run_with_errors_instead_of_aborting() {
        if !in_own_process("official::a_panicking_sut_ends_the_run_with_errors_instead_of_aborting")
        {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = params(dir.path(), Scenario::Offline, OFFLINE_CONF, 8);
        let outcome = loadgen_official::run_test(&p, &PanickingSut).unwrap();
        assert!(
            outcome
                .errors
                .iter()
                .any(|e| e.contains("panicked in issue: the backend exploded")),
            "{:?}",
            outcome.errors
        );
        let log = DetailLog::read(&p.outdir.join("mlperf_log_detail.txt")).unwrap();
        assert!(log.values.contains_key("result_validity"));
    }

    /// Completes an id LoadGen never issued, and one sample twice.
    struct SloppySut;
    impl Callbacks for SloppySut {
        fn issue(&self, samples: &[Sample], completer: &Completer) {
            let data = tokens();
            completer.complete(12345, &data, 5);
            for s in samples {
                completer.complete(s.id, &data, 5);
            }
            completer.complete(samples[0].id, &data, 5);
        }
    }

    #[test]
    fn completions_of_ids_not_outstanding_are_refused() {
        if !in_own_process("official::completions_of_ids_not_outstanding_are_refused") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = params(dir.path(), Scenario::Offline, OFFLINE_CONF, 8);
        let outcome = loadgen_official::run_test(&p, &SloppySut).unwrap();
        assert_eq!(outcome.errors.len(), 2, "{:?}", outcome.errors);
        assert!(outcome.errors[0].contains("sample id 12345, which is not outstanding"));
        assert!(outcome.errors[1].contains("completed twice"));
    }

    #[test]
    fn a_bad_user_conf_line_is_refused_before_the_run() {
        if !in_own_process("official::a_bad_user_conf_line_is_refused_before_the_run") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = params(
            dir.path(),
            Scenario::Offline,
            "gpt-oss-120b.Offline.target_qps = fast\n",
            8,
        );
        let (sut, _worker) = NullSut::start(false);
        let err = loadgen_official::run_test(&p, &sut).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Config(_)), "{text}");
        assert!(
            text.contains("user.conf")
                && text.contains("value needs to be integer or double, line=1"),
            "{text}"
        );
    }
}
