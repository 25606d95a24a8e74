//! Shared fixtures for lic's cross-crate tests (see `tests/`).

use std::path::PathBuf;

use lic_bitstream::{ColourSpace, ImageHeader, ModelId, Quality};
use safetensors::{Dtype, tensor::TensorView};

/// The data root tests use (`LIC_DATA` or `../shared/datasets`, relative to the workspace
/// root), or `None` with a message on stderr when it is absent, so the test can skip.
pub fn data_root_or_skip(what: &str) -> Option<PathBuf> {
    let root = match std::env::var_os(lic_datasets::DATA_ENV) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(lic_datasets::DEFAULT_DATA_ROOT),
    };
    if root.is_dir() {
        Some(root)
    } else {
        eprintln!("SKIPPED {what}: no data at {} (set LIC_DATA)", root.display());
        None
    }
}

/// A safetensors file holding float tensors and integer entropy tables, like a model export.
pub fn toy_weights(tables: &[lic_entropy::Distribution]) -> Vec<u8> {
    let offsets: Vec<u8> = tables.iter().flat_map(|d| d.offset().to_le_bytes()).collect();
    let lengths: Vec<u8> = tables.iter().flat_map(|d| (d.freqs().len() as i32).to_le_bytes()).collect();
    let freqs: Vec<u8> =
        tables.iter().flat_map(|d| d.freqs().iter().flat_map(|&f| (f as i32).to_le_bytes())).collect();
    let weights: Vec<u8> = (0..12).flat_map(|i| (i as f32 * 0.5).to_le_bytes()).collect();
    let n = tables.len();
    let total = freqs.len() / 4;
    let views = [
        ("g_a.0.weight", TensorView::new(Dtype::F32, vec![3, 4], &weights)),
        ("z.offsets", TensorView::new(Dtype::I32, vec![n], &offsets)),
        ("z.lengths", TensorView::new(Dtype::I32, vec![n], &lengths)),
        ("z.freqs", TensorView::new(Dtype::I32, vec![total], &freqs)),
    ];
    let views: Vec<(&str, TensorView<'_>)> = views
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_else(|e| panic!("fixture tensor {k}: {e}"))))
        .collect();
    safetensors::serialize(views, None).unwrap_or_else(|e| panic!("fixture serialises: {e}"))
}

/// A typical image header for `model`.
pub fn header(model: ModelId, width: u32, height: u32) -> ImageHeader {
    ImageHeader {
        model,
        quality: Quality::from_milli(4000),
        width,
        height,
        channels: 3,
        bit_depth: 8,
        colour_space: ColourSpace::Srgb,
        tiling: None,
    }
}

/// PSNR in dB over all RGB samples (the same definition `lic bench` reports).
pub fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let se: f64 =
        a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    10.0 * (255.0f64.powi(2) / (se / a.as_raw().len() as f64)).log10()
}
