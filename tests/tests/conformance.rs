//! Conformance vectors: reference files in `tests/conformance/`, committed.
//!
//! Good files must parse to the stated header, decode their entropy-coded chunks to the
//! stated symbols, and be byte-identical to what the writer produces today (so any change to
//! the format is deliberate). Bad files must fail with the stated error.
//! Regenerate after a deliberate format change with `LIC_BLESS=1 cargo test -p lic-tests --test conformance`.

use std::path::PathBuf;

use lic_bitstream::{BitstreamError, Chunk, FourCc, ImageFile, ModelId, Tiling};
use lic_entropy::{ScaleTable, TableSet};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

fn model() -> ModelId {
    ModelId { name: "lic-test".into(), digest: [0xab; 32] }
}

/// The symbols coded in the reference latent chunk, and their scale bins.
fn reference_latents() -> (Vec<i32>, Vec<u16>) {
    let symbols =
        (0..3000).map(|i: i32| ((i * 37) % 11) - 5 + if i % 997 == 0 { 40_000 } else { 0 }).collect();
    let bins = (0..3000).map(|i| (i % 64) as u16).collect();
    (symbols, bins)
}

fn good_files() -> Vec<(&'static str, Vec<u8>)> {
    let minimal = {
        let mut h = lic_tests::header(model(), 768, 512);
        h.quality = lic_bitstream::Quality::from_milli(3500);
        ImageFile::new(h, vec![Chunk::new(FourCc::HYPER_LATENT, 0, 0, vec![1u8, 2, 3, 4])])
    };
    let coded = {
        let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
        let (symbols, bins) = reference_latents();
        let mut h = lic_tests::header(model(), 1000, 700);
        h.tiling = Some(Tiling { tile_width: 512, tile_height: 448, overlap: 32 });
        h.channels = 4;
        let chunks = vec![
            Chunk::new(FourCc::ICC, 0, 0, b"not really an ICC profile".to_vec()),
            Chunk::new(FourCc::LATENT, 0, 0, coder.encode(&symbols, &bins).expect("encode")),
            Chunk::new(FourCc::LATENT, 3, 1, Vec::new()),
            Chunk::new(FourCc::ALPHA, 0, 0, vec![0xff; 10]),
            Chunk::new(FourCc::EXIF, 0, 0, b"II*\0".to_vec()),
        ];
        ImageFile::new(h, chunks)
    };
    vec![
        ("v1.0-minimal.lic", minimal.to_bytes().expect("write")),
        ("v1.0-tiled-rgba-coded.lic", coded.to_bytes().expect("write")),
    ]
}

/// A bad vector: file name, bytes, and the test its parse error must pass.
type BadVector = (&'static str, Vec<u8>, fn(&BitstreamError) -> bool);

fn bad_files() -> Vec<BadVector> {
    let good = good_files().remove(0).1;
    let mut v2 = good.clone();
    v2[8] = 2;
    let mut flipped = good.clone();
    flipped[30] ^= 0x04;
    let mut payload_flip = good.clone();
    let n = payload_flip.len();
    payload_flip[n - 1] ^= 0x80;
    vec![
        ("bad-magic.lic", b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(), |e| {
            *e == BitstreamError::BadMagic
        }),
        ("bad-major-version.lic", v2, |e| matches!(e, BitstreamError::UnsupportedVersion { major: 2, .. })),
        ("bad-truncated.lic", good[..good.len() - 2].to_vec(), |e| {
            matches!(e, BitstreamError::PayloadSizeMismatch { .. })
        }),
        ("bad-header-bitflip.lic", flipped, |e| matches!(e, BitstreamError::CrcMismatch { .. })),
        ("bad-payload-bitflip.lic", payload_flip, |e| matches!(e, BitstreamError::CrcMismatch { .. })),
    ]
}

fn check_or_bless(name: &str, bytes: &[u8]) {
    let path = dir().join(name);
    if std::env::var_os("LIC_BLESS").is_some() {
        std::fs::create_dir_all(dir()).expect("mkdir");
        std::fs::write(&path, bytes).expect("bless");
    }
    let stored =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run with LIC_BLESS=1)", path.display()));
    assert!(stored == bytes, "{name}: the writer no longer reproduces the reference file");
}

#[test]
fn good_vectors_are_reproduced_and_parse() {
    for (name, bytes) in good_files() {
        check_or_bless(name, &bytes);
        let file = ImageFile::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.header.model, model());
    }
    let bytes = std::fs::read(dir().join("v1.0-tiled-rgba-coded.lic")).expect("vector");
    let file = ImageFile::parse(&bytes).expect("parse");
    assert_eq!(file.header.tile_count(), 2 * 2);
    assert_eq!(file.header.quality.to_string(), "4");
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    let (symbols, bins) = reference_latents();
    let chunk = file.chunk(FourCc::LATENT, 0, 0).expect("latent chunk");
    assert_eq!(coder.decode(&chunk.payload, &bins).expect("decode"), symbols);
}

#[test]
fn bad_vectors_fail_as_stated() {
    for (name, bytes, expected) in bad_files() {
        check_or_bless(name, &bytes);
        let err = ImageFile::parse(&bytes).expect_err(name);
        assert!(expected(&err), "{name}: unexpected error {err}");
    }
}
