//! Picking the next token from logits: greedy, or temperature / top-k /
//! top-p sampling with a per-request RNG so a seed reproduces a run.

use backend::SamplingParams;

/// xoshiro256** seeded through splitmix64: small, fast, reproducible.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// Second Box–Muller output, kept for the next call.
    spare: Option<f32>,
}

impl Rng {
    /// A generator whose draws are fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
            spare: None,
        }
    }

    /// A seed from the clock and a process-wide counter, for unseeded requests.
    pub fn from_entropy() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Rng::new(t ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Approximately standard normal (Box–Muller), for generated weights.
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
        self.spare = Some((r * s) as f32);
        (r * c) as f32
    }
}

/// Index of the largest logit (lowest index on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Samples one token id. Greedy when temperature is 0 or top_k is 1.
pub fn sample(logits: &[f32], p: &SamplingParams, rng: &mut Rng) -> u32 {
    if p.temperature == 0.0 || p.top_k == 1 {
        return argmax(logits);
    }
    let inv_t = 1.0 / p.temperature;
    // Candidates: all ids, or the top k by logit.
    let mut cand: Vec<u32> = (0..logits.len() as u32).collect();
    if p.top_k > 1 && (p.top_k as usize) < cand.len() {
        let k = p.top_k as usize;
        cand.select_nth_unstable_by(k - 1, |&a, &b| {
            logits[b as usize].total_cmp(&logits[a as usize])
        });
        cand.truncate(k);
    }
    let max = cand
        .iter()
        .map(|&i| logits[i as usize])
        .fold(f32::NEG_INFINITY, f32::max);
    let mut probs: Vec<f64> = cand
        .iter()
        .map(|&i| (((logits[i as usize] - max) * inv_t) as f64).exp())
        .collect();
    let total: f64 = probs.iter().sum();
    if p.top_p < 1.0 {
        // Keep the smallest prefix, by descending probability, reaching top_p.
        let mut order: Vec<usize> = (0..cand.len()).collect();
        order.sort_unstable_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
        let mut cum = 0.0;
        let mut kept = Vec::new();
        for &i in &order {
            kept.push(i);
            cum += probs[i] / total;
            if cum >= p.top_p as f64 {
                break;
            }
        }
        cand = kept.iter().map(|&i| cand[i]).collect();
        probs = kept.iter().map(|&i| probs[i]).collect();
    }
    let total: f64 = probs.iter().sum();
    let mut r = rng.next_f64() * total;
    for (i, &pr) in probs.iter().enumerate() {
        r -= pr;
        if r < 0.0 {
            return cand[i];
        }
    }
    *cand.last().expect("at least one candidate")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f32, top_p: f32, top_k: i32) -> SamplingParams {
        SamplingParams {
            temperature,
            top_p,
            top_k,
            seed: Some(1),
            ..SamplingParams::default()
        }
    }

    #[test]
    fn greedy_and_top_k_1_pick_the_argmax() {
        let logits = [0.1, 3.0, 2.0];
        let mut rng = Rng::new(0);
        assert_eq!(sample(&logits, &params(0.0, 1.0, -1), &mut rng), 1);
        assert_eq!(sample(&logits, &params(5.0, 1.0, 1), &mut rng), 1);
    }

    #[test]
    fn top_k_and_top_p_restrict_the_candidates() {
        let logits = [5.0, 4.9, 0.0, -1.0];
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            assert!(sample(&logits, &params(1.0, 1.0, 2), &mut rng) < 2);
            // p(0) ≈ 0.52, so top_p 0.5 keeps id 0 alone.
            assert_eq!(sample(&logits, &params(1.0, 0.5, -1), &mut rng), 0);
        }
    }

    #[test]
    fn a_seed_reproduces_the_draws() {
        let logits: Vec<f32> = (0..50).map(|i| (i % 7) as f32 * 0.3).collect();
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..20)
                .map(|_| sample(&logits, &params(1.0, 1.0, -1), &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
