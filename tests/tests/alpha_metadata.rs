//! Alpha planes, metadata and the `image` crate integration, with the embedded model.

use image::{DynamicImage, GrayAlphaImage, ImageDecoder, Rgba, RgbaImage};
use lic_bitstream::{Chunk, FourCc, ImageFile};
use lic_codec::{Backend, CodecError, Decoder, Encoder, LicImageDecoder, Metadata, Model};

fn model() -> Model {
    Model::embedded(Backend::Cpu).expect("embedded model")
}

/// A 70×45 RGBA image (odd size) with a soft gradient, a hard-edged hole and varied alpha.
fn rgba() -> RgbaImage {
    RgbaImage::from_fn(70, 45, |x, y| {
        let a =
            if (20..40).contains(&x) && (10..30).contains(&y) { 0 } else { ((x * 3 + y * 5) % 256) as u8 };
        Rgba([(x * 3) as u8, (y * 5) as u8, 128, a])
    })
}

#[test]
fn rgba_keeps_alpha_exactly() {
    let m = model();
    let src = rgba();
    let bytes = Encoder::new(&m)
        .quality(4.0)
        .and_then(|e| e.encode(&DynamicImage::ImageRgba8(src.clone())))
        .expect("encode");
    assert!(ImageFile::parse(&bytes).expect("parse").chunk(FourCc::ALPHA, 0, 0).is_some());
    let back = Decoder::new(&m).decode(&bytes).expect("decode");
    let DynamicImage::ImageRgba8(back) = back else { panic!("expected RGBA, got {:?}", back.color()) };
    assert_eq!(back.dimensions(), src.dimensions());
    for (a, b) in src.pixels().zip(back.pixels()) {
        assert_eq!(a[3], b[3], "alpha must be lossless");
    }
}

#[test]
fn gray_alpha_decodes_to_gray_alpha() {
    let m = model();
    let src = GrayAlphaImage::from_fn(33, 65, |x, y| image::LumaA([(x * 7) as u8, (y * 3) as u8]));
    let bytes = Encoder::new(&m).encode(&DynamicImage::ImageLumaA8(src.clone())).expect("encode");
    let back = Decoder::new(&m).decode(&bytes).expect("decode");
    let DynamicImage::ImageLumaA8(back) = back else { panic!("expected LA8, got {:?}", back.color()) };
    assert!(src.pixels().zip(back.pixels()).all(|(a, b)| a[1] == b[1]));
}

#[test]
fn metadata_is_carried_verbatim() {
    let m = model();
    let meta = Metadata {
        icc: Some(b"fake icc profile bytes".to_vec()),
        exif: Some(b"MM\0*\0\0\0\x08\0\0".to_vec()),
        xmp: Some(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>".to_vec()),
    };
    let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 64, image::Rgb([10, 200, 30])));
    let bytes = Encoder::new(&m).metadata(meta.clone()).encode(&img).expect("encode");
    let decoded = Decoder::new(&m).decode_with_metadata(&bytes).expect("decode");
    assert_eq!(decoded.metadata, meta);
    let mut dec = LicImageDecoder::new(m.clone(), bytes.as_slice()).expect("image decoder");
    assert_eq!(dec.icc_profile().expect("icc"), meta.icc);
    assert_eq!(dec.exif_metadata().expect("exif"), meta.exif);
    // Without metadata, none is invented.
    let plain = Encoder::new(&m).encode(&img).expect("encode");
    assert!(Decoder::new(&m).decode_with_metadata(&plain).expect("decode").metadata.is_empty());
}

#[test]
fn image_crate_opens_lic_files() {
    let m = model();
    lic_codec::register_image_format(m.clone());
    let src = DynamicImage::ImageRgba8(rgba());
    let bytes = Encoder::new(&m).encode(&src).expect("encode");
    let dir = std::env::temp_dir().join(format!("lic-image-hook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let by_ext = dir.join("a.lic");
    let by_magic = dir.join("a.bin");
    std::fs::write(&by_ext, &bytes).expect("write");
    std::fs::write(&by_magic, &bytes).expect("write");
    let direct = Decoder::new(&m).decode(&bytes).expect("decode");
    let opened = image::open(&by_ext).expect("image::open reads .lic");
    assert_eq!(opened, direct);
    let guessed = image::ImageReader::open(&by_magic)
        .and_then(|r| r.with_guessed_format())
        .expect("reader")
        .decode()
        .expect("found by magic");
    assert_eq!(guessed, direct);
    // A corrupt file is an error through image too, not a panic.
    std::fs::write(&by_ext, &bytes[..bytes.len() / 2]).expect("write");
    assert!(image::open(&by_ext).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rebuilds `bytes` with its ALPH chunk replaced (or dropped), checksums recomputed: what a
/// buggy or hostile encoder could produce.
fn with_alpha_chunk(bytes: &[u8], payload: Option<Vec<u8>>) -> Vec<u8> {
    let file = ImageFile::parse(bytes).expect("parse");
    let mut chunks: Vec<Chunk<'static>> =
        file.chunks.iter().filter(|c| c.fourcc != FourCc::ALPHA).map(|c| c.clone().into_owned()).collect();
    if let Some(p) = payload {
        chunks.push(Chunk::new(FourCc::ALPHA, 0, 0, p));
    }
    ImageFile::new(file.header.clone(), chunks).to_bytes().expect("write")
}

#[test]
fn bad_alpha_chunks_are_clear_errors() {
    let m = model();
    let bytes = Encoder::new(&m).encode(&DynamicImage::ImageRgba8(rgba())).expect("encode");
    let d = Decoder::new(&m);
    assert!(matches!(d.decode(&with_alpha_chunk(&bytes, None)), Err(CodecError::MissingChunk(_))));
    assert!(matches!(
        d.decode(&with_alpha_chunk(&bytes, Some(b"not a png".to_vec()))),
        Err(CodecError::Corrupt(_))
    ));
    // A valid PNG of the wrong size.
    let wrong = {
        let mut v = Vec::new();
        image::GrayImage::new(7, 7)
            .write_to(&mut std::io::Cursor::new(&mut v), image::ImageFormat::Png)
            .expect("png");
        v
    };
    assert!(matches!(d.decode(&with_alpha_chunk(&bytes, Some(wrong))), Err(CodecError::Corrupt(_))));
}

/// The library's types can be shared across threads (checked at compile time).
#[test]
fn public_types_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Model>();
    both::<Encoder<'static>>();
    both::<Decoder<'static>>();
    both::<CodecError>();
    both::<Metadata>();
    both::<lic_codec::Decoded>();
    both::<LicImageDecoder>();
}

/// One model, two threads coding at once: no global state between them.
#[test]
fn threads_share_one_model() {
    let m = model();
    let img = DynamicImage::ImageRgba8(rgba());
    let expected = Encoder::new(&m).encode(&img).expect("encode");
    std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..2).map(|_| s.spawn(|| Encoder::new(&m).encode(&img).expect("encode"))).collect();
        for h in handles {
            assert_eq!(h.join().expect("thread"), expected);
        }
    });
}
