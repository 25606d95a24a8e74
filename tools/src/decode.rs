//! `lic decode IN.lic [-o OUT]`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::ToolError;
use crate::io::{OutputPath, display_name, read_input, spinner, write_image};
use crate::model_arg::ModelArgs;

#[derive(Args)]
pub struct DecodeArgs {
    /// The .lic file, or `-` for standard input.
    input: PathBuf,
    /// Output image; the format follows the extension (PNG by default; `-` writes PNG to
    /// standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The original image: `--json` then reports PSNR and MS-SSIM (RGB, 8-bit) against it.
    #[arg(long, value_name = "IMAGE")]
    reference: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    out: crate::io::OutputFlags,
}

pub fn run(args: &DecodeArgs) -> Result<(), ToolError> {
    let input = display_name(&args.input);
    let out_path = args.output.clone().unwrap_or_else(|| {
        if args.input.as_os_str() == "-" { PathBuf::from("-") } else { args.input.with_extension("png") }
    });
    let format = if out_path.as_os_str() == "-" {
        image::ImageFormat::Png
    } else {
        image::ImageFormat::from_path(&out_path).map_err(|_| {
            ToolError::Usage(format!("{}: unknown image format for this extension", out_path.display()))
        })?
    };
    let out = OutputPath::new(out_path, args.out.force)?;
    let reference = match &args.reference {
        Some(r) => {
            let name = display_name(r);
            Some((crate::io::read_image(&read_input(r)?, &name)?.0.to_rgb8(), name))
        }
        None => None,
    };
    let bytes = read_input(&args.input)?;
    let coded_with = lic_codec::bitstream::ImageFile::parse(&bytes).ok().map(|f| f.header.model);
    let model = args.model.load_for(coded_with.as_ref())?;
    let bar = spinner(args.out.quiet, format!("decoding {input}"));
    let started = Instant::now();
    let decoded = lic_codec::Decoder::new(&model)
        .decode_with_metadata(&bytes)
        .map_err(|source| ToolError::Codec { path: input.clone(), source })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let img = decoded.image;
    let (encoded, dropped) = write_image(&img, format, &decoded.metadata)
        .map_err(|e| ToolError::Usage(format!("{}: cannot write image: {e}", out.name())))?;
    if !dropped.is_empty() && !args.out.quiet {
        eprintln!("lic: notice: {} cannot store {}; left out", out.name(), dropped.join(", "));
    }
    out.write(&encoded)?;
    let metrics = match &reference {
        Some((r, name)) if r.dimensions() != (img.width(), img.height()) => {
            return Err(ToolError::Usage(format!(
                "--reference {name} is {}x{}, the decoded image {}x{}",
                r.width(),
                r.height(),
                img.width(),
                img.height()
            )));
        }
        Some((r, _)) => {
            let rgb = img.to_rgb8();
            Some((crate::bench::metrics::psnr(r, &rgb), crate::bench::metrics::ms_ssim(r, &rgb)))
        }
        None => None,
    };
    if args.out.json && !out.is_stdout() {
        let pixels = f64::from(img.width()) * f64::from(img.height());
        let mut summary = serde_json::json!({
            "input": input, "output": out.name(), "width": img.width(), "height": img.height(),
            "channels": img.color().channel_count(), "bytes": bytes.len(),
            "bpp": bytes.len() as f64 * 8.0 / pixels, "decode_seconds": seconds,
        });
        if let Some((psnr, ms_ssim)) = metrics {
            summary["psnr_rgb"] = psnr.into();
            summary["ms_ssim_rgb"] = ms_ssim.into();
        }
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
