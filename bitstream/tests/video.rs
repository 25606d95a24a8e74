//! The video container: round trips, seeking through the index, and damage that is reported
//! and confined to the damaged packet.

use lic_bitstream::{
    BitstreamError, Chunk, FourCc, FrameType, ImageFile, ModelId, Quality, SequenceHeader, StreamKind,
    TRAILER_LEN, VideoFile, VideoWriter,
};

fn header() -> SequenceHeader {
    SequenceHeader {
        model: ModelId { name: "lic-test".into(), digest: [3; 32] },
        quality: Quality::from_milli(4500),
        width: 176,
        height: 144,
        frame_rate: (30000, 1001),
        gop: 4,
    }
}

fn chunks(frame: u32) -> Vec<Chunk<'static>> {
    vec![
        Chunk::new(FourCc::HYPER_LATENT, 0, 0, vec![frame as u8; 5 + frame as usize]),
        Chunk::new(FourCc::LATENT, 0, 0, vec![0xA0 ^ frame as u8; 17]),
        Chunk::new(FourCc::LATENT, 0, 1, vec![0x0F; 3]),
    ]
}

fn frame_type(i: u32) -> FrameType {
    if i % 4 == 0 { FrameType::Intra } else { FrameType::Inter }
}

/// A 10-frame file and the offset of each frame's packet.
fn file() -> (Vec<u8>, Vec<usize>) {
    let (mut w, mut out) = VideoWriter::new(&header()).expect("header");
    let mut offsets = Vec::new();
    for i in 0..10 {
        offsets.push(out.len());
        out.extend(w.frame(frame_type(i), &chunks(i)).expect("frame"));
    }
    out.extend(w.finish().expect("finish"));
    (out, offsets)
}

#[test]
fn round_trip() {
    let (bytes, offsets) = file();
    let v = VideoFile::parse(&bytes).expect("parse");
    assert_eq!(v.header, header());
    let frames: Vec<_> = v.packets().collect::<Result<_, _>>().expect("packets");
    assert_eq!(frames.len(), 10);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.frame, i as u32);
        assert_eq!(f.frame_type, frame_type(i as u32));
        assert_eq!(f.chunks, chunks(i as u32));
        assert_eq!(f.offset, offsets[i] as u64);
    }
}

#[test]
fn index_lists_intra_frames_and_seeks() {
    let (bytes, offsets) = file();
    let v = VideoFile::parse(&bytes).expect("parse");
    let (points, total) = v.index().expect("trailer").expect("index");
    assert_eq!(total, 10);
    assert_eq!(points.iter().map(|p| p.frame).collect::<Vec<_>>(), [0, 4, 8]);
    for p in &points {
        assert_eq!(p.offset, offsets[p.frame as usize] as u64);
        let f = v.frame_at(p.offset).expect("frame");
        assert_eq!((f.frame, f.frame_type), (p.frame, FrameType::Intra));
    }
    assert!(v.frame_at(3).is_err(), "an offset inside the header is refused");
}

#[test]
fn truncation_keeps_the_frames_before_it() {
    let (bytes, offsets) = file();
    // Cut inside frame 6's packet: no trailer, frames 0-5 intact, then one error.
    let cut = &bytes[..offsets[6] + 30];
    let v = VideoFile::parse(cut).expect("header survives");
    assert!(v.index().is_none());
    let got: Vec<_> = v.packets().collect();
    assert_eq!(got.len(), 7);
    assert!(got[..6].iter().all(Result::is_ok));
    assert!(matches!(got[6], Err(BitstreamError::Truncated { .. })), "{:?}", got[6]);
    // Cut at every byte: never a panic, and never more frames than were whole.
    for n in 0..bytes.len() {
        if let Ok(v) = VideoFile::parse(&bytes[..n]) {
            let ok = v.packets().filter(Result::is_ok).count();
            let whole = offsets.iter().filter(|&&o| o < n).count();
            assert!(ok <= whole);
            let _ = v.index();
        }
    }
}

#[test]
fn a_corrupt_packet_is_reported_and_reading_resumes() {
    let (mut bytes, offsets) = file();
    bytes[offsets[5] + 40] ^= 0x10; // inside frame 5's payload
    let v = VideoFile::parse(&bytes).expect("parse");
    let got: Vec<_> = v.packets().collect();
    let frames: Vec<u32> = got.iter().filter_map(|r| r.as_ref().ok().map(|f| f.frame)).collect();
    assert_eq!(frames, [0, 1, 2, 3, 4, 6, 7, 8, 9]);
    assert_eq!(got.iter().filter(|r| matches!(r, Err(BitstreamError::CrcMismatch { .. }))).count(), 1);

    // A damaged packet header (its length field): the reader resynchronises on the next one.
    let (mut bytes, offsets) = file();
    bytes[offsets[2] + 16] ^= 0xFF;
    let v = VideoFile::parse(&bytes).expect("parse");
    let frames: Vec<u32> = v.packets().filter_map(Result::ok).map(|f| f.frame).collect();
    assert_eq!(frames, [0, 1, 3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn every_bit_flip_is_caught_or_harmless() {
    let (bytes, _) = file();
    let clean: Vec<_> = VideoFile::parse(&bytes).expect("parse").packets().collect();
    for i in 0..bytes.len() {
        for bit in [0, 3, 7] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            let Ok(v) = VideoFile::parse(&b) else { continue };
            // No flip may pass unnoticed: either a packet errs, or the parse matches exactly
            // (flips in the trailer or index only disable seeking).
            let got: Vec<_> = v.packets().collect();
            if got.iter().all(Result::is_ok) {
                assert_eq!(got, clean, "flip at byte {i} bit {bit} changed the frames silently");
            }
            if let Some(Ok((points, total))) = v.index() {
                assert_eq!(total, 10, "flip at byte {i} bit {bit}");
                assert_eq!(points.len(), 3, "flip at byte {i} bit {bit}");
            }
        }
    }
}

#[test]
fn kinds_are_not_confused() {
    let (bytes, _) = file();
    assert!(matches!(
        ImageFile::parse(&bytes),
        Err(BitstreamError::WrongStreamKind { found: StreamKind::Video, expected: StreamKind::Image })
    ));
    let err = VideoFile::parse(&bytes[..TRAILER_LEN]).expect_err("truncated header");
    assert!(matches!(err, BitstreamError::Truncated { .. }));
}

#[test]
fn writer_refuses_bad_input() {
    let mut bad = header();
    bad.frame_rate = (30, 0);
    assert!(VideoWriter::new(&bad).is_err());
    bad = header();
    bad.gop = 0;
    assert!(VideoWriter::new(&bad).is_err());
    let (mut w, _) = VideoWriter::new(&header()).expect("header");
    assert!(w.frame(FrameType::Inter, &chunks(0)).is_err(), "first frame must be intra");
    let dup = [Chunk::new(FourCc::LATENT, 0, 0, vec![1]), Chunk::new(FourCc::LATENT, 0, 0, vec![2])];
    assert!(w.frame(FrameType::Intra, &dup).is_err());
}
