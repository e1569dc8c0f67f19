//! The few dense kernels the forward pass needs, in f32 arithmetic, parallel
//! over output rows with rayon. Weights stay bf16 when the checkpoint is
//! bf16 (exact, half the memory traffic of f32). Every token's result is
//! computed with the same operations in the same order whatever the batch,
//! so batched and sequential runs agree bit for bit.

use rayon::prelude::*;

/// Below this many multiply-adds a matmul runs on the calling thread:
/// rayon's fork/join costs more than it saves on the tiny model.
const PAR_MIN_WORK: usize = 1 << 15;

/// Lanes per token accumulator: two AVX2 registers.
const LANES: usize = 16;

/// A weight element that widens exactly to f32.
pub trait Weight: Copy + Send + Sync {
    fn f32(self) -> f32;
}

impl Weight for f32 {
    #[inline(always)]
    fn f32(self) -> f32 {
        self
    }
}

/// bf16 as its raw bits: widening is a shift.
impl Weight for u16 {
    #[inline(always)]
    fn f32(self) -> f32 {
        f32::from_bits((self as u32) << 16)
    }
}

/// `N` dot products of one weight row with `N` inputs, each reduced exactly
/// as the `N = 1` case, so results do not depend on how tokens are grouped.
#[inline(always)]
fn dotn_body<W: Weight, const N: usize>(w: &[W], xs: [&[f32]; N], fma: bool) -> [f32; N] {
    let n = w.len();
    let mut acc = [[0f32; LANES]; N];
    let chunks = n / LANES;
    for c in 0..chunks {
        let wc = &w[c * LANES..(c + 1) * LANES];
        let mut wf = [0f32; LANES];
        for l in 0..LANES {
            wf[l] = wc[l].f32();
        }
        for t in 0..N {
            let xc = &xs[t][c * LANES..(c + 1) * LANES];
            for l in 0..LANES {
                acc[t][l] = if fma {
                    xc[l].mul_add(wf[l], acc[t][l])
                } else {
                    acc[t][l] + xc[l] * wf[l]
                };
            }
        }
    }
    let mut out = [0f32; N];
    for t in 0..N {
        let a = &acc[t];
        let mut s8 = [0f32; 8];
        for l in 0..8 {
            s8[l] = a[l] + a[l + 8];
        }
        let mut tail = 0f32;
        for i in chunks * LANES..n {
            tail += xs[t][i] * w[i].f32();
        }
        out[t] = ((s8[0] + s8[4]) + (s8[1] + s8[5])) + ((s8[2] + s8[6]) + (s8[3] + s8[7])) + tail;
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dotn_fma<W: Weight, const N: usize>(w: &[W], xs: [&[f32]; N]) -> [f32; N] {
    dotn_body(w, xs, true)
}

pub(crate) fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *FMA.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[inline]
pub fn dotn<W: Weight, const N: usize>(w: &[W], xs: [&[f32]; N]) -> [f32; N] {
    #[cfg(target_arch = "x86_64")]
    if has_fma() {
        // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
        return unsafe { dotn_fma(w, xs) };
    }
    dotn_body(w, xs, false)
}

/// One dot product (the `N = 1` case of [`dotn`]).
#[inline]
pub fn dot<W: Weight>(a: &[f32], w: &[W]) -> f32 {
    let n = a.len().min(w.len());
    dotn(&w[..n], [&a[..n]])[0]
}

/// Rows `o0..o0 + col.len() / n` of `w` (row length `in_dim`) against all
/// `n` tokens of `x`, written transposed into `col` (`rows × n`). Tokens go
/// four at a time over the whole row block, so the block stays in cache
/// while the tokens stream past once.
pub fn rows_times_tokens<W: Weight>(
    w: &[W],
    in_dim: usize,
    o0: usize,
    x: &[f32],
    n: usize,
    col: &mut [f32],
) {
    let rows = col.len() / n;
    let xt = |t: usize| &x[t * in_dim..(t + 1) * in_dim];
    let row = |i: usize| &w[(o0 + i) * in_dim..(o0 + i + 1) * in_dim];
    let mut t = 0;
    while t + 4 <= n {
        let xs = [xt(t), xt(t + 1), xt(t + 2), xt(t + 3)];
        for i in 0..rows {
            let r = dotn(row(i), xs);
            col[i * n + t..i * n + t + 4].copy_from_slice(&r);
        }
        t += 4;
    }
    while t < n {
        for i in 0..rows {
            col[i * n + t] = dotn(row(i), [xt(t)])[0];
        }
        t += 1;
    }
}

/// How many rows one task takes: about 128 KiB of weights (cache-sized),
/// fewer when that would leave threads idle.
pub fn rows_per_task(rows: usize, row_bytes: usize) -> usize {
    let by_cache = ((128 << 10) / row_bytes.max(1)).max(1);
    let by_threads = rows.div_ceil(4 * rayon::current_num_threads()).max(1);
    by_cache.min(by_threads).min(rows.max(1))
}

/// Dense weights: bf16 bits as stored, or f32 for f32/f16 checkpoints.
pub enum Weights {
    Bf16(Vec<u16>),
    F32(Vec<f32>),
}

/// A dense layer in PyTorch's `[out, in]` layout: y = x·Wᵀ + b.
pub struct Linear {
    pub weight: Weights,
    pub bias: Option<Vec<f32>>,
    pub out_dim: usize,
    pub in_dim: usize,
}

impl Linear {
    pub fn new(weight: Weights, bias: Option<Vec<f32>>, out_dim: usize, in_dim: usize) -> Self {
        Linear {
            weight,
            bias,
            out_dim,
            in_dim,
        }
    }

    /// `x` holds `n` rows of `in_dim`; returns `n` rows of `out_dim`.
    pub fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        match &self.weight {
            Weights::Bf16(w) => self.forward_with(w, x, n),
            Weights::F32(w) => self.forward_with(w, x, n),
        }
    }

    fn forward_with<W: Weight>(&self, w: &[W], x: &[f32], n: usize) -> Vec<f32> {
        let (out_dim, in_dim) = (self.out_dim, self.in_dim);
        let mut yt = vec![0f32; out_dim * n];
        if n == 0 {
            return yt;
        }
        if out_dim * in_dim * n < PAR_MIN_WORK {
            rows_times_tokens(w, in_dim, 0, x, n, &mut yt);
        } else {
            let rpt = rows_per_task(out_dim, in_dim * std::mem::size_of::<W>());
            yt.par_chunks_mut(n * rpt)
                .enumerate()
                .for_each(|(blk, chunk)| {
                    rows_times_tokens(w, in_dim, blk * rpt, x, n, chunk);
                });
        }
        let mut y = vec![0f32; n * out_dim];
        for o in 0..out_dim {
            let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
            for t in 0..n {
                y[t * out_dim + o] = yt[o * n + t] + b;
            }
        }
        y
    }
}

/// RMSNorm over each row of width `weight.len()`: x / sqrt(mean(x²)+eps) · w.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
    let h = weight.len();
    let mut out = vec![0f32; x.len()];
    for (row, o) in x.chunks_exact(h).zip(out.chunks_exact_mut(h)) {
        let ss: f64 = row.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let inv = 1.0 / ((ss / h as f64) as f32 + eps).sqrt();
        for ((o, &v), &w) in o.iter_mut().zip(row).zip(weight) {
            *o = v * inv * w;
        }
    }
    out
}

/// Indices of the k largest values, largest first (ties: lower index first).
pub fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// Numerically stable softmax in place.
pub fn softmax(values: &mut [f32]) {
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for v in values.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in values.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_naive_and_is_batch_invariant() {
        let (o, i) = (300, 70);
        let w: Vec<f32> = (0..o * i)
            .map(|k| ((k * 7919) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..o).map(|k| k as f32 * 0.01).collect();
        let lin = Linear::new(Weights::F32(w.clone()), Some(b.clone()), o, i);
        let x: Vec<f32> = (0..7 * i).map(|k| ((k * 31) % 17) as f32 / 17.0).collect();
        let y = lin.forward(&x, 7);
        for t in 0..7 {
            let single = lin.forward(&x[t * i..(t + 1) * i], 1);
            assert_eq!(&y[t * o..(t + 1) * o], &single[..]);
            for r in 0..o {
                let naive: f32 = (0..i).map(|k| x[t * i + k] * w[r * i + k]).sum::<f32>() + b[r];
                assert!((naive - y[t * o + r]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn bf16_weights_widen_exactly() {
        let vals = [1.0f32, -2.5, 0.15625, 3.0e-5];
        let bits: Vec<u16> = vals.iter().map(|v| (v.to_bits() >> 16) as u16).collect();
        for (b, v) in bits.iter().zip(vals) {
            assert_eq!(b.f32(), f32::from_bits(v.to_bits() & 0xFFFF_0000));
        }
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        assert_eq!(top_k(&[1.0, 3.0, 3.0, 2.0], 3), vec![1, 2, 3]);
    }
}
