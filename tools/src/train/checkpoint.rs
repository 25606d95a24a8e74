//! Checkpoints: model weights (burnpack, f32), both optimisers' state, the step, and the
//! weights' moving average when the run keeps one (`ema`; it is what a run ships).
//!
//! The weights use Burn's own burnpack format because it persists each parameter's id, and
//! the optimisers' state is keyed by those ids: restoring weights by name alone (as from
//! safetensors) would silently restart Adam's moments and break exact resumption.
//!
//! Randomness is re-derived from `(seed, step)` at every step, so resuming from a checkpoint
//! continues the exact sequence of crops, qualities and noise the run would have drawn.

use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot, ModuleStore, PathFilter, SafetensorsStore};
use lic_models::net::ImageModel;
use serde::{Deserialize, Serialize};

/// Progress recorded with a checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Optimiser steps completed.
    pub step: u64,
    /// Training seconds spent up to this checkpoint, over all sessions.
    pub seconds: f64,
}

fn paths(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    (
        dir.join("checkpoint.model.bpk"),
        dir.join("checkpoint.optim.bin"),
        dir.join("checkpoint.aux.bin"),
        dir.join("checkpoint.json"),
    )
}

/// The moving average of the weights, when the run keeps one.
fn ema_path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.ema.bpk")
}

/// Model weights of checkpoints written before burnpack; they lack parameter ids.
fn legacy_model(dir: &Path) -> PathBuf {
    dir.join("checkpoint.model.safetensors")
}

/// Whether `dir` holds a checkpoint.
pub fn exists(dir: &Path) -> bool {
    paths(dir).3.is_file()
}

/// Writes a checkpoint; each file is written beside its final name and renamed, so an
/// interrupted save leaves the previous checkpoint intact. Without `ema`, an average left by
/// an earlier configuration is removed: exporting it would ship stale weights.
pub fn save(
    dir: &Path,
    model: &ImageModel,
    optim: &ModuleOptimizer,
    aux: &ModuleOptimizer,
    ema: Option<&ImageModel>,
    progress: &Progress,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (m, o, a, p) = paths(dir);
    let e = ema_path(dir);
    let tmp = |path: &Path| path.with_extension("tmp");
    let save_model = |model: &ImageModel, path: &Path| {
        let mut store = BurnpackStore::from_file(tmp(path)).overwrite(true);
        model.save_into(&mut store).map_err(|err| format!("saving {}: {err}", path.display()))
    };
    save_model(model, &m)?;
    if let Some(ema) = ema {
        save_model(ema, &e)?;
    }
    optim.save(tmp(&o)).map_err(|e| format!("saving optimiser: {e}"))?;
    aux.save(tmp(&a)).map_err(|e| format!("saving aux optimiser: {e}"))?;
    let json = serde_json::to_string_pretty(progress).map_err(|e| e.to_string())?;
    std::fs::write(tmp(&p), json).map_err(|e| format!("writing {}: {e}", p.display()))?;
    let mut files = vec![&m, &o, &a];
    if ema.is_some() {
        files.push(&e);
    } else {
        let _ = std::fs::remove_file(&e);
    }
    // The progress file last: it is what marks a checkpoint as present.
    files.push(&p);
    for f in files {
        std::fs::rename(tmp(f), f).map_err(|e| format!("renaming {}: {e}", f.display()))?;
    }
    let _ = std::fs::remove_file(legacy_model(dir));
    Ok(())
}

/// Loads the moving average saved in `dir` into `avg`; `Ok(false)` when there is none.
pub fn load_ema(dir: &Path, avg: &mut ImageModel) -> Result<bool, String> {
    let path = ema_path(dir);
    if !path.is_file() {
        return Ok(false);
    }
    load_exact(&path, avg)?;
    Ok(true)
}

/// The weights a run ships, loaded into `model`: the moving average when the checkpoint in
/// `dir` has one, else the trained weights. Returns the checkpoint's progress.
pub fn load_shipped(dir: &Path, model: &mut ImageModel) -> Result<Progress, String> {
    let (m, _, _, p) = paths(dir);
    if load_ema(dir, model)? {
        return read_progress(&p);
    }
    if m.is_file() {
        // Weights only: the optimisers' state is not needed to ship them.
        load_exact(&m, model)?;
        return read_progress(&p);
    }
    let (optim, aux) = (super::adam().init(), super::adam().init());
    load(dir, model, optim, aux).map(|(_, _, progress)| progress)
}

/// Loads a burnpack file into `model`, requiring every parameter with its shape.
fn load_exact(path: &Path, model: &mut ImageModel) -> Result<(), String> {
    let mut store = BurnpackStore::from_file(path);
    let applied = model.load_from(&mut store).map_err(|e| format!("loading {}: {e}", path.display()))?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() {
        return Err(format!(
            "{} does not fit this model config: {} missing, {} errors",
            path.display(),
            applied.missing.len(),
            applied.errors.len()
        ));
    }
    Ok(())
}

pub(crate) fn read_progress(path: &Path) -> Result<Progress, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies the weights of the checkpoint in `dir` into `model`, except parameters whose path
/// starts with one of `fresh` (they keep their initialisation). Returns the source's progress.
/// Every other parameter of `model` must be in the checkpoint with its shape: a start that
/// silently left half the network random would be a different experiment. With `average`
/// the weights come from the checkpoint's moving average (what that run ships).
pub fn init_weights(
    dir: &Path,
    model: &mut ImageModel,
    fresh: &[String],
    average: bool,
) -> Result<Progress, String> {
    let (m, _, _, p) = paths(dir);
    let m = if average {
        let e = ema_path(dir);
        if !e.is_file() {
            return Err(format!("{} keeps no moving average (init_average)", dir.display()));
        }
        e
    } else {
        m
    };
    let progress = read_progress(&p)?;
    let is_fresh = |path: &str| fresh.iter().any(|f| path.starts_with(f.as_str()));
    let mut store = BurnpackStore::from_file(&m);
    let keep: Vec<String> = store
        .get_all_tensors()
        .map_err(|e| format!("reading {}: {e}", m.display()))?
        .keys()
        .filter(|k| !is_fresh(k))
        .cloned()
        .collect();
    // The same store, already read: the filter only narrows what is applied.
    let mut store = store.allow_partial(true).with_filter(PathFilter::from_paths(keep));
    let applied = model
        .load_from(&mut store)
        .map_err(|e| format!("{} does not fit this model config outside {fresh:?}: {e}", m.display()))?;
    let missing: Vec<&str> =
        applied.missing.iter().map(|(p, _)| p.as_str()).filter(|p| !is_fresh(p)).collect();
    if !applied.errors.is_empty() || !missing.is_empty() {
        return Err(format!(
            "{} does not fit this model config outside {fresh:?}: {} missing ({}), {} errors",
            m.display(),
            missing.len(),
            missing.first().unwrap_or(&""),
            applied.errors.len()
        ));
    }
    Ok(progress)
}

/// Loads a checkpoint into freshly built `model` and optimisers.
pub fn load(
    dir: &Path,
    model: &mut ImageModel,
    optim: ModuleOptimizer,
    aux: ModuleOptimizer,
) -> Result<(ModuleOptimizer, ModuleOptimizer, Progress), String> {
    let (m, o, a, p) = paths(dir);
    let progress = read_progress(&p)?;
    if !m.is_file() && legacy_model(dir).is_file() {
        // Weights only: the optimiser state cannot be matched to parameters without ids.
        let legacy = legacy_model(dir);
        let mut store = SafetensorsStore::from_file(&legacy);
        let applied =
            model.load_from(&mut store).map_err(|e| format!("loading {}: {e}", legacy.display()))?;
        if !applied.errors.is_empty() || !applied.missing.is_empty() {
            return Err(format!("{} does not fit this model config", legacy.display()));
        }
        eprintln!("warning: legacy checkpoint without parameter ids: weights restored, Adam state restarts");
        return Ok((optim, aux, progress));
    }
    load_exact(&m, model)?;
    let optim = optim.load(&o).map_err(|e| format!("loading {}: {e}", o.display()))?;
    let aux = aux.load(&a).map_err(|e| format!("loading {}: {e}", a.display()))?;
    Ok((optim, aux, progress))
}
