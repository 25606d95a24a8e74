//! The fields of a file's header: model identity, quality, geometry and tiling.

use std::fmt;

use crate::error::{BitstreamError, Result};

/// Largest width or height a v1 file may declare.
pub const MAX_DIMENSION: u32 = (1 << 24) - 1;
/// Longest model name, in bytes of UTF-8.
pub const MAX_MODEL_NAME_LEN: usize = 64;
/// Most tiles a file may declare.
pub const MAX_TILES: u64 = 1 << 20;
/// Tile sizes must be multiples of this (the model's total down-sampling, hyperprior included).
pub const TILE_ALIGN: u32 = 64;

/// Identity of the exact weights a file was coded with.
///
/// A decoder compares the digest with the model it holds and refuses a mismatch, because
/// decoding with other weights produces garbage rather than an error. The name is for people
/// (`lic info`); a model found by its digest may carry another name today.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    /// Human-readable name, e.g. `lic-mbt-v1` (1 to 64 bytes of UTF-8).
    pub name: String,
    /// SHA-256 of the weights file's bytes.
    pub digest: [u8; 32],
}

impl ModelId {
    /// The digest as 64 lower-case hex digits.
    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelId({} sha256:{})", self.name, self.digest_hex())
    }
}

/// A quality parameter in fixed point: thousandths, so `3.5` is stored as `3500`.
///
/// Fixed point makes the value in the file exact: what an encoder records is precisely what
/// every decoder reads back, whatever float rounding the command line or caller used.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Quality(u16);

impl Quality {
    /// Fixed-point steps per unit of quality.
    pub const SCALE: u16 = 1000;

    /// From thousandths of a quality unit.
    pub const fn from_milli(milli: u16) -> Self {
        Self(milli)
    }

    /// The nearest representable quality to `q`; `None` if `q` is not finite or outside
    /// `0 ..= 65.535`.
    pub fn from_f64(q: f64) -> Option<Self> {
        let milli = (q * f64::from(Self::SCALE)).round();
        (q.is_finite() && (0.0..=f64::from(u16::MAX)).contains(&milli)).then_some(Self(milli as u16))
    }

    /// Thousandths of a quality unit, as stored.
    pub const fn milli(self) -> u16 {
        self.0
    }

    /// The quality as a float (exact for every stored value).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / Self::SCALE, self.0 % Self::SCALE);
        if frac == 0 {
            write!(f, "{int}")
        } else {
            let digits = format!("{frac:03}");
            write!(f, "{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// How the decoded samples are to be interpreted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ColourSpace {
    /// sRGB primaries and transfer curve (grayscale: sRGB transfer curve).
    Srgb = 0,
    /// Not stated; an `iCCP` chunk, when present, describes the samples.
    Unspecified = 1,
}

impl ColourSpace {
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Srgb),
            1 => Some(Self::Unspecified),
            _ => None,
        }
    }
}

/// Optional tiling: the image is coded as independent rectangular tiles.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tiling {
    /// Tile width in pixels (a multiple of 64).
    pub tile_width: u32,
    /// Tile height in pixels (a multiple of 64).
    pub tile_height: u32,
    /// Pixels each tile extends into its neighbours on every inner edge, to hide seams.
    pub overlap: u16,
}

/// The header of an image file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ImageHeader {
    /// The weights the file was coded with.
    pub model: ModelId,
    /// The quality it was coded at.
    pub quality: Quality,
    /// Width in pixels (1 ..= 16,777,215).
    pub width: u32,
    /// Height in pixels (1 ..= 16,777,215).
    pub height: u32,
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    pub channels: u8,
    /// Bits per sample of the source and of the decoded output: 8 or 16.
    pub bit_depth: u8,
    /// Interpretation of the samples.
    pub colour_space: ColourSpace,
    /// Tiling, or `None` for a single tile covering the image.
    pub tiling: Option<Tiling>,
}

impl ImageHeader {
    /// Number of tiles (1 when untiled).
    pub fn tile_count(&self) -> u64 {
        match self.tiling {
            None => 1,
            Some(t) => {
                let across = u64::from(self.width).div_ceil(u64::from(t.tile_width.max(1)));
                let down = u64::from(self.height).div_ceil(u64::from(t.tile_height.max(1)));
                across * down
            }
        }
    }

    /// Whether the image has an alpha channel (2 or 4 channels).
    pub fn has_alpha(&self) -> bool {
        self.channels == 2 || self.channels == 4
    }

    /// Checks every field against the ranges of FORMAT.md; `offset` locates errors.
    pub(crate) fn validate(&self, offset: usize) -> Result<()> {
        let bad =
            |field: &'static str, reason: String| Err(BitstreamError::InvalidField { field, offset, reason });
        validate_model_and_size(&self.model, self.width, self.height, offset)?;
        if !(1..=4).contains(&self.channels) {
            return bad("channels", format!("{} is not 1, 2, 3 or 4", self.channels));
        }
        if self.bit_depth != 8 && self.bit_depth != 16 {
            return bad("bit depth", format!("{} is not 8 or 16", self.bit_depth));
        }
        if let Some(t) = self.tiling {
            for (field, v) in [("tile width", t.tile_width), ("tile height", t.tile_height)] {
                if v == 0 || v % TILE_ALIGN != 0 || v > MAX_DIMENSION {
                    return bad(field, format!("{v} is not a non-zero multiple of {TILE_ALIGN}"));
                }
            }
            let smaller = t.tile_width.min(t.tile_height);
            if u32::from(t.overlap) * 2 >= smaller {
                return bad("tile overlap", format!("{} is not below half the tile size", t.overlap));
            }
            if self.tile_count() > MAX_TILES {
                return bad("tiling", format!("{} tiles exceed the limit of {MAX_TILES}", self.tile_count()));
            }
        }
        Ok(())
    }
}

/// The checks image and sequence headers share: model-name length and picture size.
pub(crate) fn validate_model_and_size(model: &ModelId, width: u32, height: u32, offset: usize) -> Result<()> {
    let bad =
        |field: &'static str, reason: String| Err(BitstreamError::InvalidField { field, offset, reason });
    let name_len = model.name.len();
    if name_len == 0 || name_len > MAX_MODEL_NAME_LEN {
        return bad("model name", format!("length {name_len} is not in 1..={MAX_MODEL_NAME_LEN}"));
    }
    for (field, v) in [("width", width), ("height", height)] {
        if v == 0 || v > MAX_DIMENSION {
            return bad(field, format!("{v} is not in 1..={MAX_DIMENSION}"));
        }
    }
    Ok(())
}
