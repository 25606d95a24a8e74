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

/// Where a command writes its result: a file (never overwritten without `--force`, written
/// beside its final name and renamed so no half-written file is left) or standard output.
pub struct OutputPath {
    path: std::path::PathBuf,
}

impl OutputPath {
    /// Checks up front that `path` may be written, so no work is wasted.
    pub fn new(path: std::path::PathBuf, force: bool) -> Result<Self, crate::ToolError> {
        if path.as_os_str() != "-" && path.exists() && !force {
            return Err(crate::ToolError::Usage(format!(
                "{} exists; use --force to overwrite it",
                path.display()
            )));
        }
        Ok(Self { path })
    }

    /// Whether this is standard output.
    pub fn is_stdout(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// How the output is named in messages.
    pub fn name(&self) -> String {
        display_name(&self.path)
    }

    /// Writes `bytes`.
    pub fn write(&self, bytes: &[u8]) -> Result<(), crate::ToolError> {
        use std::io::Write;
        let fail = |source| crate::ToolError::Write { path: self.name(), source };
        if self.is_stdout() {
            let mut out = std::io::stdout().lock();
            return out.write_all(bytes).and_then(|()| out.flush()).map_err(fail);
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".part");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}

/// A progress bar on standard error, or a hidden one with `--quiet` or when standard error is
/// not a terminal (indicatif then draws nothing).
pub fn progress(len: u64, quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{msg:12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// A spinner with `what` on standard error while a single long step runs; hidden with
/// `--quiet` or when standard error is not a terminal.
pub fn spinner(quiet: bool, what: String) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// An image file's pixels and metadata (ICC, EXIF, XMP) as its format stores them.
pub fn read_image(
    bytes: &[u8],
    name: &str,
) -> Result<(image::DynamicImage, lic_codec::Metadata), crate::ToolError> {
    use image::ImageDecoder;
    let bad = |e: image::ImageError| crate::ToolError::Usage(format!("{name}: not a readable image: {e}"));
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| crate::ToolError::Usage(format!("{name}: {e}")))?;
    let mut dec = reader.into_decoder().map_err(bad)?;
    // Metadata a format cannot report is simply absent; it never fails the encode.
    let metadata = lic_codec::Metadata {
        icc: dec.icc_profile().ok().flatten(),
        exif: dec.exif_metadata().ok().flatten(),
        xmp: dec.xmp_metadata().ok().flatten(),
    };
    let img = image::DynamicImage::from_decoder(dec).map_err(bad)?;
    Ok((img, metadata))
}

/// Encodes `img` as `format`, with the metadata where the format's encoder can store it;
/// returns the bytes and the names of the items it had to drop.
pub fn write_image(
    img: &image::DynamicImage,
    format: image::ImageFormat,
    metadata: &lic_codec::Metadata,
) -> Result<(Vec<u8>, Vec<&'static str>), String> {
    use image::ImageEncoder;
    use image::codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder};
    fn with_meta<E: ImageEncoder>(
        mut e: E,
        img: &image::DynamicImage,
        m: &lic_codec::Metadata,
        dropped: &mut Vec<&'static str>,
    ) -> Result<(), String> {
        if let Some(icc) = &m.icc {
            if e.set_icc_profile(icc.clone()).is_err() {
                dropped.push("ICC profile");
            }
        }
        if let Some(exif) = &m.exif {
            if e.set_exif_metadata(exif.clone()).is_err() {
                dropped.push("EXIF");
            }
        }
        e.write_image(img.as_bytes(), img.width(), img.height(), img.color().into())
            .map_err(|e| e.to_string())
    }
    let mut buf = Vec::new();
    let mut dropped = Vec::new();
    match format {
        image::ImageFormat::Png => with_meta(PngEncoder::new(&mut buf), img, metadata, &mut dropped)?,
        image::ImageFormat::Jpeg => {
            with_meta(JpegEncoder::new_with_quality(&mut buf, 95), img, metadata, &mut dropped)?
        }
        image::ImageFormat::WebP => {
            with_meta(WebPEncoder::new_lossless(&mut buf), img, metadata, &mut dropped)?
        }
        other => {
            img.write_to(&mut std::io::Cursor::new(&mut buf), other).map_err(|e| e.to_string())?;
            dropped.extend(metadata.icc.as_ref().map(|_| "ICC profile"));
            dropped.extend(metadata.exif.as_ref().map(|_| "EXIF"));
        }
    }
    dropped.extend(metadata.xmp.as_ref().map(|_| "XMP"));
    Ok((buf, dropped))
}

/// `--force`, `--json` and `--quiet`, shared by the commands that write a file.
#[derive(clap::Args)]
pub struct OutputFlags {
    /// No progress display and no notices.
    #[arg(long)]
    pub quiet: bool,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print a JSON summary on standard output (unless the output itself goes there).
    #[arg(long)]
    pub json: bool,
}

/// Drops the rows of a training log (a CSV whose first column is the step) logged after
/// `step`: a run stopped between checkpoints resumes from the last one and logs those steps
/// again, and the log should hold each step once. A missing file is left missing.
pub fn truncate_log_after(path: &Path, step: u64) -> Result<(), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let later =
        |line: &str| line.split(',').next().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s > step);
    if !text.lines().any(later) {
        return Ok(());
    }
    let kept: String = text.lines().filter(|l| !later(l)).map(|l| format!("{l}\n")).collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, kept).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

/// Opens `path` for appending, writing `header` first if the file is new.
pub fn append_csv(path: &Path, header: &str) -> Result<std::fs::File, String> {
    use std::io::Write;
    let new = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    if new {
        writeln!(f, "{header}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_resumed_log_keeps_each_step_once() {
        let dir = std::env::temp_dir().join(format!("lic-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("train.csv");
        std::fs::write(&path, "step,loss\n1,0.5\n2,0.4\n3,0.3\n4,0.2\n").expect("write");
        super::truncate_log_after(&path, 2).expect("truncate");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "step,loss\n1,0.5\n2,0.4\n");
        super::truncate_log_after(&path, 9).expect("nothing later");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "step,loss\n1,0.5\n2,0.4\n");
        super::truncate_log_after(&dir.join("missing.csv"), 1).expect("a missing log is fine");
        assert!(!dir.join("missing.csv").exists());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
