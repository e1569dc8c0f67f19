//! A minimal safetensors reader: one or many shards (through
//! `model.safetensors.index.json`), memory-mapped so a 60 GB checkpoint costs
//! no copy, with float tensors converted to f32 on request.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use serde::Deserialize;

use crate::mxfp4::Bytes;
use crate::EngineError;

type Shared = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Element types found in GPT-OSS checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Dtype {
    BF16,
    F16,
    F32,
    U8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::BF16 | Dtype::F16 => 2,
            Dtype::F32 => 4,
            Dtype::U8 => 1,
        }
    }
}

#[derive(Deserialize)]
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

struct Located {
    shard: usize,
    dtype: Dtype,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

/// Every tensor of a checkpoint folder, by name.
pub struct Checkpoint {
    shards: Vec<(PathBuf, Shared)>,
    tensors: HashMap<String, Located>,
}

/// A borrowed view of one tensor's raw bytes.
pub struct TensorView<'a> {
    pub name: &'a str,
    pub dtype: Dtype,
    pub shape: &'a [usize],
    pub bytes: &'a [u8],
}

fn load_err(path: &Path, msg: impl std::fmt::Display) -> EngineError {
    EngineError::Load(format!("{}: {msg}", path.display()))
}

impl Checkpoint {
    /// Opens `dir/model.safetensors.index.json` if present, else `dir/model.safetensors`.
    pub fn open(dir: &Path) -> Result<Checkpoint, EngineError> {
        let index = dir.join("model.safetensors.index.json");
        let files: Vec<PathBuf> = if index.exists() {
            #[derive(Deserialize)]
            struct Index {
                weight_map: HashMap<String, String>,
            }
            let text = std::fs::read_to_string(&index).map_err(|e| load_err(&index, e))?;
            let idx: Index = serde_json::from_str(&text).map_err(|e| load_err(&index, e))?;
            let mut names: Vec<String> = idx.weight_map.into_values().collect();
            names.sort();
            names.dedup();
            names.into_iter().map(|n| dir.join(n)).collect()
        } else {
            vec![dir.join("model.safetensors")]
        };
        let mut ckpt = Checkpoint {
            shards: Vec::new(),
            tensors: HashMap::new(),
        };
        for path in files {
            ckpt.add_shard(&path)?;
        }
        Ok(ckpt)
    }

    /// A checkpoint held in memory (the built-in and benchmark models).
    pub fn from_bytes(origin: &str, bytes: Vec<u8>) -> Result<Checkpoint, EngineError> {
        let mut ckpt = Checkpoint {
            shards: Vec::new(),
            tensors: HashMap::new(),
        };
        ckpt.add(Path::new(origin), Arc::new(bytes))?;
        Ok(ckpt)
    }

    fn add_shard(&mut self, path: &Path) -> Result<(), EngineError> {
        let file = File::open(path).map_err(|e| {
            load_err(
                path,
                format!("{e} (expected a safetensors file of the checkpoint)"),
            )
        })?;
        // SAFETY: the file is opened read-only; a checkpoint being rewritten
        // while served is outside what this engine supports.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| load_err(path, e))?;
        self.add(path, Arc::new(map))
    }

    fn add(&mut self, path: &Path, shared: Shared) -> Result<(), EngineError> {
        let map: &[u8] = (*shared).as_ref();
        if map.len() < 8 {
            return Err(load_err(path, "file too short for a safetensors header"));
        }
        let n = u64::from_le_bytes(map[..8].try_into().expect("8 bytes")) as usize;
        if 8 + n > map.len() {
            return Err(load_err(
                path,
                "header length points past the end of the file",
            ));
        }
        let header: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&map[8..8 + n]).map_err(|e| load_err(path, e))?;
        let shard = self.shards.len();
        let base = 8 + n;
        for (name, value) in header {
            if name == "__metadata__" {
                continue;
            }
            let entry: Entry = serde_json::from_value(value)
                .map_err(|e| load_err(path, format!("tensor {name}: {e}")))?;
            let [s, e] = entry.data_offsets;
            let count: usize = entry.shape.iter().product();
            if e < s || base + e > map.len() || e - s != count * entry.dtype.size() {
                return Err(load_err(path, format!("tensor {name}: bad data_offsets")));
            }
            self.tensors.insert(
                name,
                Located {
                    shard,
                    dtype: entry.dtype,
                    shape: entry.shape,
                    start: base + s,
                    end: base + e,
                },
            );
        }
        self.shards.push((path.to_path_buf(), shared.clone()));
        Ok(())
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// A tensor's shape as stored, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| t.shape.as_slice())
    }

    /// The raw tensor, or an error naming it and the expected shape.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<TensorView<'_>, EngineError> {
        let (key, t) = self.tensors.get_key_value(name).ok_or_else(|| {
            EngineError::Load(format!(
                "tensor {name} (shape {shape:?}) is missing from the checkpoint"
            ))
        })?;
        if t.shape != shape {
            return Err(EngineError::Load(format!(
                "tensor {name} has shape {:?} in {}, config.json implies {shape:?}",
                t.shape,
                self.shards[t.shard].0.display()
            )));
        }
        Ok(TensorView {
            name: key,
            dtype: t.dtype,
            shape: &t.shape,
            bytes: &(*self.shards[t.shard].1).as_ref()[t.start..t.end],
        })
    }

    /// A float tensor (BF16, F16 or F32) widened to f32.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EngineError> {
        let t = self.get(name, shape)?;
        let b = t.bytes;
        Ok(match t.dtype {
            Dtype::BF16 => b
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            Dtype::F16 => b
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::U8 => {
                return Err(EngineError::Load(format!(
                    "tensor {name} is U8 but a float tensor was expected"
                )))
            }
        })
    }

    /// A float tensor kept as bf16 bits when it is BF16 (exact), else widened to f32.
    pub fn weights(&self, name: &str, shape: &[usize]) -> Result<crate::ops::Weights, EngineError> {
        let t = self.get(name, shape)?;
        if t.dtype == Dtype::BF16 {
            return Ok(crate::ops::Weights::Bf16(
                t.bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ));
        }
        Ok(crate::ops::Weights::F32(self.f32(name, shape)?))
    }

    /// A U8 tensor's bytes (MXFP4 blocks and scales), shared without a copy.
    pub fn u8(&self, name: &str, shape: &[usize]) -> Result<Bytes, EngineError> {
        let t = self.get(name, shape)?;
        if t.dtype != Dtype::U8 {
            return Err(EngineError::Load(format!(
                "tensor {name} is {:?} but MXFP4 blocks/scales must be U8",
                t.dtype
            )));
        }
        let loc = &self.tensors[name];
        Ok(Bytes::new(
            self.shards[loc.shard].1.clone(),
            loc.start,
            loc.end - loc.start,
        ))
    }
}

/// Serializes tensors `(name, dtype, shape, little-endian bytes)` as one
/// safetensors file, for generated checkpoints.
pub fn serialize(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, dtype, shape, bytes) in tensors {
        let dt = match dtype {
            Dtype::BF16 => "BF16",
            Dtype::F16 => "F16",
            Dtype::F32 => "F32",
            Dtype::U8 => "U8",
        };
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": dt, "shape": shape, "data_offsets": [offset, offset + bytes.len()]}),
        );
        offset += bytes.len();
    }
    let mut meta = serde_json::Map::new();
    meta.insert("format".into(), "pt".into());
    header.insert("__metadata__".into(), serde_json::Value::Object(meta));
    let mut h = serde_json::to_vec(&header).expect("JSON of strings and numbers");
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + h.len() + offset);
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    for (_, _, _, bytes) in tensors {
        out.extend_from_slice(bytes);
    }
    out
}

/// f32 values rounded to bf16 (round to nearest even), as bytes.
pub fn to_bf16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| half::bf16::from_f32(*v).to_bits().to_le_bytes())
        .collect()
}
