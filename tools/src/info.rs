//! `lic info FILE`: header, model, quality, geometry, chunk sizes, bpp.

use std::path::PathBuf;

use clap::Args;
use lic_codec::FileInfo;

use crate::ToolError;
use crate::io::{display_name, read_input};

#[derive(Args)]
pub struct InfoArgs {
    /// The .lic file, or `-` for standard input.
    input: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &InfoArgs) -> Result<(), ToolError> {
    let bytes = read_input(&args.input)?;
    let path = display_name(&args.input);
    let info =
        lic_codec::inspect(&bytes).map_err(|source| ToolError::Codec { path: path.clone(), source })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", render(&path, &info));
    }
    Ok(())
}

fn render(path: &str, i: &FileInfo) -> String {
    let mut s = format!("{path}: lic image, format {}\n", i.version);
    s += &format!("  model      {} (sha256 {})\n", i.model, i.model_sha256);
    s += &format!("  quality    {}\n", i.quality);
    s += &format!(
        "  size       {}x{}, {} channel(s), {}-bit, {}\n",
        i.width, i.height, i.channels, i.bit_depth, i.colour_space
    );
    if let Some((w, h, o)) = i.tiling {
        s += &format!("  tiles      {w}x{h}, overlap {o}\n");
    }
    s += &format!("  file       {} bytes, {:.4} bpp\n", i.file_bytes, i.bpp);
    s += &format!("  chunks     {}\n", i.chunks.len());
    for c in &i.chunks {
        s += &format!("    {} tile {:>3} index {:>3}  {:>9} bytes\n", c.fourcc, c.tile, c.index, c.bytes);
    }
    s
}
