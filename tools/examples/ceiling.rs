//! Where a model's rate–distortion curve tops out: for each quality, the Kodak PSNR of the
//! transforms alone, `g_s(g_a(x))` with the gains of that quality and **no quantisation**
//! (the ceiling no bit budget can pass), beside the PSNR with the latent rounded.
//!
//! ```sh
//! cargo run --example ceiling -- [WEIGHTS.safetensors] [IMAGES]
//! ```
//!
//! Without a weights file it measures the embedded default model; `IMAGES` limits the run to
//! the first Kodak images (all 24 by default). Data is found as everywhere else (`LIC_DATA`,
//! then `../shared/datasets`).
//!
//! The rounded column rounds `y` itself, not its residual around the context model's mean as
//! the codec does, so it is a close stand-in for the coded PSNR, not the coded PSNR; the real
//! curve is `lic bench`'s.

use std::error::Error;
use std::path::Path;

use burn::tensor::Device;
use lic_models::net::QUALITIES;
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};

mod common;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let weights = match args.next() {
        Some(path) if path != "-" => Weights::from_path(Path::new(&path))?,
        _ => Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS)?,
    };
    let limit: usize = match args.next() {
        Some(n) => n.parse().map_err(|e| format!("IMAGES must be a count: {e}"))?,
        None => usize::MAX,
    };
    let device = Device::flex();
    let model = CodecModel::load(weights, &device)?;
    let net = &model.net;
    let files = &common::kodak_images(limit)?;

    // The model's quality levels, 1 ..= 8.
    let qualities: Vec<f64> = (1..=QUALITIES).map(|q| q as f64).collect();
    let (mut ceiling, mut rounded) = ([0.0f64; QUALITIES], [0.0f64; QUALITIES]);
    for file in files {
        let img = lic_datasets::load_image(file)?.into_rgb8();
        // The analysis runs once; the gains only scale its output.
        let y = net.g_a.forward(lic_codec::image_to_tensor(&img, &device));
        // RGB PSNR on the 8-bit output, as `lic bench` measures it.
        let psnr =
            |x_hat| lic_tests::psnr(&img, &lic_codec::tensor_to_image(x_hat, img.width(), img.height()));
        for (i, &q) in qualities.iter().enumerate() {
            let (gain, inv_gain) = net.gains(q);
            let scaled = y.clone() * gain;
            ceiling[i] += psnr(net.g_s.forward(scaled.clone() * inv_gain.clone()));
            rounded[i] += psnr(net.g_s.forward(scaled.round() * inv_gain));
        }
        eprintln!("{}", file.display());
    }
    let n = files.len() as f64;
    println!("model {}, Kodak[{}]", model.weights.id().name, files.len());
    println!("| quality | ceiling, no quantisation (dB) | y rounded (dB) |");
    println!("|---:|---:|---:|");
    for (i, q) in qualities.iter().enumerate() {
        println!("| {q} | {:.2} | {:.2} |", ceiling[i] / n, rounded[i] / n);
    }
    Ok(())
}
