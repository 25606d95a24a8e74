//! lic's learned models: loading weights and knowing exactly which weights they are.
//!
//! Weights are [safetensors] files. [`Weights`] checks every tensor's dtype and shape on
//! access and computes the SHA-256 digest that files coded with these weights record
//! ([`lic_bitstream::ModelId`]), so a decoder refuses a file made with other weights instead
//! of producing garbage. Integer entropy tables (the factorized prior's CDFs, computed once
//! at export) are stored in the same file, so they are covered by the same digest.
//!
//! [`net`] holds the Burn network definitions (analysis/synthesis, hyperprior, channel-wise
//! context model, the inter-frame entropy model) and their exact CPU parameter path. Two
//! models are embedded: the image default and a video model ([`EMBEDDED`]); decoders find the
//! one a file records with [`embedded_with_digest`].
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

mod error;
pub mod net;
mod package;
mod weights;

pub use error::{ModelError, Result};

/// Name of the default model coded files record.
pub const DEFAULT_MODEL_NAME: &str = "lic-default";
/// The default image model's weights, embedded so a fresh checkout codes with no download.
/// Produced by `lic train --config configs/latent-192-long.toml --export …` (see README.md
/// here). It has no inter-frame networks: video uses [`VIDEO_WEIGHTS`].
pub static DEFAULT_WEIGHTS: &[u8] = include_bytes!("../weights/lic-default.safetensors");

/// Name of the embedded video model.
pub const VIDEO_MODEL_NAME: &str = "lic-video";
/// The embedded video model: an image model with the inter-frame networks trained against
/// it. Each temporal fit belongs to one image model, and a better image model makes all-intra
/// the harder baseline, so the video model moves on only when its refit keeps the video
/// bar; until then it is an older image model with its own temporal networks.
/// Produced by `lic train --config configs/temporal-192-long.toml --export …`.
pub static VIDEO_WEIGHTS: &[u8] = include_bytes!("../weights/lic-video.safetensors");

/// How many models are built into lic.
const EMBEDDED_COUNT: usize = 2;

/// Every model built into lic, as (name, weights): the image default first.
pub static EMBEDDED: [(&str, &[u8]); EMBEDDED_COUNT] =
    [(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS), (VIDEO_MODEL_NAME, VIDEO_WEIGHTS)];

/// The embedded model whose weights have SHA-256 `digest`, as (name, weights): how a decoder
/// finds the model a file records, whichever of them coded it (files record the digest, and
/// a file coded by an earlier build under another name still finds its weights).
///
/// Digests are computed once per process and only as far as the search goes, so a file
/// from the image default (the common case) never hashes the larger video model.
pub fn embedded_with_digest(digest: &[u8; 32]) -> Option<(&'static str, &'static [u8])> {
    static DIGESTS: [std::sync::OnceLock<[u8; 32]>; EMBEDDED_COUNT] =
        [const { std::sync::OnceLock::new() }; EMBEDDED_COUNT];
    EMBEDDED
        .iter()
        .zip(&DIGESTS)
        .find(|((_, w), d)| d.get_or_init(|| weights_digest(w)) == digest)
        .map(|(e, _)| *e)
}

pub use package::{CONFIG_KEY, CodecModel, TEMPORAL, Z_TABLES, export, export_with};
pub use weights::{Weights, short_id, weights_digest};
