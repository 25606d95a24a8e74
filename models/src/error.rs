//! The one error type of this crate.

use std::path::PathBuf;

/// What can be wrong with a weights file or its use.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The weights file could not be read.
    #[error("cannot read weights {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    #[error("weights file {name:?} is not valid safetensors: {reason}")]
    Format {
        /// The model name.
        name: String,
        /// What the parser said.
        reason: String,
    },
    /// A tensor the model needs is absent.
    #[error("weights file {model:?} has no tensor {tensor:?}")]
    MissingTensor {
        /// The model name.
        model: String,
        /// The tensor.
        tensor: String,
    },
    /// A tensor has another shape than the model expects.
    #[error("tensor {tensor:?} has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The tensor.
        tensor: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor has a dtype this loader does not convert.
    #[error("tensor {tensor:?} has dtype {dtype}, expected {expected}")]
    DtypeMismatch {
        /// The tensor.
        tensor: String,
        /// The dtype found.
        dtype: String,
        /// The dtypes accepted.
        expected: &'static str,
    },
    /// A file was coded with other weights than the ones loaded.
    #[error("file was coded with model {file} but the loaded model is {loaded}; load the matching weights")]
    WrongModel {
        /// `name sha256:…` of the file's model.
        file: String,
        /// `name sha256:…` of the loaded model.
        loaded: String,
    },
    /// A file records a model this build does not embed.
    #[error(
        "file was coded with model {file}, which this build of lic does not embed; load its weights (--model)"
    )]
    NotEmbedded {
        /// `name sha256:…` of the file's model.
        file: String,
    },
    /// Stored entropy tables are invalid.
    #[error("entropy tables {tensor:?}: {source}")]
    Tables {
        /// The tensor prefix.
        tensor: String,
        /// The table error.
        source: lic_entropy::EntropyError,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
