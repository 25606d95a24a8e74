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
//! [`register_image_format`] teaches the `image` crate to open `.lic` files
//! (`image::open("photo.lic")`), and [`LicImageDecoder`] is lic as an `image::ImageDecoder`.

mod alpha;
mod decoder;
mod encoder;
mod error;
mod image_format;
mod inspect;
mod metadata;
mod model;
mod pixels;
mod tiles;
mod video;

pub use decoder::{DEFAULT_MAX_PIXELS, Decoded, Decoder};
pub use encoder::{Encoder, QUALITY_RANGE, Targeted, latents_chunk};
pub use error::{CodecError, Result};
pub use image_format::{LicImageDecoder, register_image_format};
pub use inspect::{ChunkInfo, FileInfo, inspect};
pub use lic_bitstream as bitstream;
pub use lic_bitstream::FrameType;
pub use lic_models::net::Latents;
pub use metadata::Metadata;
pub use model::{Backend, Model};
pub use pixels::{from_tensor as tensor_to_image, reduces_depth, to_tensor as image_to_tensor};
pub use tiles::AUTO_TILE_PIXELS;
pub use video::{EncodedFrame, Frames, VideoDecoder, VideoEncoder, VideoFrame};
