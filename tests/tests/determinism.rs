//! The entropy-parameter path is platform-independent: its outputs are pinned bit for bit,
//! do not depend on the thread count, and match Burn's float networks to rounding error.
//!
//! Bless after shipping new weights: `LIC_BLESS=1 cargo test --workspace --test determinism` (with `--workspace`: `-p lic-tests` resolves Burn's features differently and rebuilds it).

use std::path::PathBuf;

use burn::tensor::{Device, Tensor};
use lic_codec::{Backend, Decoder, Encoder, Model};
use lic_models::net::{ExactParams, Part};
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

/// Each embedded model's committed file decodes to the committed latents, bit for bit, on
/// this machine; CI on another CPU or OS running this is the cross-platform check. The
/// decoder finds the model by the digest the file records (`Model::embedded_for`), as `lic
/// decode` does, so this also checks that a file coded by an earlier build's default (the
/// video model's file was coded when it was the default, under the name `lic-default`) still
/// decodes with no `--model`. `LIC_BLESS=1` rewrites only the vectors whose model changed.
#[test]
fn pinned_files_decode_to_pinned_latents() {
    type Load = fn(Backend) -> lic_codec::Result<Model>;
    let cases: [(&str, Load); 2] =
        [("synthetic-q4", Model::embedded), ("video-synthetic-q4", Model::embedded_video)];
    for (stem, load) in cases {
        let model = load(Backend::Cpu).expect("model");
        let dir = vector_dir();
        let (file, expected) = (dir.join(format!("{stem}.lic")), dir.join(format!("{stem}.latents.sha256")));
        let recorded = |bytes: &[u8]| lic_bitstream::ImageFile::parse(bytes).expect("parse").header.model;
        let stale = std::fs::read(&file).map_or(true, |b| recorded(&b).digest != model.id().digest);
        if stale && std::env::var_os("LIC_BLESS").is_some() {
            std::fs::create_dir_all(&dir).expect("dir");
            let bytes = Encoder::new(&model).encode(&test_image()).expect("encode");
            let lat = Decoder::new(&model).latents(&bytes).expect("latents");
            std::fs::write(&file, &bytes).expect("write");
            std::fs::write(&expected, latent_digest(&lat) + "\n").expect("write");
        }
        let bytes = std::fs::read(&file).expect("vector present (bless with LIC_BLESS=1)");
        let found = Model::embedded_for(&recorded(&bytes), Backend::Cpu).unwrap_or_else(|e| {
            panic!("{stem}: {e}: the vector was made with other weights; re-bless with LIC_BLESS=1 after shipping a model")
        });
        assert_eq!(found.id(), model.id(), "{stem}: the digest found another embedded model");
        let lat = Decoder::new(&found).latents(&bytes).expect("latents");
        let want = std::fs::read_to_string(&expected).expect("digest");
        assert_eq!(latent_digest(&lat), want.trim(), "{stem}: decoded latents differ from the pinned ones");
    }
}

/// A file recording a model this build does not embed is refused with an error naming it.
#[test]
fn unknown_model_is_a_clear_error() {
    let id = lic_bitstream::ModelId { name: "someone-elses".into(), digest: [7; 32] };
    let e = Model::embedded_for(&id, Backend::Cpu).expect_err("no such model");
    let msg = e.to_string();
    assert!(msg.contains("someone-elses") && msg.contains("--model"), "{msg}");
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
    // The exact path's means, part by part, fed the encoder's symbols.
    let mut exact_mus = Vec::new();
    let mut replay = q.replay();
    let lat = exact
        .run(&q.z_symbols, q.z_shape, |i, part, mu, sigma| {
            exact_mus.push((i, part, mu.to_vec()));
            replay(i, part, mu, sigma)
        })
        .unwrap_or_else(|e| match e {});
    // Burn's float path, fed the same symbols, each slice's scattered back to [s][h][w]. With
    // a zero latent, the residual it is asked to code is −μ.
    let [m_ch, h, w] = lat.shape;
    let mut full: Vec<Vec<f32>> = Vec::new();
    for (i, &s) in m.net.slices.iter().enumerate() {
        let parts: Vec<Part> = exact_mus.iter().filter(|(j, _, _)| *j == i).map(|(_, p, _)| *p).collect();
        let order: Vec<usize> = parts.iter().flat_map(|p| p.positions([s, h, w])).collect();
        let mut v = vec![0f32; s * h * w];
        for (&k, &sym) in order.iter().zip(&q.y_symbols[i]) {
            v[k] = sym as f32;
        }
        full.push(v);
    }
    let mut calls = 0;
    let mut burn_mus = Vec::new();
    let (y_hat, _) =
        m.net.slice_loop(m.net.h_s.forward(z), Tensor::zeros([1, m_ch, h, w], &device), |r, _| {
            let (i, _, _) = exact_mus[calls];
            calls += 1;
            burn_mus.push(r.clone().neg().into_data().iter::<f32>().collect::<Vec<f32>>());
            let s = m.net.slices[i];
            (Tensor::<1>::from_floats(full[i].as_slice(), &device).reshape([1, s, h, w]), r.ones_like())
        });
    let mut worst = 0f32;
    for ((i, part, mu), burn) in exact_mus.iter().zip(&burn_mus) {
        let positions = part.positions([m.net.slices[*i], h, w]);
        worst = positions.iter().zip(mu).fold(worst, |w, (&k, a)| w.max((a - burn[k]).abs()));
    }
    let burn_y: Vec<f32> = y_hat.into_data().iter::<f32>().collect();
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

/// lic writes each picture as one `LATS` stream (format 1.2); the same latents coded as
/// `HYPZ` + `LATY` chunks (1.0) decode to the same image, the single stream is the smaller,
/// and a picture holding both layouts is refused.
#[test]
fn single_stream_and_chunked_layouts_decode_alike() {
    use lic_bitstream::{Chunk, FourCc, ImageFile};
    let model = Model::embedded(Backend::Cpu).expect("model");
    // 256×128 (no padding), so the library's quantisation below codes what the encoder does.
    let base = test_image().to_rgb8();
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(256, 128, |x, y| {
        *base.get_pixel(x % base.width(), y % base.height())
    }));
    let encoded = Encoder::new(&model).quality(3.0).and_then(|e| e.encode(&img)).expect("encode");
    let file = ImageFile::parse(&encoded).expect("parse");
    assert_eq!(file.minor_version, 2);
    let kinds: Vec<FourCc> = file.chunks.iter().map(|c| c.fourcc).collect();
    assert_eq!(kinds, [FourCc::LATENTS], "one stream per picture");

    let device = Device::flex();
    let weights = Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS).expect("embedded weights");
    let m = CodecModel::load(weights, &device).expect("model");
    let q = m.net.quantise(&m.exact, lic_codec::image_to_tensor(&img.to_rgb8(), &device), 3.0, &m.scales);
    let single = lic_codec::latents_chunk(&m.z_coder, &m.y_coder, &q, 0).expect("LATS");
    assert_eq!(single.payload, file.chunks[0].payload, "the encoder's stream");
    let mut chunked =
        vec![Chunk::new(FourCc::HYPER_LATENT, 0, 0, m.z_coder.encode(&q.z_symbols, &q.z_tables).expect("z"))];
    for (i, (s, b)) in q.y_symbols.iter().zip(&q.y_bins).enumerate() {
        chunked.push(Chunk::new(FourCc::LATENT, 0, i as u16, m.y_coder.encode(s, b).expect("y")));
    }
    let old = ImageFile::new(file.header.clone(), chunked.clone()).to_bytes().expect("1.0 file");
    assert_eq!(old[9], 0, "written as 1.0");
    assert!(encoded.len() + 20 * q.y_symbols.len() <= old.len(), "{} vs {} bytes", encoded.len(), old.len());
    let d = Decoder::new(&model);
    assert_eq!(
        d.decode(&old).expect("1.0 decodes").to_rgb8(),
        d.decode(&encoded).expect("1.2 decodes").to_rgb8()
    );

    let mut mixed = chunked;
    mixed.push(single);
    let both = ImageFile::new(file.header.clone(), mixed).to_bytes().expect("writable");
    assert!(d.decode(&both).is_err(), "a picture with both layouts decoded");
}
