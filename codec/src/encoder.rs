//! Encoding images into lic files.

use image::DynamicImage;
use lic_bitstream::{Chunk, ColourSpace, FourCc, ImageFile, ImageHeader, Quality, Tiling};

use crate::error::{CodecError, Result};
use crate::metadata::Metadata;
use crate::model::Model;
use crate::{alpha, pixels, tiles};

/// Lowest and highest quality (continuous in between).
pub const QUALITY_RANGE: (f64, f64) = (1.0, 8.0);

/// The result of [`Encoder::encode_to_size`].
#[derive(Clone, Debug)]
pub struct Targeted {
    /// The file.
    pub bytes: Vec<u8>,
    /// The quality it was coded at.
    pub quality: f64,
    /// Whether the size is within the requested tolerance.
    pub hit: bool,
}

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
    metadata: Metadata,
    tiling: TileChoice,
    refine: u32,
}

/// How an encoder splits images into tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TileChoice {
    /// Tile images above [`tiles::AUTO_TILE_PIXELS`] with [`tiles::DEFAULT_TILING`].
    Auto,
    /// Always this (or never, with `None`).
    Fixed(Option<Tiling>),
}

impl<'m> Encoder<'m> {
    /// An encoder at the default quality, 4.
    pub fn new(model: &'m Model) -> Self {
        Self {
            model,
            quality: Quality::from_milli(4000),
            metadata: Metadata::default(),
            tiling: TileChoice::Auto,
            refine: 0,
        }
    }

    /// Most refinement iterations [`Encoder::refine`] accepts.
    pub const MAX_REFINE: u32 = 1000;

    /// Refines each picture's latent by `iterations` steps of gradient descent on the
    /// image's own rate–distortion loss before coding it (0, the default, turns it off).
    /// Decoders need nothing new: only the choice of symbols changes. The refined latent is
    /// kept only when its coded size and 8-bit distortion beat the plain one's, so a picture
    /// never codes worse. Each iteration costs about two synthesis passes; 30 iterations make
    /// encoding ≈ 60× slower on a CPU and gain most at the top qualities (docs/refine).
    pub fn refine(mut self, iterations: u32) -> Result<Self> {
        if iterations > Self::MAX_REFINE {
            return Err(CodecError::InvalidArgument(format!(
                "{iterations} refinement iterations: at most {}",
                Self::MAX_REFINE
            )));
        }
        self.refine = iterations;
        Ok(self)
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

    /// Stores `metadata` (ICC profile, EXIF, XMP) verbatim in the file. With an ICC profile
    /// the header's colour space is "unspecified": the profile describes the samples.
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Codes the image as independent tiles of `tile × tile` pixels (a multiple of 64)
    /// overlapping by `overlap` pixels, or as one piece with `None`. By default images above
    /// 4 megapixels are tiled (1024, overlap 8) so memory stays bounded whatever the size.
    pub fn tiles(mut self, tiling: Option<(u32, u16)>) -> Result<Self> {
        let t = match tiling {
            None => None,
            Some((tile, overlap)) => {
                if tile == 0 || tile % 64 != 0 || 2 * u32::from(overlap) >= tile {
                    return Err(CodecError::InvalidArgument(format!(
                        "tile {tile} with overlap {overlap}: tiles are positive multiples of 64 and more than twice the overlap"
                    )));
                }
                Some(Tiling { tile_width: tile, tile_height: tile, overlap })
            }
        };
        self.tiling = TileChoice::Fixed(t);
        Ok(self)
    }

    /// Encodes `img` at the quality whose file size lands within `tolerance` (e.g. 0.03 for
    /// ±3%) of `target_bytes`, searching the continuous quality range. When the model cannot
    /// reach the target, the closest end of the range is used and [`Targeted::hit`] is false.
    ///
    /// With [`Encoder::refine`], the quality is searched with plain encodes and only the file
    /// at the quality found is refined (a search of refined encodes would cost a dozen of
    /// them). Refinement moves the size by a few percent, so the refined file is returned only
    /// where it still lands within the tolerance, or where the target was out of reach anyway.
    pub fn encode_to_size(
        &self,
        img: &DynamicImage,
        target_bytes: usize,
        tolerance: f64,
    ) -> Result<Targeted> {
        let found = self.search_size(img, target_bytes, tolerance)?;
        if self.refine == 0 {
            return Ok(found);
        }
        let refined = self.clone().quality(found.quality)?.encode(img)?;
        let within = ((refined.len() as f64) / target_bytes as f64 - 1.0).abs() <= tolerance;
        Ok(if within || !found.hit { Targeted { hit: within, bytes: refined, ..found } } else { found })
    }

    /// The search of [`Encoder::encode_to_size`], with plain (unrefined) encodes.
    fn search_size(&self, img: &DynamicImage, target_bytes: usize, tolerance: f64) -> Result<Targeted> {
        let (lo_q, hi_q) = QUALITY_RANGE;
        // The quality recorded is the fixed-point one the file stores.
        let at = |q: f64| -> Result<(f64, Vec<u8>)> {
            let e = Self { refine: 0, ..self.clone() }.quality(q)?;
            Ok((e.quality.as_f64(), e.encode(img)?))
        };
        let target = target_bytes as f64;
        let within = |len: usize| ((len as f64) / target - 1.0).abs() <= tolerance;
        let (mut lo, mut hi) = (at(lo_q)?, at(hi_q)?);
        if lo.1.len() as f64 >= target || within(lo.1.len()) {
            return Ok(Targeted { quality: lo.0, hit: within(lo.1.len()), bytes: lo.1 });
        }
        if (hi.1.len() as f64) <= target || within(hi.1.len()) {
            return Ok(Targeted { quality: hi.0, hit: within(hi.1.len()), bytes: hi.1 });
        }
        for _ in 0..12 {
            // Interpolate in log-size, which is close to linear in quality.
            let (l0, l1) = ((lo.1.len() as f64).ln(), (hi.1.len() as f64).ln());
            let t = ((target.ln() - l0) / (l1 - l0)).clamp(0.1, 0.9);
            let mid = at(lo.0 + t * (hi.0 - lo.0))?;
            if within(mid.1.len()) {
                return Ok(Targeted { quality: mid.0, hit: true, bytes: mid.1 });
            }
            if (mid.1.len() as f64) < target {
                lo = mid
            } else {
                hi = mid
            }
            if hi.0 - lo.0 < 0.002 {
                break;
            }
        }
        // Closest of the bracket.
        let best =
            if (lo.1.len() as f64 - target).abs() <= (hi.1.len() as f64 - target).abs() { lo } else { hi };
        Ok(Targeted { quality: best.0, hit: within(best.1.len()), bytes: best.1 })
    }

    /// Encodes `img` into a complete lic file: colour through the learned model, alpha (if
    /// any) losslessly, samples deeper than 8 bits reduced to 8.
    pub fn encode(&self, img: &DynamicImage) -> Result<Vec<u8>> {
        let src = pixels::source(img)?;
        let m = &self.model.inner;
        let (w, h) = src.rgb.dimensions();
        let tiling = match self.tiling {
            TileChoice::Fixed(t) => t,
            TileChoice::Auto if u64::from(w) * u64::from(h) > tiles::AUTO_TILE_PIXELS => {
                Some(tiles::DEFAULT_TILING)
            }
            TileChoice::Auto => None,
        };
        let layout = match &tiling {
            Some(t) => tiles::layout(w, h, t),
            None => vec![tiles::Tile { cell_x: (0, w), cell_y: (0, h), ext_x: (0, w), ext_y: (0, h) }],
        };
        let mut chunks = Vec::new();
        for (t, tile) in layout.iter().enumerate() {
            let (tw, th) = tile.ext_size();
            // Untiled images are read in place; only tiles are copied out.
            let part = if tiling.is_some() {
                std::borrow::Cow::Owned(
                    image::imageops::crop_imm(&src.rgb, tile.ext_x.0, tile.ext_y.0, tw, th).to_image(),
                )
            } else {
                std::borrow::Cow::Borrowed(&src.rgb)
            };
            let coded =
                encode_picture(self.model, &part, self.quality.as_f64(), t as u32, None, self.refine)?;
            chunks.extend(coded.chunks);
        }
        if let Some(a) = &src.alpha {
            chunks.push(Chunk::new(FourCc::ALPHA, 0, 0, alpha::encode(a)?));
        }
        chunks.extend(self.metadata.chunks());
        let header = ImageHeader {
            model: m.weights.id().clone(),
            quality: self.quality,
            width: src.rgb.width(),
            height: src.rgb.height(),
            channels: src.channels,
            bit_depth: 8,
            colour_space: if self.metadata.icc.is_some() {
                ColourSpace::Unspecified
            } else {
                ColourSpace::Srgb
            },
            tiling,
        };
        Ok(ImageFile::new(header, chunks).to_bytes()?)
    }
}

/// One coded picture: its chunks, the latent a decoder will reconstruct from them, and
/// whether it was coded as an inter frame.
pub(crate) struct Picture {
    pub chunks: Vec<Chunk<'static>>,
    pub latents: lic_models::net::Latents,
    pub inter: bool,
}

/// The `LATS` chunk of tile `t` for a quantised latent: one stream holding `z` (`z_coder`'s
/// tables), then the slices of `y` in coding order (`y_coder`'s). Separate `HYPZ`/`LATY`
/// chunks (format 1.0) cost a table entry and a final coder state per slice, ≈ 90 bytes a
/// picture: up to a tenth of a small video frame. Public so that training validation measures
/// the files the encoder writes.
pub fn latents_chunk(
    z_coder: &lic_entropy::TableSet,
    y_coder: &lic_entropy::TableSet,
    coded: &lic_models::net::Quantised,
    t: u32,
) -> Result<Chunk<'static>> {
    let mut parts = vec![(z_coder, &coded.z_symbols[..], &coded.z_tables[..])];
    parts.extend(coded.y_symbols.iter().zip(&coded.y_bins).map(|(s, b)| (y_coder, &s[..], &b[..])));
    Ok(Chunk::new(FourCc::LATENTS, t, 0, lic_entropy::encode_parts(&parts)?))
}

/// Codes one picture (a tile or a video frame): its `LATS` chunk for tile `t`.
/// When `prev`, the previous frame's decoded latent, is given, the frame is coded both as
/// an inter frame and as an intra frame and the smaller is kept: where the temporal model
/// does not help (a cut, fast motion), an intra frame costs less and also restarts the
/// reference chain. Distortion barely differs between the two (the same latent, rounded
/// around different means), so the size alone decides. With `refine` iterations, an intra
/// picture's latent is refined first ([`Encoder::refine`]).
pub(crate) fn encode_picture(
    model: &Model,
    rgb: &image::RgbImage,
    quality: f64,
    t: u32,
    prev: Option<&lic_models::net::Latents>,
    refine: u32,
) -> Result<Picture> {
    let m = &model.inner;
    let x = pixels::to_tensor(rgb, &model.device);
    let y = m.net.analyse(x.clone(), quality);
    let code = |y: burn::tensor::Tensor<4>, prev| -> Result<Coded> {
        let coded = m.net.quantise_latent(&m.exact, y, &m.scales, prev);
        let chunks = vec![latents_chunk(&m.z_coder, &m.y_coder, &coded, t)?];
        Ok(Coded { chunks, latents: coded.latents })
    };
    let plain = code(y.clone(), None)?;
    if prev.is_some() && m.exact.has_temporal() {
        let inter = code(y, prev)?;
        if inter.size() < plain.size() {
            return Ok(Picture { chunks: inter.chunks, latents: inter.latents, inter: true });
        }
    } else if refine > 0 && prev.is_none() {
        let visible = (rgb.width() as usize, rgb.height() as usize);
        let refined = m
            .net
            .refine_latent(&x, y, quality, visible, refine as usize, lic_models::net::REFINE_STEP)
            .ok_or_else(|| {
                CodecError::Backend("this backend computes no gradients, which refinement needs".into())
            })?;
        let refined = code(refined, None)?;
        // The refinement loss used the float networks' scales; the real file decides.
        if refined.loss(model, rgb, quality) < plain.loss(model, rgb, quality) {
            return Ok(Picture { chunks: refined.chunks, latents: refined.latents, inter: false });
        }
    }
    Ok(Picture { chunks: plain.chunks, latents: plain.latents, inter: false })
}

/// A latent coded into chunks, and what a decoder will decode from them.
struct Coded {
    chunks: Vec<Chunk<'static>>,
    latents: lic_models::net::Latents,
}

impl Coded {
    /// Payload bytes.
    fn size(&self) -> usize {
        self.chunks.iter().map(|c| c.payload.len()).sum()
    }

    /// The real rate–distortion loss `λ·255²·MSE + bpp` of these chunks for `rgb`: their
    /// payload size, and the distortion of the 8-bit image a decoder reconstructs.
    fn loss(&self, model: &Model, rgb: &image::RgbImage, quality: f64) -> f64 {
        let m = &model.inner;
        let x_hat = m.net.reconstruct(self.latents.clone(), quality, &model.device);
        let out = pixels::from_tensor(x_hat, rgb.width(), rgb.height());
        let sse: f64 =
            rgb.as_raw().iter().zip(out.as_raw()).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
        let samples = rgb.as_raw().len() as f64;
        let pixels = samples / 3.0;
        lic_models::net::lambda(quality) * sse / samples + self.size() as f64 * 8.0 / pixels
    }
}
