//! Finding and loading lic's data.
//!
//! Data never lives in the repository. [`data_root`] resolves it from `--data`, then the
//! `LIC_DATA` environment variable, then `../shared/datasets`; [`kodak`] and
//! [`image_files`] list a dataset's images in a stable order.

use std::path::{Path, PathBuf};

pub mod motion;

/// Environment variable naming the data root.
pub const DATA_ENV: &str = "LIC_DATA";
/// Data root used when neither `--data` nor `LIC_DATA` is given.
pub const DEFAULT_DATA_ROOT: &str = "../shared/datasets";
/// Number of images in the Kodak set.
pub const KODAK_IMAGES: usize = 24;

/// What can go wrong finding or reading data.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The folder does not exist or cannot be listed.
    #[error("cannot read dataset folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The folder has no images.
    #[error("no images (png, jpg, jpeg, ppm, bmp, tif, tiff, webp) in {0}")]
    Empty(PathBuf),
    /// The Kodak folder is incomplete.
    #[error("Kodak set at {path} has {found} of the {KODAK_IMAGES} images kodim01.png … kodim24.png")]
    IncompleteKodak {
        /// The folder.
        path: PathBuf,
        /// Images found.
        found: usize,
    },
    /// An image could not be decoded.
    #[error("cannot read image {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: image::ImageError,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

/// The data root: `explicit` (from `--data`) if given, else `$LIC_DATA`, else
/// `../shared/datasets`.
pub fn data_root(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_owned(),
        None => std::env::var_os(DATA_ENV).map_or_else(|| PathBuf::from(DEFAULT_DATA_ROOT), PathBuf::from),
    }
}

/// Image files directly inside `dir`, sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    const EXTS: [&str; 8] = ["png", "jpg", "jpeg", "ppm", "bmp", "tif", "tiff", "webp"];
    let entries =
        std::fs::read_dir(dir).map_err(|source| DatasetError::Folder { path: dir.to_owned(), source })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DatasetError::Empty(dir.to_owned()));
    }
    Ok(files)
}

/// The 24 Kodak images under `root/kodak`, in order kodim01 … kodim24.
pub fn kodak(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("kodak");
    let files: Vec<PathBuf> = image_files(&dir)?
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("kodim")))
        .collect();
    if files.len() != KODAK_IMAGES {
        return Err(DatasetError::IncompleteKodak { path: dir, found: files.len() });
    }
    Ok(files)
}

/// Decodes an image file (format from its content).
pub fn load_image(path: &Path) -> Result<image::DynamicImage> {
    let err = |source| DatasetError::Image { path: path.to_owned(), source };
    image::ImageReader::open(path)
        .map_err(|e| err(image::ImageError::IoError(e)))?
        .with_guessed_format()
        .map_err(|e| err(image::ImageError::IoError(e)))?
        .decode()
        .map_err(err)
}
