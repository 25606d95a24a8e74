//! How good the synthesis transform can get with the best latent: for a 256² crop of each
//! Kodak image, the latent `g_a` proposes at a quality's gains is optimised by Adam for the
//! MSE of `g_s`'s output alone (no rate term, no rounding), with `g_s` fixed. The gap between
//! `g_s(g_a(x))` and the optimum is the encoder's share of the curve's ceiling; what is left
//! above the optimum no encoder can reach with this decoder (docs/ablation-synthesis).
//!
//! ```sh
//! cargo run --example synthesis_ceiling -- [ITERATIONS] [IMAGES] [QUALITY] [STEP]
//! ```
//!
//! Defaults: 300 iterations, the first 3 Kodak images, quality 8, step 0.05 (decaying
//! linearly to a tenth). `LIC_WEIGHTS=FILE` measures other weights than the embedded default.

use std::error::Error;
use std::path::Path;

use burn::tensor::{Device, Tensor};
use lic_models::net::descend;
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};

mod common;

/// Side of the square crop taken from each image's centre region.
const CROP: u32 = 256;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args.next().map_or(Ok(300), |a| a.parse())?;
    let limit: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let quality: f64 = args.next().map_or(Ok(8.0), |a| a.parse())?;
    let step: f64 = args.next().map_or(Ok(0.05), |a| a.parse())?;
    if iterations == 0 || !(1.0..=8.0).contains(&quality) || step.is_nan() || step <= 0.0 {
        return Err("ITERATIONS ≥ 1, QUALITY in 1..=8 and STEP > 0".into());
    }
    let weights = match std::env::var("LIC_WEIGHTS") {
        Ok(path) => Weights::from_path(Path::new(&path))?,
        Err(_) => Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS)?,
    };
    let device = Device::flex();
    let model = CodecModel::load(weights, &device)?;
    let net = &model.net;
    println!("model {}, quality {quality}, {iterations} iterations", model.weights.id().name);
    println!("| crop | g_s(g_a(x)) (dB) | best latent (dB) | best latent, rounded (dB) |");
    println!("|---|---:|---:|---:|");
    for file in &common::kodak_images(limit)? {
        let img = lic_datasets::load_image(file)?.into_rgb8();
        if img.width() < 2 * CROP || img.height() < 2 * CROP {
            return Err(format!("{} is smaller than {}²", file.display(), 2 * CROP).into());
        }
        let img = image::imageops::crop_imm(&img, CROP / 2, CROP / 2, CROP, CROP).to_image();
        let x = lic_codec::image_to_tensor(&img, &device);
        let (gain, inv_gain) = net.gains(quality);
        let y0 = net.g_a.forward(x.clone()) * gain;
        let psnr = |y: Tensor<4>| {
            let x_hat = net.g_s.forward(y * inv_gain.clone());
            lic_tests::psnr(&img, &lic_codec::tensor_to_image(x_hat, CROP, CROP))
        };
        let start = psnr(y0.clone());
        // Adam on the latent, as `--refine` runs it, with the MSE alone as the loss.
        let y = descend(y0, iterations, step, |y| {
            (net.g_s.forward(y * inv_gain.clone()) - x.clone()).powi_scalar(2).mean()
        })
        .ok_or("this device computes no gradients")?;
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        println!("| {name} | {start:.2} | {:.2} | {:.2} |", psnr(y.clone()), psnr(y.round()));
    }
    Ok(())
}
