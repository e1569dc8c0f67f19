//! `--model sim`: a synthetic timing model for load-testing clients. It
//! computes nothing: after a time-to-first-token it emits deterministic ids
//! one time-per-output-token apart (the first alone, then in chunks of
//! `stream_interval`, as SGLang streams), with an
//! output length drawn from a seeded distribution, at most
//! `max_concurrency` at once. Its replies say it is synthetic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backend::{
    Backend, BackendError, Event, FinishReason, GenerateOutput, GenerateRequest, Generation, Load,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::sampling::Rng;
use crate::ModelInfo;

/// Output lengths, before `max_new_tokens` caps them.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputLen {
    /// Always `max_new_tokens` (finish reason "length").
    Max,
    /// This many tokens, then `<|return|>` (finish reason "stop").
    Fixed(u32),
    /// Uniform in `lo..=hi`.
    Uniform(u32, u32),
    /// Exponential with this mean (long-tailed, like reasoning traces).
    Exponential(f64),
}

impl std::str::FromStr for OutputLen {
    type Err = String;
    /// `max`, `fixed:N`, `uniform:LO:HI` or `exp:MEAN`.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |x: &str| {
            x.parse::<u32>()
                .map_err(|e| format!("{x:?} in --sim-output-len {s:?}: {e}"))
        };
        match parts.as_slice() {
            ["max"] => Ok(OutputLen::Max),
            ["fixed", n] => Ok(OutputLen::Fixed(num(n)?)),
            ["uniform", lo, hi] if num(lo)? <= num(hi)? => {
                Ok(OutputLen::Uniform(num(lo)?, num(hi)?))
            }
            ["exp", m] => m
                .parse::<f64>()
                .ok()
                .filter(|m| *m > 0.0)
                .map(OutputLen::Exponential)
                .ok_or_else(|| {
                    format!("--sim-output-len {s:?}: the mean must be a positive number")
                }),
            _ => Err(format!(
                "--sim-output-len {s:?}: expected max, fixed:N, uniform:LO:HI or exp:MEAN"
            )),
        }
    }
}

/// The timing and limits the synthetic model imitates.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Time to the first token.
    pub ttft: Duration,
    /// Time per output token after the first.
    pub tpot: Duration,
    /// How many tokens each request gets.
    pub output_len: OutputLen,
    /// Tokens per streamed chunk after the first (SGLang's `--stream-interval`).
    pub stream_interval: usize,
    /// Requests generating at once; more wait for a slot.
    pub max_concurrency: usize,
    /// Longest prompt + output in tokens.
    pub max_context: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            ttft: Duration::from_millis(50),
            tpot: Duration::from_millis(5),
            output_len: OutputLen::Max,
            stream_interval: 1,
            max_concurrency: 1024,
            max_context: 131072,
        }
    }
}

/// `<|return|>`, which ends a sim output drawn shorter than the cap.
const EOS: u32 = defs::tokens::RETURN;
/// The real model's vocabulary, so the same prompts are valid.
const VOCAB: usize = defs::VOCAB_SIZE as usize;

/// The synthetic timing model, a [`Backend`] that computes nothing.
pub struct SimModel {
    cfg: SimConfig,
    slots: Arc<Semaphore>,
    counters: Arc<Counters>,
}

/// What `/metrics` reports of the sim: as if each request held a KV cache
/// of its prompt and the tokens emitted so far while it has a slot.
#[derive(Default)]
struct Counters {
    running: AtomicU64,
    queued: AtomicU64,
    kv_tokens: AtomicU64,
    generated: AtomicU64,
}

/// An amount added to one counter until dropped (also when a request is
/// cancelled half-way).
struct Held {
    counters: Arc<Counters>,
    field: fn(&Counters) -> &AtomicU64,
    amount: u64,
}

impl Held {
    fn new(counters: &Arc<Counters>, field: fn(&Counters) -> &AtomicU64, amount: u64) -> Held {
        field(counters).fetch_add(amount, Ordering::Relaxed);
        Held {
            counters: counters.clone(),
            field,
            amount,
        }
    }

    fn add(&mut self, n: u64) {
        (self.field)(&self.counters).fetch_add(n, Ordering::Relaxed);
        self.amount += n;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        (self.field)(&self.counters).fetch_sub(self.amount, Ordering::Relaxed);
    }
}

impl SimModel {
    /// A model with `cfg`'s timing; needs a tokio runtime to generate.
    pub fn new(cfg: SimConfig) -> SimModel {
        let slots = Arc::new(Semaphore::new(cfg.max_concurrency.max(1)));
        SimModel {
            cfg,
            slots,
            counters: Arc::default(),
        }
    }

    /// What a server reports about it: synthetic, the real vocabulary.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            model_name: "sim (synthetic timing model, not GPT-OSS)".into(),
            vocab_size: VOCAB,
            max_context: self.cfg.max_context,
            eos_token_ids: vec![EOS],
            synthetic: true,
        }
    }
}

/// The i-th output id of a prompt: ordinary vocabulary ids, so text decodes.
pub fn sim_token(prompt_hash: u64, i: u64) -> u32 {
    let mut x = prompt_hash ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    1000 + ((x >> 17) % 100_000) as u32
}

fn hash(ids: &[u32], seed: Option<u64>) -> u64 {
    ids.iter()
        .fold(seed.unwrap_or(0) ^ 0xcbf2_9ce4_8422_2325, |h, &t| {
            (h ^ t as u64).wrapping_mul(0x100_0000_01b3)
        })
}

#[async_trait::async_trait]
impl Backend for SimModel {
    async fn generate(&self, request: GenerateRequest) -> Result<Generation, BackendError> {
        request.sampling.validate()?;
        let bad = |m: String| Err(BackendError::InvalidRequest(m));
        if request.input_ids.is_empty() {
            return bad("the prompt is empty: send at least one input id".into());
        }
        if let Some((i, t)) = request
            .input_ids
            .iter()
            .enumerate()
            .find(|(_, &t)| t as usize >= VOCAB)
        {
            return bad(format!(
                "input_ids[{i}] = {t} is out of range: the vocabulary has {VOCAB} ids"
            ));
        }
        if request.input_ids.len() >= self.cfg.max_context {
            return bad(format!(
                "the prompt has {} tokens but the context length is {}: shorten it",
                request.input_ids.len(),
                self.cfg.max_context
            ));
        }
        let (events, generation) = Generation::channel();
        let cfg = self.cfg.clone();
        let slots = self.slots.clone();
        let counters = self.counters.clone();
        tokio::spawn(async move {
            let queued = Held::new(&counters, |c| &c.queued, 1);
            let Ok(_slot) = slots.acquire_owned().await else {
                return;
            };
            drop(queued);
            let running = Held::new(&counters, |c| &c.running, 1);
            let mut kv = Held::new(&counters, |c| &c.kv_tokens, request.input_ids.len() as u64);
            let h = hash(&request.input_ids, request.sampling.seed);
            let cap = request
                .sampling
                .max_new_tokens
                .min((cfg.max_context - request.input_ids.len()) as u32);
            let mut rng = Rng::new(h);
            let drawn = match cfg.output_len {
                OutputLen::Max => u32::MAX,
                OutputLen::Fixed(n) => n,
                OutputLen::Uniform(lo, hi) => lo + (rng.next_u64() % (hi - lo + 1) as u64) as u32,
                OutputLen::Exponential(mean) => (-(1.0 - rng.next_f64()).ln() * mean).ceil() as u32,
            };
            let (n, reason) = if drawn < cap {
                (drawn.max(1), FinishReason::Stop)
            } else {
                (cap, FinishReason::Length)
            };
            let token = |i: u32| {
                if reason == FinishReason::Stop && i + 1 == n {
                    EOS
                } else {
                    sim_token(h, i as u64)
                }
            };
            let start = Instant::now();
            let interval = cfg.stream_interval.max(1) as u32;
            let mut sent = 0u32;
            while sent < n {
                // Token i is due at ttft + i·tpot; emitted as SGLang's output
                // streamer does: the first at once, then a chunk every interval.
                let upto = if sent == 0 {
                    1
                } else {
                    (sent + interval).min(n)
                };
                let due = start + cfg.ttft + cfg.tpot * (upto - 1);
                if due > Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                if request.stream {
                    let ids: Vec<u32> = (sent..upto).map(token).collect();
                    if !events.send(Ok(Event::Tokens(ids))) {
                        return;
                    }
                } else if events.is_closed() {
                    return;
                }
                kv.add(u64::from(upto - sent));
                counters
                    .generated
                    .fetch_add(u64::from(upto - sent), Ordering::Relaxed);
                sent = upto;
            }
            let out = GenerateOutput {
                output_ids: (0..n).map(token).collect(),
                finish_reason: reason,
                prompt_tokens: request.input_ids.len(),
                completion_tokens: n as usize,
                token_source: backend::TokenSource::Server,
            };
            // Not running any more before the client can see the result.
            drop((running, kv));
            events.send(Ok(Event::Finished(out)));
        });
        Ok(generation)
    }

    fn load(&self) -> Option<Load> {
        let c = &self.counters;
        let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
        Some(Load {
            running: get(&c.running),
            queued: get(&c.queued),
            kv_tokens: get(&c.kv_tokens),
            kv_capacity: (self.cfg.max_concurrency.max(1) * self.cfg.max_context) as u64,
            generated_tokens: get(&c.generated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backend::SamplingParams;

    fn request() -> GenerateRequest {
        GenerateRequest {
            input_ids: vec![1000; 10],
            sampling: SamplingParams {
                max_new_tokens: 4,
                ..SamplingParams::greedy()
            },
            stream: false,
        }
    }

    #[tokio::test]
    async fn requests_beyond_max_concurrency_are_reported_queued_until_they_run() {
        let sim = SimModel::new(SimConfig {
            ttft: Duration::from_millis(50),
            tpot: Duration::from_millis(10),
            max_concurrency: 2,
            max_context: 100,
            ..SimConfig::default()
        });
        let generations: Vec<Generation> = {
            let mut g = Vec::new();
            for _ in 0..5 {
                g.push(sim.generate(request()).await.unwrap());
            }
            g
        };
        // Let the spawned tasks take their slots or queue.
        while sim.load().unwrap().running + sim.load().unwrap().queued < 5 {
            tokio::task::yield_now().await;
        }
        let load = sim.load().unwrap();
        assert_eq!((load.running, load.queued), (2, 3));
        assert_eq!(load.kv_tokens, 20, "two prompts of 10 tokens held");
        assert_eq!(load.kv_capacity, 200);
        for g in generations {
            assert_eq!(g.finish().await.unwrap().completion_tokens, 4);
        }
        let load = sim.load().unwrap();
        assert_eq!((load.running, load.queued, load.kv_tokens), (0, 0, 0));
        assert_eq!(load.generated_tokens, 20);
    }
}
