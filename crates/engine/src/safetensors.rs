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
    /// bfloat16: the dense weights of the published checkpoints.
    BF16,
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// Bytes: MXFP4 blocks and scales.
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
    /// The checkpoint name.
    pub name: &'a str,
    /// The stored element type.
    pub dtype: Dtype,
    /// The stored shape.
    pub shape: &'a [usize],
    /// The little-endian elements, as stored.
    pub bytes: &'a [u8],
}

fn malformed(path: &Path, detail: impl std::fmt::Display) -> EngineError {
    EngineError::Checkpoint {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
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
            let text = std::fs::read_to_string(&index).map_err(|source| EngineError::Io {
                path: index.clone(),
                source,
                fix: "the shard index of the checkpoint must be readable",
            })?;
            let idx: Index = serde_json::from_str(&text).map_err(|e| malformed(&index, e))?;
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
        let io = |source, fix| EngineError::Io {
            path: path.to_path_buf(),
            source,
            fix,
        };
        let file =
            File::open(path).map_err(|e| io(e, "expected a safetensors file of the checkpoint"))?;
        // SAFETY: the file is opened read-only; a checkpoint being rewritten
        // while served is outside what this engine supports.
        let map = unsafe { Mmap::map(&file) }
            .map_err(|e| io(e, "the file must be a regular file that can be mapped"))?;
        self.add(path, Arc::new(map))
    }

    /// Indexes one safetensors blob. Every length and offset comes from the
    /// file, so each is checked before it is used: a hostile header gets an
    /// error naming the file, never an overflow or an out-of-range slice.
    fn add(&mut self, path: &Path, shared: Shared) -> Result<(), EngineError> {
        let map: &[u8] = (*shared).as_ref();
        let Some(len_bytes) = map.first_chunk::<8>() else {
            return Err(malformed(path, "file too short for a safetensors header"));
        };
        let n = u64::from_le_bytes(*len_bytes);
        let base = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_add(8))
            .filter(|&base| base <= map.len())
            .ok_or_else(|| {
                malformed(
                    path,
                    format!(
                        "header length {n} points past the end of the file ({} bytes)",
                        map.len()
                    ),
                )
            })?;
        let header: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&map[8..base]).map_err(|e| malformed(path, e))?;
        let shard = self.shards.len();
        for (name, value) in header {
            if name == "__metadata__" {
                continue;
            }
            let entry: Entry = serde_json::from_value(value)
                .map_err(|e| malformed(path, format!("tensor {name}: {e}")))?;
            let [s, e] = entry.data_offsets;
            let size = entry
                .shape
                .iter()
                .try_fold(entry.dtype.size(), |acc, &d| acc.checked_mul(d));
            let (start, end) = (base.checked_add(s), base.checked_add(e));
            let fits = matches!((start, end), (Some(_), Some(end)) if end <= map.len());
            if e < s || !fits || size != Some(e - s) {
                return Err(malformed(path, format!("tensor {name}: bad data_offsets")));
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
        let (key, t) =
            self.tensors
                .get_key_value(name)
                .ok_or_else(|| EngineError::MissingTensor {
                    name: name.to_string(),
                    shape: shape.to_vec(),
                })?;
        if t.shape != shape {
            return Err(EngineError::TensorShape {
                name: name.to_string(),
                path: self.shards[t.shard].0.clone(),
                found: t.shape.clone(),
                expected: shape.to_vec(),
            });
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
                return Err(EngineError::TensorDtype {
                    name: name.to_string(),
                    found: t.dtype,
                    wanted: "a float tensor was expected",
                })
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
            return Err(EngineError::TensorDtype {
                name: name.to_string(),
                found: t.dtype,
                wanted: "MXFP4 blocks/scales must be U8",
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors blob whose header is `header` verbatim, announced with
    /// length `announced`, followed by `data` bytes of tensor data.
    fn blob(announced: u64, header: &str, data: usize) -> Vec<u8> {
        let mut b = announced.to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.resize(b.len() + data, 0);
        b
    }

    /// A blob whose length field is right.
    fn exact(header: &str, data: usize) -> Vec<u8> {
        blob(header.len() as u64, header, data)
    }

    /// A header with one tensor `w`: `shape` and `offsets` are the insides of the JSON lists.
    fn tensor(dtype: &str, shape: &str, offsets: &str) -> String {
        format!(r#"{{"w":{{"dtype":"{dtype}","shape":[{shape}],"data_offsets":[{offsets}]}}}}"#)
    }

    #[test]
    fn hostile_headers_are_errors_that_name_the_file() {
        let one = &tensor("F32", "2", "0,8");
        let bad_offsets = "tensor w: bad data_offsets";
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("shorter than the length field", vec![1, 2, 3], "too short"),
            (
                "length u64::MAX",
                blob(u64::MAX, one, 8),
                "header length 18446744073709551615",
            ),
            (
                "length u64::MAX - 7 (wraps when 8 is added)",
                blob(u64::MAX - 7, one, 8),
                "points past the end",
            ),
            (
                "length past the end",
                blob(1000, one, 8),
                "points past the end",
            ),
            ("not JSON", exact("not json at all!", 0), "expected"),
            (
                "JSON but not an object",
                exact("[1, 2, 3]", 0),
                "invalid type",
            ),
            ("offsets past the data", exact(one, 4), bad_offsets),
            (
                "offsets reversed",
                exact(&tensor("U8", "0", "8,0"), 8),
                bad_offsets,
            ),
            (
                "offset near usize::MAX",
                exact(
                    &tensor("U8", "1", &format!("{},{}", u64::MAX - 1, u64::MAX)),
                    8,
                ),
                bad_offsets,
            ),
            (
                "shape whose size overflows",
                exact(&tensor("F32", &format!("{},8", 1u64 << 62), "0,0"), 0),
                bad_offsets,
            ),
            (
                "size disagrees with the offsets",
                exact(&tensor("F32", "3", "0,8"), 8),
                bad_offsets,
            ),
            (
                "unknown dtype",
                exact(&tensor("Q3", "1", "0,1"), 1),
                "tensor w: unknown variant",
            ),
        ];
        for (what, bytes, needle) in cases {
            let err = match Checkpoint::from_bytes("hostile.safetensors", bytes) {
                Ok(_) => panic!("{what}: accepted"),
                Err(e) => e.to_string(),
            };
            assert!(err.contains("hostile.safetensors"), "{what}: {err}");
            assert!(err.contains(needle), "{what}: {err}");
        }
        // The well-formed blob the cases start from loads.
        let ck = Checkpoint::from_bytes("ok", exact(one, 8)).unwrap();
        assert_eq!(ck.f32("w", &[2]).unwrap(), vec![0.0, 0.0]);
    }

    /// The same check on a memory-mapped file, the path a real checkpoint takes.
    #[test]
    fn huge_header_length_in_a_file_on_disk_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("model.safetensors"),
            blob(u64::MAX, "{}", 0),
        )
        .unwrap();
        let err = Checkpoint::open(dir.path())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("header length"),
            "{err}"
        );
    }
}
