//! How fast is the client, and how exactly does it time first tokens?
//!
//! Drives `--concurrency` closed-loop streams (or non-streaming requests)
//! against the engine's `serve` over the synthetic model, in-process on a
//! thread of its own (or at `--url`), with the client on ONE thread. Both
//! threads can be pinned to cores (`--server-cpu`, `--client-cpu`) so that
//! neither steals the other's core. Prints:
//!
//! * samples/s and tokens/s of wall time, and per client core: per second of
//!   the client thread's own CPU time (`getrusage(RUSAGE_THREAD)`), which is
//!   what "per client core" means; the server thread's CPU likewise;
//! * with `--tpot-us`, the first requests are spread over one stream's
//!   length (`--ramp-ms`), so that closed-loop streams of equal length do
//!   not stay in step and arrive as one burst per stream length;
//! * the TTFT error, measured first-token time minus the sim model's known
//!   first-token delay, over the requests issued after `--warmup` requests
//!   (steady state, not the opening burst). The first token's time is taken
//!   where our SUT reports it to LoadGen: when its chunk has been parsed and
//!   handed to the caller. In-process, the server stamps when each request
//!   reached the model, which splits the error into the way there (client
//!   write, kernel, server read, parse and routing) and the way back (sim
//!   emission, server SSE write, kernel, client read and parse).
//!
//! `--probe-ms N` first measures, for N ms, how late a bare thread on the
//! client's core wakes up: the machine's floor under any TTFT error.
//! `--realtime` runs both pinned threads under SCHED_FIFO (root), so other
//! processes on those cores cannot delay their wake-ups.
//!
//! ```text
//! # throughput, saturating: zero delays
//! cargo run --release -p engine --example client_bench -- --protocol sglang \
//!     --concurrency 1024 --requests 8192 --tokens 100 --interval 1 --ttft-ms 0 \
//!     --server-cpu 0 --client-cpu 1 [--no-stream]
//! # TTFT error in steady state: 1024 streams paced by the model
//! cargo run --release -p engine --example client_bench -- --protocol sglang \
//!     --concurrency 1024 --requests 20480 --tokens 100 --interval 1 --ttft-ms 0 \
//!     --tpot-us 10000 --warmup 4096 --server-cpu 0 --client-cpu 1
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{
    Backend, BackendError, EndpointPool, Event, GenerateRequest, Generation, HttpConfig,
    OpenAiBackend, SglangBackend,
};
use engine::{OutputLen, SimConfig, SimModel};

/// Drives closed-loop requests through the HTTP clients against `serve`
/// over the synthetic model, and reports throughput and first-token timing.
#[derive(clap::Parser)]
#[command(name = "client_bench")]
struct Args {
    /// Benchmark a server already running there instead of an in-process `serve`.
    #[arg(long)]
    url: Option<String>,
    /// `sglang` or `openai`.
    #[arg(long, default_value = "sglang")]
    protocol: String,
    /// Streams (or requests) kept in flight.
    #[arg(long, default_value_t = 128)]
    concurrency: usize,
    /// Requests in all.
    #[arg(long, default_value_t = 5000)]
    requests: usize,
    /// Tokens each request generates.
    #[arg(long, default_value_t = 100)]
    tokens: u32,
    /// Tokens per streamed chunk.
    #[arg(long, default_value_t = 1)]
    interval: usize,
    /// The sim model's first-token delay.
    #[arg(long, default_value_t = 0)]
    ttft_ms: u64,
    /// The sim model's delay per further token.
    #[arg(long, default_value_t = 0)]
    tpot_us: u64,
    /// Requests left out of the TTFT statistics (default: twice the concurrency).
    #[arg(long)]
    warmup: Option<usize>,
    /// Spread the first requests over this long (default: one stream's length).
    #[arg(long)]
    ramp_ms: Option<u64>,
    /// Send non-streaming requests.
    #[arg(long = "no-stream", action = clap::ArgAction::SetFalse)]
    stream: bool,
    /// Pin the server thread to this core.
    #[arg(long)]
    server_cpu: Option<usize>,
    /// Pin the client thread to this core.
    #[arg(long)]
    client_cpu: Option<usize>,
    /// First measure for this long how late a bare thread on the client's core wakes up.
    #[arg(long, default_value_t = 0)]
    probe_ms: u64,
    /// Run the pinned threads under SCHED_FIFO, so that other processes on
    /// their cores cannot delay a wake-up (needs root or CAP_SYS_NICE).
    #[arg(long)]
    realtime: bool,
}

/// Pins the calling thread to one core.
fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes
    // inside it; sched_setaffinity(0, ..) only affects the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!(
                "client_bench: cannot pin to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            );
            std::process::exit(2);
        }
    }
}

/// Puts the calling thread under SCHED_FIFO: it preempts every ordinary
/// process on its core when it wakes (the kernel's RT throttling still keeps
/// 5 % of each second for them).
fn realtime() {
    let param = libc::sched_param { sched_priority: 50 };
    // SAFETY: sched_setscheduler(0, ..) changes only the calling thread's policy.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        eprintln!(
            "client_bench: cannot use SCHED_FIFO: {} (needs root or CAP_SYS_NICE)",
            std::io::Error::last_os_error()
        );
        std::process::exit(2);
    }
}

/// CPU seconds (user + system) used so far by the calling thread.
fn thread_cpu_secs() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// The machine's own floor for any TTFT error: how late a bare thread on
/// the client's core wakes from a 200 us sleep (the scheduler, other
/// processes on the core, the hypervisor), over `ms` milliseconds.
fn wakeup_probe(ms: u64) -> Vec<f64> {
    let sleep = Duration::from_micros(200);
    let until = Instant::now() + Duration::from_millis(ms);
    let mut late = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        std::thread::sleep(sleep);
        late.push((t.elapsed().saturating_sub(sleep)).as_secs_f64() * 1e3);
    }
    late.sort_by(f64::total_cmp);
    late
}

/// Request `k`'s prompt carries `k`, so the server side can stamp it.
fn prompt(k: usize) -> Vec<u32> {
    vec![(k % 100_000) as u32 + 1, (k / 100_000) as u32 + 1, 3]
}

fn request_number(ids: &[u32]) -> Option<usize> {
    match ids {
        [lo, hi, 3] => Some((*hi as usize - 1) * 100_000 + (*lo as usize - 1)),
        _ => None,
    }
}

/// The sim model, stamping when each request reaches it (nanoseconds after
/// `epoch`, the client's clock: same process, same monotonic clock).
struct Stamped {
    sim: SimModel,
    epoch: Instant,
    arrived: Arc<Vec<AtomicU64>>,
}

#[async_trait::async_trait]
impl Backend for Stamped {
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError> {
        if let Some(slot) = request_number(&request.input_ids).and_then(|k| self.arrived.get(k)) {
            slot.store(self.epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        self.sim.generate(request).await
    }
}

/// The in-process server's URL, and a way to ask for its thread's CPU time.
struct Server {
    url: String,
    cpu: tokio::sync::mpsc::UnboundedSender<std::sync::mpsc::Sender<f64>>,
}

/// Starts `serve` with the sim model on a one-thread runtime of its own.
fn start_server(a: &Args, epoch: Instant, arrived: Arc<Vec<AtomicU64>>) -> Server {
    let cfg = SimConfig {
        ttft: Duration::from_millis(a.ttft_ms),
        tpot: Duration::from_micros(a.tpot_us),
        output_len: OutputLen::Fixed(a.tokens),
        stream_interval: a.interval,
        max_concurrency: a.concurrency.max(1),
        ..SimConfig::default()
    };
    let (server_cpu, rt_policy) = (a.server_cpu, a.realtime);
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("sim-server".into())
        .spawn(move || {
            if let Some(cpu) = server_cpu {
                pin(cpu);
            }
            if rt_policy {
                realtime();
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let url = format!("http://{}", listener.local_addr().expect("addr"));
                let sim = SimModel::new(cfg);
                let info = sim.info();
                let model = Arc::new(Stamped {
                    sim,
                    epoch,
                    arrived,
                });
                let (cpu_tx, mut cpu_rx) =
                    tokio::sync::mpsc::unbounded_channel::<std::sync::mpsc::Sender<f64>>();
                tokio::spawn(async move {
                    while let Some(reply) = cpu_rx.recv().await {
                        let _ = reply.send(thread_cpu_secs());
                    }
                });
                let _ = tx.send(Server { url, cpu: cpu_tx });
                let _ = engine::serve(listener, model, info, std::future::pending()).await;
            });
        });
    spawned.expect("server thread");
    rx.recv().expect("server start")
}

fn server_cpu_secs(server: &Option<Server>) -> f64 {
    let Some(s) = server else { return f64::NAN };
    let (tx, rx) = std::sync::mpsc::channel();
    if s.cpu.send(tx).is_err() {
        return f64::NAN;
    }
    rx.recv_timeout(Duration::from_secs(5)).unwrap_or(f64::NAN)
}

/// Nearest-rank percentile of sorted values (LoadGen's rule).
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One measured request: when it was sent and its first token parsed
/// (nanoseconds after the epoch).
struct Timing {
    k: usize,
    sent: u64,
    first: u64,
}

fn main() {
    let a = <Args as clap::Parser>::parse();
    let epoch = Instant::now();
    let arrived: Arc<Vec<AtomicU64>> =
        Arc::new((0..a.requests).map(|_| AtomicU64::new(0)).collect());
    let server = match &a.url {
        Some(_) => None,
        None => Some(start_server(&a, epoch, arrived.clone())),
    };
    let url = a
        .url
        .clone()
        .unwrap_or_else(|| server.as_ref().map(|s| s.url.clone()).unwrap_or_default());
    if let Some(cpu) = a.client_cpu {
        pin(cpu);
    }
    if a.realtime {
        realtime();
    }
    if a.probe_ms > 0 {
        let late = wakeup_probe(a.probe_ms);
        println!(
            "wake-up probe on the client's core, {} sleeps of 200 us: late by p50 {:.3} ms, \
             p99 {:.3} ms, max {:.3} ms",
            late.len(),
            pct(&late, 0.5),
            pct(&late, 0.99),
            late.last().copied().unwrap_or(f64::NAN)
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let warmup = a.warmup.unwrap_or(a.concurrency * 2).min(a.requests);
    // Streams that all start together and take equally long stay in step:
    // every request would then be issued in one burst per stream length.
    // Spreading the starts over one stream length keeps the arrivals even.
    let stream_ms = a.ttft_ms + a.tpot_us * u64::from(a.tokens) / 1000;
    let ramp = Duration::from_millis(a.ramp_ms.unwrap_or(stream_ms));
    let (timings, tokens, secs, cpu, stats) = rt.block_on(async {
        let pool = EndpointPool::new(&[url.as_str()], HttpConfig::default()).expect("pool");
        pool.check_ready(Duration::from_secs(10))
            .await
            .expect("server ready");
        let backend: Arc<dyn Backend> = match a.protocol.as_str() {
            "openai" => Arc::new(OpenAiBackend::new(pool.clone())),
            _ => Arc::new(SglangBackend::new(pool.clone())),
        };
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let cpu0 = thread_cpu_secs();
        let mut workers = Vec::new();
        for i in 0..a.concurrency {
            let (backend, next) = (backend.clone(), next.clone());
            let (requests, tokens, stream) = (a.requests, a.tokens, a.stream);
            let delay = ramp.mul_f64(i as f64 / a.concurrency as f64);
            workers.push(tokio::spawn(async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut timings = Vec::new();
                let mut got = 0usize;
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= requests {
                        break;
                    }
                    let mut req = GenerateRequest {
                        input_ids: prompt(k),
                        sampling: backend::settings::reference_sampling(tokens),
                        stream,
                    };
                    req.sampling.ignore_eos = true;
                    let sent = epoch.elapsed().as_nanos() as u64;
                    let mut g = backend.generate(req).await.expect("generate");
                    let mut first = None;
                    while let Some(ev) = g.next().await {
                        match ev.expect("event") {
                            Event::Tokens(_) => {
                                first.get_or_insert_with(|| epoch.elapsed().as_nanos() as u64);
                            }
                            Event::Finished(out) => got += out.output_ids.len(),
                        }
                    }
                    if let Some(first) = first {
                        if k >= warmup {
                            timings.push(Timing { k, sent, first });
                        }
                    }
                }
                (timings, got)
            }));
        }
        let mut timings = Vec::new();
        let mut tokens = 0;
        for w in workers {
            let (t, n) = w.await.expect("worker");
            timings.extend(t);
            tokens += n;
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = thread_cpu_secs() - cpu0;
        (timings, tokens, secs, cpu, pool.stats())
    });
    let server_cpu = server_cpu_secs(&server);
    let n = a.requests as f64;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{} stream={} concurrency={} tokens={} interval={} ttft={} ms tpot={} us ramp={:?}, \
         server cpu {:?}, client cpu {:?}, load {}",
        a.protocol,
        a.stream,
        a.concurrency,
        a.tokens,
        a.interval,
        a.ttft_ms,
        a.tpot_us,
        ramp,
        a.server_cpu,
        a.client_cpu,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "  wall: {} samples in {secs:.2} s = {:.0} samples/s, {:.0} tokens/s",
        a.requests,
        n / secs,
        tokens as f64 / secs
    );
    println!(
        "  client thread: {cpu:.3} CPU s = {:.0} samples/s, {:.0} tokens/s per client core \
         ({:.2} us/sample, busy {:.0}% of wall)",
        n / cpu,
        tokens as f64 / cpu,
        cpu / n * 1e6,
        cpu / secs * 100.0
    );
    if server.is_some() {
        println!(
            "  server thread: {server_cpu:.3} CPU s ({:.2} us/sample, busy {:.0}% of wall)",
            server_cpu / n * 1e6,
            server_cpu / secs * 100.0
        );
    }
    if !timings.is_empty() {
        // The first chunk carries `interval` tokens: it is due at ttft +
        // (interval - 1) tpot.
        let first_chunk = a.interval.clamp(1, a.tokens.max(1) as usize) as f64 - 1.0;
        let known = a.ttft_ms as f64 * 1e6 + first_chunk * a.tpot_us as f64 * 1e3;
        let ms = |ns: f64| ns / 1e6;
        let mut err: Vec<f64> = timings
            .iter()
            .map(|t| t.first as f64 - t.sent as f64 - known)
            .collect();
        err.sort_by(f64::total_cmp);
        println!(
            "  TTFT error (first token parsed - sent - {:.3} ms), {} requests after the first {warmup}: \
             p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(known),
            err.len(),
            ms(pct(&err, 0.5)),
            ms(pct(&err, 0.9)),
            ms(pct(&err, 0.99)),
            ms(*err.last().unwrap_or(&f64::NAN)),
        );
        if server.is_some() {
            let (mut there, mut back): (Vec<f64>, Vec<f64>) = timings
                .iter()
                .filter_map(|t| {
                    let at = arrived[t.k].load(Ordering::Relaxed);
                    (at > 0).then_some((
                        at as f64 - t.sent as f64,
                        t.first as f64 - at as f64 - known,
                    ))
                })
                .unzip();
            there.sort_by(f64::total_cmp);
            back.sort_by(f64::total_cmp);
            println!(
                "    of which sent -> reached the model: p50 {:.3} ms, p99 {:.3} ms; \
                 reached the model + {:.3} ms -> first token parsed: p50 {:.3} ms, p99 {:.3} ms",
                ms(pct(&there, 0.5)),
                ms(pct(&there, 0.99)),
                ms(known),
                ms(pct(&back, 0.5)),
                ms(pct(&back, 0.99)),
            );
        }
    }
    if let Ok(path) = std::env::var("CLIENT_BENCH_TIMINGS") {
        // k, sent, reached the model, first token (ns after the start), for plots.
        let rows: String = timings
            .iter()
            .map(|t| {
                let at = arrived.get(t.k).map_or(0, |a| a.load(Ordering::Relaxed));
                format!("{},{},{},{}\n", t.k, t.sent, at, t.first)
            })
            .collect();
        if let Err(e) = std::fs::write(&path, rows) {
            eprintln!("client_bench: cannot write {path}: {e}");
        }
    }
    let e = &stats.endpoints[0];
    println!(
        "  completed {} failed {} retries {} connect errors {}, connections opened {}",
        e.completed, e.failed, e.retries, e.connect_errors, e.connections
    );
}
