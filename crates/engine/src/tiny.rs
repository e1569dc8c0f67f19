//! Generated GPT-OSS checkpoints: the built-in default model (the real
//! 201,088-id vocabulary, seeded weights, no file needed) and the random
//! MXFP4 models the benchmark uses. Both go through the same safetensors
//! loader as a real checkpoint, and can be written to disk so transformers
//! can load the very same weights.

use std::path::Path;

use serde_json::json;

use crate::config::Config;
use crate::model::GptOss;
use crate::mxfp4::quantize_row;
use crate::safetensors::{serialize, to_bf16_bytes, Checkpoint, Dtype};
use crate::sampling::Rng;
use crate::EngineError;

/// Seed of the built-in model; changing it changes every `--model tiny` output.
pub const TINY_SEED: u64 = 20250805;

/// Sizes of a generated model; everything else is as in gpt-oss-120b.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub num_local_experts: usize,
    pub sliding_window: usize,
}

impl Shape {
    /// The built-in default: real vocabulary, everything else tiny so a
    /// decode step costs a few milliseconds on two cores.
    pub const TINY: Shape = Shape {
        vocab_size: 201088,
        hidden_size: 64,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        head_dim: 16,
        num_local_experts: 8,
        sliding_window: 128,
    };

    /// The benchmark's mid-size model (hidden 512, 8 layers, 32 experts).
    pub const MID: Shape = Shape {
        vocab_size: 201088,
        hidden_size: 512,
        intermediate_size: 512,
        num_hidden_layers: 8,
        num_attention_heads: 8,
        num_key_value_heads: 2,
        head_dim: 64,
        num_local_experts: 32,
        sliding_window: 128,
    };

    /// `config.json` in the openai/gpt-oss-120b key style.
    pub fn config_json(&self) -> serde_json::Value {
        let layer_types: Vec<&str> = (0..self.num_hidden_layers)
            .map(|i| {
                if i % 2 == 0 {
                    "sliding_attention"
                } else {
                    "full_attention"
                }
            })
            .collect();
        json!({
            "architectures": ["GptOssForCausalLM"],
            "model_type": "gpt_oss",
            "attention_bias": true,
            "attention_dropout": 0.0,
            "eos_token_id": [200002, 199999, 200012],
            "pad_token_id": 199999,
            "experts_per_token": 4,
            "num_experts_per_tok": 4,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "hidden_size": self.hidden_size,
            "initial_context_length": 4096,
            "initializer_range": 0.02,
            "intermediate_size": self.intermediate_size,
            "layer_types": layer_types,
            "max_position_embeddings": 131072,
            "num_attention_heads": self.num_attention_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "num_key_value_heads": self.num_key_value_heads,
            "num_local_experts": self.num_local_experts,
            "output_router_logits": false,
            "quantization_config": {
                "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
                "quant_method": "mxfp4"
            },
            "rms_norm_eps": 1e-5,
            "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
                "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
            "rope_theta": 150000,
            "router_aux_loss_coef": 0.9,
            "sliding_window": self.sliding_window,
            "swiglu_limit": 7.0,
            "tie_word_embeddings": false,
            "use_cache": true,
            "vocab_size": self.vocab_size
        })
    }

    /// The config as the engine reads it. The stop ids are those of the
    /// real models' `generation_config.json`.
    pub fn config(&self) -> Config {
        Config::from_json(&self.config_json().to_string(), "generated config")
            .expect("generated configs are valid")
    }

    /// Seeded weights in checkpoint layout, as one safetensors blob.
    pub fn safetensors(&self, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        let mut t: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut bf16 = |t: &mut Vec<_>, name: String, shape: Vec<usize>, std: f32, mean: f32| {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n).map(|_| mean + std * rng.normal()).collect();
            t.push((name, Dtype::BF16, shape, to_bf16_bytes(&v)));
        };
        let (v, h, i, e) = (
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_local_experts,
        );
        let (q, kv) = (
            self.num_attention_heads * self.head_dim,
            self.num_key_value_heads * self.head_dim,
        );
        let inv = |n: usize| 1.0 / (n as f32).sqrt();
        bf16(
            &mut t,
            "model.embed_tokens.weight".into(),
            vec![v, h],
            1.0,
            0.0,
        );
        bf16(&mut t, "model.norm.weight".into(), vec![h], 0.1, 1.0);
        bf16(
            &mut t,
            "lm_head.weight".into(),
            vec![v, h],
            2.0 * inv(h),
            0.0,
        );
        let mut expert_rng = Rng::new(seed ^ 0x5EED);
        for l in 0..self.num_hidden_layers {
            let p = format!("model.layers.{l}");
            for (name, o, n) in [
                ("q_proj", q, h),
                ("k_proj", kv, h),
                ("v_proj", kv, h),
                ("o_proj", h, q),
            ] {
                bf16(
                    &mut t,
                    format!("{p}.self_attn.{name}.weight"),
                    vec![o, n],
                    inv(n),
                    0.0,
                );
                bf16(
                    &mut t,
                    format!("{p}.self_attn.{name}.bias"),
                    vec![o],
                    0.02,
                    0.0,
                );
            }
            bf16(
                &mut t,
                format!("{p}.self_attn.sinks"),
                vec![self.num_attention_heads],
                1.0,
                0.0,
            );
            bf16(
                &mut t,
                format!("{p}.input_layernorm.weight"),
                vec![h],
                0.1,
                1.0,
            );
            bf16(
                &mut t,
                format!("{p}.post_attention_layernorm.weight"),
                vec![h],
                0.1,
                1.0,
            );
            bf16(
                &mut t,
                format!("{p}.mlp.router.weight"),
                vec![e, h],
                inv(h),
                0.0,
            );
            bf16(&mut t, format!("{p}.mlp.router.bias"), vec![e], 0.1, 0.0);
            let m = format!("{p}.mlp.experts");
            for (name, rows, cols) in [("gate_up_proj", 2 * i, h), ("down_proj", h, i)] {
                let (mut blocks, mut scales) = (Vec::new(), Vec::new());
                let std = 2.0 * inv(cols);
                let mut row = vec![0f32; cols];
                for _ in 0..e * rows {
                    row.iter_mut().for_each(|x| *x = std * expert_rng.normal());
                    quantize_row(&row, &mut blocks, &mut scales);
                }
                t.push((
                    format!("{m}.{name}_blocks"),
                    Dtype::U8,
                    vec![e, rows, cols / 32, 16],
                    blocks,
                ));
                t.push((
                    format!("{m}.{name}_scales"),
                    Dtype::U8,
                    vec![e, rows, cols / 32],
                    scales,
                ));
                bf16(&mut t, format!("{m}.{name}_bias"), vec![e, rows], 0.02, 0.0);
            }
        }
        serialize(&t)
    }

    /// Builds the model in memory.
    pub fn build(&self, seed: u64) -> Result<GptOss, EngineError> {
        let ck = Checkpoint::from_bytes("generated model", self.safetensors(seed))?;
        GptOss::from_checkpoint(self.config(), &ck)
    }

    /// Writes `config.json` and `model.safetensors` into `dir` (for
    /// transformers, or to serve with `--model PATH`).
    pub fn write(&self, seed: u64, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_vec_pretty(&self.config_json())?,
        )?;
        std::fs::write(dir.join("model.safetensors"), self.safetensors(seed))
    }
}

/// The built-in default model.
pub fn tiny() -> Result<GptOss, EngineError> {
    Shape::TINY.build(TINY_SEED)
}
