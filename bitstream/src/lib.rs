//! The lic container format, version 1: strict parsing and writing, no ML.
//!
//! A lic file is a 16-byte preamble (magic, version, stream kind, header length), a header
//! naming the model weights and the image geometry, a table of chunks with a CRC-32C each,
//! and the chunk payloads (entropy-coded streams, alpha, metadata). `FORMAT.md` in this
//! crate specifies every byte.
//!
//! ```
//! use lic_bitstream::{Chunk, FourCc, ImageFile, ImageHeader, ModelId, Quality, ColourSpace};
//!
//! let header = ImageHeader {
//!     model: ModelId { name: "example".into(), digest: [7; 32] },
//!     quality: Quality::from_milli(3500),
//!     width: 768, height: 512, channels: 3, bit_depth: 8,
//!     colour_space: ColourSpace::Srgb, tiling: None,
//! };
//! let file = ImageFile::new(header, vec![Chunk::new(FourCc::HYPER_LATENT, 0, 0, &b"z"[..])]);
//! let bytes = file.to_bytes()?;
//! let parsed = ImageFile::parse(&bytes)?;
//! assert_eq!(parsed, file);
//! # Ok::<(), lic_bitstream::BitstreamError>(())
//! ```
//!
//! Parsing guarantees: no panics on any input, no allocation that the input's length does not
//! justify, and a typed [`BitstreamError`] naming the field and byte offset at fault.

mod chunk;
mod container;
mod cursor;
mod error;
mod header;
mod video;

pub use chunk::{Chunk, FourCc};
pub use container::{
    CHUNK_ENTRY_LEN, IMAGE_MINOR_VERSION, ImageFile, MAGIC, MAJOR_VERSION, MAX_HEADER_LEN, MINOR_VERSION,
    PREAMBLE_LEN, SINGLE_STREAM_MINOR_VERSION, StreamKind, VIDEO_MINOR_VERSION,
};
pub use error::{BitstreamError, Result};
pub use header::{
    ColourSpace, ImageHeader, MAX_DIMENSION, MAX_MODEL_NAME_LEN, MAX_TILES, ModelId, Quality, TILE_ALIGN,
    Tiling,
};
pub use video::{
    FramePacket, FrameType, MAX_GOP, PACKET_HEADER_LEN, PACKET_SYNC, Packets, SeekPoint, SequenceHeader,
    TRAILER_LEN, TRAILER_MAGIC, VideoFile, VideoWriter,
};
