//! The datasets the benchmarks and trainer rely on are where and what the code expects.

use lic_datasets::{KODAK_IMAGES, image_files, kodak, load_image};

#[test]
fn kodak_is_complete_and_decodes() {
    let Some(root) = lic_tests::data_root_or_skip("Kodak check") else { return };
    let files = kodak(&root).expect("Kodak set");
    assert_eq!(files.len(), KODAK_IMAGES);
    for f in &files {
        let img = load_image(f).expect("decodes");
        let dims = (img.width(), img.height());
        assert!(dims == (768, 512) || dims == (512, 768), "{}: {dims:?}", f.display());
    }
}

#[test]
fn training_crops_are_listed() {
    let Some(root) = lic_tests::data_root_or_skip("training crops check") else { return };
    let files = image_files(&root.join("train").join("images")).expect("training crops");
    assert!(files.len() >= 1000, "{} training crops", files.len());
}

#[test]
fn missing_and_empty_folders_are_errors() {
    let dir = std::env::temp_dir().join(format!("lic-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    assert!(image_files(&dir).is_err());
    assert!(kodak(&dir).is_err());
    std::fs::remove_dir_all(&dir).ok();
}
