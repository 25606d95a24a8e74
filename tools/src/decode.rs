//! `lic decode IN.lic [-o OUT]`.

use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::ToolError;
use crate::io::{OutputPath, display_name, read_input};
use crate::model_arg::ModelArgs;

#[derive(Args)]
pub struct DecodeArgs {
    /// The .lic file, or `-` for standard input.
    input: PathBuf,
    /// Output image; the format follows the extension (PNG by default; `-` writes PNG to
    /// standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
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
    let bytes = read_input(&args.input)?;
    let model = args.model.load()?;
    let started = Instant::now();
    let img = lic_codec::Decoder::new(&model)
        .decode(&bytes)
        .map_err(|source| ToolError::Codec { path: input.clone(), source })?;
    let seconds = started.elapsed().as_secs_f64();
    let mut encoded = Cursor::new(Vec::new());
    img.write_to(&mut encoded, format)
        .map_err(|e| ToolError::Usage(format!("{}: cannot write image: {e}", out.name())))?;
    out.write(encoded.get_ref())?;
    if args.out.json && !out.is_stdout() {
        let summary = serde_json::json!({
            "input": input, "output": out.name(), "width": img.width(), "height": img.height(),
            "bytes": bytes.len(), "decode_seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
