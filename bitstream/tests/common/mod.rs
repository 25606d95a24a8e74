//! Builders shared by this crate's tests.
#![allow(dead_code)]

use lic_bitstream::{Chunk, ColourSpace, FourCc, ImageFile, ImageHeader, ModelId, Quality, Tiling};

pub fn header() -> ImageHeader {
    ImageHeader {
        model: ModelId { name: "lic-test".into(), digest: [0xab; 32] },
        quality: Quality::from_milli(3500),
        width: 768,
        height: 512,
        channels: 3,
        bit_depth: 8,
        colour_space: ColourSpace::Srgb,
        tiling: None,
    }
}

/// A small but complete file: hyper-latent, three latent slices and an ICC profile.
pub fn sample_bytes() -> Vec<u8> {
    let chunks = vec![
        Chunk::new(FourCc::HYPER_LATENT, 0, 0, vec![1u8, 2, 3, 4]),
        Chunk::new(FourCc::LATENT, 0, 0, vec![5u8; 9]),
        Chunk::new(FourCc::LATENT, 0, 1, vec![6u8; 3]),
        Chunk::new(FourCc::LATENT, 0, 2, Vec::new()),
        Chunk::new(FourCc::ICC, 0, 0, b"icc profile".to_vec()),
    ];
    ImageFile::new(header(), chunks).to_bytes().expect("sample is writable")
}

pub fn tiled_header() -> ImageHeader {
    ImageHeader { tiling: Some(Tiling { tile_width: 256, tile_height: 192, overlap: 16 }), ..header() }
}
