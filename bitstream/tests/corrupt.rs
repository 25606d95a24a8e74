//! The bad-file corpus: truncations, bit flips, wrong magic, unknown versions, absurd sizes.
//! Every one must be an `Err`, never a panic.

mod common;

use lic_bitstream::{BitstreamError, ImageFile, MAGIC, StreamKind};

/// Recomputes the header and chunk-table CRCs after a deliberate edit, so that the test
/// reaches the semantic check behind them rather than the checksum.
fn refresh_crcs(bytes: &mut [u8]) {
    let h = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let crc = crc32c::crc32c(&bytes[..16 + h]);
    bytes[16 + h..20 + h].copy_from_slice(&crc.to_le_bytes());
    let table = 20 + h;
    let count = u32::from_le_bytes(bytes[table..table + 4].try_into().expect("4 bytes")) as usize;
    let end = table + 4 + count * 20;
    if end + 4 <= bytes.len() {
        let crc = crc32c::crc32c(&bytes[table..end]);
        bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    }
}

const HEADER_LEN: usize = 64; // body of the sample's header (8-byte model name)
const TABLE: usize = 16 + HEADER_LEN + 4;

#[test]
fn sample_layout_matches_format_md() {
    let bytes = common::sample_bytes();
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().expect("4")), HEADER_LEN as u32);
    assert_eq!(u32::from_le_bytes(bytes[TABLE..TABLE + 4].try_into().expect("4")), 5);
    assert!(ImageFile::parse(&bytes).is_ok());
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = common::sample_bytes();
    for len in 0..bytes.len() {
        let err = ImageFile::parse(&bytes[..len]).expect_err("truncated file parsed");
        // Truncations show up as missing bytes, or as payloads shorter than the table says.
        assert!(
            matches!(err, BitstreamError::Truncated { .. } | BitstreamError::PayloadSizeMismatch { .. }),
            "len {len}: {err}"
        );
    }
}

#[test]
fn every_single_bit_flip_is_an_error() {
    let bytes = common::sample_bytes();
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[byte] ^= 1 << bit;
            assert!(ImageFile::parse(&bad).is_err(), "flip of bit {bit} in byte {byte} went unnoticed");
        }
    }
}

#[test]
fn crc32c_is_castagnoli_as_format_md_says() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = common::sample_bytes();
    bytes.push(0);
    assert!(matches!(ImageFile::parse(&bytes), Err(BitstreamError::PayloadSizeMismatch { .. })));
}

#[test]
fn wrong_magic() {
    let mut bytes = common::sample_bytes();
    bytes[1] = b'X';
    assert_eq!(ImageFile::parse(&bytes), Err(BitstreamError::BadMagic));
    assert_eq!(ImageFile::parse(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Err(BitstreamError::BadMagic));
    assert!(matches!(ImageFile::parse(b""), Err(BitstreamError::Truncated { what: "magic", .. })));
}

#[test]
fn unknown_major_version_is_rejected_clearly() {
    let mut bytes = common::sample_bytes();
    bytes[8] = 2;
    let err = ImageFile::parse(&bytes).expect_err("v2 accepted");
    assert_eq!(err, BitstreamError::UnsupportedVersion { major: 2, minor: 0, supported: 1 });
    assert!(err.to_string().contains("version 2.0"), "{err}");
}

#[test]
fn later_minor_version_with_appended_fields_is_read() {
    // Minor versions may append header fields; a v1.0 reader skips them.
    let bytes = common::sample_bytes();
    let mut newer = Vec::new();
    newer.extend_from_slice(&bytes[..9]);
    newer.push(3); // minor 3
    newer.extend_from_slice(&bytes[10..12]);
    newer.extend_from_slice(&((HEADER_LEN + 5) as u32).to_le_bytes());
    newer.extend_from_slice(&bytes[16..16 + HEADER_LEN]);
    newer.extend_from_slice(&[9, 9, 9, 9, 9]);
    newer.extend_from_slice(&[0; 4]); // header CRC, refreshed below
    newer.extend_from_slice(&bytes[16 + HEADER_LEN + 4..]);
    refresh_crcs(&mut newer);
    let parsed = ImageFile::parse(&newer).expect("newer minor parses");
    assert_eq!(parsed.minor_version, 3);
    assert_eq!(parsed.header, common::header());
    // Re-written, it is a v1.0 file: the writer cannot vouch for fields it does not know.
    let rewritten = parsed.to_bytes().expect("re-write");
    assert_eq!(rewritten[9], 0);
    assert_eq!(rewritten, bytes);
}

#[test]
fn other_stream_kinds_are_refused() {
    let mut bytes = common::sample_bytes();
    bytes[10] = 1;
    refresh_crcs(&mut bytes);
    assert_eq!(
        ImageFile::parse(&bytes),
        Err(BitstreamError::WrongStreamKind { found: StreamKind::Video, expected: StreamKind::Image })
    );
    bytes[10] = 2;
    refresh_crcs(&mut bytes);
    assert_eq!(ImageFile::parse(&bytes), Err(BitstreamError::UnsupportedStreamKind(2)));
}

#[test]
fn absurd_header_length() {
    let mut bytes = common::sample_bytes();
    bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = ImageFile::parse(&bytes).expect_err("accepted");
    assert!(matches!(err, BitstreamError::InvalidField { field: "header length", offset: 12, .. }), "{err}");
}

#[test]
fn absurd_chunk_count_is_refused_before_allocating() {
    let mut bytes = common::sample_bytes();
    bytes[TABLE..TABLE + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = ImageFile::parse(&bytes).expect_err("accepted");
    assert!(matches!(err, BitstreamError::Truncated { what: "chunk table", .. }), "{err}");
}

#[test]
fn absurd_chunk_length() {
    // A 4 GiB chunk claimed in a file of a hundred-odd bytes.
    let mut bytes = common::sample_bytes();
    let len_at = TABLE + 4 + 12;
    bytes[len_at..len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    refresh_crcs(&mut bytes);
    let err = ImageFile::parse(&bytes).expect_err("accepted");
    assert!(matches!(err, BitstreamError::PayloadSizeMismatch { .. }), "{err}");
}

#[test]
fn absurd_dimensions() {
    for (at, value) in [(59, 0u32), (63, u32::MAX), (59, 1 << 24)] {
        let mut bytes = common::sample_bytes();
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        refresh_crcs(&mut bytes);
        let err = ImageFile::parse(&bytes).expect_err("accepted");
        assert!(matches!(err, BitstreamError::InvalidField { .. }), "{err}");
    }
}

#[test]
fn unknown_critical_chunk_is_refused_and_unknown_ancillary_kept() {
    let mut bytes = common::sample_bytes();
    bytes[TABLE + 4..TABLE + 8].copy_from_slice(b"QQQQ");
    refresh_crcs(&mut bytes);
    assert!(matches!(ImageFile::parse(&bytes), Err(BitstreamError::UnknownCriticalChunk { .. })));

    let mut bytes = common::sample_bytes();
    bytes[TABLE + 4..TABLE + 8].copy_from_slice(b"qQQQ");
    refresh_crcs(&mut bytes);
    let file = ImageFile::parse(&bytes).expect("ancillary chunks may be unknown");
    assert_eq!(file.chunks[0].fourcc.0, *b"qQQQ");
}

#[test]
fn duplicate_chunk_is_refused() {
    let mut bytes = common::sample_bytes();
    // Make entry 2 (LATY slice 1) claim slice 0, which entry 1 already is.
    let index_at = TABLE + 4 + 2 * 20 + 8;
    bytes[index_at..index_at + 2].copy_from_slice(&0u16.to_le_bytes());
    refresh_crcs(&mut bytes);
    assert!(matches!(ImageFile::parse(&bytes), Err(BitstreamError::DuplicateChunk { entry: 2, .. })));
}

#[test]
fn errors_name_the_field_and_offset() {
    let mut bytes = common::sample_bytes();
    bytes[67] = 9; // channels
    refresh_crcs(&mut bytes);
    let msg = ImageFile::parse(&bytes).expect_err("accepted").to_string();
    assert!(msg.contains("channels") && msg.contains("offset"), "{msg}");
}

/// A `LATS` chunk makes a file 1.2: it is written so, read back, and refused in a file that
/// claims an older minor (whose readers would not know it).
#[test]
fn single_stream_chunk_needs_format_1_2() {
    let chunks = vec![
        lic_bitstream::Chunk::new(lic_bitstream::FourCc::LATENTS, 0, 0, vec![7u8; 12]),
        lic_bitstream::Chunk::new(lic_bitstream::FourCc::ICC, 0, 0, b"icc".to_vec()),
    ];
    let file = ImageFile::new(common::header(), chunks);
    assert_eq!(file.minor_version, lic_bitstream::SINGLE_STREAM_MINOR_VERSION);
    let bytes = file.to_bytes().expect("writable");
    assert_eq!(bytes[9], 2, "written as 1.2");
    let parsed = ImageFile::parse(&bytes).expect("parses");
    assert_eq!(parsed.minor_version, 2);
    assert_eq!(parsed.chunks, file.chunks);
    // Files without it stay 1.0.
    assert_eq!(common::sample_bytes()[9], 0);

    for old in [0u8, 1] {
        let mut older = bytes.clone();
        older[9] = old;
        refresh_crcs(&mut older);
        let err = ImageFile::parse(&older).expect_err("LATS in an older file");
        assert!(err.to_string().contains("needs format 1.2"), "{err}");
    }
}
