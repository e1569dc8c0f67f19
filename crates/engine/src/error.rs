//! The one error type of the crate. Every message says what failed and where:
//! the checkpoint file, the tensor, or the request's token, and where it
//! helps, what to do about it.

use std::path::PathBuf;

use crate::safetensors::Dtype;

/// Why a model could not be loaded, or a step could not run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A file of the checkpoint could not be opened, read or mapped.
    #[error("cannot load the model: {}: {source} ({fix})", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
        /// What the user should check.
        fix: &'static str,
    },

    /// `config.json` is not a GPT-OSS config the forward pass can run.
    #[error("cannot load the model: {origin}: {detail}")]
    Config {
        /// The file (or a name for a generated config).
        origin: String,
        /// Which field is wrong and why.
        detail: String,
    },

    /// A safetensors file or the shard index is malformed.
    #[error("cannot load the model: {}: {detail}", path.display())]
    Checkpoint {
        /// The file (or a name for an in-memory checkpoint).
        path: PathBuf,
        /// What is wrong with its header or layout.
        detail: String,
    },

    /// A tensor that `config.json` implies is in no shard.
    #[error(
        "cannot load the model: tensor {name} (shape {shape:?}) is missing from the checkpoint"
    )]
    MissingTensor {
        /// The checkpoint name of the tensor.
        name: String,
        /// The shape `config.json` implies.
        shape: Vec<usize>,
    },

    /// A tensor's stored shape disagrees with `config.json`.
    #[error("cannot load the model: tensor {name} has shape {found:?} in {}, config.json implies {expected:?}", path.display())]
    TensorShape {
        /// The checkpoint name of the tensor.
        name: String,
        /// The shard holding it.
        path: PathBuf,
        /// The shape stored in the shard.
        found: Vec<usize>,
        /// The shape `config.json` implies.
        expected: Vec<usize>,
    },

    /// A tensor's element type is not the one its use needs.
    #[error("cannot load the model: tensor {name} is {found:?} but {wanted}")]
    TensorDtype {
        /// The checkpoint name of the tensor.
        name: String,
        /// The stored element type.
        found: Dtype,
        /// What was expected, as a phrase.
        wanted: &'static str,
    },

    /// A token id of a step is outside the model's vocabulary.
    #[error("invalid request: token id {id} (sequence {segment} of the step, position {position}) is out of range: the vocabulary has {vocab_size} ids")]
    TokenOutOfRange {
        /// The offending id.
        id: usize,
        /// Which sequence of the step sent it.
        segment: usize,
        /// Its absolute position in that sequence.
        position: usize,
        /// The model's vocabulary size.
        vocab_size: usize,
    },
}
