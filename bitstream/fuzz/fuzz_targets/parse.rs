//! Coverage-guided fuzzing of the container parser: any input must parse or fail cleanly,
//! and every accepted v1.0 file must re-write to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lic_bitstream::ImageFile;

fuzz_target!(|data: &[u8]| {
    // Files of later minor versions carry fields this writer drops, so only v1.0 files
    // must round-trip byte for byte.
    if let Some(file) = ImageFile::parse(data).ok().filter(|f| f.minor_version == lic_bitstream::MINOR_VERSION) {
        let again = file.to_bytes().expect("an accepted file must be writable");
        assert_eq!(again, data, "accepted file is not canonical");
    }
});
