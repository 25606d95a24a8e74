//! Entropy coding for lic latents, built on [constriction]'s ANS coder.
//!
//! * **Hyper-latents `z`** use a factorized prior: one learned, non-parametric density per
//!   channel, turned into an integer [`Distribution`] once (at model export/load, with
//!   [`Distribution::from_pmf`]) and stored with the model.
//! * **Latents `y`** use a Gaussian conditional: the predicted scale picks one of a fixed
//!   ladder of scale bins ([`ScaleTable`], 64 log-spaced scales by default) whose integer
//!   table was computed once; the coded symbol is `round(y − μ)`.
//!
//! Both go through one [`TableSet`]: `encode(symbols, table_indices)` and
//! `decode(bytes, table_indices)` code a whole slice in one call.
//!
//! # Bit-exactness
//!
//! The coder only ever sees integers: frequency tables that sum to `2^16` and table indices.
//! Given the same tables and the same indices, encoder and decoder agree bit for bit on every
//! platform, whatever its float behaviour. The tables themselves are made from `f64` by a
//! fully specified procedure ([`quantize_pmf`]) using `libm`'s pure-software `erfc`/`exp`/`log`
//! and IEEE-754 arithmetic only; a test pins a SHA-256 of the default Gaussian tables, so a
//! platform that computed them differently would fail CI rather than write incompatible
//! files. What the model layer must guarantee in turn is that encoder and decoder derive the
//! same table indices and means.
//!
//! Any `i32` is codable: values outside a table's range are sent through an escape symbol
//! followed by uniformly coded bits, so nothing overflows or is silently clipped.
//!
//! ```
//! use lic_entropy::{ScaleTable, TableSet};
//! let scales = ScaleTable::default();
//! let coder = TableSet::gaussian(&scales)?;
//! let symbols = [0, -1, 3, 1_000_000, 0];
//! let bins: Vec<u16> = [0.3f32, 1.0, 2.5, 0.2, 40.0].iter().map(|&s| scales.bin(s)).collect();
//! let bytes = coder.encode(&symbols, &bins)?;
//! assert_eq!(coder.decode(&bytes, &bins)?, symbols);
//! # Ok::<(), lic_entropy::EntropyError>(())
//! ```
//!
//! [constriction]: https://docs.rs/constriction

mod coder;
mod error;
mod gaussian;
mod table;

pub use coder::{StreamDecoder, TableSet, encode_parts};
pub use error::{EntropyError, Result};
pub use gaussian::{
    DEFAULT_SCALE_BINS, DEFAULT_SCALE_MAX, DEFAULT_SCALE_MIN, ScaleTable, TAIL_SIGMAS, gaussian_distribution,
};
pub use table::{Distribution, MAX_SYMBOLS, PRECISION, TOTAL, quantize_pmf};
