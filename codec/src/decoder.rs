//! Decoding lic files into images.

use image::DynamicImage;
use lic_bitstream::{FourCc, ImageFile};
use lic_models::net::{Latents, z_table_indices};

use crate::error::{CodecError, Result};
use crate::metadata::Metadata;
use crate::model::Model;
use crate::{alpha, pixels};

/// A decoded image with the metadata its file carried.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The pixels: gray, gray + alpha, RGB or RGBA (8 bits), as the source was.
    pub image: DynamicImage,
    /// ICC profile, EXIF and XMP, verbatim.
    pub metadata: Metadata,
}

/// Default limit on decoded pixels: 2^28 (e.g. 16384 × 16384).
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 28;

/// Decodes lic files made with one model.
#[derive(Clone, Debug)]
pub struct Decoder<'m> {
    model: &'m Model,
    max_pixels: u64,
}

impl<'m> Decoder<'m> {
    /// A decoder with the default pixel limit.
    pub fn new(model: &'m Model) -> Self {
        Self { model, max_pixels: DEFAULT_MAX_PIXELS }
    }

    /// Refuses files declaring more pixels than `limit`: a small hostile file must not make
    /// the decoder allocate gigabytes.
    pub fn max_pixels(mut self, limit: u64) -> Self {
        self.max_pixels = limit;
        self
    }

    /// Decodes a complete lic file.
    pub fn decode(&self, bytes: &[u8]) -> Result<DynamicImage> {
        self.decode_with_metadata(bytes).map(|d| d.image)
    }

    /// Entropy-decodes a file's latents `ŷ` without running the synthesis. They come from the
    /// platform-independent parameter path, so they are bit-identical on every machine and
    /// backend (the conformance test pins them).
    pub fn latents(&self, bytes: &[u8]) -> Result<Latents> {
        let file = ImageFile::parse(bytes)?;
        self.check(&file)?;
        self.latents_of(&file)
    }

    fn check(&self, file: &ImageFile<'_>) -> Result<()> {
        let h = &file.header;
        self.model.inner.weights.check_matches(&h.model)?;
        let pixels = u64::from(h.width) * u64::from(h.height);
        if pixels > self.max_pixels {
            return Err(CodecError::TooLarge { width: h.width, height: h.height, limit: self.max_pixels });
        }
        if h.tiling.is_some() {
            return Err(CodecError::Unsupported("tiled files".into()));
        }
        Ok(())
    }

    fn latents_of(&self, file: &ImageFile<'_>) -> Result<Latents> {
        let h = &file.header;
        let m = &self.model.inner;
        let (pw, ph) = (pixels::padded(h.width), pixels::padded(h.height));
        let z_shape = [m.config.z_channels, ph / pixels::ALIGN, pw / pixels::ALIGN];
        let z_chunk =
            file.chunk(FourCc::HYPER_LATENT, 0, 0).ok_or_else(|| CodecError::MissingChunk("HYPZ".into()))?;
        let z = m.z_coder.decode(&z_chunk.payload, &z_table_indices(z_shape))?;
        m.exact.run(&z, z_shape, |i, _mu, sigma| {
            let bins: Vec<u16> = sigma.iter().map(|&s| m.scales.bin(s)).collect();
            let chunk = file
                .chunk(FourCc::LATENT, 0, i as u16)
                .ok_or_else(|| CodecError::MissingChunk(format!("LATY slice {i}")))?;
            Ok::<_, CodecError>(m.y_coder.decode(&chunk.payload, &bins)?)
        })
    }

    /// Decodes a complete lic file and returns its metadata too.
    pub fn decode_with_metadata(&self, bytes: &[u8]) -> Result<Decoded> {
        let file = ImageFile::parse(bytes)?;
        self.check(&file)?;
        let h = &file.header;
        let m = &self.model.inner;
        // Alpha first: a file missing or botching it fails before the expensive synthesis.
        let alpha = if h.has_alpha() {
            let chunk =
                file.chunk(FourCc::ALPHA, 0, 0).ok_or_else(|| CodecError::MissingChunk("ALPH".into()))?;
            Some(alpha::decode(&chunk.payload, h.width, h.height)?)
        } else {
            None
        };
        let latents = self.latents_of(&file)?;
        let x_hat = m.net.reconstruct(latents, h.quality.as_f64(), &self.model.device);
        let rgb = pixels::from_tensor(x_hat, h.width, h.height);
        let image = match (h.channels, alpha) {
            (3, None) => DynamicImage::ImageRgb8(rgb),
            (1, None) => DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(rgb).to_luma8()),
            (4, Some(a)) => DynamicImage::ImageRgba8(image::RgbaImage::from_fn(h.width, h.height, |x, y| {
                let [r, g, b] = rgb.get_pixel(x, y).0;
                image::Rgba([r, g, b, a.get_pixel(x, y)[0]])
            })),
            (2, Some(a)) => {
                let luma = DynamicImage::ImageRgb8(rgb).to_luma8();
                DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_fn(h.width, h.height, |x, y| {
                    image::LumaA([luma.get_pixel(x, y)[0], a.get_pixel(x, y)[0]])
                }))
            }
            (c, _) => return Err(CodecError::Unsupported(format!("{c} channels"))),
        };
        Ok(Decoded { image, metadata: Metadata::from_file(&file) })
    }
}
