//! Decoding lic files into images.

use std::sync::Mutex;

use image::{DynamicImage, RgbImage};
use lic_bitstream::{FourCc, ImageFile};
use lic_models::net::{Latents, Part, z_table_indices};
use rayon::prelude::*;

use crate::error::{CodecError, Result};
use crate::metadata::Metadata;
use crate::model::Model;
use crate::tiles::{Tile, axis_weight};
use crate::{alpha, pixels};

/// The tiles of a file (one covering the image when untiled).
fn layout(h: &lic_bitstream::ImageHeader) -> Vec<Tile> {
    match &h.tiling {
        Some(t) => crate::tiles::layout(h.width, h.height, t),
        None => vec![Tile {
            cell_x: (0, h.width),
            cell_y: (0, h.height),
            ext_x: (0, h.width),
            ext_y: (0, h.height),
        }],
    }
}

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
    /// Tiled files return the latents of every tile, in tile order.
    pub fn latents(&self, bytes: &[u8]) -> Result<Vec<Latents>> {
        let file = ImageFile::parse(bytes)?;
        self.check(&file)?;
        layout(&file.header)
            .iter()
            .enumerate()
            .map(|(t, tile)| self.latents_of(&file, t as u32, tile))
            .collect()
    }

    fn check(&self, file: &ImageFile<'_>) -> Result<()> {
        let h = &file.header;
        self.model.inner.weights.check_matches(&h.model)?;
        let pixels = u64::from(h.width) * u64::from(h.height);
        if pixels > self.max_pixels {
            return Err(CodecError::TooLarge { width: h.width, height: h.height, limit: self.max_pixels });
        }
        Ok(())
    }

    fn latents_of(&self, file: &ImageFile<'_>, t: u32, tile: &Tile) -> Result<Latents> {
        let (w, h) = tile.ext_size();
        let chunk = |fourcc, index| file.chunk(fourcc, t, index).map(|c| &*c.payload);
        decode_latents(&self.model.inner, chunk, w, h, None).map_err(|e| match e {
            CodecError::MissingChunk(what) => CodecError::MissingChunk(format!("{what} tile {t}")),
            other => other,
        })
    }

    /// Decodes every tile (in parallel) and blends the overlaps.
    fn decode_tiles(&self, file: &ImageFile<'_>) -> Result<RgbImage> {
        let h = &file.header;
        let m = &self.model.inner;
        let overlap = h.tiling.map_or(0, |t| u32::from(t.overlap));
        let tiles = layout(h);
        // Σ weight · pixel; the ramps sum to one, so no normalisation pass is needed.
        let acc = Mutex::new(vec![0f32; h.width as usize * h.height as usize * 3]);
        tiles.par_iter().enumerate().try_for_each(|(t, tile)| -> Result<()> {
            let latents = self.latents_of(file, t as u32, tile)?;
            let (tw, th) = tile.ext_size();
            let x_hat = m.net.reconstruct(latents, h.quality.as_f64(), &self.model.device);
            let part = pixels::from_tensor(x_hat, tw, th);
            let wy: Vec<f32> = (tile.ext_y.0..tile.ext_y.1)
                .map(|y| axis_weight(y, tile.cell_y, tile.ext_y, overlap))
                .collect();
            let wx: Vec<f32> = (tile.ext_x.0..tile.ext_x.1)
                .map(|x| axis_weight(x, tile.cell_x, tile.ext_x, overlap))
                .collect();
            let mut acc = acc.lock().map_err(|_| CodecError::Corrupt("a tile decoder panicked".into()))?;
            for (dy, &wyv) in wy.iter().enumerate() {
                let row = (tile.ext_y.0 as usize + dy) * h.width as usize;
                for (dx, &wxv) in wx.iter().enumerate() {
                    let w = wyv * wxv;
                    if w == 0.0 {
                        continue;
                    }
                    let p = part.get_pixel(dx as u32, dy as u32);
                    let o = (row + tile.ext_x.0 as usize + dx) * 3;
                    for c in 0..3 {
                        acc[o + c] += w * f32::from(p[c]);
                    }
                }
            }
            Ok(())
        })?;
        let acc = acc.into_inner().map_err(|_| CodecError::Corrupt("a tile decoder panicked".into()))?;
        let data = acc.into_iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect();
        RgbImage::from_raw(h.width, h.height, data).ok_or_else(|| CodecError::Corrupt("tile layout".into()))
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
        let quality = h.quality.as_f64();
        let rgb = if h.tiling.is_none() {
            let tile = Tile {
                cell_x: (0, h.width),
                cell_y: (0, h.height),
                ext_x: (0, h.width),
                ext_y: (0, h.height),
            };
            let latents = self.latents_of(&file, 0, &tile)?;
            pixels::from_tensor(m.net.reconstruct(latents, quality, &self.model.device), h.width, h.height)
        } else {
            self.decode_tiles(&file)?
        };
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

/// Entropy-decodes the latent of one `w`×`h` picture (a tile or a video frame) from its
/// `LATS` payload, or (format 1.0/1.1) its `HYPZ` and `LATY` payloads (`chunk(type, index)`);
/// with `prev`, as an inter frame. A picture holds one layout or the other, never both.
pub(crate) fn decode_latents<'c>(
    m: &lic_models::CodecModel,
    chunk: impl Fn(FourCc, u16) -> Option<&'c [u8]>,
    w: u32,
    h: u32,
    prev: Option<&Latents>,
) -> Result<Latents> {
    let (pw, ph) = (pixels::padded(w), pixels::padded(h));
    let z_shape = [m.config.z_channels, ph / pixels::ALIGN, pw / pixels::ALIGN];
    if let Some(payload) = chunk(FourCc::LATENTS, 0) {
        let slices = m.config.slices.len();
        if chunk(FourCc::HYPER_LATENT, 0).is_some()
            || (0..slices).any(|i| chunk(FourCc::LATENT, i as u16).is_some())
        {
            return Err(CodecError::Corrupt("both a LATS chunk and HYPZ/LATY chunks".into()));
        }
        return decode_single_stream(m, payload, z_shape, prev);
    }
    let z_payload =
        chunk(FourCc::HYPER_LATENT, 0).ok_or_else(|| CodecError::MissingChunk("LATS (or HYPZ)".into()))?;
    let z = m.z_coder.decode(z_payload, &z_table_indices(z_shape))?;
    // A slice's parts share one stream (anchors first): it stays open between them.
    let mut open: Option<(usize, lic_entropy::StreamDecoder<'_>)> = None;
    let latents = m.exact.run_with(&z, z_shape, prev, |i, part, _mu, sigma| {
        let bins: Vec<u16> = sigma.iter().map(|&s| m.scales.bin(s)).collect();
        let mut stream = match open.take() {
            Some((j, stream)) if j == i && part == Part::NonAnchors => stream,
            other => {
                if let Some((_, stream)) = other {
                    stream.finish()?;
                }
                let payload = chunk(FourCc::LATENT, i as u16)
                    .ok_or_else(|| CodecError::MissingChunk(format!("LATY slice {i}")))?;
                m.y_coder.stream(payload)?
            }
        };
        let symbols = stream.decode(&bins)?;
        open = Some((i, stream));
        Ok::<_, CodecError>(symbols)
    })?;
    if let Some((_, stream)) = open {
        stream.finish()?;
    }
    Ok(latents)
}

/// [`decode_latents`] from one `LATS` stream: `z`, then each slice's parts in coding order.
fn decode_single_stream(
    m: &lic_models::CodecModel,
    payload: &[u8],
    z_shape: [usize; 3],
    prev: Option<&Latents>,
) -> Result<Latents> {
    let mut stream = m.z_coder.stream(payload)?;
    let z = stream.decode(&z_table_indices(z_shape))?;
    let latents = m.exact.run_with(&z, z_shape, prev, |_, _, _mu, sigma| {
        let bins: Vec<u16> = sigma.iter().map(|&s| m.scales.bin(s)).collect();
        Ok::<_, CodecError>(stream.decode_with(&m.y_coder, &bins)?)
    })?;
    stream.finish()?;
    Ok(latents)
}
