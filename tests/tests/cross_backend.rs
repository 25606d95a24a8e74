//! Cross-device determinism (FORMAT.md §7): a file encoded with the wgpu backend decodes on the
//! CPU backend, and vice versa, to exactly the latents the same-backend decoder gets, and to
//! pixels within 0.05 dB of it. CI runs this on lavapipe (Mesa's software Vulkan device), with
//! `LIC_REQUIRE_GPU=1` so that a missing Vulkan driver fails the run instead of skipping.

use lic_codec::{Backend, Decoder, Encoder, Latents, Model};
use lic_tests::{data_root_or_skip, psnr};

/// The wgpu model, or `None` (with a message) where no adapter exists and none is required.
fn gpu_model_or_skip() -> Option<Model> {
    match Model::embedded(Backend::Gpu) {
        Ok(m) => {
            eprintln!("wgpu adapter: {}", m.adapter());
            Some(m)
        }
        Err(e) if std::env::var_os("LIC_REQUIRE_GPU").is_none() => {
            eprintln!(
                "SKIPPED cross-backend test: {e} (install mesa-vulkan-drivers, or set LIC_REQUIRE_GPU=1 to fail)"
            );
            None
        }
        Err(e) => panic!("LIC_REQUIRE_GPU is set but {e}"),
    }
}

fn bits(tiles: &[Latents]) -> Vec<u32> {
    tiles.iter().flat_map(|t| t.y_hat.iter().map(|v| v.to_bits())).collect()
}

#[test]
fn kodak_latents_identical_across_cpu_and_wgpu() {
    let Some(root) = data_root_or_skip("cross-backend Kodak test") else { return };
    let Some(gpu) = gpu_model_or_skip() else { return };
    let cpu = Model::embedded(Backend::Cpu).expect("CPU model");
    let files = lic_datasets::kodak(&root).expect("Kodak set");
    let mut worst: f64 = 0.0;
    for file in &files {
        let t = std::time::Instant::now();
        let img = lic_datasets::load_image(file).expect("Kodak image");
        let rgb = img.to_rgb8();
        for (enc_name, enc, dec) in [("wgpu", &gpu, &cpu), ("cpu", &cpu, &gpu)] {
            let bytes = Encoder::new(enc).quality(4.0).and_then(|e| e.encode(&img)).expect("encode");
            let (same, cross) = (Decoder::new(enc), Decoder::new(dec));
            let lat_same = bits(&same.latents(&bytes).expect("latents"));
            let lat_cross = bits(&cross.latents(&bytes).expect("latents"));
            assert!(!lat_same.is_empty());
            assert!(
                lat_same == lat_cross,
                "{}: encoded on {enc_name}, the other backend decodes different latents",
                file.display()
            );
            let p_same = psnr(&rgb, &same.decode(&bytes).expect("decode").to_rgb8());
            let p_cross = psnr(&rgb, &cross.decode(&bytes).expect("decode").to_rgb8());
            let diff = (p_same - p_cross).abs();
            worst = worst.max(diff);
            assert!(
                diff < 0.05,
                "{}: encoded on {enc_name}: PSNR {p_same:.3} dB same-backend vs {p_cross:.3} dB cross-backend",
                file.display()
            );
        }
        eprintln!("{}: {:.1} s", file.display(), t.elapsed().as_secs_f64());
    }
    eprintln!(
        "{} images, both directions: latents identical, worst PSNR difference {worst:.4} dB",
        files.len()
    );
}
