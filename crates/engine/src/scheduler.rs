//! Continuous batching: one engine thread runs steps forever; each step
//! takes every running sequence's next token (decode) plus prompt chunks
//! (chunked prefill) up to a token budget, runs one batched forward pass,
//! samples, streams, and retires finished or cancelled sequences. Requests
//! join and leave between any two steps.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;

use backend::{
    Backend, BackendError, Event, EventSender, FinishReason, GenerateOutput, GenerateRequest,
    Generation, Load, SamplingParams,
};

use crate::kv_cache::KvCache;
use crate::model::{GptOss, Logits, Segment};
use crate::sampling::{sample, Rng};
use crate::stats::Stats;

/// Limits of the engine; defaults suit a laptop.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Most sequences in the running batch; others wait in a queue.
    pub max_running: usize,
    /// Token budget of one step (decodes + prefill chunks): the chunked-prefill size.
    pub max_step_tokens: usize,
    /// Longest prompt + output in tokens (capped by the model's positions).
    pub max_context: usize,
    /// Name reported by `/get_model_info` and in OpenAI replies.
    pub model_name: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_running: 256,
            max_step_tokens: 512,
            max_context: 32768,
            model_name: "gpt-oss".into(),
        }
    }
}

/// What a server needs to know about the model behind a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Name reported by `/get_model_info`, `/v1/models` and `/metrics`.
    pub model_name: String,
    /// Valid token ids are `0..vocab_size`.
    pub vocab_size: usize,
    /// Longest prompt + output in tokens.
    pub max_context: usize,
    /// Ids that end a generation unless a request sets `ignore_eos`.
    pub eos_token_ids: Vec<u32>,
    /// True for the synthetic timing model.
    pub synthetic: bool,
}

struct Job {
    request: GenerateRequest,
    events: EventSender,
}

/// The embedded engine: a handle to the engine thread. Cheap to share in an `Arc`.
pub struct Engine {
    tx: mpsc::Sender<Job>,
    info: ModelInfo,
    stats: Arc<Stats>,
    /// The most KV tokens the batch can hold: max_running × max_context.
    kv_capacity: u64,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine thread for `model`.
    pub fn start(model: GptOss, cfg: EngineConfig) -> Engine {
        let info = ModelInfo {
            model_name: cfg.model_name.clone(),
            vocab_size: model.config.vocab_size,
            max_context: cfg.max_context.min(model.config.max_position_embeddings),
            eos_token_ids: model.config.eos_token_ids.clone(),
            synthetic: false,
        };
        let (tx, rx) = mpsc::channel();
        let mut cfg = cfg;
        cfg.max_context = info.max_context;
        let model = Arc::new(model);
        let stats = Arc::new(Stats::default());
        let st = stats.clone();
        let kv_capacity = (cfg.max_running * cfg.max_context) as u64;
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || run_loop(&model, &cfg, rx, &st))
            .expect("spawning the engine thread");
        Engine {
            tx,
            info,
            stats,
            kv_capacity,
            thread: Some(thread),
        }
    }

    /// What a server in front of the engine reports about the model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The engine thread's counters, live.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Rejects what the model cannot run, naming the field.
    fn validate(&self, r: &GenerateRequest) -> Result<(), BackendError> {
        r.sampling.validate()?;
        let bad = |m: String| Err(BackendError::InvalidRequest(m));
        if r.input_ids.is_empty() {
            return bad("the prompt is empty: send at least one input id".into());
        }
        if let Some((i, &t)) = r
            .input_ids
            .iter()
            .enumerate()
            .find(|(_, &t)| t as usize >= self.info.vocab_size)
        {
            return bad(format!(
                "input_ids[{i}] = {t} is out of range: the vocabulary has {} ids (0..{})",
                self.info.vocab_size,
                self.info.vocab_size - 1
            ));
        }
        if r.input_ids.len() >= self.info.max_context {
            return bad(format!(
                "the prompt has {} tokens but the context length is {}: shorten it",
                r.input_ids.len(),
                self.info.max_context
            ));
        }
        Ok(())
    }
}

impl Drop for Engine {
    /// Closing the queue lets the thread finish running sequences, then exit.
    fn drop(&mut self) {
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[async_trait::async_trait]
impl Backend for Engine {
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError> {
        self.validate(&request)?;
        let (events, generation) = Generation::channel();
        self.tx
            .send(Job { request, events })
            .map_err(|_| BackendError::ShuttingDown)?;
        Ok(generation)
    }

    fn load(&self) -> Option<Load> {
        let s = &self.stats;
        Some(Load {
            running: Stats::get(&s.running),
            queued: Stats::get(&s.waiting),
            kv_tokens: Stats::get(&s.kv_tokens),
            kv_capacity: self.kv_capacity,
            generated_tokens: Stats::get(&s.generated_tokens),
        })
    }
}

/// A sequence in the running batch.
struct Running {
    job: Job,
    cache: KvCache,
    /// Prompt tokens not yet prefilled start here.
    prefilled: usize,
    output: Vec<u32>,
    stop: Vec<u32>,
    rng: Rng,
}

impl Running {
    fn new(job: Job, model: &GptOss) -> Running {
        let s = &job.request.sampling;
        let mut stop = s.stop_token_ids.clone();
        if !s.ignore_eos {
            stop.extend(&model.config.eos_token_ids);
        }
        let rng = s.seed.map_or_else(Rng::from_entropy, Rng::new);
        Running {
            cache: model.new_cache(),
            prefilled: 0,
            output: Vec::new(),
            stop,
            rng,
            job,
        }
    }

    /// Sends the final output and counts the request as finished.
    fn finish(&self, reason: FinishReason, stats: &Stats) {
        let out = GenerateOutput {
            output_ids: self.output.clone(),
            finish_reason: reason,
            prompt_tokens: self.job.request.input_ids.len(),
            completion_tokens: self.output.len(),
            token_source: backend::TokenSource::Server,
        };
        stats.finished.record(&out);
        self.job.events.send(Ok(Event::Finished(out)));
    }
}

fn run_loop(model: &GptOss, cfg: &EngineConfig, rx: mpsc::Receiver<Job>, stats: &Stats) {
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut running: Vec<Running> = Vec::new();
    let mut open = true;
    loop {
        if running.is_empty() && waiting.is_empty() {
            if !open {
                return;
            }
            match rx.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return,
            }
        }
        loop {
            match rx.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        while running.len() < cfg.max_running {
            let Some(job) = waiting.pop_front() else {
                break;
            };
            if job.events.is_closed() {
                continue;
            }
            let r = Running::new(job, model);
            if r.job.request.sampling.max_new_tokens == 0 {
                r.finish(FinishReason::Length, stats);
                continue;
            }
            running.push(r);
        }
        running.retain(|r| !r.job.events.is_closed());
        stats.running.store(running.len() as u64, Ordering::Relaxed);
        stats.waiting.store(waiting.len() as u64, Ordering::Relaxed);
        if running.is_empty() {
            continue;
        }
        stats
            .max_batch
            .fetch_max(running.len() as u64, Ordering::Relaxed);
        stats.steps.fetch_add(1, Ordering::Relaxed);
        step(model, cfg, &mut running, stats);
        // Also when the batch just emptied: the loop then waits for work.
        stats.running.store(running.len() as u64, Ordering::Relaxed);
        let kv: usize = running.iter().map(|r| r.cache.len).sum();
        stats.kv_tokens.store(kv as u64, Ordering::Relaxed);
    }
}

/// What one running sequence does in a step.
struct Planned {
    /// Its index in the running set.
    seq: usize,
    /// The prompt positions it prefills; `None` for a decode, which feeds
    /// back its last output token.
    prefill: Option<Range<usize>>,
    /// Whether a token is sampled for it after the step: a decode, or the
    /// chunk that completes the prompt.
    sample: bool,
}

/// Decodes first (one token each), then prompt chunks with the rest of the
/// step's token budget, in running order.
fn plan(cfg: &EngineConfig, running: &[Running]) -> Vec<Planned> {
    let decodes = running
        .iter()
        .filter(|r| r.prefilled == r.job.request.input_ids.len())
        .count();
    let mut budget = cfg.max_step_tokens.saturating_sub(decodes).max(1);
    let mut plan = Vec::new();
    for (seq, r) in running.iter().enumerate() {
        let prompt_len = r.job.request.input_ids.len();
        if r.prefilled == prompt_len {
            plan.push(Planned {
                seq,
                prefill: None,
                sample: true,
            });
        } else if budget > 0 {
            let n = (prompt_len - r.prefilled).min(budget);
            budget -= n;
            plan.push(Planned {
                seq,
                prefill: Some(r.prefilled..r.prefilled + n),
                sample: r.prefilled + n == prompt_len,
            });
        }
    }
    plan
}

/// One batched forward pass over the running set, then sampling and retiring.
fn step(model: &GptOss, cfg: &EngineConfig, running: &mut Vec<Running>, stats: &Stats) {
    let plan = plan(cfg, running);
    let tokens: Vec<Vec<u32>> = plan
        .iter()
        .map(|p| {
            let r = &running[p.seq];
            match &p.prefill {
                Some(chunk) => r.job.request.input_ids[chunk.clone()].to_vec(),
                None => vec![*r
                    .output
                    .last()
                    .expect("decoding sequences have an output token")],
            }
        })
        .collect();
    let result = {
        // The plan is in running order, so one pass pairs each entry with its cache.
        let mut planned = plan.iter().zip(&tokens).peekable();
        let mut segs: Vec<Segment<'_>> = Vec::with_capacity(plan.len());
        for (i, r) in running.iter_mut().enumerate() {
            if let Some((p, toks)) = planned.next_if(|(p, _)| p.seq == i) {
                segs.push(Segment {
                    tokens: toks,
                    cache: &mut r.cache,
                    logits: if p.sample { Logits::Last } else { Logits::None },
                });
            }
        }
        model.forward(&mut segs)
    };
    let logits = match result {
        Ok(l) => l,
        Err(e) => {
            // Validation makes this unreachable; fail the batch loudly rather than hang.
            for r in running.drain(..) {
                r.job
                    .events
                    .send(Err(BackendError::Internal(e.to_string())));
            }
            return;
        }
    };
    let mut done = vec![false; running.len()];
    for (p, logits) in plan.iter().zip(logits) {
        let r = &mut running[p.seq];
        if let Some(chunk) = &p.prefill {
            r.prefilled = chunk.end;
        }
        if !p.sample {
            continue;
        }
        let s: &SamplingParams = &r.job.request.sampling;
        let t = sample(&logits, s, &mut r.rng);
        r.output.push(t);
        stats.generated_tokens.fetch_add(1, Ordering::Relaxed);
        if r.job.request.stream && !r.job.events.send(Ok(Event::Tokens(vec![t]))) {
            done[p.seq] = true;
            continue;
        }
        let reason = if r.stop.contains(&t) {
            Some(FinishReason::Stop)
        } else if r.output.len() >= s.max_new_tokens as usize || r.cache.len + 1 >= cfg.max_context
        {
            Some(FinishReason::Length)
        } else {
            None
        };
        if let Some(reason) = reason {
            // Before the client can see the result and read /metrics.
            stats.running.fetch_sub(1, Ordering::Relaxed);
            r.finish(reason, stats);
            done[p.seq] = true;
        }
    }
    let mut k = 0;
    running.retain(|_| {
        k += 1;
        !done[k - 1]
    });
}
