//! The entropy-parameter path is platform-independent: its outputs are pinned bit for bit,
//! do not depend on the thread count, and match Burn's float networks to rounding error.
//!
//! Bless after shipping new weights: `LIC_BLESS=1 cargo test --workspace --test determinism` (with `--workspace`: `-p lic-tests` resolves Burn's features differently and rebuilds it).

use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use lic_codec::{Backend, Decoder, Encoder, Model};
use lic_models::net::ExactParams;
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};
use sha2::{Digest, Sha256};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance").join("model")
}

/// A 200×136 test image with edges, gradients and texture (no data files needed).
fn test_image() -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(200, 136, |x, y| {
        let t = ((x * 7 + y * 13) % 29) as u8 * 4;
        let edge: u8 = if (x / 25 + y / 17) % 2 == 0 { 180 } else { 40 };
        image::Rgb([edge.saturating_add(t / 2), ((x * 255) / 200) as u8, ((y * 255) / 136) as u8 ^ t])
    }))
}

fn latent_digest(tiles: &[lic_codec::Latents]) -> String {
    let mut h = Sha256::new();
    for v in tiles.iter().flat_map(|t| &t.y_hat) {
        h.update(v.to_bits().to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The committed file decodes to the committed latents, bit for bit, on this machine. CI on
/// another CPU or OS running this is the cross-platform check.
#[test]
fn pinned_file_decodes_to_pinned_latents() {
    let model = Model::embedded(Backend::Cpu).expect("model");
    let dir = vector_dir();
    let (file, expected) = (dir.join("synthetic-q4.lic"), dir.join("synthetic-q4.latents.sha256"));
    if std::env::var_os("LIC_BLESS").is_some() {
        std::fs::create_dir_all(&dir).expect("dir");
        let bytes = Encoder::new(&model).encode(&test_image()).expect("encode");
        let lat = Decoder::new(&model).latents(&bytes).expect("latents");
        std::fs::write(&file, &bytes).expect("write");
        std::fs::write(&expected, latent_digest(&lat) + "\n").expect("write");
    }
    let bytes = std::fs::read(&file).expect("vector present (bless with LIC_BLESS=1)");
    let lat = Decoder::new(&model).latents(&bytes).unwrap_or_else(|e| {
        panic!(
            "{e}: the vector was made with other weights; re-bless with LIC_BLESS=1 after shipping a model"
        )
    });
    let want = std::fs::read_to_string(&expected).expect("digest");
    assert_eq!(latent_digest(&lat), want.trim(), "decoded latents differ from the pinned ones");
}

/// One thread or several: the same bits.
#[test]
fn thread_count_does_not_change_latents() {
    let model = Model::embedded(Backend::Cpu).expect("model");
    let bytes = Encoder::new(&model).quality(6.5).and_then(|e| e.encode(&test_image())).expect("encode");
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| latent_digest(&Decoder::new(&model).latents(&bytes).expect("latents")))
    };
    assert_eq!(run(1), run(3));
}

/// The exact path computes the same network as Burn's modules (to float rounding).
#[test]
fn exact_path_matches_burn_networks() {
    let device = Device::flex();
    let weights = Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS).expect("weights");
    let m = CodecModel::load(weights, &device).expect("model");
    let exact = ExactParams::new(&m.net).expect("exact");
    let img = test_image().to_rgb8();
    let q = m.net.quantise(&exact, lic_codec::image_to_tensor(&img, &device), 4.0, &m.scales);
    let [zc, zh, zw] = q.z_shape;
    let z: Vec<f32> = q.z_symbols.iter().map(|&v| v as f32).collect();
    let z = Tensor::<1>::from_floats(z.as_slice(), &device).reshape([1, zc, zh, zw]);
    // Burn's float path, slice by slice, fed the same symbols.
    let hyper = m.net.h_s.forward(z);
    let [_, _, h, w] = hyper.dims();
    let mut decoded: Vec<Tensor<4>> = Vec::new();
    let mut worst = 0f32;
    let mut mus = Vec::new();
    let lat = exact
        .run(&q.z_symbols, q.z_shape, |i, mu, _sigma| {
            mus.push(mu.to_vec());
            Ok::<_, std::convert::Infallible>(q.y_symbols[i].clone())
        })
        .unwrap_or_else(|e| match e {});
    for (i, &s) in m.net.slices.iter().enumerate() {
        let ctx = Tensor::cat([vec![hyper.clone()], decoded.clone()].concat(), 1);
        let params = m.net.slice_params[i].forward(ctx.clone());
        let mu = params.narrow(1, 0, s);
        let burn_mu: Vec<f32> = mu.clone().into_data().iter::<f32>().collect();
        worst = burn_mu.iter().zip(&mus[i]).fold(worst, |w, (a, b)| w.max((a - b).abs()));
        let sym: Vec<f32> = q.y_symbols[i].iter().map(|&v| v as f32).collect();
        let y = Tensor::<1>::from_floats(sym.as_slice(), &device).reshape([1, s, h, w]) + mu;
        let lrp = m.net.slice_lrp[i].forward(Tensor::cat(vec![ctx, y.clone()], 1));
        decoded.push(y + lrp.tanh().mul_scalar(0.5));
    }
    let burn_y: Vec<f32> = Tensor::cat(decoded, 1).into_data().iter::<f32>().collect();
    let worst_y = burn_y.iter().zip(&lat.y_hat).fold(0f32, |w, (a, b)| w.max((a - b).abs()));
    assert!(worst < 1e-3 && worst_y < 1e-3, "exact vs Burn: μ off by {worst}, ŷ off by {worst_y}");
}

/// Tiled files: each tile decodes on its own, seams are blended, and the cost over one
/// piece is small.
#[test]
fn tiled_coding_round_trips() {
    let model = Model::embedded(Backend::Cpu).expect("model");
    let img = test_image();
    let whole = Encoder::new(&model).tiles(None).and_then(|e| e.encode(&img)).expect("encode");
    let tiled = Encoder::new(&model).tiles(Some((128, 16))).and_then(|e| e.encode(&img)).expect("encode");
    let file = lic_bitstream::ImageFile::parse(&tiled).expect("parse");
    assert_eq!(file.header.tile_count(), 4);
    let d = Decoder::new(&model);
    assert_eq!(d.latents(&tiled).expect("latents").len(), 4);
    let (a, b) = (d.decode(&whole).expect("decode"), d.decode(&tiled).expect("decode"));
    assert_eq!((b.width(), b.height()), (200, 136));
    let psnr = |x: &image::DynamicImage| {
        let (p, q) = (img.to_rgb8(), x.to_rgb8());
        let se: f64 = p.iter().zip(q.iter()).map(|(&u, &v)| (f64::from(u) - f64::from(v)).powi(2)).sum();
        10.0 * (255.0f64.powi(2) * p.len() as f64 / se).log10()
    };
    let (pa, pb) = (psnr(&a), psnr(&b));
    eprintln!("whole {} bytes {pa:.3} dB; tiled {} bytes {pb:.3} dB", whole.len(), tiled.len());
    assert!((pa - pb).abs() < 1.0, "tiling changed PSNR from {pa:.2} to {pb:.2} dB");
    assert!(Encoder::new(&model).tiles(Some((100, 8))).is_err());
    assert!(Encoder::new(&model).tiles(Some((64, 32))).is_err());
}
