//! The alpha plane, coded losslessly as an 8-bit grayscale PNG (the `image` crate's encoder:
//! adaptive filtering plus deflate, which suits the large flat regions alpha masks have).

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ExtendedColorType, GrayImage, ImageDecoder, ImageEncoder};

use crate::error::{CodecError, Result};

/// PNG bytes of `alpha`.
pub fn encode(alpha: &GrayImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::Adaptive)
        .write_image(alpha.as_raw(), alpha.width(), alpha.height(), ExtendedColorType::L8)
        .map_err(|e| CodecError::InvalidArgument(format!("alpha plane: {e}")))?;
    Ok(out)
}

/// Decodes an `ALPH` payload, which must be an 8-bit gray PNG of exactly `width × height`.
pub fn decode(payload: &[u8], width: u32, height: u32) -> Result<GrayImage> {
    let corrupt = |why: String| CodecError::Corrupt(format!("ALPH chunk: {why}"));
    let mut dec = PngDecoder::new(Cursor::new(payload)).map_err(|e| corrupt(e.to_string()))?;
    // The header already bounded the size; refuse a PNG that claims anything else before
    // allocating for it.
    if dec.dimensions() != (width, height) || dec.color_type() != image::ColorType::L8 {
        return Err(corrupt(format!(
            "{:?} {:?} plane for a {width}x{height} image",
            dec.dimensions(),
            dec.color_type()
        )));
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(u64::from(width) * u64::from(height) + (1 << 20));
    dec.set_limits(limits).map_err(|e| corrupt(e.to_string()))?;
    let mut buf = vec![0u8; (u64::from(width) * u64::from(height)) as usize];
    dec.read_image(&mut buf).map_err(|e| corrupt(e.to_string()))?;
    GrayImage::from_raw(width, height, buf).ok_or_else(|| corrupt("size mismatch".into()))
}
