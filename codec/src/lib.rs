//! The lic library API: encode images to lic files and decode them back.
//!
//! ```no_run
//! use lic_codec::{Backend, Decoder, Encoder, Model};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = Model::from_path("lic-default.safetensors".as_ref(), Backend::Auto)?;
//! let img = image::open("photo.png")?;
//! let bytes = Encoder::new(&model).quality(4.0)?.encode(&img)?;
//! let back = Decoder::new(&model).decode(&bytes)?;
//! assert_eq!((back.width(), back.height()), (img.width(), img.height()));
//! # Ok(()) }
//! ```
//!
//! [`inspect`] reads a file's header and chunk table without decoding it.

mod decoder;
mod encoder;
mod error;
mod inspect;
mod model;
mod pixels;

pub use decoder::{DEFAULT_MAX_PIXELS, Decoder};
pub use encoder::{Encoder, QUALITY_RANGE, Targeted};
pub use error::{CodecError, Result};
pub use inspect::{ChunkInfo, FileInfo, inspect};
pub use lic_bitstream as bitstream;
pub use model::{Backend, Model};
pub use pixels::to_tensor as image_to_tensor;
