//! Generated GPT-OSS checkpoints: the built-in default model (the real
//! 201,088-id vocabulary, seeded weights, no file needed) and the random
//! MXFP4 models the benchmark uses. Both go through the same safetensors
//! loader as a real checkpoint, and can be written to disk so transformers
//! can load the very same weights.

use std::path::Path;

use serde_json::json;

use defs::{tokens, STOP_TOKEN_IDS, VOCAB_SIZE};

use crate::config::Config;
use crate::model::GptOss;
use crate::mxfp4::quantize_row;
use crate::safetensors::{serialize, to_bf16_bytes, Checkpoint, Dtype};
use crate::sampling::Rng;
use crate::EngineError;

/// Seed of the built-in model; changing it changes every `--model tiny` output.
pub const TINY_SEED: u64 = 20250805;

/// A model with seeded random weights: a [`Config`] and the seed its
/// weights are drawn from. The sizes live in the config only; everything not
/// set below is as in gpt-oss-120b.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedModel {
    /// The model's hyper-parameters, written out as its `config.json`.
    pub config: Config,
    /// Seed of the weights.
    pub seed: u64,
}

/// gpt-oss-120b's config with `layers` layers (alternating sliding and full
/// attention) and the real models' stop ids.
fn gpt_oss_120b(layers: usize) -> Config {
    let published = Config::from_json(crate::config::GPT_OSS_120B, "gpt-oss-120b config.json")
        .expect("the published config is valid");
    Config {
        vocab_size: VOCAB_SIZE as usize,
        num_hidden_layers: layers,
        sliding_layers: (0..layers).map(|i| i % 2 == 0).collect(),
        eos_token_ids: STOP_TOKEN_IDS.to_vec(),
        ..published
    }
}

impl GeneratedModel {
    /// The built-in default: real vocabulary, everything else tiny so a
    /// decode step costs a few milliseconds on two cores.
    pub fn tiny() -> GeneratedModel {
        let config = Config {
            hidden_size: 64,
            intermediate_size: 64,
            num_attention_heads: 4,
            num_key_value_heads: 2,
            head_dim: 16,
            num_local_experts: 8,
            ..gpt_oss_120b(2)
        };
        GeneratedModel {
            config,
            seed: TINY_SEED,
        }
    }

    /// The benchmark's mid-size model (hidden 512, 8 layers, 32 experts).
    pub fn mid(seed: u64) -> GeneratedModel {
        let config = Config {
            hidden_size: 512,
            intermediate_size: 512,
            num_attention_heads: 8,
            num_key_value_heads: 2,
            head_dim: 64,
            num_local_experts: 32,
            ..gpt_oss_120b(8)
        };
        GeneratedModel { config, seed }
    }

    /// `config.json` in the openai/gpt-oss-120b key style, which both this
    /// engine and transformers load.
    pub fn config_json(&self) -> serde_json::Value {
        let c = &self.config;
        let layer_types: Vec<&str> = c
            .sliding_layers
            .iter()
            .map(|&sliding| {
                if sliding {
                    "sliding_attention"
                } else {
                    "full_attention"
                }
            })
            .collect();
        let rope_scaling = c.rope.yarn.as_ref().map(|y| {
            json!({"beta_fast": y.beta_fast, "beta_slow": y.beta_slow, "factor": y.factor,
                "original_max_position_embeddings": whole(y.original_max_position_embeddings),
                "rope_type": "yarn", "truncate": y.truncate})
        });
        json!({
            "architectures": ["GptOssForCausalLM"],
            "model_type": "gpt_oss",
            "attention_bias": true,
            "attention_dropout": 0.0,
            "eos_token_id": c.eos_token_ids,
            "pad_token_id": tokens::END_OF_TEXT,
            "experts_per_token": c.num_experts_per_tok,
            "num_experts_per_tok": c.num_experts_per_tok,
            "head_dim": c.head_dim,
            "hidden_act": "silu",
            "hidden_size": c.hidden_size,
            "initial_context_length": 4096,
            "initializer_range": 0.02,
            "intermediate_size": c.intermediate_size,
            "layer_types": layer_types,
            "max_position_embeddings": c.max_position_embeddings,
            "num_attention_heads": c.num_attention_heads,
            "num_hidden_layers": c.num_hidden_layers,
            "num_key_value_heads": c.num_key_value_heads,
            "num_local_experts": c.num_local_experts,
            "output_router_logits": false,
            "quantization_config": {
                "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
                "quant_method": "mxfp4"
            },
            "rms_norm_eps": shortest(c.rms_norm_eps),
            "rope_scaling": rope_scaling,
            "rope_theta": whole(c.rope.theta),
            "router_aux_loss_coef": 0.9,
            "sliding_window": c.sliding_window,
            "swiglu_limit": shortest(c.swiglu_limit),
            "tie_word_embeddings": false,
            "use_cache": true,
            "vocab_size": c.vocab_size
        })
    }

    /// Seeded weights in checkpoint layout, as one safetensors blob.
    pub fn safetensors(&self) -> Vec<u8> {
        let c = &self.config;
        let seed = self.seed;
        let mut rng = Rng::new(seed);
        let mut t: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut bf16 = |t: &mut Vec<_>, name: String, shape: Vec<usize>, std: f32, mean: f32| {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n).map(|_| mean + std * rng.normal()).collect();
            t.push((name, Dtype::BF16, shape, to_bf16_bytes(&v)));
        };
        let (v, h, i, e) = (
            c.vocab_size,
            c.hidden_size,
            c.intermediate_size,
            c.num_local_experts,
        );
        let (q, kv) = (
            c.num_attention_heads * c.head_dim,
            c.num_key_value_heads * c.head_dim,
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
        for layer in 0..c.num_hidden_layers {
            let p = format!("model.layers.{layer}");
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
                vec![c.num_attention_heads],
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
    pub fn build(&self) -> Result<GptOss, EngineError> {
        let ck = Checkpoint::from_bytes("generated model", self.safetensors())?;
        GptOss::from_checkpoint(self.config.clone(), &ck)
    }

    /// Writes `config.json` and `model.safetensors` into `dir` (for
    /// transformers, or to serve with `--model PATH`).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_vec_pretty(&self.config_json())?,
        )?;
        std::fs::write(dir.join("model.safetensors"), self.safetensors())
    }
}

/// An f32 as the decimal a person would write (`1e-5`, not the f64
/// `9.999999747378752e-6` that widening gives), as published configs spell it.
fn shortest(x: f32) -> serde_json::Value {
    json!(x
        .to_string()
        .parse::<f64>()
        .expect("Display of a finite f32 parses"))
}

/// A whole number without a fraction (`150000`, not `150000.0`), as
/// published configs spell it.
fn whole(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The built-in default model.
pub fn tiny() -> Result<GptOss, EngineError> {
    GeneratedModel::tiny().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The written `config.json` reads back as the very config it was written
    /// from, so the engine and transformers see the same model.
    #[test]
    fn written_config_reads_back_as_the_same_config() {
        for model in [GeneratedModel::tiny(), GeneratedModel::mid(1)] {
            let text = model.config_json().to_string();
            assert_eq!(
                Config::from_json(&text, "written").unwrap(),
                model.config,
                "{text}"
            );
        }
    }
}
