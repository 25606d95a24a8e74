//! lic's learned models: loading weights and knowing exactly which weights they are.
//!
//! Weights are [safetensors] files. [`Weights`] checks every tensor's dtype and shape on
//! access and computes the SHA-256 digest that files coded with these weights record
//! ([`lic_bitstream::ModelId`]), so a decoder refuses a file made with other weights instead
//! of producing garbage. Integer entropy tables (the factorized prior's CDFs, computed once
//! at export) are stored in the same file, so they are covered by the same digest.
//!
//! The Burn network definitions (analysis/synthesis, hyperprior, channel-wise context model)
//! build on this crate in the models issue.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

mod error;
pub mod net;
mod package;
mod weights;

pub use error::{ModelError, Result};

/// Name of the default model coded files record.
pub const DEFAULT_MODEL_NAME: &str = "lic-default";
/// The default model's weights, embedded so a fresh checkout codes with no download.
/// Produced by `lic train --config configs/cpu-small.toml --export …` (see README.md here).
pub static DEFAULT_WEIGHTS: &[u8] = include_bytes!("../weights/lic-default.safetensors");
pub use package::{CONFIG_KEY, CodecModel, TEMPORAL, Z_TABLES, export, export_with};
pub use weights::{Weights, weights_digest};
