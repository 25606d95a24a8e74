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
//! Sizes are whole files: the entropy-coded payloads (`HYPZ` + `LATY` chunks, as the encoder
//! writes them) plus the container around them, measured once per point with the real
//! encoder. PSNR is RGB on the 8-bit output of the decoder's reconstruction from the coded
//! latents.
//!
//! The loss codes with rounding in the forward pass: straight-through for the distortion,
//! and for the rate the gradient of the unrounded residual's rate (Yang et al. 2020 found
//! soft rounding better, at more iterations than a CPU encoder can afford). Adam steps on
//! `y`; the iterate with the lowest loss is taken, and it is kept only when its real loss
//! `λ·255²·MSE + bpp` (coded size, 8-bit PSNR) beats the unrefined one's, so refinement never
//! makes a point worse. The refined curve (`refined.json` under `LIC_REFINE_OUT`) is that
//! of the kept points.

use std::error::Error;
use std::path::Path;

use burn::tensor::{Device, Tensor};
use lic_models::net::{ImageModel, LAMBDAS, QUALITIES, gaussian_likelihood};
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};

mod common;

/// Rounds forward, identity backward.
fn ste(x: Tensor<4>) -> Tensor<4> {
    x.clone() + (x.clone().round() - x).detach()
}

/// `λ·255²·MSE + bpp` of coding `y` (gains applied) with rounding in the forward pass, the
/// slices decoded in order as the codec decodes them. Gradients: straight-through for what
/// the synthesis and the later slices see, the unrounded residual's for the rate.
fn rd_loss(net: &ImageModel, y: Tensor<4>, x: &Tensor<4>, inv_gain: &Tensor<4>, lambda: f64) -> Tensor<1> {
    let z_hat = ste(net.h_a.forward(y.clone()));
    let z_bits = net.prior.likelihood(z_hat.clone()).log().sum();
    let hyper = net.h_s.forward(z_hat);
    let mut decoded: Vec<Tensor<4>> = Vec::new();
    let mut y_bits = Vec::new();
    let mut start = 0;
    for (i, &s) in net.slices.iter().enumerate() {
        let ctx = Tensor::cat([vec![hyper.clone()], decoded.clone()].concat(), 1);
        let params = net.slice_params[i].forward(ctx.clone());
        let mu = params.clone().narrow(1, 0, s);
        let r = y.clone().narrow(1, start, s) - mu.clone();
        let q = ste(r.clone());
        let zeros = Tensor::zeros(q.dims(), &q.device());
        let sigma = params.narrow(1, s, s);
        let coded = gaussian_likelihood(r.clone().round(), zeros.clone(), sigma.clone()).log();
        let soft = gaussian_likelihood(r, zeros, sigma).log();
        // The value is the rounded residuals' rate; the gradient is that of the rate at the
        // unrounded residual, which pulls residuals toward the mean even where they round to
        // zero (a straight-through gradient there is zero, and the distortion term alone
        // pushes symbols out of the zero bin).
        y_bits.push((soft.clone() + (coded - soft).detach()).sum());
        decoded.push(net.predict_residual(i, ctx, q + mu));
        start += s;
    }
    let x_hat = net.g_s.forward(Tensor::cat(decoded, 1) * inv_gain.clone());
    let [_, _, h, w] = x.dims();
    let bits = (Tensor::cat(y_bits, 0).sum() + z_bits).div_scalar(-std::f64::consts::LN_2);
    let mse = (x_hat - x.clone()).powi_scalar(2).mean();
    mse.mul_scalar(lambda * 255.0 * 255.0) + bits.div_scalar((h * w) as f64)
}

/// Real payload bytes and decoded 8-bit PSNR of coding `y` at `quality`.
fn code(
    model: &CodecModel,
    img: &image::RgbImage,
    y: Tensor<4>,
    quality: f64,
    device: &Device,
) -> Result<(usize, f64), Box<dyn Error>> {
    let coded = model.net.quantise_latent(&model.exact, y, &model.scales, None);
    let mut bytes = model.z_coder.encode(&coded.z_symbols, &coded.z_tables)?.len();
    for (symbols, bins) in coded.y_symbols.iter().zip(&coded.y_bins) {
        bytes += model.y_coder.encode(symbols, bins)?.len();
    }
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
            let (_, inv_gain) = net.gains(quality);
            let y0 = net.analyse(x.clone(), quality);
            let started = std::time::Instant::now();
            let (mut y, mut m, mut v) = (y0.clone(), y0.zeros_like(), y0.zeros_like());
            let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
            // With straight-through rounding the forward loss is the coded loss (up to the
            // entropy coder's overhead), so the best iterate can be kept on its value.
            let (mut best, mut best_loss, mut best_at, mut first_loss) = (y.clone(), f64::INFINITY, 0, 0.0);
            for t in 1..=iterations + 1 {
                let tracked = y.clone().autodiff().require_grad();
                let loss = rd_loss(net, tracked.clone(), &x, &inv_gain, lambda);
                let value = loss.clone().into_scalar::<f32>() as f64;
                if t == 1 {
                    first_loss = value;
                }
                if value < best_loss {
                    (best, best_loss, best_at) = (y.clone(), value, t - 1);
                }
                if t > iterations {
                    break;
                }
                let grads = loss.backward();
                let g = tracked.grad(&grads).ok_or("no gradient for y")?;
                m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
                v = v.mul_scalar(b2) + g.powi_scalar(2).mul_scalar(1.0 - b2);
                let m_hat = m.clone().div_scalar(1.0 - b1.powi(t as i32));
                let v_hat = v.clone().div_scalar(1.0 - b2.powi(t as i32));
                // Step size decays linearly to a tenth, so the last steps settle.
                let step = lr * (1.0 - 0.9 * (t - 1) as f64 / iterations as f64);
                y = y - (m_hat / v_hat.sqrt().add_scalar(eps)).mul_scalar(step);
            }
            let seconds = started.elapsed().as_secs_f64();
            eprintln!("{q}: loss {first_loss:.4} -> best {best_loss:.4} at iteration {best_at}");
            let y = best;
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
