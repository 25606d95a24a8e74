//! Reading inputs named on the command line (`-` is standard input).

use std::io::Read;
use std::path::Path;

/// An input that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct IoError {
    path: String,
    source: std::io::Error,
}

/// The whole content of `path`, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, IoError> {
    let fail = |source| IoError { path: display_name(path), source };
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).map_err(fail)?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(fail)
    }
}

/// How a path is named in messages.
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" { "<stdin>".into() } else { path.display().to_string() }
}
