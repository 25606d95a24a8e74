//! Classical codecs as anchors, through the system tools Debian packages
//! (`scripts/install-anchors.sh`, and `.ci/run`): every file is really written and decoded.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One anchor codec: how to encode a PNG at a sweep parameter and decode the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// libjpeg-turbo `cjpeg`, 4:4:4, optimised Huffman tables.
    Jpeg,
    /// libwebp `cwebp -m 6`.
    Webp,
    /// libaom through `avifenc`, 4:4:4, speed 2, `tune=psnr`.
    Avif,
    /// x265 through `heif-enc`, 4:4:4.
    Heic,
    /// libjxl `cjxl`, effort 7.
    Jxl,
}

impl Anchor {
    /// Parses a name as used by `--anchors`.
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "jpeg" => Anchor::Jpeg,
            "webp" => Anchor::Webp,
            "avif" => Anchor::Avif,
            "heic" => Anchor::Heic,
            "jxl" => Anchor::Jxl,
            other => return Err(format!("unknown anchor {other:?} (jpeg, webp, avif, heic, jxl)")),
        })
    }

    /// Name in results and tables.
    pub fn name(self) -> &'static str {
        match self {
            Anchor::Jpeg => "jpeg",
            Anchor::Webp => "webp",
            Anchor::Avif => "avif",
            Anchor::Heic => "heic",
            Anchor::Jxl => "jxl",
        }
    }

    /// What the results' description says, tools and settings included.
    pub fn description(self) -> &'static str {
        match self {
            Anchor::Jpeg => "libjpeg-turbo cjpeg -sample 1x1 -optimize (4:4:4), quality sweep",
            Anchor::Webp => "libwebp cwebp -m 6, quality sweep",
            Anchor::Avif => "libaom via avifenc -y 444 -s 2 -a tune=psnr, end-usage=q cq-level sweep",
            Anchor::Heic => "x265 via heif-enc -p chroma=444, quality sweep",
            Anchor::Jxl => "libjxl cjxl -e 7, distance sweep",
        }
    }

    /// Sweep parameters covering roughly 0.1–2 bpp on Kodak.
    pub fn sweep(self) -> Vec<f64> {
        match self {
            Anchor::Jpeg => vec![5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0],
            Anchor::Webp => vec![0.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0],
            Anchor::Avif => vec![58.0, 52.0, 46.0, 40.0, 34.0, 28.0, 22.0, 16.0, 10.0],
            Anchor::Heic => vec![5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
            Anchor::Jxl => vec![12.0, 8.0, 6.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.7, 0.5],
        }
    }

    /// The system tools it needs.
    pub fn tools(self) -> [&'static str; 2] {
        match self {
            Anchor::Jpeg => ["cjpeg", "djpeg"],
            Anchor::Webp => ["cwebp", "dwebp"],
            Anchor::Avif => ["avifenc", "avifdec"],
            Anchor::Heic => ["heif-enc", "heif-convert"],
            Anchor::Jxl => ["cjxl", "djxl"],
        }
    }

    /// Encodes `png` (and its PPM twin, for cjpeg) at `param` into `dir`; returns the
    /// compressed file, the decoded PNG/PPM path, and the encode and decode wall times (s).
    pub fn run(self, png: &Path, ppm: &Path, param: f64, dir: &Path) -> Result<Coded, String> {
        let stem = format!("{}-{param}", self.name());
        let p = param.to_string();
        let (coded, decoded) = match self {
            Anchor::Jpeg => (dir.join(format!("{stem}.jpg")), dir.join(format!("{stem}.ppm"))),
            Anchor::Webp => (dir.join(format!("{stem}.webp")), dir.join(format!("{stem}.ppm"))),
            Anchor::Avif => (dir.join(format!("{stem}.avif")), dir.join(format!("{stem}.png"))),
            Anchor::Heic => (dir.join(format!("{stem}.heic")), dir.join(format!("{stem}.png"))),
            Anchor::Jxl => (dir.join(format!("{stem}.jxl")), dir.join(format!("{stem}.png"))),
        };
        let (c, d) = (coded.to_string_lossy().into_owned(), decoded.to_string_lossy().into_owned());
        let (png, ppm) = (png.to_string_lossy().into_owned(), ppm.to_string_lossy().into_owned());
        let (enc, dec): (Vec<&str>, Vec<&str>) = match self {
            Anchor::Jpeg => (
                vec!["cjpeg", "-quality", &p, "-sample", "1x1", "-optimize", "-outfile", &c, &ppm],
                vec!["djpeg", "-ppm", "-outfile", &d, &c],
            ),
            Anchor::Webp => (
                vec!["cwebp", "-quiet", "-m", "6", "-q", &p, &png, "-o", &c],
                vec!["dwebp", "-quiet", &c, "-ppm", "-o", &d],
            ),
            Anchor::Avif => {
                let cq = format!("cq-level={p}");
                return run_pair(
                    &[
                        "avifenc",
                        "-y",
                        "444",
                        "-s",
                        "2",
                        "-j",
                        "1",
                        "--min",
                        "0",
                        "--max",
                        "63",
                        "-a",
                        "end-usage=q",
                        "-a",
                        &cq,
                        "-a",
                        "tune=psnr",
                        &png,
                        &c,
                    ],
                    &["avifdec", &c, &d],
                )
                .map(|(enc, dec)| Coded {
                    coded: coded.clone(),
                    decoded: decoded.clone(),
                    enc,
                    dec,
                });
            }
            Anchor::Heic => {
                (vec!["heif-enc", "-q", &p, "-p", "chroma=444", "-o", &c, &png], vec!["heif-convert", &c, &d])
            }
            Anchor::Jxl => (vec!["cjxl", "-e", "7", "-d", &p, &png, &c], vec!["djxl", &c, &d]),
        };
        let (enc, dec) = run_pair(&enc, &dec)?;
        Ok(Coded { coded, decoded, enc, dec })
    }
}

/// What one anchor run produced.
pub struct Coded {
    /// The compressed file.
    pub coded: PathBuf,
    /// Its decoded image.
    pub decoded: PathBuf,
    /// Encoder wall time, seconds (the tool's process, start to exit).
    pub enc: f64,
    /// Decoder wall time, seconds.
    pub dec: f64,
}

/// Runs the encoder, then the decoder; returns their wall times.
fn run_pair(enc: &[&str], dec: &[&str]) -> Result<(f64, f64), String> {
    let mut times = [0.0; 2];
    for (cmd, time) in [enc, dec].into_iter().zip(&mut times) {
        let t = std::time::Instant::now();
        let out = Command::new(cmd[0]).args(&cmd[1..]).output().map_err(|e| {
            format!("cannot run {} ({e}); install the anchors with scripts/install-anchors.sh", cmd[0])
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!("{} failed: {}", cmd.join(" "), err.trim()));
        }
        *time = t.elapsed().as_secs_f64();
    }
    Ok((times[0], times[1]))
}
