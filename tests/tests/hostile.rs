//! Hostile payloads: files whose checksums are valid but whose coded chunks are not what any
//! lic encoder writes (a buggy or malicious encoder). The CRCs stop accidental corruption
//! (`conformance.rs`); past them, the range decoder and the model see attacker-chosen bytes,
//! and must answer with an image of the declared size or an error — never a panic or a hang.

use image::{DynamicImage, GenericImageView, Rgb, RgbImage};
use lic_bitstream::{Chunk, ImageFile, VideoFile, VideoWriter};
use lic_codec::{Backend, Decoder, Encoder, Model, VideoDecoder, VideoEncoder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A 96×72 photo-like test image, shifted `dx` pixels to the right: smooth gradients, an edge
/// and texture, so that every latent slice codes non-trivial symbols (and a shifted copy is
/// a plausible next video frame).
fn frame(dx: u32) -> RgbImage {
    RgbImage::from_fn(96, 72, |x, y| {
        let x = x + dx;
        let t = (x * 7 + y * 13) % 29;
        let edge = if x > 40 { 60 } else { 0 };
        Rgb([(x * 2 + t).min(255) as u8, (y * 2 + edge).min(255) as u8, (255 - (x + y).min(255)) as u8])
    })
}

fn image() -> DynamicImage {
    DynamicImage::ImageRgb8(frame(0))
}

/// `chunks` with the one at `target` replaced by a chunk of the same identity and `payload`.
fn replaced(chunks: &[Chunk<'_>], target: usize, payload: &[u8]) -> Vec<Chunk<'static>> {
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone().into_owned();
            if i == target { Chunk::new(c.fourcc, c.tile, c.index, payload.to_vec()) } else { c }
        })
        .collect()
}

/// An index below `n` (0 when `n` is 0).
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.random_range(0..n.max(1))
}

fn random_bytes(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random()).collect()
}

/// One mutation of `payload`, named for the failure message. The generator is seeded, so
/// every run tries the same cases and a failure names a reproducible one.
fn mutate(rng: &mut ChaCha8Rng, payload: &[u8]) -> (&'static str, Vec<u8>) {
    let mut p = payload.to_vec();
    match below(rng, 7) {
        0 => {
            for _ in 0..1 + below(rng, 4) {
                if !p.is_empty() {
                    let i = below(rng, p.len());
                    p[i] ^= 1 << below(rng, 8);
                }
            }
            ("bit flips", p)
        }
        1 => {
            p.truncate(below(rng, p.len()));
            ("truncated", p)
        }
        2 => {
            let extra = 1 + below(rng, 64);
            p.extend(random_bytes(rng, extra));
            ("extended", p)
        }
        3 => ("random bytes", random_bytes(rng, p.len())),
        4 => ("all zero", vec![0; p.len()]),
        5 => ("all 0xff", vec![0xff; p.len()]),
        _ => {
            if p.len() > 1 {
                let (a, b) = (below(rng, p.len()), below(rng, p.len()));
                let (lo, hi) = (a.min(b), a.max(b));
                p[lo..hi].reverse();
            }
            ("span reversed", p)
        }
    }
}

#[test]
fn hostile_payloads_with_valid_checksums_decode_or_fail_cleanly() {
    let model = Model::embedded(Backend::Cpu).expect("embedded model");
    let img = image();
    let bytes = Encoder::new(&model).quality(4.0).expect("quality").encode(&img).expect("encode");
    let file = ImageFile::parse(&bytes).expect("parse");
    let decoder = Decoder::new(&model);
    let (mut decoded, mut refused) = (0, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..48 {
        let target = case % file.chunks.len();
        let (what, payload) = mutate(&mut rng, &file.chunks[target].payload);
        let chunks = replaced(&file.chunks, target, &payload);
        let hostile = ImageFile::new(file.header.clone(), chunks).to_bytes().expect("write");
        match decoder.decode(&hostile) {
            Ok(out) => {
                assert_eq!(
                    out.dimensions(),
                    img.dimensions(),
                    "case {case} ({what} in {:?}): decoded to the wrong size",
                    file.chunks[target].fourcc
                );
                decoded += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty(), "case {case}: an error must say what is wrong");
                refused += 1;
            }
        }
    }
    // Both outcomes must occur: a range decoder reads any bytes as some symbols (so most
    // flips decode to a wrong but well-formed image), while truncation past the end of the
    // coded data and unparseable lengths must be refused.
    assert!(decoded > 0 && refused > 0, "{decoded} decoded, {refused} refused");
}

#[test]
fn hostile_video_packets_decode_or_fail_cleanly() {
    let model = Model::embedded_video(Backend::Cpu).expect("embedded model");
    let frames: Vec<RgbImage> = (0..3).map(|i| frame(2 * i)).collect();
    let mut enc = VideoEncoder::new(&model, 4.0, 8, 96, 72, (25, 1)).expect("encoder");
    let mut bytes = enc.header().to_vec();
    for f in &frames {
        bytes.extend(enc.encode_frame(f).expect("encode").bytes);
    }
    bytes.extend(enc.finish().expect("finish"));
    let file = VideoFile::parse(&bytes).expect("parse");
    let packets: Vec<_> = file.packets().collect::<Result<_, _>>().expect("packets");
    assert_eq!(packets.len(), 3);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut decoded, mut refused) = (0, 0);
    for case in 0..24 {
        // Every frame in turn, intra and inter, each chunk of it in turn.
        let victim = case % packets.len();
        let target = (case / packets.len()) % packets[victim].chunks.len();
        let (what, payload) = mutate(&mut rng, &packets[victim].chunks[target].payload);
        let (mut writer, mut hostile) = VideoWriter::new(&file.header).expect("writer");
        for (i, p) in packets.iter().enumerate() {
            let chunks = if i == victim { replaced(&p.chunks, target, &payload) } else { p.chunks.clone() };
            hostile.extend(writer.frame(p.frame_type, &chunks).expect("frame"));
        }
        hostile.extend(writer.finish().expect("finish"));
        let dec = VideoDecoder::new(&model, &hostile).expect("the header is intact");
        for out in dec.frames(0).expect("frames") {
            match out {
                Ok(f) => {
                    assert_eq!(f.image.dimensions(), (96, 72), "case {case} ({what}, frame {victim})");
                    decoded += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        }
    }
    assert!(decoded > 0 && refused > 0, "{decoded} frames decoded, {refused} refused");
}
