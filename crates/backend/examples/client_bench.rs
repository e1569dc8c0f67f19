//! How fast is the client? Drives `concurrency` streams against the engine's
//! `serve` over the synthetic model (in-process on its own threads, or at
//! `--url`), with the client on ONE thread, and prints samples/s, tokens/s
//! and the TTFT error (measured first-token time minus the model's
//! configured one).
//!
//! ```text
//! cargo run --release -p backend --example client_bench -- \
//!     --protocol sglang --concurrency 1024 --requests 20000 --tokens 100 --interval 1 --ttft-ms 0
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{Backend, EndpointPool, Event, HttpConfig, OpenAiBackend, SglangBackend};
use engine::sim::{OutputLen, SimConfig, SimModel};

struct Args {
    url: Option<String>,
    protocol: String,
    concurrency: usize,
    requests: usize,
    tokens: u32,
    interval: usize,
    ttft_ms: u64,
    stream: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        protocol: "sglang".into(),
        concurrency: 128,
        requests: 5000,
        tokens: 100,
        interval: 1,
        ttft_ms: 0,
        stream: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--url" => a.url = Some(value()?),
            "--protocol" => a.protocol = value()?,
            "--concurrency" => a.concurrency = num(value()?)? as usize,
            "--requests" => a.requests = num(value()?)? as usize,
            "--tokens" => a.tokens = num(value()?)? as u32,
            "--interval" => a.interval = num(value()?)? as usize,
            "--ttft-ms" => a.ttft_ms = num(value()?)?,
            "--no-stream" => a.stream = false,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// Starts `serve` with the sim model on a 1-thread runtime of its own.
fn start_server(a: &Args) -> String {
    let cfg = SimConfig {
        ttft: Duration::from_millis(a.ttft_ms),
        tpot: Duration::ZERO,
        output_len: OutputLen::Fixed(a.tokens),
        stream_interval: a.interval,
        max_concurrency: a.concurrency.max(1),
        ..SimConfig::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let url = format!("http://{}", listener.local_addr().expect("addr"));
            let model = Arc::new(SimModel::new(cfg));
            let info = model.info();
            let _ = tx.send(url);
            let _ = engine::server::serve(listener, model, info, std::future::pending()).await;
        });
    });
    rx.recv().expect("server start")
}

/// CPU seconds used so far by the calling thread (Linux; 0 elsewhere).
fn thread_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) end with ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("client_bench: {e}");
            std::process::exit(2);
        }
    };
    let url = a.url.clone().unwrap_or_else(|| start_server(&a));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let pool = EndpointPool::new(&[url.as_str()], HttpConfig::default()).expect("pool");
        pool.check_ready(Duration::from_secs(10))
            .await
            .expect("server ready");
        let backend: Arc<dyn Backend> = match a.protocol.as_str() {
            "openai" => Arc::new(OpenAiBackend::new(pool.clone(), None)),
            _ => Arc::new(SglangBackend::new(pool.clone())),
        };
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let cpu0 = thread_cpu_secs();
        let mut workers = Vec::new();
        for _ in 0..a.concurrency {
            let (backend, next) = (backend.clone(), next.clone());
            let (requests, tokens, stream) = (a.requests, a.tokens, a.stream);
            workers.push(tokio::spawn(async move {
                let mut ttfts = Vec::new();
                let mut got = 0usize;
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < requests {
                    let mut req = backend::GenerateRequest {
                        input_ids: vec![1, 2, 3],
                        sampling: backend::settings::reference_sampling(tokens),
                        stream,
                    };
                    req.sampling.ignore_eos = true;
                    let sent = Instant::now();
                    let mut g = backend.generate(req).await.expect("generate");
                    let mut first = None;
                    while let Some(ev) = g.next().await {
                        match ev.expect("event") {
                            Event::Tokens(_) => {
                                first.get_or_insert_with(|| sent.elapsed());
                            }
                            Event::Finished(out) => got += out.output_ids.len(),
                        }
                    }
                    if let Some(f) = first {
                        ttfts.push(f.as_secs_f64());
                    }
                }
                (ttfts, got)
            }));
        }
        let mut ttfts = Vec::new();
        let mut tokens = 0;
        for w in workers {
            let (t, n) = w.await.expect("worker");
            ttfts.extend(t);
            tokens += n;
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = thread_cpu_secs() - cpu0;
        ttfts.sort_by(f64::total_cmp);
        let configured = a.ttft_ms as f64 / 1e3;
        let err = |p| (pct(&ttfts, p) - configured) * 1e3;
        println!(
            "{} stream={} concurrency={} interval={}: {} samples in {secs:.2} s = {:.0} samples/s, \
             {:.0} tokens/s; client thread CPU {cpu:.2} s = {:.0} samples/s and {:.0} tokens/s \
             per client core; TTFT error p50 {:.3} ms, p99 {:.3} ms; stats {:?}",
            a.protocol,
            a.stream,
            a.concurrency,
            a.interval,
            a.requests,
            a.requests as f64 / secs,
            tokens as f64 / secs,
            a.requests as f64 / cpu,
            tokens as f64 / cpu,
            err(0.5),
            err(0.99),
            pool.stats().endpoints[0]
        );
    });
}
