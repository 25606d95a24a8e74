//! `lic encode` / `lic decode` / `lic bench` end to end, with the embedded model.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use lic_tests::psnr;

fn lic() -> Command {
    Command::cargo_bin("lic").expect("lic binary is built")
}

fn kodak() -> Option<PathBuf> {
    let root = std::env::var_os("LIC_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"),
        PathBuf::from,
    );
    let k = root.join("kodak").join("kodim23.png");
    if k.is_file() {
        Some(k)
    } else {
        eprintln!("SKIPPED: no Kodak data at {}", root.display());
        None
    }
}

fn roundtrip(input: &Path, dir: &Path, q: &str) -> image::DynamicImage {
    let coded = dir.join("x.lic");
    let out = dir.join("x.png");
    lic().arg("encode").arg(input).arg("-o").arg(&coded).args(["-q", q, "--force"]).assert().success();
    lic().arg("decode").arg(&coded).arg("-o").arg(&out).arg("--force").assert().success();
    image::open(&out).expect("decoded PNG")
}

#[test]
fn kodak_round_trip_improves_with_quality() {
    let Some(k) = kodak() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let src = image::open(&k).expect("kodak").into_rgb8();
    let lo = roundtrip(&k, dir.path(), "1");
    let lo_size = std::fs::metadata(dir.path().join("x.lic")).expect("file").len();
    let hi = roundtrip(&k, dir.path(), "8");
    let hi_size = std::fs::metadata(dir.path().join("x.lic")).expect("file").len();
    assert_eq!((hi.width(), hi.height()), (768, 512));
    let (p_lo, p_hi) = (psnr(&src, &lo.into_rgb8()), psnr(&src, &hi.into_rgb8()));
    assert!(hi_size > lo_size, "q8 {hi_size} bytes vs q1 {lo_size}");
    assert!(p_hi > p_lo + 1.0, "q8 {p_hi:.2} dB vs q1 {p_lo:.2} dB");
    assert!(p_lo > 15.0, "q1 PSNR {p_lo:.2} dB is not an image");
}

#[test]
fn target_bpp_lands_within_tolerance() {
    let Some(k) = kodak() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    for target in [0.3, 0.8] {
        let out = lic()
            .arg("encode")
            .arg(&k)
            .arg("-o")
            .arg(dir.path().join("t.lic"))
            .args(["--force", "--json", "--target-bpp", &target.to_string()])
            .assert()
            .success();
        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
        let bpp = v["bpp"].as_f64().expect("bpp");
        let notice = String::from_utf8_lossy(&out.get_output().stderr).contains("notice");
        assert!(
            notice || (bpp / target - 1.0).abs() <= 0.03,
            "target {target}: got {bpp} bpp without a notice"
        );
        // The reported quality is exactly what the file records.
        let info = lic().arg("info").arg(dir.path().join("t.lic")).arg("--json").assert().success();
        let info: serde_json::Value = serde_json::from_slice(&info.get_output().stdout).expect("json");
        assert_eq!(info["quality"], v["quality"]);
    }
    let out = lic()
        .arg("encode")
        .arg(&k)
        .args(["--target-bpp", "1000", "-o"])
        .arg(dir.path().join("u.lic"))
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("notice"));
}

#[test]
fn odd_sizes_and_gray_keep_their_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let odd = dir.path().join("odd.png");
    image::RgbImage::from_fn(97, 131, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 2) as u8, ((x + y) % 256) as u8])
    })
    .save(&odd)
    .expect("write");
    let back = roundtrip(&odd, dir.path(), "6");
    assert_eq!((back.width(), back.height()), (97, 131));
    assert!(back.color().has_color());

    let gray = dir.path().join("gray.png");
    image::GrayImage::from_fn(70, 65, |x, y| image::Luma([((x * 3 + y) % 256) as u8]))
        .save(&gray)
        .expect("write");
    let back = roundtrip(&gray, dir.path(), "3.5");
    assert_eq!((back.width(), back.height()), (70, 65));
    assert!(!back.color().has_color(), "gray came back as {:?}", back.color());
}

#[test]
fn pipes_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("p.png");
    image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 128]))
        .save(&png)
        .expect("write");
    let coded = lic()
        .args(["encode", "-", "-o", "-"])
        .write_stdin(std::fs::read(&png).expect("read"))
        .assert()
        .success();
    let coded = coded.get_output().stdout.clone();
    assert!(coded.starts_with(&lic_bitstream::MAGIC));
    let decoded =
        lic().args(["decode", "-"]).write_stdin(coded).assert().success().get_output().stdout.clone();
    let img = image::load_from_memory(&decoded).expect("PNG on stdout");
    assert_eq!((img.width(), img.height()), (64, 64));
}

fn fails_cleanly(cmd: &mut Command, needle: &str) {
    let out = cmd.assert().failure().get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// `lic decode` takes the embedded model a file records: the image default's files, and the
/// committed vector the video model coded when it was the default (recorded as `lic-default`).
#[test]
fn decode_finds_the_embedded_model_the_file_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vector =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/model/video-synthetic-q4.lic");
    let out = dir.path().join("v.png");
    lic().arg("decode").arg(&vector).arg("-o").arg(&out).arg("--quiet").assert().success();
    let img = image::open(&out).expect("decoded");
    assert_eq!((img.width(), img.height()), (200, 136));
    let info = lic().arg("info").arg(&vector).assert().success().get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&info).contains("7feeea01"), "the vector is the video model's");
}

#[test]
fn failures_are_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("a.png");
    image::RgbImage::new(64, 64).save(&png).expect("write");
    let existing = dir.path().join("a.lic");
    std::fs::write(&existing, b"keep me").expect("write");
    fails_cleanly(lic().arg("encode").arg(&png), "exists; use --force");
    assert_eq!(std::fs::read(&existing).expect("read"), b"keep me", "existing output was touched");

    let text = dir.path().join("t.png");
    std::fs::write(&text, b"not an image").expect("write");
    fails_cleanly(
        lic().arg("encode").arg(&text).arg("-o").arg(dir.path().join("t.lic")),
        "not a readable image",
    );
    fails_cleanly(
        lic().arg("encode").arg(&png).args(["-q", "9", "-o"]).arg(dir.path().join("q.lic")),
        "quality 9",
    );
    fails_cleanly(
        lic().arg("encode").arg(&png).args(["--refine", "5000", "-o"]).arg(dir.path().join("r.lic")),
        "refinement iterations",
    );
    // A refined file is an ordinary lic file.
    let refined = dir.path().join("r.lic");
    lic().arg("encode").arg(&png).args(["--refine", "2", "-q", "7", "-o"]).arg(&refined).assert().success();
    lic().arg("decode").arg(&refined).arg("-o").arg(dir.path().join("r.png")).assert().success();
    fails_cleanly(lic().arg("decode").arg(&text).arg("-o").arg(dir.path().join("d.png")), "not a lic file");
    fails_cleanly(lic().arg("decode").arg(dir.path().join("missing.lic")), "cannot read");

    // A file coded with other weights is refused rather than decoded into garbage.
    let coded = dir.path().join("b.lic");
    lic().arg("encode").arg(&png).arg("-o").arg(&coded).assert().success();
    let mut bytes = std::fs::read(&coded).expect("read");
    let file = lic_bitstream::ImageFile::parse(&bytes).expect("parse");
    let mut header = file.header.clone();
    header.model.digest[0] ^= 1;
    bytes = lic_bitstream::ImageFile::new(header, file.chunks.clone()).to_bytes().expect("write");
    let foreign = dir.path().join("foreign.lic");
    std::fs::write(&foreign, bytes).expect("write");
    fails_cleanly(
        lic().arg("decode").arg(&foreign).arg("-o").arg(dir.path().join("f.png")),
        "does not embed",
    );
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/weights/lic-default.safetensors");
    fails_cleanly(
        lic()
            .arg("decode")
            .arg(&foreign)
            .arg("--model")
            .arg(&weights)
            .arg("-o")
            .arg(dir.path().join("f.png")),
        "load the matching weights",
    );

    fails_cleanly(
        lic().arg("encode").arg(&png).arg("-o").arg(dir.path().join("no/such/dir/x.lic")),
        "cannot write",
    );
    let small = dir.path().join("small.png");
    image::RgbImage::new(8, 8).save(&small).expect("write");
    fails_cleanly(
        lic()
            .arg("decode")
            .arg(&coded)
            .arg("-o")
            .arg(dir.path().join("g2.png"))
            .arg("--reference")
            .arg(&small),
        "--reference",
    );
}

#[test]
fn alpha_depth_and_metadata_through_the_cli() {
    use image::ImageDecoder;
    let dir = tempfile::tempdir().expect("tempdir");
    // RGBA: alpha comes back exactly, the output is RGBA.
    let rgba = image::RgbaImage::from_fn(45, 29, |x, y| {
        image::Rgba([(x * 5) as u8, (y * 8) as u8, 90, ((x * y) % 256) as u8])
    });
    let src = dir.path().join("rgba.png");
    rgba.save(&src).expect("write");
    let back = roundtrip(&src, dir.path(), "4");
    let back = back.as_rgba8().expect("decoded as RGBA");
    assert!(rgba.pixels().zip(back.pixels()).all(|(a, b)| a[3] == b[3]), "alpha changed");

    // 16-bit input: coded at 8 bits, with a notice.
    let deep = dir.path().join("deep.png");
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(40, 30, |x, y| {
        image::Luma([(x * 1500 + y * 700) as u16])
    })
    .save(&deep)
    .expect("write");
    let out = lic().arg("encode").arg(&deep).arg("-o").arg(dir.path().join("deep.lic")).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("16-bit"));

    // An ICC profile survives PNG → lic → PNG.
    let icc = b"lic test profile: carried verbatim".to_vec();
    let tagged = dir.path().join("tagged.png");
    {
        use image::ImageEncoder;
        let img = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
        let mut buf = Vec::new();
        let mut enc = image::codecs::png::PngEncoder::new(&mut buf);
        enc.set_icc_profile(icc.clone()).expect("png takes ICC");
        enc.write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8).expect("png");
        std::fs::write(&tagged, buf).expect("write");
    }
    let coded = dir.path().join("tagged.lic");
    let out = lic().arg("encode").arg(&tagged).arg("-o").arg(&coded).arg("--json").assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["metadata"], serde_json::json!(["icc"]));
    let decoded = dir.path().join("tagged.out.png");
    let out = lic()
        .arg("decode")
        .arg(&coded)
        .arg("-o")
        .arg(&decoded)
        .arg("--reference")
        .arg(&tagged)
        .arg("--json")
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert!(v["psnr_rgb"].as_f64().is_some_and(|p| p > 20.0), "{v}");
    let mut dec = image::codecs::png::PngDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&decoded).expect("open"),
    ))
    .expect("png");
    assert_eq!(dec.icc_profile().expect("icc"), Some(icc));
}

#[test]
fn bench_small_run_with_jpeg_anchor() {
    let Some(k) = kodak() else { return };
    let root = k.parent().and_then(Path::parent).expect("data root").to_path_buf();
    let on_path = |t: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
    };
    if !on_path("cjpeg") {
        eprintln!("SKIPPED bench test: cjpeg missing (scripts/install-anchors.sh)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("bench");
    let run = lic()
        .args(["bench", "--limit", "2", "--qualities", "2,6", "--anchors", "jpeg", "--data"])
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let table = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    assert!(table.contains("| lic | jpeg |"), "{table}");
    for codec in ["lic", "jpeg"] {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(format!("{codec}.json"))).expect("json"))
                .expect("valid");
        assert_eq!(v["name"], codec);
        assert!(v["results"]["bpp"].as_array().is_some_and(|a| !a.is_empty()));
        assert!(v["results"]["psnr-rgb"].as_array().is_some_and(|a| !a.is_empty()));
    }
    assert!(out.join("bd.md").is_file());
    let by_point = std::fs::read_to_string(out.join("rate-by-point.md")).expect("rate by point");
    assert!(by_point.starts_with("**lic**") && by_point.contains("| jpeg |"), "{by_point}");
    let speed = std::fs::read_to_string(out.join("speed.md")).expect("speed table");
    assert!(speed.contains("| lic | cpu | 4 |") && speed.contains("| jpeg | system tool |"), "{speed}");
    let report = std::fs::read_to_string(out.join("RESULTS.md")).expect("report");
    assert!(report.contains("| lic | jpeg |") && report.contains("lic bench --limit 2"), "{report}");
    if Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file()
        || std::env::var_os("LIC_FONT").is_some()
    {
        for plot in ["rd-psnr.png", "rd-psnr.svg", "rd-ms-ssim.png", "rd-ms-ssim.svg"] {
            let bytes = std::fs::read(out.join(plot)).expect(plot);
            assert!(bytes.len() > 1000, "{plot} is {} bytes", bytes.len());
        }
        assert!(report.contains("![rd-psnr](rd-psnr.svg)"), "{report}");
    } else {
        eprintln!("SKIPPED plot checks: no font (install fonts-dejavu-core)");
    }
    fails_cleanly(
        lic().args(["bench", "--anchors", "jpeg", "--data"]).arg(&root).arg("--out").arg(&out),
        "already holds results",
    );
    fails_cleanly(
        lic().args(["bench", "--dataset", "/nonexistent", "--out"]).arg(dir.path().join("x")),
        "cannot read dataset folder",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    fails_cleanly(
        lic().args(["bench", "--dataset"]).arg(&empty).arg("--out").arg(dir.path().join("y")),
        "no images",
    );
}

/// Two shards merged give the unsharded run's results (times aside); bad merges fail cleanly.
#[test]
fn bench_shards_merge_to_the_unsharded_results() {
    let Some(k) = kodak() else { return };
    let root = k.parent().and_then(Path::parent).expect("data root").to_path_buf();
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |extra: &[&str], out: &Path| {
        lic()
            .args(["bench", "--limit", "2", "--qualities", "1,3,5", "--anchors", "", "--quiet", "--data"])
            .arg(&root)
            .args(extra)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let (whole, s1, s2, merged) =
        (dir.path().join("whole"), dir.path().join("s1"), dir.path().join("s2"), dir.path().join("merged"));
    run(&[], &whole);
    run(&["--shard", "1/2"], &s1);
    run(&["--shard", "2/2"], &s2);
    let items = |d: &Path| -> Vec<serde_json::Value> {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("results.json")).expect("results")).expect("json");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                let mut i = i.clone();
                i["encoding_time"] = 0.into();
                i["decoding_time"] = 0.into();
                i
            })
            .collect()
    };
    assert_eq!(items(&s1).len(), 3);
    assert_eq!(items(&s2).len(), 3);
    lic().args(["bench", "merge"]).arg(&s1).arg(&s2).arg("--out").arg(&merged).assert().success();
    assert_eq!(items(&merged), items(&whole));
    assert_eq!(
        std::fs::read_to_string(merged.join("bd.md")).expect("bd"),
        std::fs::read_to_string(whole.join("bd.md")).expect("bd")
    );
    fails_cleanly(
        lic().args(["bench", "merge"]).arg(&s1).arg("--out").arg(dir.path().join("m2")),
        "shard 2/2 is missing",
    );
    fails_cleanly(
        lic().args(["bench", "merge"]).arg(&s1).arg(&s1).arg("--out").arg(dir.path().join("m3")),
        "given twice",
    );
    fails_cleanly(
        lic().args(["bench", "merge"]).arg(dir.path()).arg("--out").arg(dir.path().join("m4")),
        "cannot read",
    );
    fails_cleanly(lic().args(["bench", "--shard", "3/2"]), "is not i/n");
}
