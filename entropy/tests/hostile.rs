//! Arbitrary bytes fed to the decoder: errors or (CRC aside) some symbols, never a panic.

use lic_entropy::{ScaleTable, TableSet};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256),
                            bins in proptest::collection::vec(0u16..64, 0..256)) {
        let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
        let _ = coder.decode(&bytes, &bins);
    }

    #[test]
    fn truncated_or_extended_streams_are_detected(cut in 1usize..64) {
        let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
        let symbols: Vec<i32> = (0..2000).map(|i| (i % 9) - 4).collect();
        let bins = vec![20u16; symbols.len()];
        let bytes = coder.encode(&symbols, &bins).expect("encode");
        let cut = (cut * 4).min(bytes.len());
        // Dropping words leaves the decoder short of data or out of sync.
        let short = coder.decode(&bytes[..bytes.len() - cut], &bins);
        prop_assert!(short.is_err() || short.as_ref().ok() != Some(&symbols));
        // Fewer symbols than were coded leaves data over.
        prop_assert!(coder.decode(&bytes, &bins[..bins.len() - 1]).is_err());
    }
}
