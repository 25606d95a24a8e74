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
mod weights;

pub use error::{ModelError, Result};
pub use weights::{Weights, weights_digest};
