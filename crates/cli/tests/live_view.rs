//! `run`'s live view on a real pseudo-terminal, its screen parsed as a
//! terminal would (vt100), against `serve --model sim`: the full screen
//! shows every figure during the run, the terminal is restored afterwards,
//! and Ctrl-C ends the run early with LoadGen's logs written.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{write_dataset, Server};
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

const ROWS: u16 = 40;
const COLS: u16 = 140;

/// `mlperf-gptoss` running on a pseudo-terminal; its output goes into a vt100 screen.
struct PtyRun {
    child: Box<dyn Child + Send + Sync>,
    screen: Arc<Mutex<vt100::Parser>>,
    keys: Box<dyn Write + Send>,
    _master: Box<dyn MasterPty + Send>,
}

impl PtyRun {
    fn start(cwd: &Path, args: &[&str]) -> PtyRun {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_mlperf-gptoss"));
        command.args(args);
        command.cwd(cwd);
        command.env("TIKTOKEN_RS_CACHE_DIR", cwd);
        command.env("TERM", "xterm-256color");
        command.env_remove("TIKTOKEN_ENCODINGS_BASE");
        let child = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let mut output = pty.master.try_clone_reader().unwrap();
        let fed = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                fed.lock().unwrap().process(&buf[..n]);
            }
        });
        let keys = pty.master.take_writer().unwrap();
        PtyRun {
            child,
            screen,
            keys,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen holds every needle; returns that screen.
    #[track_caller]
    fn wait_for_screen(&mut self, needles: &[&str], limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            if start.elapsed() > limit || self.child.try_wait().unwrap().is_some() {
                let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
                panic!("{missing:?} never on the screen; last screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end; its exit code.
    fn exit_code(&mut self, limit: Duration) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader take in the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return status.exit_code();
            }
            assert!(
                start.elapsed() < limit,
                "still running after {limit:?}:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PtyRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A Server-scenario key of the built-in (official) mlperf.conf, in ms.
fn server_limit_ms(key: &str) -> u64 {
    let wanted = format!("gpt-oss-120b.Server.{key}");
    loadgen::BUILTIN_MLPERF_CONF
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == wanted).then(|| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{wanted} not in mlperf.conf"))
}

fn write_conf(dir: &Path, text: &str) -> String {
    let path = dir.join("user.conf");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_full_screen_shows_every_figure_and_the_terminal_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "20",
        "--sim-tpot-ms",
        "5",
    ]);
    let data = write_dataset(dir.path(), "prompts.jsonl", &[30; 8]);
    // 40 queries at 10 per second: about four seconds on the screen.
    let conf = write_conf(
        dir.path(),
        "*.Server.target_qps = 10\n*.Server.min_duration = 0\n*.Server.min_query_count = 40\n",
    );
    let (ttft, tpot) = (
        server_limit_ms("ttft_latency"),
        server_limit_ms("tpot_latency"),
    );
    let mut run = PtyRun::start(
        dir.path(),
        &[
            "run",
            "--scenario",
            "server",
            "--backend",
            "sglang",
            "--endpoint",
            &server.url,
            "--dataset",
            data.to_str().unwrap(),
            "--user-conf",
            &conf,
            "--max-new-tokens",
            "20",
        ],
    );
    let screen = run.wait_for_screen(
        &[
            "mlperf-gptoss run · server performance · 8 samples",
            "/ 40 done",
            "time 0:0",
            "issued",
            "in flight",
            "issue lag   p99",
            "tokens/s",
            "latency p99, last",
            "TTFT ",
            &format!("limit {ttft}.0 ms"),
            "TPOT ",
            &format!("limit {tpot}.0 ms"),
            "early stopping, projected to 40 queries",
            "over the limit so far; needs at least",
            "failed 0",
            "Ctrl-C: stop the run early",
        ],
        Duration::from_secs(60),
    );
    assert!(
        run.screen.lock().unwrap().screen().alternate_screen(),
        "{screen}"
    );
    // A figure that moves: some samples are done while the run goes on.
    run.wait_for_screen(&["samples 1"], Duration::from_secs(30));

    let code = run.exit_code(Duration::from_secs(120));
    let text = run.text();
    assert_eq!(code, 0, "{text}");
    let parser = run.screen.lock().unwrap();
    assert!(
        !parser.screen().alternate_screen(),
        "left on the alternate screen:\n{text}"
    );
    assert!(!parser.screen().hide_cursor(), "the cursor is still hidden");
    assert!(
        text.contains("Result is"),
        "the summary is on the normal screen:\n{text}"
    );
    assert!(text.contains("logs and records:"), "{text}");
}

#[test]
fn ctrl_c_ends_the_run_early_with_loadgens_logs_written() {
    let dir = tempfile::tempdir().unwrap();
    // Two seconds to each first token, two at a time: 24 samples would take half a minute.
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "2000",
        "--sim-tpot-ms",
        "1",
    ]);
    let data = write_dataset(dir.path(), "prompts.jsonl", &[30; 24]);
    let conf = write_conf(
        dir.path(),
        "*.Offline.min_duration = 0\n*.Offline.min_query_count = 24\n",
    );
    let mut run = PtyRun::start(
        dir.path(),
        &[
            "run",
            "--backend",
            "sglang",
            "--endpoint",
            &server.url,
            "--dataset",
            data.to_str().unwrap(),
            "--user-conf",
            &conf,
            "--max-new-tokens",
            "4",
            "--max-concurrency",
            "2",
        ],
    );
    run.wait_for_screen(
        &["in flight   24", "none in this scenario (Offline)"],
        Duration::from_secs(60),
    );
    run.keys.write_all(b"\x03").unwrap();
    run.keys.flush().unwrap();
    let code = run.exit_code(Duration::from_secs(60));
    let text = run.text();
    assert_eq!(code, 130, "{text}");
    assert!(
        !run.screen.lock().unwrap().screen().alternate_screen(),
        "{text}"
    );
    assert!(
        text.contains("interrupted: samples not answered yet"),
        "{text}"
    );
    assert!(text.contains("interrupted: the run ended early"), "{text}");

    let out = dir.path().join("mlperf_results/offline/performance");
    for file in [
        "mlperf_log_summary.txt",
        "mlperf_log_detail.txt",
        "mlperf_log_accuracy.json",
        "results.json",
    ] {
        assert!(out.join(file).is_file(), "{file} not written");
    }
    let records = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = records
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 24, "every sample is recorded");
    let interrupted = records
        .iter()
        .filter(|r| {
            r["error"]
                .as_str()
                .is_some_and(|e| e.contains("interrupted (Ctrl-C)"))
        })
        .count();
    // The run ended early: most samples were answered without waiting for the server.
    assert!(interrupted >= 20, "{interrupted} of 24 interrupted");
}

#[test]
fn off_a_terminal_sigint_ends_the_run_early_with_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--model",
        "sim",
        "--sim-ttft-ms",
        "2000",
        "--sim-tpot-ms",
        "1",
    ]);
    let data = write_dataset(dir.path(), "prompts.jsonl", &[30; 24]);
    let conf = write_conf(
        dir.path(),
        "*.Offline.min_duration = 0\n*.Offline.min_query_count = 24\n",
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mlperf-gptoss"))
        .args([
            "run",
            "--backend",
            "sglang",
            "--endpoint",
            &server.url,
            "--dataset",
        ])
        .arg(&data)
        .args([
            "--user-conf",
            &conf,
            "--max-new-tokens",
            "4",
            "--max-concurrency",
            "2",
        ])
        .current_dir(dir.path())
        .env("TIKTOKEN_RS_CACHE_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = dir.path().join("mlperf_results/offline/performance");
    // samples.jsonl is created after the handler is installed.
    common::wait_until("the run to start", Duration::from_secs(60), || {
        out.join("samples.jsonl").is_file()
    });
    std::thread::sleep(Duration::from_millis(500));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let err = common::stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted: samples not answered yet"),
        "{err}"
    );
    assert!(err.contains("interrupted: the run ended early"), "{err}");
    assert!(out.join("mlperf_log_summary.txt").is_file(), "{err}");
    let records = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 24, "{err}");
}
