//! `lic bench`: rate–distortion and speed of lic and classical anchors on a dataset, with
//! real files, results in CompressAI's JSON format and Bjøntegaard deltas.

mod anchors;
pub mod bd;
pub mod metrics;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anchors::Anchor;
use clap::Args;
use image::RgbImage;
use serde::Serialize;

use crate::model_arg::ModelArgs;

/// Arguments of `lic bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// `kodak`, or a folder of images.
    #[arg(long, default_value = "kodak")]
    dataset: String,
    /// Data root (default: $LIC_DATA, else ../shared/datasets).
    #[arg(long)]
    data: Option<PathBuf>,
    /// lic qualities to run.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8")]
    qualities: Vec<f64>,
    /// Anchor codecs: any of jpeg, webp, avif, heic, jxl.
    #[arg(long, value_delimiter = ',', default_value = "jpeg,webp")]
    anchors: Vec<String>,
    /// Use only the first N images.
    #[arg(long)]
    limit: Option<usize>,
    /// Parallel anchor jobs.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Where results go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// Overwrite results already in `--out`.
    #[arg(long)]
    force: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// One coded image.
#[derive(Clone, Debug, Serialize)]
struct Item {
    image: String,
    codec: String,
    param: f64,
    bytes: usize,
    bpp: f64,
    psnr: f64,
    ms_ssim: Option<f64>,
    encoding_time: f64,
    decoding_time: f64,
}

/// Runs the benchmark.
pub fn run(args: &BenchArgs) -> Result<(), String> {
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
    if args.out.join("results.json").exists() && !args.force {
        return Err(format!("{} already holds results; use --force to overwrite", args.out.display()));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let work = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;

    let images: Vec<(String, RgbImage)> = files
        .iter()
        .map(|f| {
            let name =
                f.file_stem().map_or_else(|| f.display().to_string(), |s| s.to_string_lossy().into_owned());
            lic_datasets::load_image(f).map(|i| (name, i.into_rgb8())).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;

    let mut items = Vec::new();
    if !args.qualities.is_empty() {
        let model = args.model.load().map_err(|e| e.to_string())?;
        let bar = crate::io::progress((images.len() * args.qualities.len()) as u64, args.quiet, "lic");
        for (name, img) in &images {
            for &q in &args.qualities {
                items.push(run_lic(&model, name, img, q)?);
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
    }
    let mut tasks = Vec::new();
    for (i, (name, img)) in images.iter().enumerate() {
        let dir = work.path().join(format!("img{i}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let png = dir.join("src.png");
        let ppm = dir.join("src.ppm");
        img.save(&png).map_err(|e| e.to_string())?;
        write_ppm(img, &ppm)?;
        for &a in &anchors {
            for p in a.sweep() {
                tasks.push((a, name.clone(), img, png.clone(), ppm.clone(), p, dir.clone()));
            }
        }
    }
    let bar = crate::io::progress(tasks.len() as u64, args.quiet, "anchors");
    let bar = &bar;
    let jobs = args.jobs.max(1);
    let chunks: Vec<_> = tasks.chunks(tasks.len().div_ceil(jobs).max(1)).collect();
    let results: Vec<Result<Vec<Item>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(a, name, img, png, ppm, p, dir)| {
                            let r = run_anchor(*a, name, img, png, ppm, *p, dir);
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
    for r in results {
        items.extend(r?);
    }
    write_results(&args.out, &items, &anchors)
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

fn run_lic(model: &lic_codec::Model, name: &str, img: &RgbImage, q: f64) -> Result<Item, String> {
    let dynimg = image::DynamicImage::ImageRgb8(img.clone());
    let t = Instant::now();
    let bytes = lic_codec::Encoder::new(model)
        .quality(q)
        .and_then(|e| e.encode(&dynimg))
        .map_err(|e| e.to_string())?;
    let encoding_time = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decoded = lic_codec::Decoder::new(model).decode(&bytes).map_err(|e| e.to_string())?.into_rgb8();
    let decoding_time = t.elapsed().as_secs_f64();
    Ok(item(name, "lic", q, bytes.len(), img, &decoded, encoding_time, decoding_time))
}

fn run_anchor(
    a: Anchor,
    name: &str,
    img: &RgbImage,
    png: &Path,
    ppm: &Path,
    p: f64,
    dir: &Path,
) -> Result<Item, String> {
    let t = Instant::now();
    let (coded, decoded) = a.run(png, ppm, p, dir)?;
    // The tools' own split of time is not observable; report encode+decode as encoding.
    let encoding_time = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&coded).map_err(|e| e.to_string())?.len() as usize;
    let rec = image::open(&decoded).map_err(|e| format!("{}: {e}", decoded.display()))?.into_rgb8();
    if rec.dimensions() != img.dimensions() {
        return Err(format!(
            "{} decoded to {:?}, expected {:?}",
            a.name(),
            rec.dimensions(),
            img.dimensions()
        ));
    }
    Ok(item(name, a.name(), p, bytes, img, &rec, encoding_time, 0.0))
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
        param,
        bytes,
        bpp: bytes as f64 * 8.0 / f64::from(src.width() * src.height()),
        psnr: metrics::psnr(src, rec),
        ms_ssim: metrics::ms_ssim(src, rec),
        encoding_time: enc,
        decoding_time: dec,
    }
}

/// Per codec: per-parameter means over images (CompressAI's convention), sorted by rate.
fn curves(items: &[Item]) -> BTreeMap<String, Vec<(f64, Vec<&Item>)>> {
    let mut by: BTreeMap<String, BTreeMap<String, (f64, Vec<&Item>)>> = BTreeMap::new();
    for it in items {
        by.entry(it.codec.clone())
            .or_default()
            .entry(it.param.to_string())
            .or_insert((it.param, Vec::new()))
            .1
            .push(it);
    }
    by.into_iter().map(|(k, v)| (k, v.into_values().collect())).collect()
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

fn write_results(out: &Path, items: &[Item], anchors: &[Anchor]) -> Result<(), String> {
    let write = |name: &str, value: &serde_json::Value| {
        let path = out.join(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    let mut points: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for (codec, params) in curves(items) {
        let mut rows: Vec<(f64, f64, f64, f64, f64)> = params
            .iter()
            .map(|(_, its)| {
                let ms = its.iter().filter_map(|i| i.ms_ssim).collect::<Vec<_>>();
                (
                    mean(its.iter().map(|i| i.bpp)),
                    mean(its.iter().map(|i| i.psnr)),
                    if ms.len() == its.len() { mean(ms.into_iter()) } else { f64::NAN },
                    mean(its.iter().map(|i| i.encoding_time)),
                    mean(its.iter().map(|i| i.decoding_time)),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let description = anchors
            .iter()
            .find(|a| a.name() == codec)
            .map_or("lic, learned image codec (embedded or --model weights)", |a| a.description());
        let col = |f: fn(&(f64, f64, f64, f64, f64)) -> f64| rows.iter().map(f).collect::<Vec<_>>();
        let json = serde_json::json!({
            "name": codec,
            "description": description,
            "results": {
                "bpp": col(|r| r.0), "psnr-rgb": col(|r| r.1), "ms-ssim-rgb": col(|r| r.2),
                "encoding_time": col(|r| r.3), "decoding_time": col(|r| r.4),
            }
        });
        write(&format!("{codec}.json"), &json)?;
        points.insert(codec, rows.iter().map(|r| (r.0, r.1, r.2)).collect());
    }
    write("results.json", &serde_json::to_value(items).map_err(|e| e.to_string())?)?;
    let table = bd_table(&points);
    std::fs::write(out.join("bd.md"), &table).map_err(|e| e.to_string())?;
    print!("{table}");
    Ok(())
}

/// BD-rate of every curve against every anchor, for PSNR and MS-SSIM (in dB).
fn bd_table(points: &BTreeMap<String, Vec<(f64, f64, f64)>>) -> String {
    use bd::{Fit, bd_quality, bd_rate};
    let psnr = |c: &[(f64, f64, f64)]| c.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>();
    let msdb =
        |c: &[(f64, f64, f64)]| c.iter().map(|p| (p.0, -10.0 * (1.0 - p.2).log10())).collect::<Vec<_>>();
    let pct = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:+.2}%"));
    let db = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:+.2}"));
    let mut s = String::from(
        "| codec | anchor | BD-rate PSNR (cubic) | BD-rate PSNR (pchip) | BD-PSNR dB (pchip) | BD-rate MS-SSIM (pchip) |\n|---|---|---:|---:|---:|---:|\n",
    );
    for (codec, c) in points {
        for (anchor, a) in points {
            if codec == anchor || anchor == "lic" {
                continue;
            }
            s += &format!(
                "| {codec} | {anchor} | {} | {} | {} | {} |\n",
                pct(bd_rate(&psnr(a), &psnr(c), Fit::Cubic)),
                pct(bd_rate(&psnr(a), &psnr(c), Fit::Pchip)),
                db(bd_quality(&psnr(a), &psnr(c), Fit::Pchip)),
                pct(bd_rate(&msdb(a), &msdb(c), Fit::Pchip)),
            );
        }
    }
    s
}
