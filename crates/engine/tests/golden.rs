//! The forward pass against `shared/fixtures/tiny-gpt-oss/golden.json`,
//! which transformers (f32, eager) produced. Tolerances are the fixture
//! README's: logits within 1e-3, greedy continuations token for token.

mod support;

use engine::{GptOss, Logits, Segment};
use serde_json::Value;
use support::{fixture, golden, ids};

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn argmax(v: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best as u32
}

#[test]
fn rope_tables_match_transformers() {
    let g = golden();
    let model = GptOss::load(&fixture()).unwrap();
    let (inv, m) = model.config.rope_tables();
    let want = floats(&g["rope"]["inv_freq"]);
    for (a, b) in inv.iter().zip(&want) {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1e-30) + 1e-12,
            "{inv:?} vs {want:?}"
        );
    }
    assert!((m - g["rope"]["attention_scaling"].as_f64().unwrap() as f32).abs() < 1e-6);
}

#[test]
fn logits_of_every_position_match_golden() {
    let g = golden();
    let model = GptOss::load(&fixture()).unwrap();
    let seq_a = ids(&g["inputs"]["seq_a"]);
    let mut cache = model.new_cache();
    let out = model
        .forward(&mut [Segment {
            tokens: &seq_a,
            cache: &mut cache,
            logits: Logits::All,
        }])
        .unwrap();
    let want: Vec<f32> = g["seq_a"]["logits_all_positions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let diff = max_abs_diff(&out[0], &want);
    assert!(diff < 1e-3, "seq A logits differ by {diff}");

    let seq_b = ids(&g["inputs"]["seq_b"]);
    let mut cache = model.new_cache();
    let out = model
        .forward(&mut [Segment {
            tokens: &seq_b,
            cache: &mut cache,
            logits: Logits::Last,
        }])
        .unwrap();
    let diff = max_abs_diff(&out[0], &floats(&g["seq_b"]["logits_last_position"]));
    assert!(diff < 1e-3, "seq B last logits differ by {diff}");
}

/// Greedy decoding through the KV cache (one token per step after the
/// prompt) must give transformers' 16 tokens exactly.
#[test]
fn cached_greedy_continuations_match_golden() {
    let g = golden();
    let model = GptOss::load(&fixture()).unwrap();
    for name in ["seq_a", "seq_b"] {
        let prompt = ids(&g["inputs"][name]);
        let want = ids(&g[name]["greedy_continuation"]);
        let mut cache = model.new_cache();
        let mut logits = model
            .forward(&mut [Segment {
                tokens: &prompt,
                cache: &mut cache,
                logits: Logits::Last,
            }])
            .unwrap()
            .remove(0);
        let mut got = Vec::new();
        for _ in 0..want.len() {
            let t = argmax(&logits);
            got.push(t);
            logits = model
                .forward(&mut [Segment {
                    tokens: &[t],
                    cache: &mut cache,
                    logits: Logits::Last,
                }])
                .unwrap()
                .remove(0);
        }
        assert_eq!(got, want, "{name} greedy continuation");
    }
}

/// Prefill in chunks of 3 through the cache gives the same logits as one pass.
#[test]
fn chunked_prefill_matches_golden() {
    let g = golden();
    let model = GptOss::load(&fixture()).unwrap();
    let seq_a = ids(&g["inputs"]["seq_a"]);
    let want: Vec<Vec<f32>> = g["seq_a"]["logits_all_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let mut cache = model.new_cache();
    let mut pos = 0;
    for chunk in seq_a.chunks(3) {
        let out = model
            .forward(&mut [Segment {
                tokens: chunk,
                cache: &mut cache,
                logits: Logits::All,
            }])
            .unwrap();
        let v = model.config.vocab_size;
        for (i, row) in out[0].chunks(v).enumerate() {
            let diff = max_abs_diff(row, &want[pos + i]);
            assert!(diff < 1e-3, "position {} differs by {diff}", pos + i);
        }
        pos += chunk.len();
    }
}

#[test]
fn mxfp4_checksums_match_golden() {
    let g = golden();
    let ck = engine::__private::Checkpoint::open(&fixture()).unwrap();
    let sums = g["mxfp4"]["dequantized_checksums"].as_object().unwrap();
    assert_eq!(sums.len(), 6);
    for (name, want) in sums {
        let (e, rows, cols) = if name.ends_with("gate_up_proj") {
            (8, 192, 64)
        } else {
            (8, 64, 96)
        };
        let blocks = ck
            .u8(&format!("{name}_blocks"), &[e, rows, cols / 32, 16])
            .unwrap();
        let scales = ck
            .u8(&format!("{name}_scales"), &[e, rows, cols / 32])
            .unwrap();
        let m = engine::__private::Mxfp4Experts::new(e, rows, cols, blocks, scales);
        let (mut sum, mut sum_abs) = (0f64, 0f64);
        for x in 0..e {
            for v in m.dequantize(x) {
                sum += v as f64;
                sum_abs += v.abs() as f64;
            }
        }
        let (ws, wa) = (
            want["sum"].as_f64().unwrap(),
            want["sum_abs"].as_f64().unwrap(),
        );
        // 7 significant digits in the JSON.
        assert!(
            (sum - ws).abs() <= 1e-6 * ws.abs().max(1.0) * 10.0,
            "{name}: sum {sum} vs {ws}"
        );
        assert!(
            (sum_abs - wa).abs() <= 1e-6 * wa * 10.0,
            "{name}: sum_abs {sum_abs} vs {wa}"
        );
    }
    let ex = &g["mxfp4"]["example"];
    let bytes: Vec<u8> = ids(&ex["block_bytes"]).iter().map(|&b| b as u8).collect();
    let mut out = [0f32; 32];
    engine::__private::decode_row(
        &bytes,
        &[ex["scale_byte"].as_u64().unwrap() as u8],
        &mut out,
    );
    assert_eq!(out.to_vec(), floats(&ex["decoded_32_values"]));
}

/// The 20b/120b layout: shards named by `model.safetensors.index.json`.
/// The fixture split into two shards must load and give the same logits.
#[test]
fn sharded_checkpoint_with_index_loads_the_same_model() {
    use engine::__private::{serialize, Checkpoint};
    let ck = Checkpoint::open(&fixture()).unwrap();
    let names = ck.names();
    let dir = tempfile::tempdir().unwrap();
    let mut weight_map = serde_json::Map::new();
    for (i, part) in names.chunks(names.len().div_ceil(2)).enumerate() {
        let file = format!("model-0000{i}-of-00001.safetensors");
        let tensors: Vec<_> = part
            .iter()
            .map(|n| {
                let t = ck.get(n, ck.shape(n).unwrap()).unwrap();
                weight_map.insert(n.to_string(), file.clone().into());
                (n.to_string(), t.dtype, t.shape.to_vec(), t.bytes.to_vec())
            })
            .collect();
        std::fs::write(dir.path().join(&file), serialize(&tensors)).unwrap();
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(
        dir.path().join("model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    std::fs::copy(
        fixture().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();

    let g = golden();
    let seq_b = ids(&g["inputs"]["seq_b"]);
    let run = |m: &GptOss| {
        let mut cache = m.new_cache();
        m.forward(&mut [Segment {
            tokens: &seq_b,
            cache: &mut cache,
            logits: Logits::Last,
        }])
        .unwrap()
        .remove(0)
    };
    let sharded = GptOss::load(dir.path()).unwrap();
    assert_eq!(run(&sharded), run(&GptOss::load(&fixture()).unwrap()));
}
