//! GPT-OSS (`GptOssForCausalLM`) on the CPU in f32, loaded from a Hugging
//! Face checkpoint. Module and weight names follow the checkpoint, so this
//! file reads side by side with `model.safetensors.index.json`; the maths is
//! that of `shared/docs/gpt-oss-architecture.md` §3–§7.
//!
//! One call to [`GptOss::forward`] runs a whole engine step: any number of
//! sequences, each with a chunk of new tokens (prefill) or one token
//! (decode), against its own [`KvCache`]. Dense layers see all tokens of the
//! step at once, so weights are read once per step, not once per sequence.

use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::kv_cache::KvCache;
use crate::mxfp4::Mxfp4Experts;
use crate::ops::{dot, rms_norm, softmax, top_k, Linear, Weight, Weights};
use crate::safetensors::Checkpoint;
use crate::EngineError;

struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    /// One learned logit per head that joins the softmax and is dropped.
    sinks: Vec<f32>,
}

struct Experts {
    /// `[E, 2I, H]`, rows interleaved: 2u = gate unit u, 2u+1 = up unit u.
    gate_up_proj: Mxfp4Experts,
    gate_up_proj_bias: Vec<f32>,
    /// `[E, H, I]`.
    down_proj: Mxfp4Experts,
    down_proj_bias: Vec<f32>,
}

struct Mlp {
    router: Linear,
    experts: Experts,
}

struct DecoderLayer {
    input_layernorm: Vec<f32>,
    self_attn: Attention,
    post_attention_layernorm: Vec<f32>,
    mlp: Mlp,
}

/// Which logits a sequence of the step needs back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logits {
    /// A prefill chunk that does not end the prompt.
    None,
    /// The last position only (sampling).
    Last,
    /// Every position of the chunk (tests, scoring).
    All,
}

/// One sequence's share of a step.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut KvCache,
    pub logits: Logits,
}

/// The model: weights plus the RoPE tables derived from the config.
pub struct GptOss {
    pub config: Config,
    embed_tokens: crate::ops::Weights,
    layers: Vec<DecoderLayer>,
    norm: Vec<f32>,
    lm_head: Linear,
    inv_freq: Vec<f32>,
    attention_scaling: f32,
}

fn linear(
    ck: &Checkpoint,
    prefix: &str,
    out_dim: usize,
    in_dim: usize,
    bias: bool,
) -> Result<Linear, EngineError> {
    let w = ck.weights(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
    let b = if bias {
        Some(ck.f32(&format!("{prefix}.bias"), &[out_dim])?)
    } else {
        None
    };
    Ok(Linear::new(w, b, out_dim, in_dim))
}

fn experts(
    ck: &Checkpoint,
    p: &str,
    cfg: &Config,
    which: &str,
) -> Result<Mxfp4Experts, EngineError> {
    let (e, h, i) = (
        cfg.num_local_experts,
        cfg.hidden_size,
        cfg.intermediate_size,
    );
    let (rows, cols) = if which == "gate_up_proj" {
        (2 * i, h)
    } else {
        (h, i)
    };
    let blocks = ck.u8(&format!("{p}.{which}_blocks"), &[e, rows, cols / 32, 16])?;
    let scales = ck.u8(&format!("{p}.{which}_scales"), &[e, rows, cols / 32])?;
    Ok(Mxfp4Experts::new(e, rows, cols, blocks, scales))
}

impl GptOss {
    /// Loads `dir/config.json` and the safetensors beside it.
    pub fn load(dir: &Path) -> Result<GptOss, EngineError> {
        let cfg_path = dir.join("config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| {
            EngineError::Load(format!(
                "{}: {e} (--model PATH must be a Hugging Face GPT-OSS checkpoint folder)",
                cfg_path.display()
            ))
        })?;
        let config =
            Config::from_json(&text, &cfg_path.display().to_string()).map_err(EngineError::Load)?;
        let ck = Checkpoint::open(dir)?;
        GptOss::from_checkpoint(config, &ck)
    }

    /// Builds the model from an opened checkpoint whose shapes match `config`.
    pub fn from_checkpoint(config: Config, ck: &Checkpoint) -> Result<GptOss, EngineError> {
        let c = &config;
        let (h, v) = (c.hidden_size, c.vocab_size);
        let (q_dim, kv_dim) = (
            c.num_attention_heads * c.head_dim,
            c.num_key_value_heads * c.head_dim,
        );
        let layers = (0..c.num_hidden_layers)
            .map(|l| {
                let p = format!("model.layers.{l}");
                let a = format!("{p}.self_attn");
                let m = format!("{p}.mlp.experts");
                let (e, i) = (c.num_local_experts, c.intermediate_size);
                Ok(DecoderLayer {
                    input_layernorm: ck.f32(&format!("{p}.input_layernorm.weight"), &[h])?,
                    self_attn: Attention {
                        q_proj: linear(ck, &format!("{a}.q_proj"), q_dim, h, true)?,
                        k_proj: linear(ck, &format!("{a}.k_proj"), kv_dim, h, true)?,
                        v_proj: linear(ck, &format!("{a}.v_proj"), kv_dim, h, true)?,
                        o_proj: linear(ck, &format!("{a}.o_proj"), h, q_dim, true)?,
                        sinks: ck.f32(&format!("{a}.sinks"), &[c.num_attention_heads])?,
                    },
                    post_attention_layernorm: ck
                        .f32(&format!("{p}.post_attention_layernorm.weight"), &[h])?,
                    mlp: Mlp {
                        router: linear(ck, &format!("{p}.mlp.router"), e, h, true)?,
                        experts: Experts {
                            gate_up_proj: experts(ck, &m, c, "gate_up_proj")?,
                            gate_up_proj_bias: ck
                                .f32(&format!("{m}.gate_up_proj_bias"), &[e, 2 * i])?,
                            down_proj: experts(ck, &m, c, "down_proj")?,
                            down_proj_bias: ck.f32(&format!("{m}.down_proj_bias"), &[e, h])?,
                        },
                    },
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let (inv_freq, attention_scaling) = config.rope_tables();
        Ok(GptOss {
            embed_tokens: ck.weights("model.embed_tokens.weight", &[v, h])?,
            norm: ck.f32("model.norm.weight", &[h])?,
            lm_head: linear(ck, "lm_head", v, h, false)?,
            layers,
            inv_freq,
            attention_scaling,
            config,
        })
    }

    /// A fresh cache for one sequence.
    pub fn new_cache(&self) -> KvCache {
        let c = &self.config;
        KvCache::new(
            &c.sliding_layers,
            c.sliding_window,
            c.num_key_value_heads * c.head_dim,
        )
    }

    /// Runs one step; returns, per segment, its requested logits
    /// (`rows × vocab`, empty for [`Logits::None`]).
    pub fn forward(&self, segs: &mut [Segment<'_>]) -> Result<Vec<Vec<f32>>, EngineError> {
        let c = &self.config;
        let h = c.hidden_size;
        // (segment, absolute position) of every token in the step.
        let mut where_: Vec<(usize, usize)> = Vec::new();
        let mut x = Vec::new();
        for (s, seg) in segs.iter().enumerate() {
            for (i, &t) in seg.tokens.iter().enumerate() {
                let t = t as usize;
                if t >= c.vocab_size {
                    return Err(EngineError::InvalidRequest(format!(
                        "token id {t} is out of range: the vocabulary has {} ids",
                        c.vocab_size
                    )));
                }
                match &self.embed_tokens {
                    Weights::Bf16(w) => x.extend(w[t * h..(t + 1) * h].iter().map(|b| b.f32())),
                    Weights::F32(w) => x.extend_from_slice(&w[t * h..(t + 1) * h]),
                }
                where_.push((s, seg.cache.len + i));
            }
        }
        let n = where_.len();
        for (l, layer) in self.layers.iter().enumerate() {
            let normed = rms_norm(&x, &layer.input_layernorm, c.rms_norm_eps);
            let attn = self.attention(l, layer, &normed, &where_, segs);
            add(&mut x, &attn);
            let normed = rms_norm(&x, &layer.post_attention_layernorm, c.rms_norm_eps);
            let moe = self.moe(&layer.mlp, &normed, n);
            add(&mut x, &moe);
        }
        // Gather the rows whose logits are wanted, then one lm_head matmul.
        let mut rows = Vec::new();
        let mut counts = Vec::with_capacity(segs.len());
        let mut first = 0;
        for seg in segs.iter_mut() {
            let len = seg.tokens.len();
            let pick = match seg.logits {
                Logits::None => 0..0,
                Logits::Last => len.saturating_sub(1)..len,
                Logits::All => 0..len,
            };
            counts.push(pick.len());
            for i in pick {
                rows.extend_from_slice(&x[(first + i) * h..(first + i + 1) * h]);
            }
            first += len;
            seg.cache.len += len;
            for kv in &mut seg.cache.layers {
                kv.trim();
            }
        }
        let normed = rms_norm(&rows, &self.norm, c.rms_norm_eps);
        let logits = self.lm_head.forward(&normed, rows.len() / h);
        let mut out = Vec::with_capacity(segs.len());
        let mut at = 0;
        for k in counts {
            out.push(logits[at * c.vocab_size..(at + k) * c.vocab_size].to_vec());
            at += k;
        }
        Ok(out)
    }

    /// Rotates each head's halves (NeoX pairing) by YaRN angles scaled by m.
    fn rope(&self, x: &mut [f32], heads: usize, pos: usize) {
        let d = self.config.head_dim;
        let half = d / 2;
        for i in 0..half {
            let angle = (pos as f32 * self.inv_freq[i]) as f64;
            let (cos, sin) = (
                angle.cos() as f32 * self.attention_scaling,
                angle.sin() as f32 * self.attention_scaling,
            );
            for hd in 0..heads {
                let b = hd * d;
                let (a, z) = (x[b + i], x[b + i + half]);
                x[b + i] = a * cos - z * sin;
                x[b + i + half] = z * cos + a * sin;
            }
        }
    }

    fn attention(
        &self,
        l: usize,
        layer: &DecoderLayer,
        h: &[f32],
        where_: &[(usize, usize)],
        segs: &mut [Segment<'_>],
    ) -> Vec<f32> {
        let c = &self.config;
        let n = where_.len();
        let a = &layer.self_attn;
        let (hq, hkv, d) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let mut q = a.q_proj.forward(h, n);
        let mut k = a.k_proj.forward(h, n);
        let v = a.v_proj.forward(h, n);
        for (t, &(_, pos)) in where_.iter().enumerate() {
            self.rope(&mut q[t * hq * d..(t + 1) * hq * d], hq, pos);
            self.rope(&mut k[t * hkv * d..(t + 1) * hkv * d], hkv, pos);
        }
        let mut first = 0;
        for seg in segs.iter_mut() {
            let len = seg.tokens.len();
            let r = first * hkv * d..(first + len) * hkv * d;
            seg.cache.layers[l].append(&k[r.clone()], &v[r]);
            first += len;
        }
        let caches: Vec<&crate::kv_cache::LayerKv> =
            segs.iter().map(|s| &s.cache.layers[l]).collect();
        let scale = 1.0 / (d as f32).sqrt();
        let group = hq / hkv;
        let mut out = vec![0f32; n * hq * d];
        let one = |t: usize, o: &mut [f32]| {
            let (s, pos) = where_[t];
            let kv = caches[s];
            let lo = kv.first_visible(pos).max(kv.range().0);
            let mut scores = vec![0f32; pos + 1 - lo];
            for hd in 0..hq {
                let qh = &q[(t * hq + hd) * d..(t * hq + hd + 1) * d];
                let g = hd / group;
                for (j, sc) in scores.iter_mut().enumerate() {
                    *sc = dot(qh, &kv.key(lo + j)[g * d..(g + 1) * d]) * scale;
                }
                let sink = a.sinks[hd];
                let max = scores.iter().copied().fold(sink, f32::max);
                let mut sum = (sink - max).exp();
                for sc in scores.iter_mut() {
                    *sc = (*sc - max).exp();
                    sum += *sc;
                }
                let oh = &mut o[hd * d..(hd + 1) * d];
                for (j, &p) in scores.iter().enumerate() {
                    let vj = &kv.value(lo + j)[g * d..(g + 1) * d];
                    for (acc, &vv) in oh.iter_mut().zip(vj) {
                        *acc += p * vv;
                    }
                }
                for acc in oh.iter_mut() {
                    *acc /= sum;
                }
            }
        };
        if n > 1 || hq * d * 64 > 1 << 15 {
            out.par_chunks_mut(hq * d)
                .enumerate()
                .for_each(|(t, o)| one(t, o));
        } else {
            out.chunks_mut(hq * d)
                .enumerate()
                .for_each(|(t, o)| one(t, o));
        }
        a.o_proj.forward(&out, n)
    }

    /// Top-k routing, then the clamped SwiGLU experts, summed per token in
    /// ascending expert order (independent of what else is in the batch).
    fn moe(&self, mlp: &Mlp, h: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let (hid, inter, e_count) = (c.hidden_size, c.intermediate_size, c.num_local_experts);
        let logits = mlp.router.forward(h, n);
        let mut assigned: Vec<Vec<(usize, f32)>> = vec![Vec::new(); e_count];
        for t in 0..n {
            let row = &logits[t * e_count..(t + 1) * e_count];
            let chosen = top_k(row, c.num_experts_per_tok);
            let mut w: Vec<f32> = chosen.iter().map(|&e| row[e]).collect();
            softmax(&mut w);
            for (&e, &w) in chosen.iter().zip(&w) {
                assigned[e].push((t, w));
            }
        }
        let ex = &mlp.experts;
        let (limit, alpha) = (c.swiglu_limit, c.swiglu_alpha);
        let results: Vec<(usize, Vec<f32>)> = assigned
            .par_iter()
            .enumerate()
            .filter(|(_, a)| !a.is_empty())
            .map(|(e, toks)| {
                let m = toks.len();
                let mut xs = Vec::with_capacity(m * hid);
                for &(t, _) in toks {
                    xs.extend_from_slice(&h[t * hid..(t + 1) * hid]);
                }
                let gu_bias = &ex.gate_up_proj_bias[e * 2 * inter..(e + 1) * 2 * inter];
                let gu = ex.gate_up_proj.forward(e, &xs, m, gu_bias);
                let mut act = vec![0f32; m * inter];
                for (row, a) in gu.chunks_exact(2 * inter).zip(act.chunks_exact_mut(inter)) {
                    for u in 0..inter {
                        let gate = row[2 * u].min(limit);
                        let up = row[2 * u + 1].clamp(-limit, limit);
                        let glu = gate / (1.0 + (-gate * alpha).exp());
                        a[u] = (up + 1.0) * glu;
                    }
                }
                let d_bias = &ex.down_proj_bias[e * hid..(e + 1) * hid];
                (e, ex.down_proj.forward(e, &act, m, d_bias))
            })
            .collect();
        let mut out = vec![0f32; n * hid];
        for (e, y) in results {
            for (i, &(t, w)) in assigned[e].iter().enumerate() {
                let o = &mut out[t * hid..(t + 1) * hid];
                for (acc, &v) in o.iter_mut().zip(&y[i * hid..(i + 1) * hid]) {
                    *acc += w * v;
                }
            }
        }
        out
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
