//! Reading what a file holds without decoding it.

use lic_bitstream::{ImageFile, ImageHeader};
use serde::Serialize;

use crate::error::Result;

/// One chunk of a file, as listed in its table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChunkInfo {
    /// Four-character type.
    pub fourcc: String,
    /// Tile the chunk belongs to.
    pub tile: u32,
    /// Index within the tile (the slice for latent streams).
    pub index: u16,
    /// Payload size in bytes.
    pub bytes: usize,
}

/// A file's header and chunk sizes, all checks passed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileInfo {
    /// Format version as `major.minor`.
    pub version: String,
    /// Model name.
    pub model: String,
    /// SHA-256 of the model's weights, hex.
    pub model_sha256: String,
    /// Quality, as recorded (exact).
    pub quality: f64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    pub channels: u8,
    /// Bits per sample.
    pub bit_depth: u8,
    /// Colour space name.
    pub colour_space: String,
    /// Tile size and overlap, when tiled.
    pub tiling: Option<(u32, u32, u16)>,
    /// Total file size in bytes.
    pub file_bytes: usize,
    /// Bits per pixel of the whole file.
    pub bpp: f64,
    /// Every chunk, in table order.
    pub chunks: Vec<ChunkInfo>,
}

/// Parses and verifies a file (every CRC) and summarises it.
pub fn inspect(bytes: &[u8]) -> Result<FileInfo> {
    let file = ImageFile::parse(bytes)?;
    let h: &ImageHeader = &file.header;
    let pixels = f64::from(h.width) * f64::from(h.height);
    Ok(FileInfo {
        version: format!("{}.{}", lic_bitstream::MAJOR_VERSION, file.minor_version),
        model: h.model.name.clone(),
        model_sha256: h.model.digest_hex(),
        quality: h.quality.as_f64(),
        width: h.width,
        height: h.height,
        channels: h.channels,
        bit_depth: h.bit_depth,
        colour_space: format!("{:?}", h.colour_space),
        tiling: h.tiling.map(|t| (t.tile_width, t.tile_height, t.overlap)),
        file_bytes: bytes.len(),
        bpp: bytes.len() as f64 * 8.0 / pixels,
        chunks: file
            .chunks
            .iter()
            .map(|c| ChunkInfo {
                fourcc: c.fourcc.to_string(),
                tile: c.tile,
                index: c.index,
                bytes: c.payload.len(),
            })
            .collect(),
    })
}
