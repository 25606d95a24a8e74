//! Everything derived from the per-image results: CompressAI-format curves, the BD table,
//! the speed table, RD plots and a Markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::anchors::Anchor;
use super::bd::{Fit, bd_quality, bd_rate, rate_differences};
use super::plot::{Curve, rd_plot};
use super::{Item, OutputArgs, Results, median};

/// A curve read from a published results file.
pub struct Reference {
    name: String,
    description: String,
    /// (bpp, PSNR, MS-SSIM or NaN).
    points: Vec<(f64, f64, f64)>,
}

/// Refuses to overwrite earlier results unless `--force`.
pub fn check_outputs(out: &OutputArgs) -> Result<(), String> {
    if out.out.join("results.json").exists() && !out.force {
        return Err(format!("{} already holds results; use --force to overwrite", out.out.display()));
    }
    if let Some(r) = &out.report {
        if r.exists() && !out.force {
            return Err(format!("{} exists; use --force to overwrite", r.display()));
        }
    }
    Ok(())
}

/// Reads CompressAI-format files (`psnr-rgb` or `psnr`, optional `ms-ssim-rgb`/`ms-ssim`).
pub fn load_references(files: &[PathBuf]) -> Result<Vec<Reference>, String> {
    files
        .iter()
        .map(|f| {
            let bad = |why: &str| format!("reference {}: {why}", f.display());
            let bytes = std::fs::read(f).map_err(|e| bad(&e.to_string()))?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
            let r = &v["results"];
            let list = |keys: &[&str]| -> Option<Vec<f64>> {
                keys.iter()
                    .find_map(|k| r[*k].as_array())
                    .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            };
            let bpp = list(&["bpp"]).ok_or_else(|| bad("no results.bpp"))?;
            let psnr = list(&["psnr-rgb", "psnr"]).ok_or_else(|| bad("no results.psnr-rgb"))?;
            let ms = list(&["ms-ssim-rgb", "ms-ssim"]).unwrap_or_else(|| vec![f64::NAN; bpp.len()]);
            if psnr.len() != bpp.len() || ms.len() != bpp.len() || bpp.is_empty() {
                return Err(bad("its lists are empty or differ in length"));
            }
            let mut points: Vec<(f64, f64, f64)> =
                bpp.iter().zip(&psnr).zip(&ms).map(|((&b, &p), &m)| (b, p, m)).collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let name = v["name"].as_str().map_or_else(
                || f.file_stem().map_or_else(|| "reference".into(), |s| s.to_string_lossy().into_owned()),
                str::to_owned,
            );
            let description = v["description"].as_str().unwrap_or("").to_owned();
            Ok(Reference { name, description, points })
        })
        .collect()
}

/// Pretty JSON to `path`.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Per-parameter averages of one codec (CompressAI's convention: the mean over images of
/// per-image bpp and metrics), sorted by rate.
struct Row {
    param: f64,
    bpp: f64,
    psnr: f64,
    ms_ssim: f64,
    enc: f64,
    dec: f64,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

fn curves(items: &[Item]) -> BTreeMap<String, Vec<Row>> {
    let mut by: BTreeMap<String, BTreeMap<String, Vec<&Item>>> = BTreeMap::new();
    for it in items {
        by.entry(it.codec.clone()).or_default().entry(format!("{:020.6}", it.param)).or_default().push(it);
    }
    by.into_iter()
        .map(|(codec, params)| {
            let mut rows: Vec<Row> = params
                .into_values()
                .map(|its| {
                    let ms: Vec<f64> = its.iter().filter_map(|i| i.ms_ssim).collect();
                    Row {
                        param: its[0].param,
                        bpp: mean(its.iter().map(|i| i.bpp)),
                        psnr: mean(its.iter().map(|i| i.psnr)),
                        ms_ssim: if ms.len() == its.len() { mean(ms.into_iter()) } else { f64::NAN },
                        enc: mean(its.iter().map(|i| i.encoding_time)),
                        dec: mean(its.iter().map(|i| i.decoding_time)),
                    }
                })
                .collect();
            rows.sort_by(|a, b| a.bpp.total_cmp(&b.bpp));
            (codec, rows)
        })
        .collect()
}

fn description(codec: &str) -> String {
    match Anchor::parse(codec) {
        Ok(a) => a.description().to_owned(),
        Err(_) if codec == "lic" => "lic, learned image codec (embedded or --model weights)".to_owned(),
        Err(_) => format!("lic, learned image codec, coded as {}", codec.trim_start_matches("lic-")),
    }
}

/// Writes the curves, tables, plots and report for `results` into `out.out` (and
/// `out.report`), and prints the BD table.
pub fn finish(out: &OutputArgs, results: &Results, references: &[Reference]) -> Result<(), String> {
    let dir = &out.out;
    let curves = curves(&results.items);
    let mut points: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for (codec, rows) in &curves {
        let col = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<_>>();
        let json = serde_json::json!({
            "name": codec,
            "description": description(codec),
            "results": {
                "bpp": col(|r| r.bpp), "psnr-rgb": col(|r| r.psnr), "ms-ssim-rgb": col(|r| r.ms_ssim),
                "encoding_time": col(|r| r.enc), "decoding_time": col(|r| r.dec),
            }
        });
        write_json(&dir.join(format!("{codec}.json")), &json)?;
        points.insert(codec.clone(), rows.iter().map(|r| (r.bpp, r.psnr, r.ms_ssim)).collect());
    }
    let measured: Vec<String> = points.keys().cloned().collect();
    for r in references {
        if points.contains_key(&r.name) {
            return Err(format!("reference {:?} has the name of a measured codec", r.name));
        }
        points.insert(r.name.clone(), r.points.clone());
    }
    if let Some(a) = &out.bd_anchor {
        if !points.contains_key(a) || (measured.contains(a) && a.starts_with("lic")) {
            return Err(format!("--bd-anchor {a:?} is not a measured anchor or a reference"));
        }
    }

    // Anchors: everything but the lic curves measured in this run (a published or earlier
    // lic curve given with --reference is a fine anchor, e.g. untiled against tiled).
    let anchors: Vec<&String> =
        points.keys().filter(|k| !(measured.contains(k) && k.starts_with("lic"))).collect();
    let bd = bd_table(&points, &anchors, out.bd_anchor.as_deref());
    std::fs::write(dir.join("bd.md"), &bd).map_err(|e| format!("cannot write bd.md: {e}"))?;
    let by_point = rate_by_point(&curves, &measured, &points, &anchors, out.bd_anchor.as_deref());
    std::fs::write(dir.join("rate-by-point.md"), &by_point)
        .map_err(|e| format!("cannot write rate-by-point.md: {e}"))?;
    let speed = speed_table(&results.items);
    std::fs::write(dir.join("speed.md"), &speed).map_err(|e| format!("cannot write speed.md: {e}"))?;

    let plot_curves = |metric: fn(&(f64, f64, f64)) -> f64| -> Vec<Curve> {
        points
            .iter()
            .map(|(name, pts)| Curve {
                name: name.clone(),
                points: pts
                    .iter()
                    .map(|p| (p.0, metric(p)))
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect(),
                reference: !measured.contains(name),
            })
            .collect()
    };
    let title = format!("{} ({} images)", results.dataset, image_count(&results.items));
    let mut plots =
        rd_plot(&dir.join("rd-psnr"), &format!("{title}: RGB PSNR"), "PSNR (dB)", &plot_curves(|p| p.1))?;
    plots.extend(rd_plot(
        &dir.join("rd-ms-ssim"),
        &format!("{title}: MS-SSIM"),
        "MS-SSIM (dB, −10·log10(1 − MS-SSIM))",
        &plot_curves(|p| ms_db(p.2)),
    )?);
    if !super::plot::available() {
        eprintln!(
            "notice: no plots: no TrueType font found (install fonts-dejavu-core or set LIC_FONT=FILE.ttf)"
        );
    }

    let tables = Tables { bd: &bd, by_point: &by_point, speed: &speed };
    let text = report_markdown(results, &curves, references, &tables, &plots, dir, dir);
    std::fs::write(dir.join("RESULTS.md"), text).map_err(|e| format!("cannot write RESULTS.md: {e}"))?;
    if let Some(path) = &out.report {
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let text = report_markdown(results, &curves, references, &tables, &plots, dir, base);
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    print!("{bd}");
    Ok(())
}

fn image_count(items: &[Item]) -> usize {
    let mut names: Vec<&str> = items.iter().map(|i| i.image.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn ms_db(ms: f64) -> f64 {
    -10.0 * (1.0 - ms).log10()
}

/// BD-rate of every curve against every anchor (or the chosen one), PSNR and MS-SSIM (dB).
fn bd_table(
    points: &BTreeMap<String, Vec<(f64, f64, f64)>>,
    anchors: &[&String],
    only: Option<&str>,
) -> String {
    let psnr = |c: &[(f64, f64, f64)]| c.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>();
    let msdb = |c: &[(f64, f64, f64)]| c.iter().map(|p| (p.0, ms_db(p.2))).collect::<Vec<_>>();
    let pct = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:+.2}%"));
    let db = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:+.2}"));
    let mut s = String::from(
        "| codec | anchor | BD-rate PSNR (cubic) | BD-rate PSNR (pchip) | BD-PSNR dB (pchip) | BD-rate MS-SSIM (cubic) | BD-rate MS-SSIM (pchip) | BD-MS-SSIM dB (pchip) |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (codec, c) in points {
        for (anchor, a) in points {
            if codec == anchor || !anchors.contains(&anchor) || only.is_some_and(|o| o != anchor) {
                continue;
            }
            let _ = writeln!(
                s,
                "| {codec} | {anchor} | {} | {} | {} | {} | {} | {} |",
                pct(bd_rate(&psnr(a), &psnr(c), Fit::Cubic)),
                pct(bd_rate(&psnr(a), &psnr(c), Fit::Pchip)),
                db(bd_quality(&psnr(a), &psnr(c), Fit::Pchip)),
                pct(bd_rate(&msdb(a), &msdb(c), Fit::Cubic)),
                pct(bd_rate(&msdb(a), &msdb(c), Fit::Pchip)),
                db(bd_quality(&msdb(a), &msdb(c), Fit::Pchip)),
            );
        }
    }
    s
}

/// For each lic curve measured in this run, each point's rate against each anchor's rate at
/// the same PSNR (`bd::rate_differences`): where along the curve the BD-rate is won or lost.
fn rate_by_point(
    curves: &BTreeMap<String, Vec<Row>>,
    measured: &[String],
    points: &BTreeMap<String, Vec<(f64, f64, f64)>>,
    anchors: &[&String],
    only: Option<&str>,
) -> String {
    let anchors: Vec<&String> =
        anchors.iter().copied().filter(|a| only.is_none_or(|o| o == a.as_str())).collect();
    let mut s = String::new();
    for (codec, rows) in curves.iter().filter(|(c, _)| c.starts_with("lic") && measured.contains(c)) {
        let test: Vec<(f64, f64)> = rows.iter().map(|r| (r.bpp, r.psnr)).collect();
        // `anchors` never holds a lic curve measured in this run, so no column is the row's own.
        let columns: Vec<Vec<Option<f64>>> = anchors
            .iter()
            .map(|a| {
                let curve: Vec<(f64, f64)> = points[a.as_str()].iter().map(|p| (p.0, p.1)).collect();
                rate_differences(&curve, &test)
            })
            .collect();
        let names: Vec<&str> = anchors.iter().map(|a| a.as_str()).collect();
        let _ = writeln!(
            s,
            "**{codec}**\n\n| parameter | bpp | PSNR (dB) | {} |\n|---:|---:|---:|{}",
            names.join(" | "),
            "---:|".repeat(names.len())
        );
        for (i, r) in rows.iter().enumerate() {
            let cells: Vec<String> =
                columns.iter().map(|c| c[i].map_or("—".to_owned(), |v| format!("{v:+.1}%"))).collect();
            let _ = writeln!(s, "| {} | {:.4} | {:.2} | {} |", r.param, r.bpp, r.psnr, cells.join(" | "));
        }
        s += "\n";
    }
    s
}

/// Median encode and decode time per image over every coded image of each codec/backend.
fn speed_table(items: &[Item]) -> String {
    let mut by: BTreeMap<(String, String), Vec<&Item>> = BTreeMap::new();
    for it in items {
        by.entry((it.codec.clone(), it.backend.clone())).or_default().push(it);
    }
    let mut s = String::from(
        "| codec | backend | coded images | median encode (s) | median decode (s) |\n|---|---|---:|---:|---:|\n",
    );
    for ((codec, backend), its) in by {
        let _ = writeln!(
            s,
            "| {codec} | {} | {} | {:.3} | {:.3} |",
            if backend.is_empty() { "system tool" } else { &backend },
            its.len(),
            median(its.iter().map(|i| i.encoding_time).collect()),
            median(its.iter().map(|i| i.decoding_time).collect()),
        );
    }
    s
}

/// `path` as a link from a document in `base`: relative when it lies below `base`.
pub(crate) fn link(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (p, b) = (abs(path), abs(base));
    p.strip_prefix(&b).map_or_else(|_| p.display().to_string(), |r| r.display().to_string())
}

/// The derived Markdown tables a report embeds.
struct Tables<'a> {
    bd: &'a str,
    by_point: &'a str,
    speed: &'a str,
}

fn report_markdown(
    results: &Results,
    curves: &BTreeMap<String, Vec<Row>>,
    references: &[Reference],
    tables: &Tables<'_>,
    plots: &[PathBuf],
    dir: &Path,
    base: &Path,
) -> String {
    let mut s = String::from("# lic benchmark results\n\n");
    let _ = writeln!(
        s,
        "Dataset **{}**, {} images; every number below is measured on real files (bpp from the file \
         size, RGB PSNR and MS-SSIM on the 8-bit decoded image). Generated by lic {} on {}.\n",
        results.dataset,
        image_count(&results.items),
        env!("CARGO_PKG_VERSION"),
        results.machine
    );
    if !results.model.is_empty() {
        let _ = writeln!(s, "lic model: {}.\n", results.model);
    }
    let _ = writeln!(s, "Regenerate with:\n\n```sh\n{}\n```\n", results.command);
    let _ = writeln!(s, "Per-image results: `{}`.\n", link(&dir.join("results.json"), base));
    s += "## Rate–distortion\n\n";
    for p in plots.iter().filter(|p| p.extension().is_some_and(|e| e == "svg")) {
        let _ = writeln!(
            s,
            "![{}]({})\n",
            p.file_stem().map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            link(p, base)
        );
    }
    for (codec, rows) in curves {
        let _ = writeln!(
            s,
            "### {codec}\n\n{}\n\n| parameter | bpp | PSNR (dB) | MS-SSIM | encode (s) | decode (s) |\n|---:|---:|---:|---:|---:|---:|",
            description(codec)
        );
        for r in rows {
            let _ = writeln!(
                s,
                "| {} | {:.4} | {:.2} | {:.4} | {:.3} | {:.3} |",
                r.param, r.bpp, r.psnr, r.ms_ssim, r.enc, r.dec
            );
        }
        s += "\n";
    }
    if !references.is_empty() {
        s += "### Published reference curves (not measured here)\n\n";
        for r in references {
            let _ = writeln!(s, "- **{}**: {}", r.name, r.description);
        }
        s += "\n";
    }
    let _ = writeln!(
        s,
        "## Bjøntegaard deltas (negative: fewer bits / higher quality than the anchor)\n\n{}",
        tables.bd
    );
    if !tables.by_point.is_empty() {
        let _ = writeln!(
            s,
            "### Rate at equal PSNR, point by point\n\nEach lic point's rate against the anchor's rate at \
             the same PSNR (the anchor's log-rate interpolated by pchip, as BD-rate does; — where the \
             point lies outside the anchor's range). BD-rate is the mean of this over the PSNR \
             overlap; the rows show where along the curve it is won or lost.\n\n{}",
            tables.by_point
        );
    }
    let _ = writeln!(
        s,
        "## Speed\n\nMedian wall time per coded image (each the median of the timed runs). lic times cover \
         the codec library (networks + entropy coding), not model loading or PNG I/O; anchor times \
         are whole tool processes, file I/O included.\n\n{}",
        tables.speed
    );
    s
}

/// CPU model and core count, for the report's provenance line.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}
