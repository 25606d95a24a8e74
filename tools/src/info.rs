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
    if bytes.len() > 10 && bytes[10] == lic_codec::bitstream::StreamKind::Video as u8 {
        return video(&path, &bytes, args.json);
    }
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

#[derive(serde::Serialize)]
struct VideoInfoReport {
    version: String,
    kind: &'static str,
    model: String,
    model_sha256: String,
    quality: f64,
    width: u32,
    height: u32,
    frame_rate: String,
    gop: u32,
    frames: u32,
    intra_frames: u32,
    file_bytes: usize,
    bpp: f64,
    seekable: bool,
    damaged_packets: Vec<String>,
    per_frame: Vec<(u32, &'static str, usize)>,
}

/// A video file: sequence header, index, and every packet's type and size (all checksums
/// verified).
fn video(path: &str, bytes: &[u8], json: bool) -> Result<(), ToolError> {
    use lic_codec::bitstream::{FrameType, VideoFile};
    let file =
        VideoFile::parse(bytes).map_err(|e| ToolError::Codec { path: path.into(), source: e.into() })?;
    let h = &file.header;
    let mut per_frame = Vec::new();
    let mut damaged = Vec::new();
    for p in file.packets() {
        match p {
            Ok(p) => per_frame.push((
                p.frame,
                if p.frame_type == FrameType::Intra { "I" } else { "P" },
                p.coded_len(),
            )),
            Err(e) => damaged.push(e.to_string()),
        }
    }
    let frames = per_frame.len() as u32;
    let r = VideoInfoReport {
        version: format!("1.{}", file.minor_version),
        kind: "video",
        model: h.model.name.clone(),
        model_sha256: h.model.digest_hex(),
        quality: h.quality.as_f64(),
        width: h.width,
        height: h.height,
        frame_rate: format!("{}/{}", h.frame_rate.0, h.frame_rate.1),
        gop: h.gop,
        frames,
        intra_frames: per_frame.iter().filter(|f| f.1 == "I").count() as u32,
        file_bytes: bytes.len(),
        bpp: bytes.len() as f64 * 8.0 / (f64::from(h.width) * f64::from(h.height) * f64::from(frames.max(1))),
        seekable: matches!(file.index(), Some(Ok(_))),
        damaged_packets: damaged,
        per_frame,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let fps = f64::from(h.frame_rate.0) / f64::from(h.frame_rate.1);
    println!("{path}: lic video, format {}", r.version);
    println!("  model      {} (sha256 {})", r.model, r.model_sha256);
    println!("  quality    {}", h.quality);
    println!(
        "  size       {}x{}, {} frames at {} ({fps:.3} fps), GOP {}",
        h.width, h.height, frames, r.frame_rate, h.gop
    );
    println!(
        "  file       {} bytes, {:.4} bpp, {} intra frames, {}",
        r.file_bytes,
        r.bpp,
        r.intra_frames,
        if r.seekable { "indexed" } else { "no index (cut short?)" }
    );
    for (n, t, b) in &r.per_frame {
        println!("    frame {n:>5} {t} {b:>9} bytes");
    }
    for d in &r.damaged_packets {
        println!("    damaged: {d}");
    }
    Ok(())
}
