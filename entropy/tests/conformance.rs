//! Pins the integer tables and a coded stream, so no platform or refactor can silently
//! change what encoders write or decoders expect.

use lic_entropy::{ScaleTable, TableSet};
use sha2::{Digest, Sha256};

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 over every default Gaussian table: offset (i32 LE), entry count (u32 LE), then
/// the frequencies (u32 LE), table by table. Independent implementations can check theirs
/// against this value (FORMAT.md quotes it).
fn tables_digest(coder: &TableSet) -> String {
    let mut h = Sha256::new();
    for d in coder.distributions() {
        h.update(d.offset().to_le_bytes());
        h.update((d.freqs().len() as u32).to_le_bytes());
        for f in d.freqs() {
            h.update(f.to_le_bytes());
        }
    }
    hex(h.finalize())
}

#[test]
fn default_gaussian_tables_are_pinned() {
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    assert_eq!(tables_digest(&coder), GAUSSIAN_TABLES_SHA256);
}

#[test]
fn gaussian_tables_are_symmetric() {
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    for d in coder.distributions() {
        let f = &d.freqs()[..d.freqs().len() - 1];
        let rev: Vec<u32> = f.iter().rev().copied().collect();
        // Largest-remainder rounding may break exact ties asymmetrically by one unit.
        assert!(f.iter().zip(&rev).all(|(a, b)| a.abs_diff(*b) <= 1), "offset {}", d.offset());
    }
}

#[test]
fn coded_stream_is_pinned() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let symbols: Vec<i32> =
        (0..4096).map(|i: i32| (i * 7919 % 61) - 30 + if i % 500 == 0 { 100_000 } else { 0 }).collect();
    let bins: Vec<u16> = (0..4096).map(|i| (i * 13 % 64) as u16).collect();
    let bytes = coder.encode(&symbols, &bins).expect("encode");
    assert_eq!(hex(Sha256::digest(&bytes)), STREAM_SHA256);
    assert_eq!(coder.decode(&bytes, &bins).expect("decode"), symbols);
}

const GAUSSIAN_TABLES_SHA256: &str = "939433cc324e82e925418684573d458ad791c56e1f52735561df06ab1f0798fb";
const STREAM_SHA256: &str = "e79c56d86266a6cb57f7a74bcb532b5f32204fa9977cbf19cd12dadf126c5835";
