//! The `backend` crate's HTTP clients against our own `serve` (the engine's
//! SGLang/OpenAI server over the synthetic timing model): what arrives over
//! HTTP, streamed or not, in either protocol, is exactly what the model
//! generated. (The clients' own tests use a scripted server instead; this
//! is the one place where client and server meet.)

use std::sync::Arc;
use std::time::Duration;

use backend::{
    Backend, BackendError, EndpointPool, Event, GenerateOutput, GenerateRequest, Generation,
    HttpConfig, OpenAiBackend, SglangBackend,
};
use engine::{OutputLen, SimConfig, SimModel};

fn request(prompt: &[u32], max_new_tokens: u32, stream: bool) -> GenerateRequest {
    GenerateRequest::reference(prompt.to_vec(), max_new_tokens, stream)
}

/// Every event of a generation: the streamed id batches, then the output or error.
async fn collect(mut g: Generation) -> (Vec<Vec<u32>>, Result<GenerateOutput, BackendError>) {
    let mut batches = Vec::new();
    let all = async {
        while let Some(event) = g.next().await {
            match event {
                Ok(Event::Tokens(ids)) => batches.push(ids),
                Ok(Event::Finished(out)) => return Ok(out),
                Err(e) => return Err(e),
            }
        }
        Err(BackendError::Internal("no final event".into()))
    };
    // Generous: only a hang fails this.
    let result = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("the generation hung");
    (batches, result)
}

/// Starts `serve` on 127.0.0.1:0; returns its URL and the model behind it.
async fn serve(stream_interval: usize) -> (String, Arc<SimModel>) {
    let model = Arc::new(SimModel::new(SimConfig {
        ttft: Duration::ZERO,
        tpot: Duration::ZERO,
        output_len: OutputLen::Uniform(1, 150),
        stream_interval,
        ..SimConfig::default()
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let info = model.info();
    let backend: Arc<dyn Backend> = model.clone();
    tokio::spawn(engine::serve(
        listener,
        backend,
        info,
        std::future::pending(),
    ));
    (url, model)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocols_return_what_the_model_generated() {
    for interval in [1usize, 50] {
        let (url, model) = serve(interval).await;
        let pool = EndpointPool::new(&[url.as_str()], HttpConfig::default()).unwrap();
        let ready = pool.check_ready(Duration::from_secs(10)).await.unwrap();
        assert_eq!(ready[0].probe, "/health");
        assert_eq!(ready[0].models.len(), 1);
        let clients: Vec<(&str, Box<dyn Backend>)> = vec![
            ("sglang", Box::new(SglangBackend::new(pool.clone()))),
            ("openai", Box::new(OpenAiBackend::new(pool.clone()))),
        ];
        for prompt in 0..8u32 {
            let mut req = request(&[prompt + 1, 2, 3], 120, false);
            req.sampling.seed = Some(7);
            let want = model
                .generate(req.clone())
                .await
                .unwrap()
                .finish()
                .await
                .unwrap();
            for (name, client) in &clients {
                for stream in [false, true] {
                    req.stream = stream;
                    let case =
                        format!("{name} stream={stream} interval={interval} prompt={prompt}");
                    let (batches, out) = collect(client.generate(req.clone()).await.unwrap()).await;
                    let out = out.unwrap_or_else(|e| panic!("{case}: {e}"));
                    assert_eq!(out.output_ids, want.output_ids, "{case}");
                    assert_eq!(out.finish_reason, want.finish_reason, "{case}");
                    assert_eq!(out.completion_tokens, want.completion_tokens, "{case}");
                    if stream {
                        assert_eq!(batches.concat(), want.output_ids, "{case}");
                        assert!(
                            batches.iter().all(|b| !b.is_empty() && b.len() <= interval),
                            "{case}"
                        );
                    } else {
                        assert!(batches.is_empty(), "{case}");
                    }
                }
            }
        }
        let stats = pool.stats();
        assert_eq!(
            (stats.completed(), stats.failed(), stats.retries()),
            (32, 0, 0)
        );
    }
}
