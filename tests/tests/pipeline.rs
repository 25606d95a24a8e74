//! The layers together: tables from a weights file, entropy-coded chunks in a container,
//! and back — the path every image will take.

use lic_bitstream::{Chunk, FourCc, ImageFile};
use lic_entropy::{Distribution, ScaleTable, TableSet};
use lic_models::{ModelError, Weights};

fn factorized_tables() -> Vec<Distribution> {
    (0..8)
        .map(|c| {
            let pmf: Vec<f64> =
                (0..11).map(|i| (-((i as f64 - 5.0).powi(2)) / (c as f64 + 1.0)).exp()).collect();
            Distribution::from_pmf(-5, &pmf, 1e-4).expect("pmf")
        })
        .collect()
}

#[test]
fn latents_survive_weights_entropy_and_container() {
    let weights = Weights::from_bytes("toy", lic_tests::toy_weights(&factorized_tables())).expect("weights");
    let z_coder = TableSet::new(weights.distributions("z").expect("tables")).expect("coder");
    assert_eq!(z_coder.distributions(), factorized_tables().as_slice());
    let scales = ScaleTable::default();
    let y_coder = TableSet::gaussian(&scales).expect("gaussian");

    // A 256×128 image: z is 4×2×8 (64× down), y is 16×8×16 in two slices of 8 channels.
    let z: Vec<i32> = (0..64).map(|i| (i % 7) - 3).collect();
    let z_tables: Vec<u16> = (0..64).map(|i| (i / 8) as u16).collect();
    let y: Vec<Vec<i32>> = (0..2).map(|s| (0..1024).map(|i| ((i * 31 + s) % 13) - 6).collect()).collect();
    let y_bins: Vec<u16> = (0..1024).map(|i| scales.bin(0.2 + (i % 50) as f32)).collect();

    let mut chunks = vec![Chunk::new(FourCc::HYPER_LATENT, 0, 0, z_coder.encode(&z, &z_tables).expect("z"))];
    for (s, ys) in y.iter().enumerate() {
        chunks.push(Chunk::new(FourCc::LATENT, 0, s as u16, y_coder.encode(ys, &y_bins).expect("y")));
    }
    let bytes =
        ImageFile::new(lic_tests::header(weights.id().clone(), 256, 128), chunks).to_bytes().expect("write");

    let file = ImageFile::parse(&bytes).expect("parse");
    weights.check_matches(&file.header.model).expect("same weights");
    let hz = file.chunk(FourCc::HYPER_LATENT, 0, 0).expect("z chunk");
    assert_eq!(z_coder.decode(&hz.payload, &z_tables).expect("z decode"), z);
    for (s, ys) in y.iter().enumerate() {
        let c = file.chunk(FourCc::LATENT, 0, s as u16).expect("y chunk");
        assert_eq!(&y_coder.decode(&c.payload, &y_bins).expect("y decode"), ys);
    }
    let info = lic_codec::inspect(&bytes).expect("inspect");
    assert_eq!(info.chunks.len(), 3);
    assert_eq!(info.model_sha256, file.header.model.digest_hex());
}

#[test]
fn files_from_other_weights_are_refused() {
    let a = Weights::from_bytes("toy", lic_tests::toy_weights(&factorized_tables())).expect("a");
    let mut other = factorized_tables();
    other.truncate(7);
    let b = Weights::from_bytes("toy", lic_tests::toy_weights(&other)).expect("b");
    let err = b.check_matches(a.id()).expect_err("different weights accepted");
    assert!(matches!(err, ModelError::WrongModel { .. }));
    assert!(err.to_string().contains("load the matching weights"), "{err}");
}

#[test]
fn corrupted_or_mismatched_weights_fail_clearly() {
    let good = lic_tests::toy_weights(&factorized_tables());
    for cut in [0, 7, 8, 20, good.len() - 1] {
        let err = Weights::from_bytes("toy", good[..cut].to_vec()).expect_err("truncated weights accepted");
        assert!(matches!(err, ModelError::Format { .. }), "{err}");
    }
    let w = Weights::from_bytes("toy", good).expect("good");
    assert!(w.tensor_f32("g_a.0.weight", &[3, 4]).is_ok());
    let err = w.tensor_f32("g_a.0.weight", &[4, 3]).expect_err("wrong shape accepted");
    assert!(err.to_string().contains("expected [4, 3]"), "{err}");
    assert!(matches!(w.tensor_f32("g_s.0.weight", &[1]), Err(ModelError::MissingTensor { .. })));
    assert!(matches!(w.tensor_f32("z.offsets", &[8]), Err(ModelError::DtypeMismatch { .. })));
    assert!(matches!(
        Weights::from_path(std::path::Path::new("/nonexistent/weights.safetensors")),
        Err(ModelError::Io { .. })
    ));
}
