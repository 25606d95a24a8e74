//! Coverage-guided fuzzing of the container parser: any input must parse or fail cleanly,
//! and every accepted file written with the minor version the writer would choose must
//! re-write to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lic_bitstream::ImageFile;

fuzz_target!(|data: &[u8]| {
    // Files of other minor versions carry fields (or a version byte) this writer drops, so
    // only files of the minor it would write must round-trip byte for byte.
    if let Some(file) = ImageFile::parse(data).ok().filter(|f| f.minor_version == f.written_minor()) {
        let again = file.to_bytes().expect("an accepted file must be writable");
        assert_eq!(again, data, "accepted file is not canonical");
    }
});
