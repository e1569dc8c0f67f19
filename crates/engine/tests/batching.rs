//! The engine through the `Backend` trait: continuous batching must not
//! change greedy results, and the tokens must be transformers' (golden.json).

mod support;

use std::sync::Arc;

use backend::{Backend, Event, FinishReason, GenerateRequest, SamplingParams};
use engine::{Engine, EngineConfig, GptOss};
use support::{fixture, golden, ids};

fn engine(max_step_tokens: usize) -> Arc<Engine> {
    let cfg = EngineConfig {
        max_step_tokens,
        ..EngineConfig::default()
    };
    Arc::new(Engine::start(GptOss::load(&fixture()).unwrap(), cfg))
}

fn greedy(input_ids: Vec<u32>, n: u32) -> GenerateRequest {
    GenerateRequest {
        input_ids,
        sampling: SamplingParams {
            max_new_tokens: n,
            ignore_eos: true,
            ..SamplingParams::greedy()
        },
        stream: false,
    }
}

/// Prompts of assorted lengths cut from the golden prompts.
fn prompts() -> Vec<Vec<u32>> {
    let g = golden();
    let (a, b) = (ids(&g["inputs"]["seq_a"]), ids(&g["inputs"]["seq_b"]));
    vec![
        a.clone(),
        b.clone(),
        a[..9].to_vec(),
        b[2..].to_vec(),
        a[5..].to_vec(),
        vec![7],
        a[..2].to_vec(),
        b[..4].to_vec(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_reproduces_golden_greedy_continuations() {
    let g = golden();
    let e = engine(512);
    for name in ["seq_a", "seq_b"] {
        let out = e
            .generate(greedy(ids(&g["inputs"][name]), 16))
            .await
            .unwrap()
            .finish()
            .await
            .unwrap();
        assert_eq!(
            out.output_ids,
            ids(&g[name]["greedy_continuation"]),
            "{name}"
        );
        assert_eq!(out.finish_reason, FinishReason::Length);
        assert_eq!(out.completion_tokens, 16);
        assert_eq!(out.prompt_tokens, ids(&g["inputs"][name]).len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_match_sequential_ones() {
    // Step budget 5: long prompts are prefilled in chunks while others decode.
    let e = engine(5);
    let mut sequential = Vec::new();
    for (i, p) in prompts().into_iter().enumerate() {
        let out = e
            .generate(greedy(p, 10 + i as u32))
            .await
            .unwrap()
            .finish()
            .await
            .unwrap();
        sequential.push(out.output_ids);
    }
    assert_eq!(engine::Stats::get(&e.stats().max_batch), 1);
    let mut handles = Vec::new();
    let mut previous_running = None;
    for (i, p) in prompts().into_iter().enumerate() {
        let e = e.clone();
        let (running_tx, running_rx) = tokio::sync::oneshot::channel::<()>();
        let wait = previous_running.replace(running_rx);
        handles.push(tokio::spawn(async move {
            // Staggered arrivals: each request joins once the one before it
            // has its first token, so it joins a batch that is already running.
            if let Some(previous) = wait {
                let _ = previous.await;
            }
            let mut req = greedy(p, 10 + i as u32);
            req.stream = true;
            let mut gen = e.generate(req).await.unwrap();
            let mut streamed = Vec::new();
            let mut running = Some(running_tx);
            loop {
                match gen.next().await.unwrap().unwrap() {
                    Event::Tokens(t) => {
                        streamed.extend(t);
                        if let Some(tx) = running.take() {
                            let _ = tx.send(());
                        }
                    }
                    Event::Finished(out) => return (streamed, out.output_ids),
                }
            }
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let (streamed, final_ids) = h.await.unwrap();
        assert_eq!(final_ids, sequential[i], "request {i}");
        assert_eq!(streamed, final_ids, "request {i}: streamed tokens");
    }
    // All at once, long enough that they share steps.
    let mut gens = Vec::new();
    for (i, p) in prompts().into_iter().enumerate() {
        gens.push(e.generate(greedy(p, 10 + i as u32)).await.unwrap());
    }
    for (i, g) in gens.into_iter().enumerate() {
        assert_eq!(
            g.finish().await.unwrap().output_ids,
            sequential[i],
            "batched request {i}"
        );
    }
    assert!(
        engine::Stats::get(&e.stats().max_batch) > 1,
        "requests never shared a step"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_tokens_end_generation_and_are_included() {
    let g = golden();
    let e = engine(512);
    let want = ids(&g["seq_b"]["greedy_continuation"]);
    let k = (1..want.len())
        .find(|&k| !want[..k].contains(&want[k]))
        .unwrap();
    let mut req = greedy(ids(&g["inputs"]["seq_b"]), 16);
    req.sampling.stop_token_ids = vec![want[k]];
    let out = e.generate(req).await.unwrap().finish().await.unwrap();
    assert_eq!(out.output_ids, want[..=k].to_vec());
    assert_eq!(out.finish_reason, FinishReason::Stop);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eos_stops_unless_ignored() {
    // The fixture's EOS is 1023; sequence A's greedy continuation emits it.
    let g = golden();
    let want = ids(&g["seq_a"]["greedy_continuation"]);
    let e = engine(512);
    let mut req = greedy(ids(&g["inputs"]["seq_a"]), 16);
    req.sampling.ignore_eos = false;
    let out = e.generate(req).await.unwrap().finish().await.unwrap();
    match want.iter().position(|&t| t == 1023) {
        Some(p) => {
            assert_eq!(out.output_ids, want[..=p].to_vec());
            assert_eq!(out.finish_reason, FinishReason::Stop);
        }
        None => assert_eq!(out.output_ids, want),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_sampling_is_reproducible_and_bad_requests_are_refused() {
    let e = engine(512);
    let req = |seed| GenerateRequest {
        input_ids: vec![1, 2, 3],
        sampling: SamplingParams {
            max_new_tokens: 12,
            seed: Some(seed),
            ignore_eos: true,
            top_k: 50,
            top_p: 0.9,
            ..SamplingParams::default()
        },
        stream: false,
    };
    let a = e.generate(req(1)).await.unwrap().finish().await.unwrap();
    let b = e.generate(req(1)).await.unwrap().finish().await.unwrap();
    assert_eq!(a.output_ids, b.output_ids);
    assert_eq!(a.output_ids.len(), 12);
    for bad in [vec![], vec![1024], vec![5; 40000]] {
        let err = e.generate(greedy(bad, 4)).await.unwrap_err();
        assert!(
            matches!(err, backend::BackendError::InvalidRequest(_)),
            "{err}"
        );
    }
    let mut r = greedy(vec![1], 4);
    r.sampling.top_p = 1.5;
    assert!(e
        .generate(r)
        .await
        .unwrap_err()
        .to_string()
        .contains("top_p"));
    // max_new_tokens 0 finishes at once with nothing.
    let out = e
        .generate(greedy(vec![1], 0))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert!(out.output_ids.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_tiny_model_is_deterministic_with_the_real_vocabulary() {
    let model = engine::tiny().unwrap();
    assert_eq!(model.config.vocab_size, 201088);
    let e = Engine::start(model, EngineConfig::default());
    // A harmony-style prompt: <|start|>user<|message|>... ids near the top of the vocab.
    let prompt = vec![200006, 1428, 200008, 13225, 200007, 200006, 173781];
    let a = e
        .generate(greedy(prompt.clone(), 20))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    drop(e);
    let e = Engine::start(engine::tiny().unwrap(), EngineConfig::default());
    let b = e
        .generate(greedy(prompt, 20))
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    assert_eq!(a.output_ids, b.output_ids);
    assert_eq!(a.output_ids.len(), 20);
    assert!(a.output_ids.iter().all(|&t| t < 201088));
}
