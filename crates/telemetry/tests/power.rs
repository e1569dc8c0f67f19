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

/// A loopback HTTP server that answers every request with `page`; returns its URL.
fn serve_page(page: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    url
}

#[test]
fn a_dcgm_exporter_page_is_read_per_gpu_and_host_at_the_interval() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dcgm_exporter.txt"),
    )
    .unwrap();
    let want = telemetry::dcgm_watts(&telemetry::Page::parse(&page));
    let url = serve_page(page);
    let dir = tempfile::tempdir().unwrap();
    let Power::Sampling(sampler) = start(&PowerSource::Dcgm(url.clone()), dir.path()).unwrap()
    else {
        panic!("DCGM always samples")
    };
    let file = dir.path().join("power.jsonl");
    let begin = Instant::now();
    while std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .count()
        < 3
    {
        assert!(begin.elapsed() < Duration::from_secs(20), "no readings");
        std::thread::sleep(Duration::from_millis(20));
    }
    let trace = sampler.stop();
    assert_eq!(trace.source, format!("dcgm {url}"));
    assert!(trace.samples.len() >= 3);
    assert!(
        trace.samples.iter().all(|s| s.watts == want),
        "{:?}",
        trace.samples[0]
    );
    assert_eq!(want.len(), 3, "two GPUs on node-a, one on node-b");
}

#[test]
fn a_dcgm_url_that_is_not_an_exporter_gives_gaps() {
    let url = serve_page("# nothing here\n".into());
    let dir = tempfile::tempdir().unwrap();
    let Power::Sampling(sampler) = start(&PowerSource::Dcgm(url.clone()), dir.path()).unwrap()
    else {
        panic!("DCGM always samples")
    };
    let file = dir.path().join("power.jsonl");
    let begin = Instant::now();
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("DCGM_FI_DEV_POWER_USAGE")
    {
        assert!(begin.elapsed() < Duration::from_secs(20), "no gap");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sampler.stop().samples.is_empty());
}
