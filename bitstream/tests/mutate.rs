//! Stable-Rust fuzzing: random mutations of valid files (byte edits, insertions, deletions,
//! splices, truncations) must parse to an error or to a file that re-writes canonically.
//! `cargo fuzz` (see the crate README) explores the same property with coverage guidance.

mod common;

use lic_bitstream::ImageFile;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Edit::Remove(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let n = bytes.len().max(1);
    match edit {
        Edit::Set(i, b) => {
            if !bytes.is_empty() {
                bytes[i % n] = *b;
            }
        }
        Edit::Insert(i, v) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, v.iter().copied());
        }
        Edit::Remove(i, k) => {
            let at = i % n;
            let end = (at + k).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Edit::Truncate(i) => bytes.truncate(i % n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn mutated_files_never_panic(edits in proptest::collection::vec(arb_edit(), 1..6)) {
        let mut bytes = common::sample_bytes();
        for e in &edits {
            apply(&mut bytes, e);
        }
        if let Ok(file) = ImageFile::parse(&bytes) {
            // Files of other minors carry fields (or a version byte) this writer drops.
            prop_assume!(file.minor_version == file.written_minor());
            // Anything accepted must be self-consistent.
            prop_assert_eq!(file.to_bytes().expect("accepted file re-writes"), bytes);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ImageFile::parse(&bytes);
    }
}
