//! `lic encode-video IN -o OUT.licv` and `lic decode-video IN.licv -o OUT.y4m|.mkv|.mp4`.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use lic_codec::{FrameType, VideoDecoder, VideoEncoder};
use serde::Serialize;

use crate::ToolError;
use crate::bench::metrics::{psnr, psnr_y};
use crate::io::{display_name, read_input};
use crate::model_arg::ModelArgs;
use crate::video_io::{VideoInfo, VideoSink, read_video};

#[derive(Args)]
pub struct EncodeVideoArgs {
    /// Any video FFmpeg reads (y4m, mp4, mkv, …), or `-` for standard input.
    input: PathBuf,
    /// Output file (default: the input with `.licv`; `-` for standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Quality from 1 to 8, fractions allowed.
    #[arg(short, long, default_value_t = 4.0)]
    quality: f64,
    /// Frames from one intra frame to the next (1: all intra).
    #[arg(long, default_value_t = 32)]
    gop: u32,
    /// Code only the first N frames.
    #[arg(long)]
    frames: Option<u32>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    out: crate::io::OutputFlags,
}

#[derive(Serialize)]
struct FrameReport {
    frame: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    bytes: usize,
    bpp: f64,
}

#[derive(Serialize)]
struct VideoReport {
    input: String,
    output: String,
    width: u32,
    height: u32,
    frame_rate: String,
    frames: u32,
    gop: u32,
    quality: f64,
    bytes: u64,
    bpp: f64,
    seconds: f64,
    frames_per_second: f64,
    per_frame: Vec<FrameReport>,
}

fn kind(t: FrameType) -> &'static str {
    match t {
        FrameType::Intra => "I",
        FrameType::Inter => "P",
    }
}

/// A file written as it grows, renamed into place at the end (or standard output).
struct Stream {
    out: Option<Box<dyn Write>>,
    part: Option<(PathBuf, PathBuf)>,
    written: u64,
}

impl Stream {
    fn create(path: &Path, force: bool) -> Result<Self, ToolError> {
        if path == Path::new("-") {
            return Ok(Self {
                out: Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
                part: None,
                written: 0,
            });
        }
        if path.exists() && !force {
            return Err(ToolError::Usage(format!("{} exists; use --force to overwrite it", path.display())));
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".part");
        let tmp = PathBuf::from(tmp);
        let f = std::fs::File::create(&tmp)
            .map_err(|source| ToolError::Write { path: path.display().to_string(), source })?;
        Ok(Self {
            out: Some(Box::new(std::io::BufWriter::new(f))),
            part: Some((tmp, path.to_owned())),
            written: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.written += bytes.len() as u64;
        match self.out.as_mut() {
            Some(out) => out.write_all(bytes).map_err(|e| format!("writing output: {e}")),
            None => Err("output already closed".into()),
        }
    }

    fn finish(mut self) -> Result<(), String> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| format!("writing output: {e}"))?;
        }
        if let Some((tmp, path)) = self.part.take() {
            std::fs::rename(&tmp, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// Removes a file when dropped, unless disarmed by taking its path.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // An unfinished output (an error midway) is not left behind under a .part name.
        if let Some((tmp, _)) = &self.part {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

pub fn encode(args: &EncodeVideoArgs) -> Result<(), ToolError> {
    let input = display_name(&args.input);
    let out_path = args.output.clone().unwrap_or_else(|| {
        if args.input.as_os_str() == "-" { PathBuf::from("-") } else { args.input.with_extension("licv") }
    });
    if args.gop == 0 {
        return Err(ToolError::Usage("--gop must be at least 1".into()));
    }
    let stream = RefCell::new(Stream::create(&out_path, args.out.force)?);
    let model = args.model.load_video()?;
    let started = Instant::now();
    let limit = args.frames.unwrap_or(u32::MAX);
    let enc: RefCell<Option<VideoEncoder<'_>>> = RefCell::new(None);
    let mut info = None;
    let mut per_frame = Vec::new();
    let bar = std::cell::RefCell::new(crate::io::progress(0, args.out.quiet, "encode"));
    let codec_err = |source| ToolError::Codec { path: input.clone(), source };
    let result = read_video(
        &args.input,
        |i: VideoInfo| {
            info = Some(i);
            let e = VideoEncoder::new(&model, args.quality, args.gop, i.width, i.height, i.frame_rate)
                .map_err(|e| e.to_string())?;
            stream.borrow_mut().write(e.header())?;
            *enc.borrow_mut() = Some(e);
            bar.borrow().set_style(
                indicatif::ProgressStyle::with_template("{msg} {pos} frames, {per_sec}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            Ok(())
        },
        |frame| {
            if per_frame.len() as u32 >= limit {
                return Ok(());
            }
            let mut enc = enc.borrow_mut();
            let Some(e) = enc.as_mut() else { return Err("no header".into()) };
            let coded = e.encode_frame(&frame).map_err(|e| e.to_string())?;
            let pixels = f64::from(frame.width()) * f64::from(frame.height());
            per_frame.push(FrameReport {
                frame: per_frame.len() as u32,
                kind: kind(coded.frame_type),
                bytes: coded.bytes.len(),
                bpp: coded.bytes.len() as f64 * 8.0 / pixels,
            });
            stream.borrow_mut().write(&coded.bytes)?;
            bar.borrow().inc(1);
            Ok(())
        },
    );
    result.map_err(|e| ToolError::Usage(format!("{input}: {e}")))?;
    let (Some(enc), Some(info)) = (enc.into_inner(), info) else {
        return Err(ToolError::Usage(format!("{input}: no video frames")));
    };
    if per_frame.is_empty() {
        return Err(ToolError::Usage(format!("{input}: no video frames")));
    }
    let tail = enc.finish().map_err(codec_err)?;
    let mut stream = stream.into_inner();
    stream.write(&tail).map_err(ToolError::Usage)?;
    let bytes = stream.written;
    stream.finish().map_err(ToolError::Usage)?;
    bar.into_inner().finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let frames = per_frame.len() as u32;
    let report = VideoReport {
        input,
        output: display_name(&out_path),
        width: info.width,
        height: info.height,
        frame_rate: format!("{}/{}", info.frame_rate.0, info.frame_rate.1),
        frames,
        gop: args.gop,
        quality: args.quality,
        bytes,
        bpp: bytes as f64 * 8.0 / (f64::from(info.width) * f64::from(info.height) * f64::from(frames)),
        seconds,
        frames_per_second: f64::from(frames) / seconds,
        per_frame,
    };
    if args.out.json && out_path != Path::new("-") {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !args.out.quiet {
        eprintln!(
            "{} -> {}: {} frames {}x{}, {} bytes, {:.4} bpp, {:.2} frames/s",
            report.input,
            report.output,
            frames,
            info.width,
            info.height,
            bytes,
            report.bpp,
            report.frames_per_second
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct DecodeVideoArgs {
    /// The .licv file, or `-` for standard input.
    input: PathBuf,
    /// Output video by extension: .y4m, .mkv (FFV1, lossless) or .mp4 (H.264 QP 0); `-`
    /// writes y4m to standard output. Default: the input with `.y4m`.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// First frame to output: decoding starts at the intra frame before it (the index finds it).
    #[arg(long, default_value_t = 0)]
    start: u32,
    /// Output at most N frames.
    #[arg(long)]
    frames: Option<u32>,
    /// The original video: `--json` then reports PSNR per frame (RGB and Y) against it.
    #[arg(long, value_name = "VIDEO")]
    reference: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    out: crate::io::OutputFlags,
}

#[derive(Serialize)]
struct DecodedFrameReport {
    frame: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    psnr_rgb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psnr_y: Option<f64>,
}

pub fn decode(args: &DecodeVideoArgs) -> Result<(), ToolError> {
    let input = display_name(&args.input);
    let out_path = args.output.clone().unwrap_or_else(|| {
        if args.input.as_os_str() == "-" { PathBuf::from("-") } else { args.input.with_extension("y4m") }
    });
    if out_path != Path::new("-") && out_path.exists() && !args.out.force {
        return Err(ToolError::Usage(format!("{} exists; use --force to overwrite it", out_path.display())));
    }
    let ext = out_path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if out_path != Path::new("-") && !matches!(ext.as_deref(), Some("y4m" | "mkv" | "mp4")) {
        return Err(ToolError::Usage(format!(
            "{}: write .y4m, .mkv (FFV1, lossless) or .mp4 (H.264 QP 0)",
            out_path.display()
        )));
    }
    let bytes = read_input(&args.input)?;
    let coded_with = lic_codec::bitstream::VideoFile::parse(&bytes).ok().map(|f| f.header.model);
    let model = args.model.load_for(coded_with.as_ref())?;
    let codec_err = |source| ToolError::Codec { path: input.clone(), source };
    let dec = VideoDecoder::new(&model, &bytes).map_err(codec_err)?;
    let h = dec.header().clone();
    let reference = match &args.reference {
        Some(r) => {
            let mut frames = Vec::new();
            read_video(
                r,
                |_| Ok(()),
                |f| {
                    frames.push(f);
                    Ok(())
                },
            )
            .map_err(|e| ToolError::Usage(format!("{}: {e}", display_name(r))))?;
            Some(frames)
        }
        None => None,
    };
    let info = VideoInfo { width: h.width, height: h.height, frame_rate: h.frame_rate };
    // Written beside the final name, renamed when complete.
    let tmp = if out_path == Path::new("-") {
        out_path.clone()
    } else {
        let ext = out_path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        out_path.with_extension(format!("part.{ext}"))
    };
    // Whatever fails from here on, no half-written `.part` file is left behind.
    let mut cleanup = RemoveOnDrop((tmp != out_path).then(|| tmp.clone()));
    let mut sink = VideoSink::create(&tmp, info).map_err(ToolError::Usage)?;
    let bar = crate::io::progress(0, args.out.quiet, "decode");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {pos} frames, {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = Instant::now();
    let limit = args.frames.unwrap_or(u32::MAX);
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for frame in dec.frames(args.start).map_err(codec_err)? {
        if reports.len() as u32 >= limit {
            break;
        }
        match frame {
            Ok(f) => {
                sink.write(&f.image).map_err(ToolError::Usage)?;
                let (psnr_rgb, psnr_y) = match reference.as_ref().and_then(|r| r.get(f.number as usize)) {
                    Some(r) => (Some(psnr(r, &f.image)), Some(psnr_y(r, &f.image))),
                    None => (None, None),
                };
                reports.push(DecodedFrameReport {
                    frame: f.number,
                    kind: kind(f.frame_type),
                    bytes: f.coded_bytes,
                    psnr_rgb,
                    psnr_y,
                });
                bar.inc(1);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    sink.finish().map_err(ToolError::Usage)?;
    if tmp != out_path {
        std::fs::rename(&tmp, &out_path)
            .map_err(|source| ToolError::Write { path: display_name(&out_path), source })?;
    }
    cleanup.0 = None;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.out.json && out_path != Path::new("-") {
        let mean = |f: fn(&DecodedFrameReport) -> Option<f64>| {
            let v: Vec<f64> = reports.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let json = serde_json::json!({
            "input": input,
            "output": display_name(&out_path),
            "width": h.width, "height": h.height,
            "frame_rate": format!("{}/{}", h.frame_rate.0, h.frame_rate.1),
            "frames": reports.len(),
            "seconds": seconds,
            "frames_per_second": reports.len() as f64 / seconds,
            "psnr_rgb": mean(|r| r.psnr_rgb),
            "psnr_y": mean(|r| r.psnr_y),
            "errors": errors,
            "per_frame": reports,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else if !args.out.quiet {
        eprintln!(
            "{input}: {} frames decoded in {seconds:.2} s ({:.2} frames/s)",
            reports.len(),
            reports.len() as f64 / seconds
        );
    }
    if !errors.is_empty() {
        return Err(ToolError::Usage(format!(
            "{input}: {} damaged frame(s); the frames before the damage were written: {}",
            errors.len(),
            errors.join("; ")
        )));
    }
    Ok(())
}
