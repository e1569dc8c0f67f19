//! Continuous batching: one engine thread runs steps forever; each step
//! takes every running sequence's next token (decode) plus prompt chunks
//! (chunked prefill) up to a token budget, runs one batched forward pass,
//! samples, streams, and retires finished or cancelled sequences. Requests
//! join and leave between any two steps.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use backend::{
    Backend, BackendError, Event, EventSender, FinishReason, GenerateOutput, GenerateRequest,
    Generation, SamplingParams,
};

use crate::kv_cache::KvCache;
use crate::model::{GptOss, Logits, Segment};
use crate::sampling::{sample, Rng};

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
    pub model_name: String,
    pub vocab_size: usize,
    pub max_context: usize,
    pub eos_token_ids: Vec<u32>,
    /// True for the synthetic timing model.
    pub synthetic: bool,
}

/// Counters for `/metrics`, updated by the engine thread.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests_finished: AtomicU64,
    pub prompt_tokens: AtomicU64,
    pub generation_tokens: AtomicU64,
    pub steps: AtomicU64,
    pub running: AtomicU64,
    pub waiting: AtomicU64,
    /// Most sequences ever in one step (shows batching happened).
    pub max_batch: AtomicU64,
}

impl Stats {
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
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
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || run_loop(&model, &cfg, rx, &st))
            .expect("spawning the engine thread");
        Engine {
            tx,
            info,
            stats,
            thread: Some(thread),
        }
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

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

    fn finish(&self, reason: FinishReason) {
        let out = GenerateOutput {
            output_ids: self.output.clone(),
            finish_reason: reason,
            prompt_tokens: self.job.request.input_ids.len(),
            completion_tokens: self.output.len(),
        };
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
                r.finish(FinishReason::Length);
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
    }
}

/// One batched forward pass over the running set, then sampling and retiring.
fn step(model: &GptOss, cfg: &EngineConfig, running: &mut Vec<Running>, stats: &Stats) {
    // Decodes first (one token each), then prompt chunks with the rest of the budget.
    let decodes = running
        .iter()
        .filter(|r| r.prefilled == r.job.request.input_ids.len())
        .count();
    let mut budget = cfg.max_step_tokens.saturating_sub(decodes).max(1);
    let mut plan: Vec<(usize, std::ops::Range<usize>, bool)> = Vec::new();
    for (i, r) in running.iter().enumerate() {
        let prompt = &r.job.request.input_ids;
        if r.prefilled == prompt.len() {
            plan.push((i, 0..1, true));
        } else if budget > 0 {
            let n = (prompt.len() - r.prefilled).min(budget);
            budget -= n;
            plan.push((
                i,
                r.prefilled..r.prefilled + n,
                r.prefilled + n == prompt.len(),
            ));
        }
    }
    let tokens: Vec<Vec<u32>> = plan
        .iter()
        .map(|(i, range, _)| {
            let r = &running[*i];
            if r.prefilled == r.job.request.input_ids.len() {
                vec![*r
                    .output
                    .last()
                    .expect("decoding sequences have an output token")]
            } else {
                r.job.request.input_ids[range.clone()].to_vec()
            }
        })
        .collect();
    let result = {
        let mut in_plan = vec![false; running.len()];
        for (i, _, _) in &plan {
            in_plan[*i] = true;
        }
        let mut segs: Vec<Segment<'_>> = Vec::with_capacity(plan.len());
        let mut toks = tokens.iter();
        let mut plan_it = plan.iter();
        for (i, r) in running.iter_mut().enumerate() {
            if !in_plan[i] {
                continue;
            }
            let (_, _, wants) = plan_it.next().expect("plan in order");
            segs.push(Segment {
                tokens: toks.next().expect("one token list per plan entry"),
                cache: &mut r.cache,
                logits: if *wants { Logits::Last } else { Logits::None },
            });
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
    for ((i, range, wants), logits) in plan.iter().zip(logits) {
        let r = &mut running[*i];
        if r.prefilled < r.job.request.input_ids.len() {
            r.prefilled = range.end;
        }
        if !*wants {
            continue;
        }
        let s: &SamplingParams = &r.job.request.sampling;
        let t = sample(&logits, s, &mut r.rng);
        r.output.push(t);
        stats.generation_tokens.fetch_add(1, Ordering::Relaxed);
        if r.job.request.stream && !r.job.events.send(Ok(Event::Tokens(vec![t]))) {
            done[*i] = true;
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
            r.finish(reason);
            stats.requests_finished.fetch_add(1, Ordering::Relaxed);
            stats
                .prompt_tokens
                .fetch_add(r.job.request.input_ids.len() as u64, Ordering::Relaxed);
            done[*i] = true;
        }
    }
    let mut k = 0;
    running.retain(|_| {
        k += 1;
        !done[k - 1]
    });
}
