//! End-to-end tests of the `lic` binary.

use assert_cmd::Command;
use lic_bitstream::{Chunk, FourCc, ImageFile, ModelId, Quality};

fn sample() -> Vec<u8> {
    let mut header = lic_tests::header(ModelId { name: "lic-test".into(), digest: [0x5a; 32] }, 768, 512);
    header.quality = Quality::from_milli(3500);
    let chunks = vec![
        Chunk::new(FourCc::HYPER_LATENT, 0, 0, vec![1u8; 100]),
        Chunk::new(FourCc::LATENT, 0, 0, vec![2u8; 900]),
    ];
    ImageFile::new(header, chunks).to_bytes().expect("sample writes")
}

fn lic() -> Command {
    Command::cargo_bin("lic").expect("lic binary is built")
}

#[test]
fn info_prints_header_and_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.lic");
    std::fs::write(&path, sample()).expect("write");
    let out = lic().arg("info").arg(&path).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.contains("lic-test"), "{text}");
    assert!(text.contains("quality    3.5"), "{text}");
    assert!(text.contains("768x512"), "{text}");
    assert!(text.contains("LATY"), "{text}");
}

#[test]
fn info_json_from_stdin() {
    let bytes = sample();
    let out = lic()
        .args(["info", "-", "--json"])
        .write_stdin(bytes.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["quality"], 3.5);
    assert_eq!(v["width"], 768);
    assert_eq!(v["file_bytes"], bytes.len());
    assert_eq!(v["chunks"][1]["bytes"], 900);
    let bpp = v["bpp"].as_f64().expect("bpp");
    assert!((bpp - bytes.len() as f64 * 8.0 / (768.0 * 512.0)).abs() < 1e-9);
}

fn assert_clean_failure(assert: assert_cmd::assert::Assert, needle: &str) {
    let out = assert.failure().get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one-line message expected: {err}");
}

#[test]
fn failures_exit_nonzero_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_clean_failure(lic().args(["info"]).arg(dir.path().join("missing.lic")).assert(), "cannot read");

    let png = dir.path().join("not.lic");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    assert_clean_failure(lic().arg("info").arg(&png).assert(), "not a lic file");

    let mut bytes = sample();
    let n = bytes.len();
    bytes[n - 5] ^= 0x10;
    let corrupt = dir.path().join("corrupt.lic");
    std::fs::write(&corrupt, &bytes).expect("write");
    assert_clean_failure(lic().arg("info").arg(&corrupt).assert(), "CRC-32C mismatch");

    let truncated = dir.path().join("truncated.lic");
    std::fs::write(&truncated, &sample()[..40]).expect("write");
    assert_clean_failure(lic().arg("info").arg(&truncated).assert(), "truncated");

    let mut v2 = sample();
    v2[8] = 2;
    assert_clean_failure(
        lic().args(["info", "-"]).write_stdin(v2).assert(),
        "unsupported lic format version 2",
    );
}
