//! `lic bench`: rate–distortion and speed of lic and classical anchors on a dataset, with
//! real files, results in CompressAI's JSON format, Bjøntegaard deltas, plots and a report.
//!
//! The work is a fixed list of (image, codec, parameter) tasks; `--shard i/n` runs every
//! n-th of them, and `lic bench merge` combines shard folders into the same results an
//! unsharded run gives.

mod anchors;
pub mod bd;
pub mod metrics;
mod plot;
mod report;
pub mod video;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anchors::Anchor;
use clap::{Args, Subcommand};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::model_arg::ModelArgs;

/// Arguments of `lic bench`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Combine the folders of `--shard` runs into one set of results, tables and plots.
    Merge(MergeArgs),
    /// Video: lic-video vs lic all-intra, x264 and x265 on clips (bpp, PSNR RGB/Y, BD-rate).
    Video(Box<video::VideoBenchArgs>),
}

/// Options that shape the outputs, shared by a run and a merge.
#[derive(Args, Clone)]
struct OutputArgs {
    /// Where results go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// Overwrite results already in `--out` (and `--report`).
    #[arg(long)]
    force: bool,
    /// Published curves (CompressAI JSON, e.g. docs/reference/vtm.json) added to the BD table
    /// and the plots.
    #[arg(long = "reference", value_name = "FILE")]
    references: Vec<PathBuf>,
    /// Anchor of the BD table (default: every measured anchor and reference).
    #[arg(long, value_name = "NAME")]
    bd_anchor: Option<String>,
    /// Also write the Markdown report here (plots linked relative to it), e.g. docs/RESULTS.md.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    /// `kodak`, or a folder of images.
    #[arg(long, default_value = "kodak")]
    dataset: String,
    /// Data root (default: $LIC_DATA, else ../shared/datasets).
    #[arg(long)]
    data: Option<PathBuf>,
    /// lic qualities to run.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8")]
    qualities: Vec<f64>,
    /// Anchor codecs: any of jpeg, webp, avif, heic, jxl (empty for none).
    #[arg(long, value_delimiter = ',', default_value = "jpeg,webp")]
    anchors: Vec<String>,
    /// Use only the first N images.
    #[arg(long)]
    limit: Option<usize>,
    /// Parallel anchor jobs (lic itself uses every core for each image).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Timed runs per coded image; times reported are the median.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Run only the deterministic part `i` of `n` (1-based), e.g. `--shard 2/8`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Code lic's images as tiles of this size (0: never; default: lic's automatic choice).
    /// The curve is then named `lic-tile<SIZE>-ov<OVERLAP>`.
    #[arg(long, value_name = "PIXELS")]
    tile: Option<u32>,
    /// Tile overlap in pixels (with `--tile`).
    #[arg(long, default_value_t = 8, requires = "tile")]
    overlap: u16,
    /// Refine lic's latents by this many iterations (`lic encode --refine`); the curve is then
    /// named with `-refine<N>`.
    #[arg(long, default_value_t = 0, value_name = "ITERATIONS")]
    refine: u32,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
struct MergeArgs {
    /// Folders written by `lic bench --shard i/n --out DIR`, one per shard.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("shard {s:?} is not i/n with 1 ≤ i ≤ n");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if i == 0 || i > n { Err(bad()) } else { Ok((i, n)) }
}

/// One coded image.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Item {
    image: String,
    codec: String,
    /// Where lic's networks ran (`cpu`, …); empty for anchors.
    #[serde(default)]
    backend: String,
    param: f64,
    bytes: usize,
    bpp: f64,
    psnr: f64,
    ms_ssim: Option<f64>,
    /// Median over the timed runs, seconds.
    encoding_time: f64,
    /// Median over the timed runs, seconds.
    decoding_time: f64,
}

/// `results.json`: everything a later merge or report needs.
#[derive(Debug, Serialize, Deserialize)]
struct Results {
    format: String,
    dataset: String,
    shard: (usize, usize),
    command: String,
    /// CPU and cores of the machine(s) that ran it.
    #[serde(default)]
    machine: String,
    /// `name sha256:…` of the lic model measured (empty when only anchors ran).
    #[serde(default)]
    model: String,
    items: Vec<Item>,
}

const FORMAT: &str = "lic-bench-1";

/// Runs the benchmark (or the merge).
pub fn run(args: &BenchArgs) -> Result<(), String> {
    match &args.command {
        Some(BenchCommand::Merge(m)) => merge(m),
        Some(BenchCommand::Video(v)) => video::run(v),
        None => run_tasks(&args.run),
    }
}

/// One unit of work.
#[derive(Clone, Copy)]
enum Codec {
    Lic(f64),
    Anchor(Anchor, f64),
}

fn run_tasks(args: &RunArgs) -> Result<(), String> {
    let anchors = args
        .anchors
        .iter()
        .filter(|a| !a.is_empty())
        .map(|a| Anchor::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    for a in &anchors {
        let missing: Vec<&str> = a.tools().into_iter().filter(|t| !on_path(t)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "anchor {} needs {} (install with scripts/install-anchors.sh)",
                a.name(),
                missing.join(", ")
            ));
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let root = lic_datasets::data_root(args.data.as_deref());
    let mut files = if args.dataset == "kodak" {
        lic_datasets::kodak(&root).map_err(|e| e.to_string())?
    } else {
        lic_datasets::image_files(Path::new(&args.dataset)).map_err(|e| e.to_string())?
    };
    if let Some(n) = args.limit {
        files.truncate(n);
    }
    if files.is_empty() {
        return Err("no images to benchmark".into());
    }
    let out = &args.output;
    report::check_outputs(out)?;
    let references = report::load_references(&out.references)?;

    // The task list is a pure function of the arguments, so shards partition it exactly.
    let (shard, shards) = args.shard.unwrap_or((1, 1));
    let mut tasks: Vec<(usize, Codec)> = Vec::new();
    for i in 0..files.len() {
        tasks.extend(args.qualities.iter().map(|&q| (i, Codec::Lic(q))));
        for &a in &anchors {
            tasks.extend(a.sweep().into_iter().map(|p| (i, Codec::Anchor(a, p))));
        }
    }
    let tasks: Vec<(usize, Codec)> =
        tasks.into_iter().enumerate().filter(|(k, _)| k % shards == shard - 1).map(|(_, t)| t).collect();

    std::fs::create_dir_all(&out.out).map_err(|e| format!("cannot create {}: {e}", out.out.display()))?;
    let work = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let mut images: Vec<Option<Source>> = (0..files.len()).map(|_| None).collect();
    for &(i, _) in &tasks {
        if images[i].is_none() {
            images[i] = Some(Source::load(&files[i], &work.path().join(format!("img{i}")))?);
        }
    }

    let mut items = Vec::new();
    let mut model_id = String::new();
    let lic_tasks: Vec<(usize, f64)> =
        tasks.iter().filter_map(|&(i, c)| if let Codec::Lic(q) = c { Some((i, q)) } else { None }).collect();
    if !lic_tasks.is_empty() {
        let model = args.model.load().map_err(|e| e.to_string())?;
        let backend = model.backend_kind();
        model_id = lic_models::short_id(model.id());
        let setup =
            LicSetup { tiling: args.tile.map(|t| (t > 0).then_some((t, args.overlap))), refine: args.refine };
        let mut name = match setup.tiling {
            Some(Some((t, o))) => format!("lic-tile{t}-ov{o}"),
            Some(None) => "lic-untiled".to_owned(),
            None => "lic".to_owned(),
        };
        if setup.refine > 0 {
            name.push_str(&format!("-refine{}", setup.refine));
        }
        let bar = crate::io::progress(lic_tasks.len() as u64, args.quiet, "lic");
        for (i, q) in lic_tasks {
            let src = images[i].as_ref().ok_or("image not loaded")?;
            items.push(run_lic(&model, backend, &name, &setup, src, q, args.runs)?);
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    let anchor_tasks: Vec<(&Source, Anchor, f64)> = tasks
        .iter()
        .filter_map(|&(i, c)| match c {
            Codec::Anchor(a, p) => images[i].as_ref().map(|s| (s, a, p)),
            Codec::Lic(_) => None,
        })
        .collect();
    items.extend(run_anchors(&anchor_tasks, args.jobs, args.runs, args.quiet)?);
    items.sort_by(|a, b| {
        (&a.image, &a.codec, a.param)
            .partial_cmp(&(&b.image, &b.codec, b.param))
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    let results = Results {
        format: FORMAT.into(),
        dataset: args.dataset.clone(),
        shard: (shard, shards),
        command: command_line(),
        machine: report::machine(),
        model: model_id,
        items,
    };
    report::write_json(&out.out.join("results.json"), &results)?;
    if shards > 1 {
        eprintln!("shard {shard}/{shards} done: combine the shard folders with `lic bench merge`");
        return Ok(());
    }
    report::finish(out, &results, &references)
}

/// Combines shard folders: every shard of one `n` exactly once, from the same dataset.
fn merge(args: &MergeArgs) -> Result<(), String> {
    report::check_outputs(&args.output)?;
    let references = report::load_references(&args.output.references)?;
    let mut parts = Vec::new();
    for dir in &args.shards {
        let path = dir.join("results.json");
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let r: Results = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not lic bench results: {e}", path.display()))?;
        if r.format != FORMAT {
            return Err(format!("{}: results format {:?}, expected {FORMAT:?}", path.display(), r.format));
        }
        parts.push(r);
    }
    let n = parts[0].shard.1;
    let mut seen = vec![false; n];
    for p in &parts {
        if p.shard.1 != n || p.dataset != parts[0].dataset {
            return Err("the shards come from different runs (shard counts or datasets differ)".into());
        }
        let slot = seen.get_mut(p.shard.0.wrapping_sub(1)).ok_or("shard index out of range")?;
        if std::mem::replace(slot, true) {
            return Err(format!("shard {}/{n} is given twice", p.shard.0));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("shard {}/{n} is missing", missing + 1));
    }
    let mut items: Vec<Item> = parts.iter().flat_map(|p| p.items.iter().cloned()).collect();
    items.sort_by(|a, b| {
        (&a.image, &a.codec, a.param)
            .partial_cmp(&(&b.image, &b.codec, b.param))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut commands: Vec<String> = parts.iter().map(|p| p.command.clone()).collect();
    commands.sort();
    commands.dedup();
    commands.push(command_line());
    let mut machines: Vec<String> = parts.iter().map(|p| p.machine.clone()).collect();
    machines.sort();
    machines.dedup();
    let mut models: Vec<String> = parts.iter().map(|p| p.model.clone()).filter(|m| !m.is_empty()).collect();
    models.sort();
    models.dedup();
    let results = Results {
        format: FORMAT.into(),
        dataset: parts[0].dataset.clone(),
        shard: (1, 1),
        command: commands.join("\n"),
        machine: machines.join("; "),
        model: models.join("; "),
        items,
    };
    std::fs::create_dir_all(&args.output.out)
        .map_err(|e| format!("cannot create {}: {e}", args.output.out.display()))?;
    report::write_json(&args.output.out.join("results.json"), &results)?;
    report::finish(&args.output, &results, &references)
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut parts = vec!["lic".to_owned()];
    parts.extend(args.into_iter().skip(1));
    parts.join(" ")
}

/// A dataset image with the files the anchors' tools read.
struct Source {
    name: String,
    img: RgbImage,
    png: PathBuf,
    ppm: PathBuf,
    dir: PathBuf,
}

impl Source {
    fn load(file: &Path, dir: &Path) -> Result<Self, String> {
        let name =
            file.file_stem().map_or_else(|| file.display().to_string(), |s| s.to_string_lossy().into_owned());
        let img = lic_datasets::load_image(file).map_err(|e| e.to_string())?.into_rgb8();
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let (png, ppm) = (dir.join("src.png"), dir.join("src.ppm"));
        img.save(&png).map_err(|e| format!("cannot write {}: {e}", png.display()))?;
        write_ppm(&img, &ppm)?;
        Ok(Self { name, img, png, ppm, dir: dir.to_path_buf() })
    }
}

/// Binary PPM (P6), the input cjpeg reads.
fn write_ppm(img: &RgbImage, path: &Path) -> Result<(), String> {
    let mut bytes = format!("P6\n{} {}\n255\n", img.width(), img.height()).into_bytes();
    bytes.extend_from_slice(img.as_raw());
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Median of a non-empty sample.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// How lic's encoder is set up for a run.
struct LicSetup {
    /// `Some(None)`: never tile; `None`: lic's automatic choice.
    tiling: Option<Option<(u32, u16)>>,
    /// Refinement iterations (0: off).
    refine: u32,
}

fn run_lic(
    model: &lic_codec::Model,
    backend: &str,
    name: &str,
    setup: &LicSetup,
    src: &Source,
    q: f64,
    runs: usize,
) -> Result<Item, String> {
    let dynimg = image::DynamicImage::ImageRgb8(src.img.clone());
    let mut encoder = lic_codec::Encoder::new(model)
        .quality(q)
        .and_then(|e| e.refine(setup.refine))
        .map_err(|e| e.to_string())?;
    if let Some(t) = setup.tiling {
        encoder = encoder.tiles(t).map_err(|e| e.to_string())?;
    }
    let decoder = lic_codec::Decoder::new(model);
    let (mut enc_t, mut dec_t) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let bytes = encoder.encode(&dynimg).map_err(|e| e.to_string())?;
        enc_t.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let decoded = decoder.decode(&bytes).map_err(|e| e.to_string())?.into_rgb8();
        dec_t.push(t.elapsed().as_secs_f64());
        last = Some((bytes.len(), decoded));
    }
    let (bytes, decoded) = last.ok_or("no run")?;
    let mut it = item(&src.name, name, q, bytes, &src.img, &decoded, median(enc_t), median(dec_t));
    it.backend = backend.to_owned();
    Ok(it)
}

fn run_anchors(
    tasks: &[(&Source, Anchor, f64)],
    jobs: usize,
    runs: usize,
    quiet: bool,
) -> Result<Vec<Item>, String> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let bar = crate::io::progress(tasks.len() as u64, quiet, "anchors");
    let bar = &bar;
    let chunks: Vec<_> = tasks.chunks(tasks.len().div_ceil(jobs.max(1)).max(1)).collect();
    let results: Vec<Result<Vec<Item>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|&(src, a, p)| {
                            let r = run_anchor(a, src, p, runs);
                            bar.inc(1);
                            r
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("an anchor job panicked".into())))
            .collect()
    });
    bar.finish_and_clear();
    let mut items = Vec::new();
    for r in results {
        items.extend(r?);
    }
    Ok(items)
}

fn run_anchor(a: Anchor, src: &Source, p: f64, runs: usize) -> Result<Item, String> {
    let (mut enc_t, mut dec_t) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        let coded = a.run(&src.png, &src.ppm, p, &src.dir)?;
        enc_t.push(coded.enc);
        dec_t.push(coded.dec);
        last = Some(coded);
    }
    let coded = last.ok_or("no run")?;
    let bytes = std::fs::metadata(&coded.coded).map_err(|e| e.to_string())?.len() as usize;
    let rec =
        image::open(&coded.decoded).map_err(|e| format!("{}: {e}", coded.decoded.display()))?.into_rgb8();
    if rec.dimensions() != src.img.dimensions() {
        return Err(format!(
            "{} decoded to {:?}, expected {:?}",
            a.name(),
            rec.dimensions(),
            src.img.dimensions()
        ));
    }
    Ok(item(&src.name, a.name(), p, bytes, &src.img, &rec, median(enc_t), median(dec_t)))
}

#[allow(clippy::too_many_arguments)]
fn item(
    name: &str,
    codec: &str,
    param: f64,
    bytes: usize,
    src: &RgbImage,
    rec: &RgbImage,
    enc: f64,
    dec: f64,
) -> Item {
    Item {
        image: name.to_owned(),
        codec: codec.to_owned(),
        backend: String::new(),
        param,
        bytes,
        bpp: bytes as f64 * 8.0 / f64::from(src.width() * src.height()),
        psnr: metrics::psnr(src, rec),
        ms_ssim: metrics::ms_ssim(src, rec),
        encoding_time: enc,
        decoding_time: dec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_strictly() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert_eq!(parse_shard("1/1"), Ok((1, 1)));
        for bad in ["0/2", "3/2", "1", "a/b", "1/0", ""] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
