//! GPT-OSS (`GptOssForCausalLM`) on the CPU in f32, loaded from a Hugging
//! Face checkpoint. It follows transformers' implementation,
//! [`modeling_gpt_oss.py`](https://github.com/huggingface/transformers/blob/main/src/transformers/models/gpt_oss/modeling_gpt_oss.py),
//! module for module: `Attention`, `Experts` behind the router in `Mlp`,
//! `DecoderLayer`, and [`GptOss`] on top. Each module builds its
//! own weight names from its prefix (`load(checkpoint, prefix, config)`) and
//! has its own `forward`, so the file reads side by side with that source and
//! with `model.safetensors.index.json`; the maths is that of
//! `shared/docs/gpt-oss-architecture.md` §3–§7.
//!
//! Unlike transformers, one call to [`GptOss::forward`] runs a whole engine
//! step: any number of sequences, each with a chunk of new tokens (prefill)
//! or one token (decode), against its own [`KvCache`]. Dense layers see all
//! tokens of the step at once, so weights are read once per step, not once
//! per sequence, and every token's arithmetic is the same whatever else is
//! in the step (batch invariance).

use std::path::Path;

use rayon::prelude::*;

use crate::config::Config;
use crate::kv_cache::{KvCache, LayerKv};
use crate::mxfp4::Mxfp4Experts;
use crate::ops::{dot, rms_norm, softmax, top_k, Linear, Weight, Weights};
use crate::safetensors::Checkpoint;
use crate::EngineError;

/// Where one token of the step belongs: its sequence and absolute position.
#[derive(Debug, Clone, Copy)]
struct TokenPos {
    /// Index of the token's `Segment` in the step.
    segment: usize,
    /// Position of the token in its sequence (cache length + offset in the chunk).
    position: usize,
}

/// `{prefix}.weight` (and `{prefix}.bias`) as an `out_dim × in_dim` linear layer.
fn linear(
    ck: &Checkpoint,
    prefix: &str,
    out_dim: usize,
    in_dim: usize,
    bias: bool,
) -> Result<Linear, EngineError> {
    let weight = ck.weights(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
    let bias = if bias {
        Some(ck.f32(&format!("{prefix}.bias"), &[out_dim])?)
    } else {
        None
    };
    Ok(Linear::new(weight, bias, out_dim, in_dim))
}

/// `{name}_blocks` and `{name}_scales`: `experts` packed MXFP4 matrices of `rows × cols`.
fn mxfp4(
    ck: &Checkpoint,
    name: &str,
    experts: usize,
    rows: usize,
    cols: usize,
) -> Result<Mxfp4Experts, EngineError> {
    let blocks = ck.u8(&format!("{name}_blocks"), &[experts, rows, cols / 32, 16])?;
    let scales = ck.u8(&format!("{name}_scales"), &[experts, rows, cols / 32])?;
    Ok(Mxfp4Experts::new(experts, rows, cols, blocks, scales))
}

/// The rotary embedding: YaRN inverse frequencies and attention factor,
/// computed once from the config and shared by every attention layer.
struct RotaryEmbedding {
    inv_freq: Vec<f32>,
    attention_scaling: f32,
    head_dim: usize,
}

impl RotaryEmbedding {
    fn new(cfg: &Config) -> RotaryEmbedding {
        let (inv_freq, attention_scaling) = cfg.rope_tables();
        RotaryEmbedding {
            inv_freq,
            attention_scaling,
            head_dim: cfg.head_dim,
        }
    }

    /// Rotates each head's halves (NeoX pairing) by YaRN angles scaled by m.
    fn apply(&self, x: &mut [f32], heads: usize, pos: usize) {
        let d = self.head_dim;
        let half = d / 2;
        for i in 0..half {
            let angle = (pos as f32 * self.inv_freq[i]) as f64;
            let (cos, sin) = (
                angle.cos() as f32 * self.attention_scaling,
                angle.sin() as f32 * self.attention_scaling,
            );
            for head in 0..heads {
                let base = head * d;
                let (lo, hi) = (x[base + i], x[base + i + half]);
                x[base + i] = lo * cos - hi * sin;
                x[base + i + half] = hi * cos + lo * sin;
            }
        }
    }
}

/// Grouped-query attention with learned sinks, over each sequence's cache
/// (full or sliding window, as the layer's cache says).
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    /// One learned logit per head that joins the softmax and is dropped.
    sinks: Vec<f32>,
    /// Index of this layer, which picks its part of every sequence's cache.
    layer: usize,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

impl Attention {
    /// Loads `{prefix}.{q,k,v,o}_proj` and `{prefix}.sinks`.
    fn load(
        ck: &Checkpoint,
        prefix: &str,
        layer: usize,
        cfg: &Config,
    ) -> Result<Attention, EngineError> {
        let (hidden, head_dim) = (cfg.hidden_size, cfg.head_dim);
        let (num_heads, num_kv_heads) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let (q_dim, kv_dim) = (num_heads * head_dim, num_kv_heads * head_dim);
        Ok(Attention {
            q_proj: linear(ck, &format!("{prefix}.q_proj"), q_dim, hidden, true)?,
            k_proj: linear(ck, &format!("{prefix}.k_proj"), kv_dim, hidden, true)?,
            v_proj: linear(ck, &format!("{prefix}.v_proj"), kv_dim, hidden, true)?,
            o_proj: linear(ck, &format!("{prefix}.o_proj"), hidden, q_dim, true)?,
            sinks: ck.f32(&format!("{prefix}.sinks"), &[num_heads])?,
            layer,
            num_heads,
            num_kv_heads,
            head_dim,
        })
    }

    /// Projects the step's tokens, appends their keys and values to each
    /// sequence's cache, and attends every query to its own sequence.
    fn forward(
        &self,
        hidden: &[f32],
        tokens: &[TokenPos],
        segs: &mut [Segment<'_>],
        rotary: &RotaryEmbedding,
    ) -> Vec<f32> {
        let n = tokens.len();
        let (hq, hkv, d) = (self.num_heads, self.num_kv_heads, self.head_dim);
        let mut q = self.q_proj.forward(hidden, n);
        let mut k = self.k_proj.forward(hidden, n);
        let v = self.v_proj.forward(hidden, n);
        for (t, token) in tokens.iter().enumerate() {
            rotary.apply(&mut q[t * hq * d..(t + 1) * hq * d], hq, token.position);
            rotary.apply(&mut k[t * hkv * d..(t + 1) * hkv * d], hkv, token.position);
        }
        let mut first = 0;
        for seg in segs.iter_mut() {
            let len = seg.tokens.len();
            let rows = first * hkv * d..(first + len) * hkv * d;
            seg.cache.layers[self.layer].append(&k[rows.clone()], &v[rows]);
            first += len;
        }
        let caches: Vec<&LayerKv> = segs.iter().map(|s| &s.cache.layers[self.layer]).collect();
        let scale = 1.0 / (d as f32).sqrt();
        let group = hq / hkv;
        let mut out = vec![0f32; n * hq * d];
        // Token t's attention output, all heads, into `o`.
        let attend = |t: usize, o: &mut [f32]| {
            let TokenPos { segment, position } = tokens[t];
            let kv = caches[segment];
            let lo = kv.first_visible(position).max(kv.range().0);
            let mut scores = vec![0f32; position + 1 - lo];
            for head in 0..hq {
                let qh = &q[(t * hq + head) * d..(t * hq + head + 1) * d];
                let kv_cols = (head / group) * d..(head / group + 1) * d;
                for (j, sc) in scores.iter_mut().enumerate() {
                    *sc = dot(qh, &kv.key(lo + j)[kv_cols.clone()]) * scale;
                }
                let sink = self.sinks[head];
                let max = scores.iter().copied().fold(sink, f32::max);
                let mut sum = (sink - max).exp();
                for sc in scores.iter_mut() {
                    *sc = (*sc - max).exp();
                    sum += *sc;
                }
                let oh = &mut o[head * d..(head + 1) * d];
                for (j, &p) in scores.iter().enumerate() {
                    let vj = &kv.value(lo + j)[kv_cols.clone()];
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
                .for_each(|(t, o)| attend(t, o));
        } else {
            out.chunks_mut(hq * d)
                .enumerate()
                .for_each(|(t, o)| attend(t, o));
        }
        self.o_proj.forward(&out, n)
    }
}

/// The experts of one MoE layer: packed MXFP4 matrices and their biases.
struct Experts {
    /// `[E, 2I, H]`, rows interleaved: 2u = gate unit u, 2u+1 = up unit u.
    gate_up_proj: Mxfp4Experts,
    gate_up_proj_bias: Vec<f32>,
    /// `[E, H, I]`.
    down_proj: Mxfp4Experts,
    down_proj_bias: Vec<f32>,
    hidden_size: usize,
    intermediate_size: usize,
    swiglu_limit: f32,
    swiglu_alpha: f32,
}

impl Experts {
    /// Loads `{prefix}.gate_up_proj_*` and `{prefix}.down_proj_*`.
    fn load(ck: &Checkpoint, prefix: &str, cfg: &Config) -> Result<Experts, EngineError> {
        let (experts, hidden, inter) = (
            cfg.num_local_experts,
            cfg.hidden_size,
            cfg.intermediate_size,
        );
        Ok(Experts {
            gate_up_proj: mxfp4(
                ck,
                &format!("{prefix}.gate_up_proj"),
                experts,
                2 * inter,
                hidden,
            )?,
            gate_up_proj_bias: ck.f32(
                &format!("{prefix}.gate_up_proj_bias"),
                &[experts, 2 * inter],
            )?,
            down_proj: mxfp4(ck, &format!("{prefix}.down_proj"), experts, hidden, inter)?,
            down_proj_bias: ck.f32(&format!("{prefix}.down_proj_bias"), &[experts, hidden])?,
            hidden_size: hidden,
            intermediate_size: inter,
            swiglu_limit: cfg.swiglu_limit,
            swiglu_alpha: cfg.swiglu_alpha,
        })
    }

    /// Expert `e` on `m` token rows `xs`: gate/up, clamped SwiGLU, down.
    fn forward(&self, e: usize, xs: &[f32], m: usize) -> Vec<f32> {
        let (hidden, inter) = (self.hidden_size, self.intermediate_size);
        let (limit, alpha) = (self.swiglu_limit, self.swiglu_alpha);
        let gu_bias = &self.gate_up_proj_bias[e * 2 * inter..(e + 1) * 2 * inter];
        let gate_up = self.gate_up_proj.forward(e, xs, m, gu_bias);
        let mut act = vec![0f32; m * inter];
        for (row, a) in gate_up
            .chunks_exact(2 * inter)
            .zip(act.chunks_exact_mut(inter))
        {
            for u in 0..inter {
                let gate = row[2 * u].min(limit);
                let up = row[2 * u + 1].clamp(-limit, limit);
                let glu = gate / (1.0 + (-gate * alpha).exp());
                a[u] = (up + 1.0) * glu;
            }
        }
        let down_bias = &self.down_proj_bias[e * hidden..(e + 1) * hidden];
        self.down_proj.forward(e, &act, m, down_bias)
    }
}

/// The MoE block: a router picks `top_k` experts per token, whose outputs
/// are mixed by the softmax of their router logits.
struct Mlp {
    router: Linear,
    experts: Experts,
    num_experts: usize,
    top_k: usize,
}

impl Mlp {
    /// Loads `{prefix}.router` and `{prefix}.experts`.
    fn load(ck: &Checkpoint, prefix: &str, cfg: &Config) -> Result<Mlp, EngineError> {
        let (experts, hidden) = (cfg.num_local_experts, cfg.hidden_size);
        Ok(Mlp {
            router: linear(ck, &format!("{prefix}.router"), experts, hidden, true)?,
            experts: Experts::load(ck, &format!("{prefix}.experts"), cfg)?,
            num_experts: experts,
            top_k: cfg.num_experts_per_tok,
        })
    }

    /// Top-k routing, then the experts, summed per token in ascending expert
    /// order (independent of what else is in the batch).
    fn forward(&self, hidden: &[f32], n: usize) -> Vec<f32> {
        let width = self.experts.hidden_size;
        let logits = self.router.forward(hidden, n);
        // Per expert, the tokens routed to it with their mixing weights.
        let mut assigned: Vec<Vec<(usize, f32)>> = vec![Vec::new(); self.num_experts];
        for t in 0..n {
            let row = &logits[t * self.num_experts..(t + 1) * self.num_experts];
            let chosen = top_k(row, self.top_k);
            let mut weights: Vec<f32> = chosen.iter().map(|&e| row[e]).collect();
            softmax(&mut weights);
            for (&e, &w) in chosen.iter().zip(&weights) {
                assigned[e].push((t, w));
            }
        }
        let results: Vec<(usize, Vec<f32>)> = assigned
            .par_iter()
            .enumerate()
            .filter(|(_, toks)| !toks.is_empty())
            .map(|(e, toks)| {
                let mut xs = Vec::with_capacity(toks.len() * width);
                for &(t, _) in toks {
                    xs.extend_from_slice(&hidden[t * width..(t + 1) * width]);
                }
                (e, self.experts.forward(e, &xs, toks.len()))
            })
            .collect();
        let mut out = vec![0f32; n * width];
        for (e, y) in results {
            for (i, &(t, w)) in assigned[e].iter().enumerate() {
                let o = &mut out[t * width..(t + 1) * width];
                for (acc, &v) in o.iter_mut().zip(&y[i * width..(i + 1) * width]) {
                    *acc += w * v;
                }
            }
        }
        out
    }
}

/// One decoder layer: pre-norm attention and pre-norm MoE, each added to the
/// residual stream.
struct DecoderLayer {
    input_layernorm: Vec<f32>,
    self_attn: Attention,
    post_attention_layernorm: Vec<f32>,
    mlp: Mlp,
    rms_norm_eps: f32,
}

impl DecoderLayer {
    /// Loads `model.layers.{layer}.*`.
    fn load(ck: &Checkpoint, layer: usize, cfg: &Config) -> Result<DecoderLayer, EngineError> {
        let prefix = format!("model.layers.{layer}");
        let hidden = cfg.hidden_size;
        Ok(DecoderLayer {
            input_layernorm: ck.f32(&format!("{prefix}.input_layernorm.weight"), &[hidden])?,
            self_attn: Attention::load(ck, &format!("{prefix}.self_attn"), layer, cfg)?,
            post_attention_layernorm: ck.f32(
                &format!("{prefix}.post_attention_layernorm.weight"),
                &[hidden],
            )?,
            mlp: Mlp::load(ck, &format!("{prefix}.mlp"), cfg)?,
            rms_norm_eps: cfg.rms_norm_eps,
        })
    }

    /// Updates the residual stream `x` of the step's tokens in place.
    fn forward(
        &self,
        x: &mut [f32],
        tokens: &[TokenPos],
        segs: &mut [Segment<'_>],
        rotary: &RotaryEmbedding,
    ) {
        let normed = rms_norm(x, &self.input_layernorm, self.rms_norm_eps);
        let attn = self.self_attn.forward(&normed, tokens, segs, rotary);
        add(x, &attn);
        let normed = rms_norm(x, &self.post_attention_layernorm, self.rms_norm_eps);
        let moe = self.mlp.forward(&normed, tokens.len());
        add(x, &moe);
    }
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
    /// The new tokens: a prompt chunk, or the last sampled token.
    pub tokens: &'a [u32],
    /// The sequence's cache; the step appends the new tokens to it.
    pub cache: &'a mut KvCache,
    /// Which logits to return for this sequence.
    pub logits: Logits,
}

/// The model: weights plus the RoPE tables derived from the config.
pub struct GptOss {
    /// The hyper-parameters the weights were loaded with.
    pub config: Config,
    embed_tokens: Weights,
    layers: Vec<DecoderLayer>,
    norm: Vec<f32>,
    lm_head: Linear,
    rotary: RotaryEmbedding,
}

impl GptOss {
    /// Loads `dir/config.json` and the safetensors beside it.
    pub fn load(dir: &Path) -> Result<GptOss, EngineError> {
        let cfg_path = dir.join("config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|source| EngineError::Io {
            path: cfg_path.clone(),
            source,
            fix: "--model PATH must be a Hugging Face GPT-OSS checkpoint folder",
        })?;
        let config = Config::from_json(&text, &cfg_path.display().to_string())?;
        let ck = Checkpoint::open(dir)?;
        GptOss::from_checkpoint(config, &ck)
    }

    /// Builds the model from an opened checkpoint whose shapes match `config`.
    pub fn from_checkpoint(config: Config, ck: &Checkpoint) -> Result<GptOss, EngineError> {
        let (hidden, vocab) = (config.hidden_size, config.vocab_size);
        let layers = (0..config.num_hidden_layers)
            .map(|layer| DecoderLayer::load(ck, layer, &config))
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok(GptOss {
            embed_tokens: ck.weights("model.embed_tokens.weight", &[vocab, hidden])?,
            norm: ck.f32("model.norm.weight", &[hidden])?,
            lm_head: linear(ck, "lm_head", vocab, hidden, false)?,
            layers,
            rotary: RotaryEmbedding::new(&config),
            config,
        })
    }

    /// A fresh cache for one sequence.
    pub fn new_cache(&self) -> KvCache {
        let cfg = &self.config;
        KvCache::new(
            &cfg.sliding_layers,
            cfg.sliding_window,
            cfg.num_key_value_heads * cfg.head_dim,
        )
    }

    /// Runs one step; returns, per segment, its requested logits
    /// (`rows × vocab`, empty for [`Logits::None`]).
    pub fn forward(&self, segs: &mut [Segment<'_>]) -> Result<Vec<Vec<f32>>, EngineError> {
        let (mut x, tokens) = self.embed(segs)?;
        for layer in &self.layers {
            layer.forward(&mut x, &tokens, segs, &self.rotary);
        }
        Ok(self.logits(&x, segs))
    }

    /// The embeddings of every token of the step, in segment order, and where
    /// each token belongs.
    fn embed(&self, segs: &[Segment<'_>]) -> Result<(Vec<f32>, Vec<TokenPos>), EngineError> {
        let (hidden, vocab) = (self.config.hidden_size, self.config.vocab_size);
        let mut tokens = Vec::new();
        let mut x = Vec::new();
        for (segment, seg) in segs.iter().enumerate() {
            for (i, &id) in seg.tokens.iter().enumerate() {
                let id = id as usize;
                let position = seg.cache.len + i;
                if id >= vocab {
                    return Err(EngineError::TokenOutOfRange {
                        id,
                        segment,
                        position,
                        vocab_size: vocab,
                    });
                }
                let row = id * hidden..(id + 1) * hidden;
                match &self.embed_tokens {
                    Weights::Bf16(w) => x.extend(w[row].iter().map(|b| b.f32())),
                    Weights::F32(w) => x.extend_from_slice(&w[row]),
                }
                tokens.push(TokenPos { segment, position });
            }
        }
        Ok((x, tokens))
    }

    /// Advances each cache past its tokens, gathers the rows whose logits
    /// are wanted, and runs the final norm and `lm_head` on them at once.
    fn logits(&self, x: &[f32], segs: &mut [Segment<'_>]) -> Vec<Vec<f32>> {
        let (hidden, vocab) = (self.config.hidden_size, self.config.vocab_size);
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
                rows.extend_from_slice(&x[(first + i) * hidden..(first + i + 1) * hidden]);
            }
            first += len;
            seg.cache.len += len;
            for kv in &mut seg.cache.layers {
                kv.trim();
            }
        }
        let normed = rms_norm(&rows, &self.norm, self.config.rms_norm_eps);
        let logits = self.lm_head.forward(&normed, rows.len() / hidden);
        let mut out = Vec::with_capacity(segs.len());
        let mut at = 0;
        for k in counts {
            out.push(logits[at * vocab..(at + k) * vocab].to_vec());
            at += k;
        }
        out
    }
}

/// `x += y`, element by element: the residual connection.
fn add(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}
