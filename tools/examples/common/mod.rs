//! What the measurement examples share.

use std::error::Error;
use std::path::PathBuf;

/// The first `limit` Kodak images under the data root (`LIC_DATA`, then
/// `../shared/datasets`), or an error naming the root when there are none.
pub fn kodak_images(limit: usize) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let root = lic_datasets::data_root(None);
    let mut files = lic_datasets::kodak(&root)?;
    files.truncate(limit);
    if files.is_empty() {
        return Err(format!("no Kodak images under {}", root.display()).into());
    }
    Ok(files)
}
