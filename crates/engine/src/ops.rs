//! The few dense kernels the forward pass needs, in f32, parallel over
//! output rows with rayon. Every token's result is computed in the same
//! order whatever the batch, so batched and sequential runs agree bit for bit.

use rayon::prelude::*;

/// Below this many multiply-adds a matmul runs on the calling thread:
/// rayon's fork/join costs more than it saves on the tiny model.
const PAR_MIN_WORK: usize = 1 << 15;

/// Dot product with 8 independent accumulators so LLVM vectorizes it.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks = n / 8;
    for c in 0..chunks {
        let (x, y) = (&a[c * 8..c * 8 + 8], &b[c * 8..c * 8 + 8]);
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0f32;
    for i in chunks * 8..n {
        tail += a[i] * b[i];
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// A dense layer in PyTorch's `[out, in]` layout: y = x·Wᵀ + b.
pub struct Linear {
    pub weight: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub out_dim: usize,
    pub in_dim: usize,
}

impl Linear {
    pub fn new(weight: Vec<f32>, bias: Option<Vec<f32>>, out_dim: usize, in_dim: usize) -> Self {
        debug_assert_eq!(weight.len(), out_dim * in_dim);
        Linear {
            weight,
            bias,
            out_dim,
            in_dim,
        }
    }

    /// `x` holds `n` rows of `in_dim`; returns `n` rows of `out_dim`.
    pub fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        let mut y = vec![0f32; n * self.out_dim];
        self.forward_into(x, n, &mut y);
        y
    }

    pub fn forward_into(&self, x: &[f32], n: usize, y: &mut [f32]) {
        let (out_dim, in_dim) = (self.out_dim, self.in_dim);
        // Work on the transpose [out][n] so each weight row is read once.
        let row = |o: usize, col: &mut [f32]| {
            let w = &self.weight[o * in_dim..(o + 1) * in_dim];
            let b = self.bias.as_ref().map_or(0.0, |b| b[o]);
            for (t, c) in col.iter_mut().enumerate() {
                *c = dot(&x[t * in_dim..(t + 1) * in_dim], w) + b;
            }
        };
        let mut yt = vec![0f32; out_dim * n];
        if out_dim * in_dim * n < PAR_MIN_WORK {
            yt.chunks_mut(n.max(1))
                .enumerate()
                .for_each(|(o, c)| row(o, c));
        } else {
            let rows_per_task = (PAR_MIN_WORK / (in_dim * n).max(1)).clamp(1, 256);
            yt.par_chunks_mut(n.max(1) * rows_per_task)
                .enumerate()
                .for_each(|(blk, chunk)| {
                    for (i, c) in chunk.chunks_mut(n.max(1)).enumerate() {
                        row(blk * rows_per_task + i, c);
                    }
                });
        }
        for o in 0..out_dim {
            for t in 0..n {
                y[t * out_dim + o] = yt[o * n + t];
            }
        }
    }
}

/// RMSNorm over each row of width `weight.len()`: x / sqrt(mean(x²)+eps) · w.
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
    let h = weight.len();
    let mut out = vec![0f32; x.len()];
    for (row, o) in x.chunks_exact(h).zip(out.chunks_exact_mut(h)) {
        let ss: f64 = row.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let inv = (1.0 / ((ss / h as f64) as f32 + eps).sqrt()) as f32;
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
        let lin = Linear::new(w.clone(), Some(b.clone()), o, i);
        let x: Vec<f32> = (0..3 * i).map(|k| ((k * 31) % 17) as f32 / 17.0).collect();
        let y = lin.forward(&x, 3);
        for t in 0..3 {
            let single = lin.forward(&x[t * i..(t + 1) * i], 1);
            assert_eq!(&y[t * o..(t + 1) * o], &single[..]);
            for r in 0..o {
                let naive: f32 = (0..i).map(|k| x[t * i + k] * w[r * i + k]).sum::<f32>() + b[r];
                assert!((naive - y[t * o + r]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        assert_eq!(top_k(&[1.0, 3.0, 3.0, 2.0], 3), vec![1, 2, 3]);
    }
}
