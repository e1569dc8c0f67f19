//! Power sources as real processes and libraries: a `--power-cmd` script,
//! and NVML where this host has a driver (a one-line note where not).

use std::time::{Duration, Instant};

use telemetry::{HttpConfig, Power, PowerSource};

fn start(source: &PowerSource, dir: &std::path::Path) -> Result<Power, telemetry::Error> {
    Power::start(
        source,
        Duration::from_millis(100),
        &HttpConfig::default(),
        Instant::now(),
        &dir.join("power.jsonl"),
    )
}

#[test]
fn a_power_command_is_read_line_by_line_and_stopped_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    // Two GPUs at 150 W and 100 W, 20 readings a second, after a bad line;
    // the loop runs in a shell started by the command's shell.
    let script = dir.path().join("loop.sh");
    std::fs::write(
        &script,
        format!(
            "echo $$ > {}\nwhile :; do echo '150, 100'; sleep 0.05; done\n",
            pid_file.display()
        ),
    )
    .unwrap();
    let cmd = format!("echo 'not watts'; sh {}", script.display());
    let Power::Sampling(sampler) = start(&PowerSource::Command(cmd.clone()), dir.path()).unwrap()
    else {
        panic!("a command always samples")
    };
    let file = dir.path().join("power.jsonl");
    let lines = || {
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let begin = Instant::now();
    while lines() < 6 {
        assert!(begin.elapsed() < Duration::from_secs(20), "no readings");
        std::thread::sleep(Duration::from_millis(20));
    }
    let trace = sampler.stop();
    assert_eq!(trace.source, format!("command {cmd}"));
    assert!(trace.samples.len() >= 5, "{}", trace.samples.len());
    for s in &trace.samples {
        assert_eq!(
            s.watts.values().copied().collect::<Vec<_>>(),
            [150.0, 100.0]
        );
    }
    assert!(trace.samples.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
    let text = std::fs::read_to_string(&file).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(
        first["gap"]
            .as_str()
            .unwrap()
            .contains("\"not\" is not a number of watts"),
        "{first}"
    );
    let readings = text.lines().filter(|l| l.contains("\"watts\"")).count();
    assert_eq!(readings, trace.samples.len());
    // The inner shell (a grandchild) is gone with the rest of the group.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    let begin = Instant::now();
    while proc.exists() {
        assert!(
            begin.elapsed() < Duration::from_secs(5),
            "{proc:?} still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_command_that_cannot_run_ends_the_trace_with_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let Power::Sampling(sampler) =
        start(&PowerSource::Command("exit 3".into()), dir.path()).unwrap()
    else {
        panic!("a command always samples")
    };
    let file = dir.path().join("power.jsonl");
    let begin = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("exited")
    {
        assert!(
            begin.elapsed() < Duration::from_secs(20),
            "no gap for the exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sampler.stop().samples.is_empty());
}

/// Whether this host has an NVIDIA driver loaded.
fn has_driver() -> bool {
    std::path::Path::new("/proc/driver/nvidia/version").exists()
}

#[test]
fn nvml_is_read_where_there_is_a_driver_and_noted_in_one_line_where_not() {
    let dir = tempfile::tempdir().unwrap();
    match (start(&PowerSource::Auto, dir.path()).unwrap(), has_driver()) {
        (Power::Off(note), false) => {
            assert_eq!(note.lines().count(), 1, "{note}");
            assert!(
                note.starts_with("note: no GPU power readings (NVML: "),
                "{note}"
            );
            // Asked for explicitly, it is an error that says why.
            let err = start(&PowerSource::Nvml, dir.path())
                .err()
                .expect("no NVML here");
            assert!(err.to_string().contains("--power nvml"), "{err}");
        }
        (Power::Sampling(sampler), true) => {
            std::thread::sleep(Duration::from_millis(350));
            let trace = sampler.stop();
            assert_eq!(trace.source, "nvml");
            assert!(trace.samples.len() >= 2, "{}", trace.samples.len());
            assert!(trace
                .samples
                .iter()
                .all(|s| s.watts.values().all(|w| *w > 0.0)));
        }
        (Power::Off(note), true) => panic!("a driver is loaded but NVML is not: {note}"),
        (Power::Sampling(_), false) => panic!("NVML answered without /proc/driver/nvidia"),
    }
}
