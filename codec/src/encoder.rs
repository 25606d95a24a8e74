//! Encoding images into lic files.

use image::DynamicImage;
use lic_bitstream::{Chunk, ColourSpace, FourCc, ImageFile, ImageHeader, Quality};

use crate::error::{CodecError, Result};
use crate::model::Model;
use crate::pixels;

/// Lowest and highest quality (continuous in between).
pub const QUALITY_RANGE: (f64, f64) = (1.0, 8.0);

/// Encodes images with one model at one quality.
///
/// ```no_run
/// # fn main() -> Result<(), lic_codec::CodecError> {
/// # let model: lic_codec::Model = unimplemented!();
/// let img = image::open("photo.png").map_err(|e| lic_codec::CodecError::InvalidArgument(e.to_string()))?;
/// let bytes = lic_codec::Encoder::new(&model).quality(4.0)?.encode(&img)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Encoder<'m> {
    model: &'m Model,
    quality: Quality,
}

impl<'m> Encoder<'m> {
    /// An encoder at the default quality, 4.
    pub fn new(model: &'m Model) -> Self {
        Self { model, quality: Quality::from_milli(4000) }
    }

    /// Sets the quality, 1 ..= 8, fractional allowed (stored in thousandths).
    pub fn quality(mut self, q: f64) -> Result<Self> {
        let (lo, hi) = QUALITY_RANGE;
        if !(lo..=hi).contains(&q) {
            return Err(CodecError::InvalidArgument(format!("quality {q} is not in {lo} ..= {hi}")));
        }
        self.quality =
            Quality::from_f64(q).ok_or_else(|| CodecError::InvalidArgument(format!("quality {q}")))?;
        Ok(self)
    }

    /// Encodes `img` into a complete lic file.
    pub fn encode(&self, img: &DynamicImage) -> Result<Vec<u8>> {
        let src = pixels::source(img)?;
        let m = &self.model.inner;
        let x = pixels::to_tensor(&src.rgb, &self.model.device);
        let coded = m.net.quantise(x, self.quality.as_f64(), &m.scales);
        let mut chunks = vec![Chunk::new(
            FourCc::HYPER_LATENT,
            0,
            0,
            m.z_coder.encode(&coded.z_symbols, &coded.z_tables)?,
        )];
        for (i, (symbols, bins)) in coded.y_symbols.iter().zip(&coded.y_bins).enumerate() {
            chunks.push(Chunk::new(FourCc::LATENT, 0, i as u16, m.y_coder.encode(symbols, bins)?));
        }
        let header = ImageHeader {
            model: m.weights.id().clone(),
            quality: self.quality,
            width: src.rgb.width(),
            height: src.rgb.height(),
            channels: src.channels,
            bit_depth: 8,
            colour_space: ColourSpace::Srgb,
            tiling: None,
        };
        Ok(ImageFile::new(header, chunks).to_bytes()?)
    }
}
