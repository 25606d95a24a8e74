//! `lic bench video`: rate–distortion of lic-video (inter frames), lic all-intra, x264 and
//! x265 on video clips, with real files: bpp and PSNR (RGB and Y) per clip and averaged,
//! BD-rates, plots and a report.
//!
//! x264 runs `-preset veryslow -tune psnr` and x265 `-preset medium`, both through the
//! system `ffmpeg` at a CRF sweep, 4:2:0 as those codecs are used; every decoded frame is
//! compared with the source in 8-bit RGB (and its BT.601 luma), exactly as lic's are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;
use image::RgbImage;
use serde::Serialize;

use super::bd::{Fit, bd_quality, bd_rate};
use super::metrics::{psnr, psnr_y};
use super::plot::{Curve, rd_plot};
use crate::model_arg::ModelArgs;
use crate::video_io::read_video;

/// Arguments of `lic bench video`.
#[derive(Args)]
pub struct VideoBenchArgs {
    /// Clips (default: every .y4m in DATA/video).
    clips: Vec<PathBuf>,
    /// Data root (default: $LIC_DATA, else ../shared/datasets).
    #[arg(long)]
    data: Option<PathBuf>,
    /// lic qualities.
    #[arg(long, value_delimiter = ',', default_value = "2,4,6,8")]
    qualities: Vec<f64>,
    /// GOP of the lic-video curve.
    #[arg(long, default_value_t = 32)]
    gop: u32,
    /// CRFs of the x264/x265 curves.
    #[arg(long, value_delimiter = ',', default_value = "22,27,32,37")]
    crfs: Vec<u32>,
    /// Anchors: any of x264, x265 (empty for none).
    #[arg(long, value_delimiter = ',', default_value = "x264,x265")]
    anchors: Vec<String>,
    /// Use only the first N frames of each clip.
    #[arg(long)]
    frames: Option<usize>,
    /// Where results go.
    #[arg(long, default_value = "bench-video")]
    out: PathBuf,
    /// Overwrite results in `--out`.
    #[arg(long)]
    force: bool,
    /// Also write the Markdown report here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// One coded clip at one setting.
#[derive(Clone, Debug, Serialize)]
struct Point {
    codec: String,
    clip: String,
    param: f64,
    frames: usize,
    bpp: f64,
    psnr_rgb: f64,
    psnr_y: f64,
    encode_fps: f64,
    decode_fps: f64,
    /// Mean bits per pixel of intra and inter frames (lic-video only).
    #[serde(skip_serializing_if = "Option::is_none")]
    bpp_intra: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bpp_inter: Option<f64>,
    /// Frames coded intra, forced by the GOP or chosen by the encoder (lic only).
    #[serde(skip_serializing_if = "Option::is_none")]
    intra_frames: Option<usize>,
}

/// What one coded clip measured.
struct Measured {
    bpp: f64,
    psnr_rgb: f64,
    psnr_y: f64,
    encode_fps: f64,
    decode_fps: f64,
    bpp_intra: Option<f64>,
    bpp_inter: Option<f64>,
    intra_frames: Option<usize>,
}

impl Point {
    fn new(codec: &str, clip: &str, param: f64, frames: usize, m: Measured) -> Self {
        Self {
            codec: codec.into(),
            clip: clip.into(),
            param,
            frames,
            bpp: m.bpp,
            psnr_rgb: m.psnr_rgb,
            psnr_y: m.psnr_y,
            encode_fps: m.encode_fps,
            decode_fps: m.decode_fps,
            bpp_intra: m.bpp_intra,
            bpp_inter: m.bpp_inter,
            intra_frames: m.intra_frames,
        }
    }
}

impl Measured {
    /// Quality of `decoded` against `frames`, rate of `bytes` for them, and the given speeds
    /// and intra/inter rates.
    fn of(
        frames: &[RgbImage],
        decoded: &[RgbImage],
        bytes: u64,
        (encode_fps, decode_fps): (f64, f64),
        (bpp_intra, bpp_inter): (Option<f64>, Option<f64>),
    ) -> Result<Self, String> {
        let (psnr_rgb, psnr_y) = mean_quality(frames, decoded)?;
        let (w, h) = frames.first().map_or((1, 1), RgbImage::dimensions);
        let bpp = bytes as f64 * 8.0 / (f64::from(w * h) * frames.len() as f64);
        Ok(Self { bpp, psnr_rgb, psnr_y, encode_fps, decode_fps, bpp_intra, bpp_inter, intra_frames: None })
    }
}

fn clip_frames(path: &Path, limit: usize) -> Result<(Vec<RgbImage>, (u32, u32)), String> {
    let mut frames = Vec::new();
    let info = read_video(
        path,
        |_| Ok(()),
        |f| {
            if frames.len() < limit {
                frames.push(f);
            }
            Ok(())
        },
    )?;
    Ok((frames, info.frame_rate))
}

fn mean_quality(src: &[RgbImage], dec: &[RgbImage]) -> Result<(f64, f64), String> {
    if src.len() != dec.len() {
        return Err(format!("{} frames decoded for {} coded", dec.len(), src.len()));
    }
    let n = src.len() as f64;
    let rgb = src.iter().zip(dec).map(|(a, b)| psnr(a, b)).sum::<f64>() / n;
    let y = src.iter().zip(dec).map(|(a, b)| psnr_y(a, b)).sum::<f64>() / n;
    Ok((rgb, y))
}

fn run_lic(
    model: &lic_codec::Model,
    name: &str,
    frames: &[RgbImage],
    rate: (u32, u32),
    q: f64,
    gop: u32,
) -> Result<Measured, String> {
    let (w, h) = frames[0].dimensions();
    let t = Instant::now();
    let mut enc =
        lic_codec::VideoEncoder::new(model, q, gop, w, h, rate).map_err(|e| format!("{name}: {e}"))?;
    let mut file = enc.header().to_vec();
    let (mut intra, mut inter) = (Vec::new(), Vec::new());
    for f in frames {
        let c = enc.encode_frame(f).map_err(|e| format!("{name}: {e}"))?;
        let bpp = c.bytes.len() as f64 * 8.0 / f64::from(w * h);
        if c.frame_type == lic_codec::FrameType::Intra {
            intra.push(bpp)
        } else {
            inter.push(bpp)
        }
        file.extend(c.bytes);
    }
    file.extend(enc.finish().map_err(|e| format!("{name}: {e}"))?);
    let enc_fps = frames.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let dec = lic_codec::VideoDecoder::new(model, &file).map_err(|e| format!("{name}: {e}"))?;
    let decoded: Vec<RgbImage> = dec
        .frames(0)
        .map_err(|e| e.to_string())?
        .map(|f| f.map(|f| f.image))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{name}: {e}"))?;
    let dec_fps = frames.len() as f64 / t.elapsed().as_secs_f64();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let m =
        Measured::of(frames, &decoded, file.len() as u64, (enc_fps, dec_fps), (mean(&intra), mean(&inter)))?;
    Ok(Measured { intra_frames: Some(intra.len()), ..m })
}

/// x264/x265 through ffmpeg: encode the first `n` frames at `crf`, decode, measure.
fn run_anchor(
    anchor: &str,
    clip: &Path,
    frames: &[RgbImage],
    crf: u32,
    dir: &Path,
) -> Result<Measured, String> {
    let coded = dir.join(format!("{anchor}-{crf}.mkv"));
    let n = frames.len().to_string();
    let crf = crf.to_string();
    let mut args: Vec<&str> = vec!["-hide_banner", "-loglevel", "error", "-y", "-i"];
    let clip_s = clip.display().to_string();
    args.push(&clip_s);
    args.extend(["-frames:v", &n, "-pix_fmt", "yuv420p"]);
    match anchor {
        "x264" => args.extend(["-c:v", "libx264", "-preset", "veryslow", "-tune", "psnr", "-crf", &crf]),
        "x265" => args.extend([
            "-c:v",
            "libx265",
            "-preset",
            "medium",
            "-crf",
            &crf,
            "-x265-params",
            "log-level=error",
        ]),
        other => return Err(format!("unknown video anchor {other} (x264, x265)")),
    }
    let coded_s = coded.display().to_string();
    args.push(&coded_s);
    let t = Instant::now();
    let status =
        Command::new("ffmpeg").args(&args).status().map_err(|e| format!("ffmpeg: {e} (install ffmpeg)"))?;
    if !status.success() {
        return Err(format!("ffmpeg {anchor} failed on {}", clip.display()));
    }
    let enc_fps = frames.len() as f64 / t.elapsed().as_secs_f64();
    // Only the video stream's bytes count: read them from the container-free size would
    // need a demuxer pass; the mkv overhead (a few hundred bytes) is kept, as in the usual
    // practice of comparing file sizes.
    let bytes = std::fs::metadata(&coded).map_err(|e| e.to_string())?.len();
    let t = Instant::now();
    let (decoded, _) = clip_frames(&coded, frames.len())?;
    let dec_fps = frames.len() as f64 / t.elapsed().as_secs_f64();
    Measured::of(frames, &decoded, bytes, (enc_fps, dec_fps), (None, None))
}

/// Runs `lic bench video`.
pub fn run(args: &VideoBenchArgs) -> Result<(), String> {
    let clips = if args.clips.is_empty() {
        let dir = lic_datasets::data_root(args.data.as_deref()).join("video");
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "y4m"))
            .collect();
        v.sort();
        v
    } else {
        args.clips.clone()
    };
    if clips.is_empty() {
        return Err("no clips".into());
    }
    let json_path = args.out.join("video-results.json");
    if json_path.exists() && !args.force {
        return Err(format!("{} exists (use --force)", json_path.display()));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let model = args.model.load_video().map_err(|e| e.to_string())?;
    let limit = args.frames.unwrap_or(usize::MAX);
    let total = clips.len()
        * (args.qualities.len() * 2
            + args.anchors.iter().filter(|a| !a.is_empty()).count() * args.crfs.len());
    let bar = crate::io::progress(total as u64, args.quiet, "video");
    let mut points = Vec::new();
    let started = Instant::now();
    for clip in &clips {
        let name =
            clip.file_stem().map_or_else(|| clip.display().to_string(), |s| s.to_string_lossy().into_owned());
        let (frames, rate) = clip_frames(clip, limit)?;
        if frames.is_empty() {
            return Err(format!("{}: no frames", clip.display()));
        }
        for &q in &args.qualities {
            for (codec, gop) in [("lic-video", args.gop), ("lic-intra", 1)] {
                let m = run_lic(&model, codec, &frames, rate, q, gop)?;
                points.push(Point::new(codec, &name, q, frames.len(), m));
                bar.inc(1);
            }
        }
        for anchor in args.anchors.iter().filter(|a| !a.is_empty()) {
            for &crf in &args.crfs {
                let m = run_anchor(anchor, clip, &frames, crf, work.path())?;
                points.push(Point::new(anchor, &name, f64::from(crf), frames.len(), m));
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let machine = super::report::machine();
    let model_id = lic_models::short_id(model.id());
    super::report::write_json(
        &json_path,
        &serde_json::json!({ "format": "lic-bench-video-1", "command": command, "machine": machine, "model": model_id, "seconds": wall, "points": points }),
    )?;
    let plots = plots(&points, &args.out)?;
    let report = report_markdown(&points, &plots, &args.out, &command, &machine, &model_id, wall);
    std::fs::write(args.out.join("VIDEO.md"), &report).map_err(|e| e.to_string())?;
    if let Some(r) = &args.report {
        if r.exists() && !args.force {
            return Err(format!("{} exists (use --force)", r.display()));
        }
        let base = r.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let copy = report_markdown(&points, &plots, base, &command, &machine, &model_id, wall);
        std::fs::write(r, copy).map_err(|e| format!("{}: {e}", r.display()))?;
    }
    if !args.quiet {
        print!("{report}");
    }
    Ok(())
}

/// Curves averaged over clips: for each codec and parameter, mean bpp and mean PSNR.
fn mean_curves(points: &[Point], y: fn(&Point) -> f64) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut codecs: Vec<String> = points.iter().map(|p| p.codec.clone()).collect();
    codecs.dedup();
    codecs.sort();
    codecs.dedup();
    codecs
        .into_iter()
        .map(|c| {
            let mut params: Vec<f64> = points.iter().filter(|p| p.codec == c).map(|p| p.param).collect();
            params.sort_by(f64::total_cmp);
            params.dedup();
            let mut pts: Vec<(f64, f64)> = params
                .iter()
                .map(|&q| {
                    let sel: Vec<&Point> = points.iter().filter(|p| p.codec == c && p.param == q).collect();
                    let n = sel.len() as f64;
                    (sel.iter().map(|p| p.bpp).sum::<f64>() / n, sel.iter().map(|p| y(p)).sum::<f64>() / n)
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (c, pts)
        })
        .collect()
}

/// Draws the PSNR-RGB and PSNR-Y plots into `out`; returns the PNG of each metric.
fn plots(points: &[Point], out: &Path) -> Result<Vec<(&'static str, PathBuf)>, String> {
    let mut pngs = Vec::new();
    for (metric, f) in METRICS {
        let curves: Vec<Curve> = mean_curves(points, f)
            .into_iter()
            .map(|(name, points)| Curve { name, points, reference: false })
            .collect();
        let stem = out.join(format!("video-{}", metric.to_ascii_lowercase()));
        for file in
            rd_plot(&stem, &format!("Video clips: bpp vs {metric}"), &format!("{metric} (dB)"), &curves)?
        {
            if file.extension().is_some_and(|e| e == "png") {
                pngs.push((metric, file));
            }
        }
    }
    Ok(pngs)
}

type Metric = (&'static str, fn(&Point) -> f64);
const METRICS: [Metric; 2] = [("PSNR-RGB", |p| p.psnr_rgb), ("PSNR-Y", |p| p.psnr_y)];

fn report_markdown(
    points: &[Point],
    plots: &[(&'static str, PathBuf)],
    base: &Path,
    command: &str,
    machine: &str,
    model: &str,
    wall: f64,
) -> String {
    let mut s = format!(
        "# lic video results\n\nMeasured with `{command}` (lic model {model}) on {machine} in {wall:.0} s. Each point is a clip coded \
         with real files; PSNR is the mean over frames of 8-bit RGB PSNR (and of BT.601 luma PSNR), bpp counts \
         every byte of the file. Curves average the clips at each setting.\n\n"
    );
    for (metric, f) in METRICS {
        let curves = mean_curves(points, f);
        s += &format!(
            "## BD-rate, {metric} (test vs anchor, pchip; negative = fewer bits)\n\n| test | anchor | BD-rate | BD-{metric} dB |\n|---|---|---:|---:|\n"
        );
        let get = |n: &str| curves.iter().find(|c| c.0 == n).map(|c| c.1.clone());
        if let Some(video) = get("lic-video") {
            for anchor in ["lic-intra", "x264", "x265"] {
                if let Some(a) = get(anchor) {
                    let r = bd_rate(&a, &video, Fit::Pchip).map_or("n/a".into(), |v| format!("{v:+.1}%"));
                    let d = bd_quality(&a, &video, Fit::Pchip).map_or("n/a".into(), |v| format!("{v:+.2}"));
                    s += &format!("| lic-video | {anchor} | {r} | {d} |\n");
                }
            }
        }
        s += "\n";
        for (_, png) in plots.iter().filter(|(m, _)| *m == metric) {
            s += &format!("![{metric}]({})\n\n", super::report::link(png, base));
        }
    }
    s += "## Per clip\n\n| clip | codec | param | frames | I frames | bpp | I bpp | P bpp | PSNR-RGB | PSNR-Y | enc fps | dec fps |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    let opt = |v: Option<f64>| v.map_or("".into(), |v| format!("{v:.4}"));
    for p in points {
        s += &format!(
            "| {} | {} | {} | {} | {} | {:.4} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            p.clip,
            p.codec,
            p.param,
            p.frames,
            p.intra_frames.map_or(String::new(), |n| n.to_string()),
            p.bpp,
            opt(p.bpp_intra),
            opt(p.bpp_inter),
            p.psnr_rgb,
            p.psnr_y,
            p.encode_fps,
            p.decode_fps
        );
    }
    s
}
