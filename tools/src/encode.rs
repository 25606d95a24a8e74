//! `lic encode IN [-o OUT] [-q Q]`.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::ToolError;
use crate::io::{OutputPath, display_name, read_input};
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
    #[command(flatten)]
    model: ModelArgs,
    /// Overwrite the output if it exists.
    #[arg(long)]
    force: bool,
    /// Print a JSON summary on standard output (unless the file goes there).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &EncodeArgs) -> Result<(), ToolError> {
    let input = display_name(&args.input);
    let out =
        OutputPath::new(args.output.clone().unwrap_or_else(|| default_output(&args.input)), args.force)?;
    let bytes = read_input(&args.input)?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| ToolError::Usage(format!("{input}: not a readable image: {e}")))?;
    let model = args.model.load()?;
    let started = Instant::now();
    let encoder = lic_codec::Encoder::new(&model)
        .quality(args.quality)
        .map_err(|source| ToolError::Codec { path: input.clone(), source })?;
    let coded = encoder.encode(&img).map_err(|source| ToolError::Codec { path: input.clone(), source })?;
    let seconds = started.elapsed().as_secs_f64();
    out.write(&coded)?;
    let bpp = coded.len() as f64 * 8.0 / (f64::from(img.width()) * f64::from(img.height()));
    if args.json && !out.is_stdout() {
        let summary = serde_json::json!({
            "input": input, "output": out.name(), "width": img.width(), "height": img.height(),
            "quality": args.quality, "bytes": coded.len(), "bpp": bpp, "encode_seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}

fn default_output(input: &std::path::Path) -> PathBuf {
    if input.as_os_str() == "-" { PathBuf::from("-") } else { input.with_extension("lic") }
}
