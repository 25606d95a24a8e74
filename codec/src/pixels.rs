//! Images to tensors and back: padding to the model's 64-pixel grid, cropping after.

use burn::tensor::{Device, Tensor, TensorData};
use image::{DynamicImage, GrayImage, RgbImage};

use crate::error::{CodecError, Result};

/// The model's total down-sampling (latent 16×, hyper-latent 4× more).
pub const ALIGN: usize = 64;

/// Size rounded up to the grid.
pub fn padded(v: u32) -> usize {
    (v as usize).div_ceil(ALIGN) * ALIGN
}

/// What the encoder codes: 3 colour channels, the alpha plane if any, and what the file
/// says the source had.
pub struct Source {
    /// RGB samples (gray sources are replicated to 3 channels).
    pub rgb: RgbImage,
    /// The alpha plane, coded losslessly beside the colour.
    pub alpha: Option<GrayImage>,
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    pub channels: u8,
}

/// Accepts gray, gray + alpha, RGB and RGBA at any bit depth; samples deeper than 8 bits
/// are reduced to 8 (callers that want to say so check [`reduces_depth`]).
pub fn source(img: &DynamicImage) -> Result<Source> {
    if img.width() == 0 || img.height() == 0 {
        return Err(CodecError::InvalidArgument("empty image".into()));
    }
    let colour = img.color();
    let alpha = colour.has_alpha().then(|| {
        let la = img.to_luma_alpha8();
        GrayImage::from_fn(img.width(), img.height(), |x, y| image::Luma([la.get_pixel(x, y)[1]]))
    });
    let channels = match (colour.has_color(), colour.has_alpha()) {
        (false, false) => 1,
        (false, true) => 2,
        (true, false) => 3,
        (true, true) => 4,
    };
    Ok(Source { rgb: img.to_rgb8(), alpha, channels })
}

/// Whether coding `img` loses sample depth (it has more than 8 bits per sample).
pub fn reduces_depth(img: &DynamicImage) -> bool {
    img.color().bytes_per_pixel() / img.color().channel_count() > 1
}

/// An RGB image as the networks take it: `[1, 3, H', W']` in [0, 1], H' and W' padded to the
/// 64-pixel grid by repeating edge pixels
/// (cheap to code, and it keeps the padding out of the visible image's statistics).
pub fn to_tensor(img: &RgbImage, device: &Device) -> Tensor<4> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (pw, ph) = (padded(img.width()), padded(img.height()));
    let mut data = vec![0f32; 3 * pw * ph];
    for y in 0..ph {
        for x in 0..pw {
            let p = img.get_pixel(x.min(w - 1) as u32, y.min(h - 1) as u32);
            for c in 0..3 {
                data[c * pw * ph + y * pw + x] = f32::from(p[c]) / 255.0;
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [1, 3, ph, pw]), device)
}

/// Crops a `[1, 3, H', W']` reconstruction to `width × height` and rounds to 8 bits.
pub fn from_tensor(x_hat: Tensor<4>, width: u32, height: u32) -> RgbImage {
    let [_, _, ph, pw] = x_hat.dims();
    let values: Vec<f32> = x_hat.clamp(0.0, 1.0).into_data().iter::<f32>().collect();
    RgbImage::from_fn(width, height, |x, y| {
        let at = |c: usize| {
            let v = values[c * pw * ph + y as usize * pw + x as usize];
            (v * 255.0).round() as u8
        };
        image::Rgb([at(0), at(1), at(2)])
    })
}
