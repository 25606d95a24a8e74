//! Property tests: every valid file survives write → parse unchanged.

mod common;

use lic_bitstream::{
    Chunk, ColourSpace, FourCc, ImageFile, ImageHeader, MAX_DIMENSION, ModelId, Quality, Tiling,
};
use proptest::prelude::*;

fn arb_header() -> impl Strategy<Value = ImageHeader> {
    (
        "[a-zA-Z0-9_.-]{1,64}",
        any::<[u8; 32]>(),
        any::<u16>(),
        1..=MAX_DIMENSION,
        1..=MAX_DIMENSION,
        1u8..=4,
        prop_oneof![Just(8u8), Just(16u8)],
        prop_oneof![Just(ColourSpace::Srgb), Just(ColourSpace::Unspecified)],
        proptest::option::of((1u32..=64, 1u32..=64, 0u16..32)),
    )
        .prop_map(|(name, digest, q, width, height, channels, bit_depth, colour_space, tiling)| {
            let tiling =
                tiling.map(|(tw, th, overlap)| Tiling { tile_width: tw * 64, tile_height: th * 64, overlap });
            ImageHeader {
                model: ModelId { name, digest },
                quality: Quality::from_milli(q),
                width,
                height,
                channels,
                bit_depth,
                colour_space,
                tiling,
            }
        })
        .prop_filter("tile count within limits", |h| h.tile_count() <= lic_bitstream::MAX_TILES)
}

fn arb_fourcc() -> impl Strategy<Value = FourCc> {
    prop_oneof![
        Just(FourCc::HYPER_LATENT),
        Just(FourCc::LATENT),
        Just(FourCc::ALPHA),
        Just(FourCc::ICC),
        Just(FourCc::EXIF),
        "[a-z][a-zA-Z0-9]{3}".prop_map(|s| {
            let mut b = [0u8; 4];
            b.copy_from_slice(s.as_bytes());
            FourCc(b)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_then_parse_is_identity(
        header in arb_header(),
        raw in proptest::collection::vec((arb_fourcc(), any::<u32>(), any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..64)), 0..12),
    ) {
        let tiles = header.tile_count();
        let mut seen = std::collections::HashSet::new();
        let chunks: Vec<Chunk<'static>> = raw
            .into_iter()
            .map(|(f, t, i, p)| Chunk::new(f, (u64::from(t) % tiles) as u32, i, p))
            .filter(|c| seen.insert((c.fourcc, c.tile, c.index)))
            .collect();
        let file = ImageFile::new(header, chunks);
        let bytes = file.to_bytes().expect("valid file writes");
        let parsed = ImageFile::parse(&bytes).expect("written file parses");
        prop_assert_eq!(&parsed, &file);
        // The encoding is canonical: re-writing reproduces the same bytes.
        prop_assert_eq!(parsed.to_bytes().expect("re-write"), bytes);
    }

    #[test]
    fn quality_round_trips_exactly(milli in any::<u16>()) {
        let q = Quality::from_milli(milli);
        prop_assert_eq!(Quality::from_f64(q.as_f64()), Some(q));
        let text = q.to_string();
        let back: f64 = text.parse().expect("display is a number");
        prop_assert_eq!(Quality::from_f64(back), Some(q));
    }
}

#[test]
fn fractional_quality_is_exact() {
    let q = Quality::from_f64(3.27).expect("in range");
    assert_eq!(q.milli(), 3270);
    assert_eq!(q.to_string(), "3.27");
    assert_eq!(Quality::from_f64(4.0).map(|q| q.to_string()), Some("4".into()));
    assert_eq!(Quality::from_f64(f64::NAN), None);
    assert_eq!(Quality::from_f64(-1.0), None);
    assert_eq!(Quality::from_f64(70.0), None);
}

#[test]
fn tiled_file_round_trips() {
    let header = common::tiled_header();
    assert_eq!(header.tile_count(), 3 * 3);
    let chunks = (0..9).map(|t| Chunk::new(FourCc::LATENT, t, 0, vec![t as u8; 3])).collect();
    let file = ImageFile::new(header, chunks);
    let bytes = file.to_bytes().expect("writes");
    assert_eq!(ImageFile::parse(&bytes).expect("parses"), file);
}

#[test]
fn largest_dimensions_round_trip() {
    let header = ImageHeader { width: 65_535, height: MAX_DIMENSION, ..common::header() };
    let file = ImageFile::new(header, vec![]);
    let bytes = file.to_bytes().expect("writes");
    assert_eq!(ImageFile::parse(&bytes).expect("parses"), file);
}

#[test]
fn writer_refuses_what_parser_would_reject() {
    let bad = [
        ImageHeader { width: 0, ..common::header() },
        ImageHeader { channels: 5, ..common::header() },
        ImageHeader { bit_depth: 12, ..common::header() },
        ImageHeader { model: ModelId { name: String::new(), digest: [0; 32] }, ..common::header() },
        ImageHeader {
            tiling: Some(Tiling { tile_width: 100, tile_height: 64, overlap: 0 }),
            ..common::header()
        },
    ];
    for h in bad {
        assert!(ImageFile::new(h.clone(), vec![]).to_bytes().is_err(), "{h:?} was written");
    }
    let dup = vec![Chunk::new(FourCc::LATENT, 0, 0, vec![]), Chunk::new(FourCc::LATENT, 0, 0, vec![])];
    assert!(ImageFile::new(common::header(), dup).to_bytes().is_err());
    let out_of_tiles = vec![Chunk::new(FourCc::LATENT, 1, 0, vec![])];
    assert!(ImageFile::new(common::header(), out_of_tiles).to_bytes().is_err());
}
