//! `engine_bench`: prefill and decode tokens/s of the embedded engine at
//! batch 1, 8 and 64, for the tiny fixture and a mid-size random-MXFP4
//! model, plus the sim model's streamed tokens/s on one core. See
//! `crates/engine/README.md` for the command and how transformers is run
//! on the same weights.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{Backend, Event, GenerateRequest, SamplingParams};
use clap::Parser;
use engine::__private::argmax;
use engine::{GeneratedModel, GptOss, KvCache, Logits, OutputLen, Segment, SimConfig, SimModel};

/// Prefill and decode tokens/s of the embedded engine, and the sim model's
/// streamed tokens/s.
#[derive(Parser)]
#[command(name = "engine_bench")]
struct Opts {
    /// The checkpoint the `fixture` model is loaded from.
    #[arg(long, default_value_os_t = default_fixture())]
    fixture: PathBuf,
    /// Prompt tokens per sequence in the prefill step.
    #[arg(long, default_value_t = 128)]
    prompt_len: usize,
    /// Greedy decode steps after the prefill.
    #[arg(long, default_value_t = 32)]
    decode_steps: usize,
    /// Sequences per step, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    batches: Vec<usize>,
    /// Models to run: fixture, tiny, mid, sim.
    #[arg(long, value_delimiter = ',', default_value = "fixture,mid,sim")]
    models: Vec<String>,
    /// Write the mid-size checkpoint here (once) and load it from there.
    #[arg(long)]
    write_mid: Option<PathBuf>,
    /// Tokens the sim model streams through the Backend API.
    #[arg(long, default_value_t = 2_000_000)]
    sim_tokens: usize,
    /// A Python with torch + transformers: runs `bench/transformers_bench.py`
    /// on the same checkpoint right after the engine (needs --write-mid for mid).
    #[arg(long)]
    python: Option<PathBuf>,
}

fn default_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/tiny-gpt-oss")
}

/// One segment per sequence: its new tokens against its cache, last logits wanted.
fn segments<'a, T: AsRef<[u32]>>(tokens: &'a [T], caches: &'a mut [KvCache]) -> Vec<Segment<'a>> {
    tokens
        .iter()
        .zip(caches.iter_mut())
        .map(|(t, cache)| Segment {
            tokens: t.as_ref(),
            cache,
            logits: Logits::Last,
        })
        .collect()
}

/// Prefill `batch` prompts in one step, then decode `steps` tokens each.
fn bench_model(name: &str, model: &GptOss, o: &Opts) {
    let vocab = model.config.vocab_size as u32;
    for &batch in &o.batches {
        let prompts: Vec<Vec<u32>> = (0..batch)
            .map(|b| {
                (0..o.prompt_len)
                    .map(|i| ((b * 7919 + i * 104729) as u32) % vocab)
                    .collect()
            })
            .collect();
        let mut caches: Vec<_> = (0..batch).map(|_| model.new_cache()).collect();
        let t = Instant::now();
        let mut logits = model
            .forward(&mut segments(&prompts, &mut caches))
            .expect("valid ids");
        let prefill = t.elapsed();
        let t = Instant::now();
        for _ in 0..o.decode_steps {
            let next: Vec<[u32; 1]> = logits.iter().map(|l| [argmax(l)]).collect();
            logits = model
                .forward(&mut segments(&next, &mut caches))
                .expect("valid ids");
        }
        let decode = t.elapsed();
        println!(
            "engine\t{name}\tbatch {batch:>3}\tprefill {:>10.1} tok/s\tdecode {:>9.1} tok/s",
            (batch * o.prompt_len) as f64 / prefill.as_secs_f64(),
            (batch * o.decode_steps) as f64 / decode.as_secs_f64()
        );
    }
}

/// Streams `total` tokens from the sim model through the Backend API on a
/// single-threaded runtime (one core), 64 requests at a time.
fn bench_sim(total: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for interval in [1usize, 16] {
        let sim = Arc::new(SimModel::new(SimConfig {
            ttft: Duration::ZERO,
            tpot: Duration::ZERO,
            output_len: OutputLen::Max,
            stream_interval: interval,
            max_concurrency: 64,
            max_context: 1 << 20,
        }));
        let per = 10_000usize;
        let n_req = total.div_ceil(per);
        let t = Instant::now();
        let streamed: usize = rt.block_on(async {
            let mut tasks = Vec::new();
            for r in 0..n_req {
                let sim = sim.clone();
                tasks.push(tokio::spawn(async move {
                    let req = GenerateRequest {
                        input_ids: vec![r as u32 + 1],
                        sampling: SamplingParams {
                            max_new_tokens: per as u32,
                            ..SamplingParams::default()
                        },
                        stream: true,
                    };
                    let mut g = sim.generate(req).await.expect("valid request");
                    let mut n = 0;
                    while let Some(Ok(ev)) = g.next().await {
                        match ev {
                            Event::Tokens(ids) => n += ids.len(),
                            Event::Finished(_) => break,
                        }
                    }
                    n
                }));
            }
            let mut sum = 0;
            for t in tasks {
                sum += t.await.expect("task");
            }
            sum
        });
        let s = t.elapsed().as_secs_f64();
        println!("sim\tstream_interval {interval:>2}\t{streamed} tokens streamed\t{:>12.0} tok/s on one core", streamed as f64 / s);
    }
}

/// The sim model behind the HTTP server on one single-threaded runtime (one
/// core); a client on another thread streams SGLang `/generate` SSE with
/// stream interval 1 and counts the `data:` chunks (one token each).
fn bench_sim_http(total: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let sim = SimModel::new(SimConfig {
                ttft: Duration::ZERO,
                tpot: Duration::ZERO,
                output_len: OutputLen::Max,
                stream_interval: 1,
                max_concurrency: 1024,
                max_context: 1 << 20,
            });
            let info = sim.info();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            let _ = engine::serve(listener, Arc::new(sim), info, std::future::pending()).await;
        });
    });
    let addr = rx.recv().expect("server address");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (conns, per) = (32usize, 5000usize);
    let rounds = total.div_ceil(conns * per).max(1);
    let t = Instant::now();
    let tokens: usize = rt.block_on(async move {
        let mut sum = 0;
        for _ in 0..rounds {
            let mut tasks = Vec::new();
            for c in 0..conns {
                tasks.push(tokio::spawn(async move {
                    let body = format!(
                        r#"{{"input_ids":[{}],"sampling_params":{{"max_new_tokens":{per}}},"stream":true}}"#,
                        c + 1
                    );
                    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    let req = format!(
                        "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    s.write_all(req.as_bytes()).await.expect("write");
                    let mut buf = vec![0u8; 1 << 16];
                    let (mut chunks, mut tail) = (0usize, Vec::<u8>::new());
                    loop {
                        let n = s.read(&mut buf).await.expect("read");
                        if n == 0 {
                            break;
                        }
                        tail.extend_from_slice(&buf[..n]);
                        chunks += tail.windows(6).filter(|w| w == b"data: ").count();
                        let keep = tail.len().min(5);
                        tail.drain(..tail.len() - keep);
                    }
                    // The final chunk and `[DONE]` carry no new token.
                    chunks.saturating_sub(2)
                }));
            }
            for t in tasks {
                sum += t.await.expect("client task");
            }
        }
        sum
    });
    let s = t.elapsed().as_secs_f64();
    println!("sim-http\tstream_interval  1\t{tokens} tokens streamed over SSE\t{:>12.0} tok/s, server on one core", tokens as f64 / s);
}

/// Runs transformers on the same checkpoint with the same settings.
fn bench_transformers(name: &str, dir: &std::path::Path, o: &Opts) {
    let Some(python) = &o.python else { return };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/transformers_bench.py");
    let batches: Vec<String> = o.batches.iter().map(|b| b.to_string()).collect();
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(["--model", &dir.display().to_string(), "--name", name])
        .args([
            "--batches",
            &batches.join(","),
            "--threads",
            &rayon::current_num_threads().to_string(),
        ])
        .args([
            "--prompt-len",
            &o.prompt_len.to_string(),
            "--decode-steps",
            &o.decode_steps.to_string(),
        ])
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => eprintln!(
            "transformers run for {name} failed ({}); run {} by hand to see why",
            out.status,
            script.display()
        ),
        Err(e) => eprintln!("cannot run {}: {e}", python.display()),
    }
}

fn main() {
    let o = Opts::parse();
    if let Some(dir) = &o.write_mid {
        // Written once; later runs reuse it (the seed fixes its content).
        if !dir.join("model.safetensors").exists() {
            GeneratedModel::mid(1)
                .write(dir)
                .expect("writing the mid-size checkpoint");
            println!(
                "wrote the mid-size checkpoint (seed 1) to {}",
                dir.display()
            );
        }
    }
    println!("threads: {} (rayon)", rayon::current_num_threads());
    for m in &o.models {
        match m.as_str() {
            "fixture" => {
                bench_model(
                    "tiny-fixture",
                    &GptOss::load(&o.fixture).expect("fixture"),
                    &o,
                );
                bench_transformers("tiny-fixture", &o.fixture, &o);
            }
            "tiny" => bench_model("builtin-tiny", &engine::tiny().expect("tiny"), &o),
            "mid" => {
                let model = match &o.write_mid {
                    Some(dir) => GptOss::load(dir).expect("the checkpoint just written"),
                    None => GeneratedModel::mid(1).build().expect("mid"),
                };
                bench_model("mid-512x8x32", &model, &o);
                drop(model);
                if let Some(dir) = &o.write_mid {
                    bench_transformers("mid-512x8x32", dir, &o);
                }
            }
            "sim" => {
                bench_sim(o.sim_tokens);
                bench_sim_http(o.sim_tokens / 4);
            }
            other => eprintln!("unknown model {other}: use fixture, tiny, mid or sim"),
        }
    }
}
