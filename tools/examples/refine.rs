//! Encoder-side latent refinement, measured: for each image and quality, the latent `y` that
//! `g_a` proposes is refined by gradient descent on the image's own rate–distortion loss with
//! the decoder (`h_a`, `h_s`, the slice networks, `g_s`) held fixed, then coded exactly as
//! the encoder codes any latent. The decoder and the format are untouched: only the choice of
//! symbols changes.
//!
//! ```sh
//! cargo run --release --example refine -- [ITERATIONS] [IMAGES] [QUALITIES] [LR]
//! ```
//!
//! Defaults: 30 iterations, the first 6 Kodak images, qualities 1–8, step size 0.02 (the
//! run in docs/refine/). Set `LIC_REFINE_OUT=DIR` to write both curves as CompressAI JSON,
//! and `LIC_WEIGHTS=FILE` to measure other weights than the embedded default. The debug
//! build (`cargo build --example refine`) runs the networks as fast: dependencies and
//! lic-models are optimised in every profile.
//!
//! Sizes are whole files: the entropy-coded payload (the `LATS` chunk, as the encoder
//! writes it) plus the container around them, measured once per point with the real
//! encoder. PSNR is RGB on the 8-bit output of the decoder's reconstruction from the coded
//! latents.
//!
//! The refinement is the encoder's own (`ImageModel::refine_latent`, which `lic encode
//! --refine N` runs); this harness adds the per-point table. As in the encoder, the refined
//! latent is kept only when its real loss `λ·255²·MSE + bpp` (coded size, 8-bit PSNR) beats
//! the unrefined one's, so refinement never makes a point worse. The refined curve
//! (`refined.json` under `LIC_REFINE_OUT`) is that of the kept points.

use std::error::Error;
use std::path::Path;

use burn::tensor::{Device, Tensor};
use lic_models::net::{LAMBDAS, QUALITIES};
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};

mod common;

/// Real payload bytes and decoded 8-bit PSNR of coding `y` at `quality`.
fn code(
    model: &CodecModel,
    img: &image::RgbImage,
    y: Tensor<4>,
    quality: f64,
    device: &Device,
) -> Result<(usize, f64), Box<dyn Error>> {
    let coded = model.net.quantise_latent(&model.exact, y, &model.scales, None);
    let bytes = lic_codec::latents_chunk(&model.z_coder, &model.y_coder, &coded, 0)?.payload.len();
    let x_hat = model.net.reconstruct(coded.latents, quality, device);
    let out = lic_codec::tensor_to_image(x_hat, img.width(), img.height());
    Ok((bytes, lic_tests::psnr(img, &out)))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let iterations: usize = args.next().map_or(Ok(30), |a| a.parse())?;
    let limit: usize = args.next().map_or(Ok(6), |a| a.parse())?;
    let qualities: Vec<usize> = match args.next() {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => (1..=QUALITIES).collect(),
    };
    if let Some(q) = qualities.iter().find(|&&q| !(1..=QUALITIES).contains(&q)) {
        return Err(format!("quality {q} is not a level 1 ..= {QUALITIES}").into());
    }
    let lr: f64 = args.next().map_or(Ok(0.02), |a| a.parse())?;
    let weights = match std::env::var("LIC_WEIGHTS") {
        Ok(path) => Weights::from_path(Path::new(&path))?,
        Err(_) => Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS)?,
    };
    // The network stays on the plain device: only `y` is tracked, so the backward pass
    // computes input gradients and no weight gradients.
    let device = Device::flex();
    // The real encoder, only to measure the container's bytes around the payloads, which
    // refinement does not change.
    let codec = lic_codec::Model::from_bytes(&weights.id().name, weights.bytes(), lic_codec::Backend::Cpu)?;
    let model = CodecModel::load(weights, &device)?;
    let mut curves = [[[0.0f64; 2]; 2]; QUALITIES];
    let net = &model.net;
    let files = &common::kodak_images(limit)?;
    println!("| image | q | bytes | PSNR | refined bytes | PSNR | loss change | kept | seconds |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|---:|");
    for file in files {
        let img = lic_datasets::load_image(file)?.into_rgb8();
        let x = lic_codec::image_to_tensor(&img, &device);
        let pixels = f64::from(img.width() * img.height());
        for &q in &qualities {
            let (quality, lambda) = (q as f64, LAMBDAS[q - 1]);
            let y0 = net.analyse(x.clone(), quality);
            let started = std::time::Instant::now();
            let visible = (img.width() as usize, img.height() as usize);
            let y = net
                .refine_latent(&x, y0.clone(), quality, visible, iterations, lr)
                .ok_or("no gradient for y")?;
            let seconds = started.elapsed().as_secs_f64();
            let (payload, p0) = code(&model, &img, y0, quality, &device)?;
            let (refined, p1) = code(&model, &img, y, quality, &device)?;
            let coded_file = lic_codec::Encoder::new(&codec)
                .quality(quality)?
                .encode(&image::DynamicImage::ImageRgb8(img.clone()))?;
            // Whole-file sizes: the same container wraps either set of payloads.
            let overhead = coded_file.len().checked_sub(payload).ok_or("file smaller than its payloads")?;
            let (b0, b1r) = (coded_file.len(), refined + overhead);
            let real = |bytes: usize, psnr: f64| {
                lambda * 255.0 * 255.0 * 10f64.powf(-psnr / 10.0) + bytes as f64 * 8.0 / pixels
            };
            // The encoder keeps the refined latent only when its real loss is lower: the
            // straight-through loss it was chosen on uses the float networks' scales, not the
            // coder's 64 scale bins, and can be off by a fraction of a percent.
            let change = real(b1r, p1) / real(b0, p0) - 1.0;
            let kept = if change < 0.0 { (b1r, p1) } else { (b0, p0) };
            for (k, (bytes, psnr)) in [(b0, p0), kept].into_iter().enumerate() {
                curves[q - 1][k][0] += bytes as f64 * 8.0 / pixels / files.len() as f64;
                curves[q - 1][k][1] += psnr / files.len() as f64;
            }
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            println!(
                "| {name} | {q} | {b0} | {p0:.3} | {b1r} | {p1:.3} | {:+.2}% | {} | {seconds:.1} |",
                100.0 * change,
                if change < 0.0 { "refined" } else { "unrefined" }
            );
        }
    }
    if let Ok(dir) = std::env::var("LIC_REFINE_OUT") {
        // CompressAI-format curves (means over the images), for `lic bench --reference`.
        for (k, name) in [(0, "unrefined"), (1, "refined")] {
            let points: Vec<usize> = qualities.iter().map(|&q| q - 1).collect();
            let json = serde_json::json!({
                "name": name,
                "description": format!("lic {name}: examples/refine.rs, {iterations} iterations, step {lr}; Kodak, first {} images", files.len()),
                "results": {
                    "bpp": points.iter().map(|&i| curves[i][k][0]).collect::<Vec<_>>(),
                    "psnr-rgb": points.iter().map(|&i| curves[i][k][1]).collect::<Vec<_>>(),
                }
            });
            let path = Path::new(&dir).join(format!("{name}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(())
}
