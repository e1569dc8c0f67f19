//! MXFP4 expert weights (OCP microscaling FP4): 32 E2M1 codes per block
//! sharing one E8M0 exponent. They stay packed in memory — a quarter of
//! bf16 — and each row is decoded just before use, so gpt-oss-120b's experts
//! fit as they are in the checkpoint.

use std::sync::Arc;

use rayon::prelude::*;

use crate::ops::{rows_per_task, rows_times_tokens};

/// E2M1 code → value (bit 3 is the sign; code 8 is −0).
pub const FP4_VALUES: [f32; 16] = [
    0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0,
];

/// Scale byte → 2^(s − 127); byte 255 gives 2^128 = inf as transformers' ldexp does.
static SCALE_LUT: std::sync::LazyLock<[f32; 256]> = std::sync::LazyLock::new(|| {
    let mut t = [0f32; 256];
    for (s, e) in t.iter_mut().enumerate() {
        *e = 2f64.powi(s as i32 - 127) as f32;
    }
    t
});

/// Shared, possibly memory-mapped bytes.
#[derive(Clone)]
pub struct Bytes {
    data: Arc<dyn AsRef<[u8]> + Send + Sync>,
    start: usize,
    len: usize,
}

impl Bytes {
    pub fn new(data: Arc<dyn AsRef<[u8]> + Send + Sync>, start: usize, len: usize) -> Self {
        assert!(
            start + len <= data.as_ref().as_ref().len(),
            "Bytes range past the end"
        );
        Bytes { data, start, len }
    }

    pub fn from_vec(v: Vec<u8>) -> Self {
        let len = v.len();
        Bytes {
            data: Arc::new(v),
            start: 0,
            len,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.data.as_ref().as_ref()[self.start..self.start + self.len]
    }
}

/// Decodes one row of `scales.len()` blocks into `out` (32 values per block).
pub fn decode_row(blocks: &[u8], scales: &[u8], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::ops::has_fma() {
        // SAFETY: the CPU supports AVX2 (checked at run time).
        return unsafe { decode_row_avx2(blocks, scales, out) };
    }
    decode_row_body(blocks, scales, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn decode_row_avx2(blocks: &[u8], scales: &[u8], out: &mut [f32]) {
    decode_row_body(blocks, scales, out);
}

/// E2M1 code → f32 bits by arithmetic rather than a table, so the loop
/// vectorizes: e = 0 is ±0 or ±0.5, otherwise ±2^(e−1)·(1 + m/2).
#[inline(always)]
fn fp4_bits(code: u32) -> u32 {
    let sign = (code & 8) << 28;
    let e = (code >> 1) & 3;
    let m = code & 1;
    let normal = ((e + 126) << 23) | (m << 22);
    let sub = m * (126 << 23);
    sign | if e == 0 { sub } else { normal }
}

#[inline(always)]
fn decode_row_body(blocks: &[u8], scales: &[u8], out: &mut [f32]) {
    for ((blk, &s), o) in blocks
        .chunks_exact(16)
        .zip(scales)
        .zip(out.chunks_exact_mut(32))
    {
        let m = SCALE_LUT[s as usize];
        let mut lo = [0f32; 16];
        let mut hi = [0f32; 16];
        for j in 0..16 {
            let b = blk[j] as u32;
            lo[j] = f32::from_bits(fp4_bits(b & 15)) * m;
            hi[j] = f32::from_bits(fp4_bits(b >> 4)) * m;
        }
        for j in 0..16 {
            o[2 * j] = lo[j];
            o[2 * j + 1] = hi[j];
        }
    }
}

/// `[experts, rows, cols]` MXFP4 matrices stored as the checkpoint's
/// `*_blocks` `[E, rows, cols/32, 16]` and `*_scales` `[E, rows, cols/32]`.
#[derive(Clone)]
pub struct Mxfp4Experts {
    /// Matrices (experts) held.
    pub experts: usize,
    /// Output rows of each matrix.
    pub rows: usize,
    /// Input columns of each matrix, a multiple of 32.
    pub cols: usize,
    blocks: Bytes,
    scales: Bytes,
}

impl Mxfp4Experts {
    /// Wraps the packed bytes without a copy; their sizes must match the
    /// shape (the checkpoint reader has checked them).
    pub fn new(experts: usize, rows: usize, cols: usize, blocks: Bytes, scales: Bytes) -> Self {
        let nb = cols / 32;
        assert_eq!(
            blocks.as_slice().len(),
            experts * rows * nb * 16,
            "MXFP4 blocks size"
        );
        assert_eq!(
            scales.as_slice().len(),
            experts * rows * nb,
            "MXFP4 scales size"
        );
        Mxfp4Experts {
            experts,
            rows,
            cols,
            blocks,
            scales,
        }
    }

    fn row_bytes(&self, e: usize, r: usize) -> (&[u8], &[u8]) {
        let nb = self.cols / 32;
        let i = e * self.rows + r;
        (
            &self.blocks.as_slice()[i * nb * 16..(i + 1) * nb * 16],
            &self.scales.as_slice()[i * nb..(i + 1) * nb],
        )
    }

    /// Decodes expert `e` fully, `[rows][cols]` (for tests and checksums).
    pub fn dequantize(&self, e: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.rows * self.cols];
        for (r, o) in out.chunks_exact_mut(self.cols).enumerate() {
            let (b, s) = self.row_bytes(e, r);
            decode_row(b, s, o);
        }
        out
    }

    /// y = x·W[e]ᵀ + bias for `n` rows of `x` (`cols` wide). Each task
    /// decodes a cache-sized block of rows once and runs every token past it.
    pub fn forward(&self, e: usize, x: &[f32], n: usize, bias: &[f32]) -> Vec<f32> {
        let cols = self.cols;
        let compute = |r0: usize, chunk: &mut [f32]| {
            let rows = chunk.len() / n;
            let mut w = vec![0f32; rows * cols];
            for (i, dst) in w.chunks_exact_mut(cols).enumerate() {
                let (b, s) = self.row_bytes(e, r0 + i);
                decode_row(b, s, dst);
            }
            rows_times_tokens(&w, cols, 0, x, n, chunk);
            for (i, c) in chunk.chunks_mut(n).enumerate() {
                c.iter_mut().for_each(|v| *v += bias[r0 + i]);
            }
        };
        let mut yt = vec![0f32; self.rows * n];
        if n == 0 {
            return yt;
        }
        if self.rows * cols * n < 1 << 15 {
            compute(0, &mut yt);
        } else {
            let rpt = rows_per_task(self.rows, cols * 4);
            yt.par_chunks_mut(rpt * n)
                .enumerate()
                .for_each(|(k, c)| compute(k * rpt, c));
        }
        let mut y = vec![0f32; n * self.rows];
        for r in 0..self.rows {
            for t in 0..n {
                y[t * self.rows + r] = yt[r * n + t];
            }
        }
        y
    }
}

/// Encodes values into MXFP4 the way the fixture's quantizer does (for the
/// built-in model and benchmarks): smallest power-of-two scale bringing the
/// block max to ≤ 6, then round to the nearest E2M1 value.
pub fn quantize_row(values: &[f32], blocks: &mut Vec<u8>, scales: &mut Vec<u8>) {
    for blk in values.chunks(32) {
        let amax = blk.iter().fold(0f32, |m, v| m.max(v.abs()));
        let fits = |e: i32| amax <= 6.0 * 2f64.powi(e) as f32;
        let mut exp = if amax > 0.0 {
            ((amax / 6.0).log2().ceil() as i32).clamp(-127, 127)
        } else {
            -127
        };
        while exp > -127 && fits(exp - 1) {
            exp -= 1;
        }
        while exp < 127 && !fits(exp) {
            exp += 1;
        }
        scales.push((exp + 127) as u8);
        let m = 2f64.powi(exp) as f32;
        let code = |v: f32| -> u8 {
            let a = (v / m).abs();
            let mut best = 0usize;
            for (c, v) in FP4_VALUES.iter().enumerate().take(8) {
                if (v - a).abs() < (FP4_VALUES[best] - a).abs() {
                    best = c;
                }
            }
            best as u8 | if v.is_sign_negative() { 8 } else { 0 }
        };
        for pair in blk.chunks(2) {
            blocks.push(code(pair[0]) | (code(pair[1]) << 4));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nibbles_low_first_with_bias_127() {
        let mut out = [0f32; 32];
        let mut blocks = [0u8; 16];
        blocks[0] = 0x66; // both nibbles code 6 = 4.0
        blocks[1] = 0xF1; // lo code 1 = 0.5, hi code 15 = -6
        decode_row(&blocks, &[123], &mut out);
        assert_eq!(&out[..4], &[0.25, 0.25, 0.5 / 16.0, -6.0 / 16.0]);
    }

    #[test]
    fn arithmetic_decode_matches_the_table() {
        for code in 0..16u32 {
            assert_eq!(
                f32::from_bits(fp4_bits(code)).to_bits(),
                FP4_VALUES[code as usize].to_bits(),
                "code {code}"
            );
        }
    }

    #[test]
    fn quantize_roundtrips_representable_values() {
        let v: Vec<f32> = (0..64).map(|i| FP4_VALUES[i % 16] * 0.125).collect();
        let (mut b, mut s) = (Vec::new(), Vec::new());
        quantize_row(&v, &mut b, &mut s);
        let mut out = vec![0f32; 64];
        decode_row(&b, &s, &mut out);
        assert_eq!(out, v);
    }
}
