//! `lic encode IN [-o OUT] [-q Q]`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::ToolError;
use crate::io::{OutputPath, display_name, read_image, read_input, spinner};
use crate::model_arg::ModelArgs;

#[derive(Args)]
pub struct EncodeArgs {
    /// Image to encode (any format the `image` crate reads), or `-` for standard input.
    input: PathBuf,
    /// Output file (default: the input with extension `.lic`; `-` is standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Quality, 1 to 8, fractional allowed.
    #[arg(short, long, default_value_t = 4.0)]
    quality: f64,
    /// Search the quality to hit this many bits per pixel (±3% where the model's range allows).
    #[arg(long, conflicts_with = "target_size")]
    target_bpp: Option<f64>,
    /// Search the quality to hit this file size in bytes (±3% where the model's range allows).
    #[arg(long)]
    target_size: Option<u64>,
    /// Code as independent tiles of this many pixels square (a multiple of 64); `0` never
    /// tiles. Default: images above 4 megapixels use 1024.
    #[arg(long, value_name = "PIXELS")]
    tile: Option<u32>,
    /// Pixels each tile overlaps its neighbours by, to blend seams (with `--tile`).
    #[arg(long, default_value_t = 8, requires = "tile")]
    overlap: u16,
    /// Spend more encoder time for a better file: refine each latent by this many steps of
    /// gradient descent on the image's own rate–distortion loss (0: off; 30 gains ≈ 0.5 dB
    /// at qualities 6–8 for ≈ 60× the encode time). Any lic decoder reads the result.
    #[arg(long, default_value_t = 0, value_name = "ITERATIONS")]
    refine: u32,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    out: crate::io::OutputFlags,
}

pub fn run(args: &EncodeArgs) -> Result<(), ToolError> {
    let input = display_name(&args.input);
    let out =
        OutputPath::new(args.output.clone().unwrap_or_else(|| default_output(&args.input)), args.out.force)?;
    let bytes = read_input(&args.input)?;
    let (img, metadata) = read_image(&bytes, &input)?;
    let quiet = args.out.quiet;
    if lic_codec::reduces_depth(&img) && !quiet {
        eprintln!(
            "lic: notice: {input} has 16-bit samples; lic codes 8 bits per sample, so they are reduced to 8"
        );
    }
    let model = args.model.load()?;
    let codec_err = |source| ToolError::Codec { path: input.clone(), source };
    let kept: Vec<&str> =
        [("icc", metadata.icc.is_some()), ("exif", metadata.exif.is_some()), ("xmp", metadata.xmp.is_some())]
            .into_iter()
            .filter_map(|(n, on)| on.then_some(n))
            .collect();
    let mut encoder = lic_codec::Encoder::new(&model)
        .quality(args.quality)
        .and_then(|e| e.refine(args.refine))
        .map_err(codec_err)?
        .metadata(metadata);
    if let Some(tile) = args.tile {
        encoder = encoder.tiles((tile > 0).then_some((tile, args.overlap))).map_err(codec_err)?;
    }
    let bar = spinner(quiet, format!("encoding {input}"));
    let started = Instant::now();
    let pixels = f64::from(img.width()) * f64::from(img.height());
    let target = match (args.target_bpp, args.target_size) {
        (Some(bpp), _) if !(bpp.is_finite() && bpp > 0.0) => {
            return Err(ToolError::Usage(format!("--target-bpp {bpp} must be positive")));
        }
        (Some(bpp), _) => Some((bpp * pixels / 8.0).round().max(1.0) as usize),
        (None, Some(0)) => return Err(ToolError::Usage("--target-size must be positive".into())),
        (None, Some(size)) => Some(size as usize),
        (None, None) => None,
    };
    let (coded, quality) = match target {
        None => (encoder.encode(&img).map_err(codec_err)?, args.quality),
        Some(bytes) => {
            let t = encoder.encode_to_size(&img, bytes, 0.03).map_err(codec_err)?;
            if !t.hit && !quiet {
                eprintln!(
                    "lic: notice: {bytes} bytes is outside what the model reaches within 3%; closest: {} bytes at quality {:.3}",
                    t.bytes.len(),
                    t.quality
                );
            }
            (t.bytes, t.quality)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    out.write(&coded)?;
    let bpp = coded.len() as f64 * 8.0 / (f64::from(img.width()) * f64::from(img.height()));
    if args.out.json && !out.is_stdout() {
        let summary = serde_json::json!({
            "input": input, "output": out.name(), "width": img.width(), "height": img.height(),
            "quality": quality, "refine": args.refine, "bytes": coded.len(), "bpp": bpp, "encode_seconds": seconds,
            "channels": img.color().channel_count(), "alpha": img.color().has_alpha(), "metadata": kept,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}

fn default_output(input: &std::path::Path) -> PathBuf {
    if input.as_os_str() == "-" { PathBuf::from("-") } else { input.with_extension("lic") }
}
