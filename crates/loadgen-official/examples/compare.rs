//! Official vs native LoadGen, side by side in one process per scenario,
//! the same SUT talking HTTP to the same in-process `--model sim` server on
//! loopback: what LoadGen costs on the SUT's hot paths (the `first_token`
//! and `complete` calls, i.e. timestamping and, for the official LoadGen,
//! the FFI crossing and `QuerySamplesComplete`) and how late queries reach
//! the SUT against the Server schedule.
//!
//! ```sh
//! eval "$(scripts/fetch-official-loadgen.sh)"
//! cargo run --release -p loadgen-official --features official --example compare
//! ```
//!
//! The official C++ API does not expose its schedule; the schedule is the
//! native one (the differential suite proves them identical), so lateness
//! is measured for both the same way: each query's issue time minus its
//! scheduled offset, aligned so that the earliest query is 0 late. The
//! native LoadGen's own lateness (against its real scheduled times) is
//! printed beside it. One official test per process: each scenario runs in
//! a child process of this binary.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::{Backend, EndpointPool, Event, GenerateRequest, HttpConfig, SglangBackend};
use clap::Parser;
use loadgen::{
    LoadGen, LogSettings, NativeLoadGen, QuerySample, QuerySampleLibrary, Responder,
    SystemUnderTest, TestSpec,
};
use loadgen_official::OfficialLoadGen;

#[derive(Parser, Clone)]
struct Args {
    /// offline, server, or both (each in a child process).
    #[arg(long, default_value = "both")]
    scenario: String,
    /// Dataset size (Offline issues every sample once).
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Server target QPS.
    #[arg(long, default_value_t = 400.0)]
    qps: f64,
    /// Server run length in milliseconds.
    #[arg(long, default_value_t = 5000)]
    duration_ms: u64,
    /// Output tokens per request (the sim server's fixed length).
    #[arg(long, default_value_t = 16)]
    output_tokens: u32,
    /// Sim server: time to first token, ms.
    #[arg(long, default_value_t = 2.0)]
    sim_ttft_ms: f64,
    /// Sim server: time per output token, ms.
    #[arg(long, default_value_t = 0.5)]
    sim_tpot_ms: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.scenario == "both" {
        println!("{}", header());
        for scenario in ["offline", "server"] {
            let out = Command::new(std::env::current_exe()?)
                .args(std::env::args().skip(1))
                .args(["--scenario", scenario])
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "{scenario}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
        return Ok(());
    }
    run_scenario(&args)
}

fn header() -> String {
    "| scenario | LoadGen | queries issued / generated | samples completed | wall s | first_token() p50 / p99 ns | complete() p50 / p99 ns | lateness p50 / p99 / max µs (aligned) | native's own lateness p50 / p99 µs |\n|---|---|---|---|---|---|---|---|---|".into()
}

/// What the SUT saw.
#[derive(Default)]
struct Stats {
    /// (issue call time, scheduled time) per query.
    issues: Vec<(Instant, Instant)>,
    first_token_ns: Vec<u64>,
    complete_ns: Vec<u64>,
    /// Requests that got no final result.
    failed: usize,
    /// Samples handed to the SUT.
    issued: usize,
}

struct HttpSut {
    backend: Arc<dyn Backend>,
    runtime: tokio::runtime::Handle,
    prompts: Arc<Vec<Vec<u32>>>,
    streaming: bool,
    max_new_tokens: u32,
    stats: Arc<Mutex<Stats>>,
    /// Requests in flight at once (as `run`'s --max-concurrency).
    slots: Arc<tokio::sync::Semaphore>,
}

impl SystemUnderTest for HttpSut {
    fn name(&self) -> String {
        "compare-sut".into()
    }
    fn issue(&self, samples: Vec<QuerySample>, responder: Responder) {
        let now = Instant::now();
        if let Some(first) = samples.first() {
            let mut stats = self.stats.lock().unwrap();
            stats.issues.push((now, first.scheduled));
            stats.issued += samples.len();
        }
        for sample in samples {
            let backend = self.backend.clone();
            let stats = self.stats.clone();
            let responder = responder.clone();
            let request = GenerateRequest {
                input_ids: self.prompts[sample.index].clone(),
                sampling: backend::settings::reference_sampling(self.max_new_tokens),
                stream: self.streaming,
            };
            let streaming = self.streaming;
            let slots = self.slots.clone();
            self.runtime.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let mut ids: Vec<u32> = Vec::new();
                let mut first_sent = false;
                let mut failed = true;
                if let Ok(mut generation) = backend.generate(request).await {
                    while let Some(event) = generation.next().await {
                        match event {
                            Ok(Event::Tokens(t)) => {
                                if streaming && !first_sent && !t.is_empty() {
                                    first_sent = true;
                                    let bytes = (t[0] as i32).to_le_bytes();
                                    let t0 = Instant::now();
                                    responder.first_token(sample.id, &bytes);
                                    let ns = t0.elapsed().as_nanos() as u64;
                                    stats.lock().unwrap().first_token_ns.push(ns);
                                }
                                ids.extend(t);
                            }
                            Ok(Event::Finished(out)) => {
                                ids = out.output_ids;
                                failed = false;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                }
                if failed {
                    stats.lock().unwrap().failed += 1;
                }
                if streaming && !first_sent {
                    // LoadGen needs a first token before a streamed completion.
                    responder.first_token(sample.id, &[]);
                }
                let rest = if streaming {
                    ids.get(1..).unwrap_or(&[])
                } else {
                    &ids[..]
                };
                let bytes: Vec<u8> = rest
                    .iter()
                    .flat_map(|&t| (t as i32).to_le_bytes())
                    .collect();
                let t0 = Instant::now();
                responder.complete(sample.id, &bytes, rest.len() as i64);
                let ns = t0.elapsed().as_nanos() as u64;
                stats.lock().unwrap().complete_ns.push(ns);
            });
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

fn pct(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn run_scenario(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sim = engine::SimModel::new(engine::SimConfig {
        ttft: Duration::from_secs_f64(args.sim_ttft_ms / 1e3),
        tpot: Duration::from_secs_f64(args.sim_tpot_ms / 1e3),
        output_len: engine::OutputLen::Fixed(args.output_tokens),
        stream_interval: 1,
        max_concurrency: 4096,
        max_context: 32768,
    });
    let info = sim.info();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    runtime.spawn(engine::serve(
        listener,
        Arc::new(sim),
        info,
        std::future::pending(),
    ));
    let pool = runtime.block_on(async {
        let pool = EndpointPool::new(&[&url], HttpConfig::default())?;
        pool.check_ready(Duration::from_secs(10)).await?;
        anyhow::Ok(pool)
    })?;
    let backend: Arc<dyn Backend> = Arc::new(SglangBackend::new(pool));
    let prompts: Arc<Vec<Vec<u32>>> = Arc::new(
        (0..args.samples as u32)
            .map(|i| (0..32).map(|t| 1000 + 7 * t + i).collect())
            .collect(),
    );

    let dir = tempfile::tempdir()?;
    let server = args.scenario == "server";
    let (scenario, key) = if server {
        (loadgen::Scenario::Server, "Server")
    } else {
        (loadgen::Scenario::Offline, "Offline")
    };
    let conf = dir.path().join("user.conf");
    let min_duration = if server { args.duration_ms } else { 0 };
    std::fs::write(
        &conf,
        format!(
            "*.{key}.target_qps = {}\n*.{key}.min_duration = {min_duration}\n\
             *.{key}.min_query_count = {}\n*.*.performance_sample_count_override = {}\n",
            args.qps,
            if server { 1 } else { args.samples },
            args.samples
        ),
    )?;
    let spec = TestSpec {
        base: loadgen::TestSettings {
            scenario,
            mode: loadgen::Mode::PerformanceOnly,
            ..Default::default()
        },
        model: "gpt-oss-120b".into(),
        mlperf_conf: None,
        user_conf: Some(conf.clone()),
        audit_config: None,
    };
    // The schedule both LoadGens follow (scheduled offsets per query).
    let resolved = loadgen::resolve_settings(
        spec.base.clone(),
        &spec.model,
        loadgen::ConfigFiles {
            user_conf: Some(&conf),
            ..Default::default()
        },
    )?;
    let plan = loadgen::plan(&resolved.settings, args.samples as u64, args.samples as u64)?;
    let offsets: Vec<u64> = plan.series[0]
        .issued_queries()
        .iter()
        .map(|q| q.scheduled_ns)
        .collect();

    // The first test of a process pays for the sim server's and the HTTP
    // client's cold start (about 0.8 s here, whichever LoadGen runs it):
    // an unreported warm-up run takes it.
    let loadgens: Vec<(&str, &dyn LoadGen)> = vec![
        ("warm-up", &NativeLoadGen),
        ("native", &NativeLoadGen),
        ("official", &OfficialLoadGen),
    ];
    for (name, lg) in loadgens {
        let stats = Arc::new(Mutex::new(Stats::default()));
        let sut = HttpSut {
            backend: backend.clone(),
            runtime: runtime.handle().clone(),
            prompts: prompts.clone(),
            streaming: server,
            max_new_tokens: args.output_tokens,
            stats: stats.clone(),
            slots: Arc::new(tokio::sync::Semaphore::new(256)),
        };
        let logs = LogSettings {
            outdir: dir.path().join(name),
            enable_trace: false,
            ..Default::default()
        };
        let t0 = Instant::now();
        let report = lg.start_test(&sut, &Qsl(args.samples), &spec, &logs)?;
        let wall = t0.elapsed().as_secs_f64();
        anyhow::ensure!(report.errors == 0, "{name}: {:?}", report.first_error);
        // The last tasks record their timings just after LoadGen has them.
        loop {
            let st = stats.lock().unwrap();
            if st.complete_ns.len() >= st.issued {
                break;
            }
            drop(st);
            std::thread::yield_now();
        }
        let mut st = std::mem::take(&mut *stats.lock().unwrap());
        anyhow::ensure!(st.failed == 0, "{name}: {} requests failed", st.failed);
        let generated = generated_query_count(&logs.outdir)?;
        if name == "warm-up" {
            continue;
        }
        println!(
            "| {} | {name} | {} / {generated} | {} | {wall:.2} | {} / {} | {} / {} | {} | {} |",
            args.scenario,
            st.issues.len(),
            st.complete_ns.len(),
            pct(&mut st.first_token_ns, 0.5),
            pct(&mut st.first_token_ns, 0.99),
            pct(&mut st.complete_ns, 0.5),
            pct(&mut st.complete_ns, 0.99),
            aligned_lateness(&st.issues, &offsets),
            own_lateness(&st.issues, name == "native"),
        );
    }
    Ok(())
}

/// Issue time minus scheduled offset, shifted so the earliest query is 0.
fn aligned_lateness(issues: &[(Instant, Instant)], offsets: &[u64]) -> String {
    if issues.len() < 2 || issues.len() != offsets.len() {
        return "-".into();
    }
    let start = issues[0].0;
    let raw: Vec<i64> = issues
        .iter()
        .zip(offsets)
        .map(|((at, _), off)| at.duration_since(start).as_nanos() as i64 - *off as i64)
        .collect();
    let min = *raw.iter().min().unwrap();
    let mut late: Vec<u64> = raw.iter().map(|r| (r - min) as u64).collect();
    let max = *late.iter().max().unwrap();
    format!(
        "{:.1} / {:.1} / {:.1}",
        pct(&mut late, 0.5) as f64 / 1e3,
        pct(&mut late, 0.99) as f64 / 1e3,
        max as f64 / 1e3
    )
}

fn own_lateness(issues: &[(Instant, Instant)], native: bool) -> String {
    if !native || issues.len() < 2 {
        return "-".into();
    }
    let mut late: Vec<u64> = issues
        .iter()
        .map(|(at, scheduled)| at.saturating_duration_since(*scheduled).as_nanos() as u64)
        .collect();
    format!(
        "{:.1} / {:.1}",
        pct(&mut late, 0.5) as f64 / 1e3,
        pct(&mut late, 0.99) as f64 / 1e3
    )
}

/// `generated_query_count` from the detail log: the queries the LoadGen
/// scheduled, to hold against the queries the SUT was handed.
fn generated_query_count(dir: &Path) -> anyhow::Result<u64> {
    let path = dir.join("mlperf_log_detail.txt");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    for line in text.lines() {
        let Some(json) = line.strip_prefix(":::MLLOG ") else {
            continue;
        };
        let entry: serde_json::Value = serde_json::from_str(json)?;
        if entry["key"] == "generated_query_count" {
            if let Some(n) = entry["value"].as_u64() {
                return Ok(n);
            }
        }
    }
    anyhow::bail!("{}: no generated_query_count", path.display())
}
