//! `config.json` of a GPT-OSS checkpoint, accepting both the transformers-4
//! spelling (`rope_theta` + `rope_scaling`) and transformers-5's
//! `rope_parameters`, so any published revision loads.

use serde::Deserialize;

use crate::EngineError;

/// The model hyper-parameters the forward pass needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Rows of the embedding and of `lm_head`: valid ids are `0..vocab_size`.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of one expert's SwiGLU.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads, each shared by `num_attention_heads / num_key_value_heads` query heads.
    pub num_key_value_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Experts per MoE layer.
    pub num_local_experts: usize,
    /// Experts each token is routed to.
    pub num_experts_per_tok: usize,
    /// Positions a sliding-window layer attends to, the query's own included.
    pub sliding_window: usize,
    /// One flag per layer: true = sliding-window attention.
    pub sliding_layers: Vec<bool>,
    /// Epsilon of every RMSNorm.
    pub rms_norm_eps: f32,
    /// Clamp of the SwiGLU's gate and up projections.
    pub swiglu_limit: f32,
    /// Slope of the SwiGLU's sigmoid.
    pub swiglu_alpha: f32,
    /// Rotary embedding frequencies.
    pub rope: RopeConfig,
    /// Longest sequence the model supports.
    pub max_position_embeddings: usize,
    /// Default stop set when a request names none.
    pub eos_token_ids: Vec<u32>,
}

/// RoPE frequencies; `yarn` is `None` for plain RoPE.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeConfig {
    /// Base of the frequencies.
    pub theta: f64,
    /// YaRN context extension, as GPT-OSS uses it.
    pub yarn: Option<Yarn>,
}

/// YaRN's parameters, named as in `rope_scaling`.
#[derive(Debug, Clone, PartialEq)]
pub struct Yarn {
    /// Context extension factor.
    pub factor: f64,
    /// Rotations per context above which a dimension keeps its frequency.
    pub beta_fast: f64,
    /// Rotations per context below which a dimension is fully interpolated.
    pub beta_slow: f64,
    /// The context the model was pre-trained with.
    pub original_max_position_embeddings: f64,
    /// Whether the ramp's ends are rounded to whole dimensions.
    pub truncate: bool,
}

#[derive(Deserialize)]
struct RawConfig {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: usize,
    head_dim: Option<usize>,
    num_local_experts: usize,
    num_experts_per_tok: Option<usize>,
    experts_per_token: Option<usize>,
    sliding_window: Option<usize>,
    layer_types: Option<Vec<String>>,
    rms_norm_eps: Option<f32>,
    swiglu_limit: Option<f32>,
    swiglu_alpha: Option<f32>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RawRope>,
    rope_parameters: Option<RawRope>,
    max_position_embeddings: Option<usize>,
    eos_token_id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawRope {
    rope_type: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    rope_theta: Option<f64>,
    factor: Option<f64>,
    beta_fast: Option<f64>,
    beta_slow: Option<f64>,
    original_max_position_embeddings: Option<f64>,
    truncate: Option<bool>,
}

impl Config {
    /// Parses a `config.json` text; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Config, EngineError> {
        let bad = |detail: String| EngineError::Config {
            origin: origin.to_string(),
            detail,
        };
        let raw: RawConfig = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a GPT-OSS config.json: {e}")))?;
        let head_dim = raw
            .head_dim
            .unwrap_or(raw.hidden_size / raw.num_attention_heads.max(1));
        let sliding_layers = match &raw.layer_types {
            Some(types) => {
                if types.len() != raw.num_hidden_layers {
                    return Err(bad(format!(
                        "layer_types has {} entries but num_hidden_layers is {}",
                        types.len(),
                        raw.num_hidden_layers
                    )));
                }
                types.iter().map(|t| t == "sliding_attention").collect()
            }
            None => (0..raw.num_hidden_layers).map(|i| i % 2 == 0).collect(),
        };
        let rope_raw = raw.rope_parameters.or(raw.rope_scaling);
        let theta = rope_raw
            .as_ref()
            .and_then(|r| r.rope_theta)
            .or(raw.rope_theta)
            .unwrap_or(150000.0);
        let yarn = match rope_raw {
            Some(r) if r.rope_type.as_deref().or(r.type_.as_deref()) == Some("yarn") => {
                Some(Yarn {
                    factor: r.factor.unwrap_or(1.0),
                    beta_fast: r.beta_fast.unwrap_or(32.0),
                    beta_slow: r.beta_slow.unwrap_or(1.0),
                    original_max_position_embeddings: r
                        .original_max_position_embeddings
                        .unwrap_or(4096.0),
                    truncate: r.truncate.unwrap_or(true),
                })
            }
            _ => None,
        };
        let eos_token_ids = match raw.eos_token_id {
            Some(serde_json::Value::Number(n)) => n.as_u64().map(|v| vec![v as u32]),
            Some(serde_json::Value::Array(a)) => Some(
                a.iter()
                    .filter_map(|v| v.as_u64())
                    .map(|v| v as u32)
                    .collect(),
            ),
            _ => None,
        }
        .unwrap_or_default();
        let cfg = Config {
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_hidden_layers: raw.num_hidden_layers,
            num_attention_heads: raw.num_attention_heads,
            num_key_value_heads: raw.num_key_value_heads,
            head_dim,
            num_local_experts: raw.num_local_experts,
            num_experts_per_tok: raw
                .num_experts_per_tok
                .or(raw.experts_per_token)
                .unwrap_or(4),
            sliding_window: raw.sliding_window.unwrap_or(128),
            sliding_layers,
            rms_norm_eps: raw.rms_norm_eps.unwrap_or(1e-5),
            swiglu_limit: raw.swiglu_limit.unwrap_or(7.0),
            swiglu_alpha: raw.swiglu_alpha.unwrap_or(1.702),
            rope: RopeConfig { theta, yarn },
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(131072),
            eos_token_ids,
        };
        cfg.check().map_err(bad)?;
        Ok(cfg)
    }

    /// Rejects shapes the forward pass cannot run, before any weight is read.
    fn check(&self) -> Result<(), String> {
        if self.num_attention_heads == 0
            || self.num_key_value_heads == 0
            || self.num_attention_heads % self.num_key_value_heads != 0
        {
            return Err(format!(
                "num_attention_heads ({}) must be a positive multiple of num_key_value_heads ({})",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        if self.head_dim % 2 != 0 || self.head_dim == 0 {
            return Err(format!("head_dim must be even, got {}", self.head_dim));
        }
        if self.hidden_size % 32 != 0 || self.intermediate_size % 32 != 0 {
            return Err(format!(
                "hidden_size ({}) and intermediate_size ({}) must be multiples of 32 (MXFP4 block)",
                self.hidden_size, self.intermediate_size
            ));
        }
        if self.num_experts_per_tok == 0 || self.num_experts_per_tok > self.num_local_experts {
            return Err(format!(
                "num_experts_per_tok ({}) must be in 1..={} (num_local_experts)",
                self.num_experts_per_tok, self.num_local_experts
            ));
        }
        if self.sliding_window == 0 {
            return Err("sliding_window must be positive".into());
        }
        Ok(())
    }

    /// YaRN inverse frequencies and attention factor, as transformers computes them.
    pub fn rope_tables(&self) -> (Vec<f32>, f32) {
        let d = self.head_dim as f64;
        let theta = self.rope.theta;
        let half = self.head_dim / 2;
        let extra: Vec<f64> = (0..half)
            .map(|i| 1.0 / theta.powf(2.0 * i as f64 / d))
            .collect();
        let Some(y) = &self.rope.yarn else {
            return (extra.iter().map(|&f| f as f32).collect(), 1.0);
        };
        let dim_for = |rot: f64| {
            d * (y.original_max_position_embeddings / (rot * 2.0 * std::f64::consts::PI)).ln()
                / (2.0 * theta.ln())
        };
        let (mut low, mut high) = (dim_for(y.beta_fast), dim_for(y.beta_slow));
        if y.truncate {
            low = low.floor();
            high = high.ceil();
        }
        low = low.max(0.0);
        high = high.min(d - 1.0);
        if low == high {
            high += 0.001;
        }
        let inv: Vec<f32> = (0..half)
            .map(|i| {
                let ramp = ((i as f64 - low) / (high - low)).clamp(0.0, 1.0);
                let inter = extra[i] / y.factor;
                (inter * ramp + extra[i] * (1.0 - ramp)) as f32
            })
            .collect();
        let m = if y.factor <= 1.0 {
            1.0
        } else {
            0.1 * y.factor.ln() + 1.0
        };
        (inv, m as f32)
    }
}

/// gpt-oss-120b's config.json as published (transformers-4 spelling): the
/// base of the generated models and of the tests.
pub(crate) const GPT_OSS_120B: &str = r#"{
    "architectures": ["GptOssForCausalLM"], "attention_bias": true, "eos_token_id": 200002,
    "experts_per_token": 4, "head_dim": 64, "hidden_size": 2880, "intermediate_size": 2880,
    "max_position_embeddings": 131072, "num_attention_heads": 64, "num_experts_per_tok": 4,
    "num_hidden_layers": 36, "num_key_value_heads": 8, "num_local_experts": 128,
    "rms_norm_eps": 1e-05, "rope_theta": 150000, "sliding_window": 128, "swiglu_limit": 7.0,
    "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
        "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": false},
    "vocab_size": 201088}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_120b_config_gives_the_documented_tables() {
        let c = Config::from_json(GPT_OSS_120B, "120b").unwrap();
        assert_eq!(c.sliding_layers.len(), 36);
        assert!(c.sliding_layers[0] && !c.sliding_layers[1]);
        assert_eq!(c.swiglu_alpha, 1.702);
        let (inv, m) = c.rope_tables();
        assert_eq!(inv[0], 1.0);
        assert!((inv[31] - 3.0235e-7).abs() < 1e-10, "{}", inv[31]);
        assert!((m - 1.3465736).abs() < 1e-6);
        // i ≤ 8 keep θ^(−2i/d); i ≥ 18 are divided by the factor (architecture note §5.1).
        let base = |i: i32| 150000f64.powf(-2.0 * i as f64 / 64.0) as f32;
        assert_eq!(inv[8], base(8));
        assert!((inv[18] - base(18) / 32.0).abs() < 1e-12);
    }

    #[test]
    fn transformers5_rope_parameters_spelling_is_the_same_config() {
        let v5 = GPT_OSS_120B
            .replace(r#""rope_theta": 150000,"#, "")
            .replace(
                r#""rope_scaling": {"#,
                r#""rope_parameters": {"rope_theta": 150000, "#,
            );
        let a = Config::from_json(GPT_OSS_120B, "a").unwrap();
        let b = Config::from_json(&v5, "b").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_configs_are_refused_with_the_reason() {
        let bad =
            GPT_OSS_120B.replace(r#""num_key_value_heads": 8"#, r#""num_key_value_heads": 7"#);
        let err = Config::from_json(&bad, "x/config.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x/config.json") && err.contains("num_key_value_heads"),
            "{err}"
        );
    }
}
