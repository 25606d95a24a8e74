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
    super::optim_state::save(optim, &o)?;
    super::optim_state::save(aux, &a)?;
    let json = serde_json::to_string_pretty(progress).map_err(|e| e.to_string())?;
    std::fs::write(tmp(&p), json).map_err(|e| format!("writing {}: {e}", p.display()))?;
    let mut files = vec![&m];
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
/// starts with one of `fresh` (they keep their initialisation). Convolutions whose path starts
/// with one of `grow` may be wider in `model` than in the checkpoint ([`grown`]). Returns the
/// source's progress.
/// Every other parameter of `model` must be in the checkpoint with its shape: a start that
/// silently left half the network random would be a different experiment. With `average`
/// the weights come from the checkpoint's moving average (what that run ships).
pub fn init_weights(
    dir: &Path,
    model: &mut ImageModel,
    fresh: &[String],
    grow: &[String],
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
    let mut store = BurnpackStore::from_file(&m);
    let saved = store.get_all_tensors().map_err(|e| format!("reading {}: {e}", m.display()))?;
    let widened = widen(model, saved, grow)?;
    let is_fresh = |path: &str| {
        fresh.iter().any(|f| path.starts_with(f.as_str())) || widened.iter().any(|w| w.name == path)
    };
    let keep: Vec<String> = saved.keys().filter(|k| !is_fresh(k)).cloned().collect();
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
    if !widened.is_empty() {
        let names: Vec<String> = widened.iter().map(|w| w.name.clone()).collect();
        let applied = model.apply(widened, None, None, false);
        if !applied.errors.is_empty() || applied.applied.len() != names.len() {
            return Err(format!("widening {names:?}: {} errors", applied.errors.len()));
        }
        eprintln!("widened {} tensors: {}", names.len(), names.join(", "));
    }
    Ok(progress)
}

/// The tensors of `model` under one of `prefixes` that `saved` holds with a narrower shape,
/// widened from the saved ones ([`grown`]), ready to apply once the rest is loaded.
fn widen(
    model: &ImageModel,
    saved: &std::collections::BTreeMap<String, burn::store::burn_pack::Tensor>,
    prefixes: &[String],
) -> Result<Vec<burn::store::burn_pack::Tensor>, String> {
    let mut widened = Vec::new();
    for now in model.collect(None, None, false) {
        let Some(old) = saved.get(&now.name) else { continue };
        if old.shape != now.shape && prefixes.iter().any(|g| now.name.starts_with(g.as_str())) {
            let read = |t: &burn::store::burn_pack::Tensor| {
                burn::store::bridge::to_data(t).map_err(|e| format!("reading {}: {e}", now.name))
            };
            let data = grown(&now.name, &read(old)?, &read(&now)?)?;
            widened.push(burn::store::bridge::from_data(data, now.name.clone(), None));
        }
    }
    Ok(widened)
}

/// A trained tensor `old` widened to the shape of `now` (the freshly initialised one), so that
/// the wider network computes exactly what the trained one did.
///
/// Convolutions (`.convs.`, weights `[out, in, kh, kw]`) and transposed convolutions
/// (`.deconvs.`, weights `[in, out, kh, kw]`) and their biases grow: the trained block is
/// copied into the leading corner; weights from a new *input* channel are zero, so whatever
/// a new unit computes is ignored by the next layer until training moves those weights; a
/// new unit's own input weights and bias keep their fresh values (random, so that it learns
/// something other than its neighbours). Growing an output that a later layer does not
/// zero-weight (a network's last layer) would change the function; the configs grow hidden
/// widths, and the latent `y` (`g_a`'s last layer, read by `g_s` and `h_a` through zero
/// weights).
///
/// The per-quality gains (`log_gain`, `log_inv_gain`, `[Q, M]`) grow with the latent: a new
/// channel starts at the mean log-gain of its quality's trained channels, so the new
/// channels are quantised about as finely as the old ones at every quality.
fn grown(
    name: &str,
    old: &burn::tensor::TensorData,
    now: &burn::tensor::TensorData,
) -> Result<burn::tensor::TensorData, String> {
    let (os, ns) = (old.shape().as_slice().to_vec(), now.shape().as_slice().to_vec());
    let no_smaller = os.len() == ns.len() && os.iter().zip(&ns).all(|(o, n)| o <= n);
    let refuse = || format!("{name}: cannot grow {os:?} into {ns:?} (only convolutions and gains widen)");
    if !no_smaller {
        return Err(refuse());
    }
    let old_v: Vec<f32> = old.iter::<f32>().collect();
    let mut v: Vec<f32> = now.iter::<f32>().collect();
    let gains = name == "log_gain" || name == "log_inv_gain";
    let conv = name.contains(".convs.");
    let deconv = name.contains(".deconvs.");
    if gains && os.len() == 2 && os[0] == ns[0] {
        for q in 0..ns[0] {
            let row = &old_v[q * os[1]..(q + 1) * os[1]];
            let mean = row.iter().sum::<f32>() / os[1] as f32;
            let dst = &mut v[q * ns[1]..(q + 1) * ns[1]];
            dst[..os[1]].copy_from_slice(row);
            dst[os[1]..].fill(mean);
        }
    } else if (conv || deconv) && os.len() == 1 {
        v[..os[0]].copy_from_slice(&old_v);
    } else if (conv || deconv) && os.len() == 4 && os[2..] == ns[2..] {
        // Which of the two leading axes is the input channel.
        let input_axis = usize::from(conv);
        let plane = ns[2] * ns[3];
        for a in 0..ns[0] {
            for b in 0..ns[1] {
                let dst = (a * ns[1] + b) * plane;
                let input = if input_axis == 0 { a } else { b };
                let old_input = os[input_axis];
                if input >= old_input {
                    v[dst..dst + plane].fill(0.0);
                } else if a < os[0] && b < os[1] {
                    let src = (a * os[1] + b) * plane;
                    v[dst..dst + plane].copy_from_slice(&old_v[src..src + plane]);
                }
            }
        }
    } else {
        return Err(refuse());
    }
    Ok(burn::tensor::TensorData::new(v, now.shape().clone()))
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
    let optim = super::optim_state::load(optim, &o)?;
    let aux = super::optim_state::load(aux, &a)?;
    Ok((optim, aux, progress))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::test_util::{close, tiny_config};
    use burn::tensor::{Device, Distribution, Tensor};
    use lic_models::net::ModelConfig;

    fn config(params_hidden: Option<usize>) -> ModelConfig {
        ModelConfig { params_hidden, ..tiny_config() }
    }

    /// A checkpoint of a randomly initialised tiny model in `dir`; returns the model.
    fn saved(dir: &Path, device: &Device) -> ImageModel {
        let model = ImageModel::new(&config(None), device);
        let (optim, aux) = (super::super::adam().init(), super::super::adam().init());
        save(dir, &model, &optim, &aux, None, &Progress::default()).expect("save");
        model
    }

    /// Widened parameter networks compute exactly what the trained ones did, and only
    /// the widths named in `init_grow` may differ.
    #[test]
    fn widened_parameter_networks_start_as_the_trained_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let device = Device::flex();
        let small = saved(dir.path(), &device);

        let mut wide = ImageModel::new(&config(Some(20)), &device);
        let err = init_weights(dir.path(), &mut wide, &[], &[], false).expect_err("shapes differ");
        assert!(err.contains("does not fit"), "{err}");

        let mut wide = ImageModel::new(&config(Some(20)), &device);
        init_weights(dir.path(), &mut wide, &[], &["slice_params".into()], false).expect("grows");
        for (i, (s, w)) in small.slice_params.iter().zip(&wide.slice_params).enumerate() {
            let x = Tensor::<4>::random([1, 16 + 8 * i, 6, 5], Distribution::Normal(0.0, 1.0), &device);
            let (a, b): (Vec<f32>, Vec<f32>) = (
                s.forward(x.clone()).into_data().iter::<f32>().collect(),
                w.forward(x).into_data().iter::<f32>().collect(),
            );
            assert_eq!(a.len(), b.len());
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() <= 1e-5 * (1.0 + p.abs()), "slice {i}: {p} vs {q}");
            }
        }
        // The new hidden units are there and live: random input weights, zero output weights.
        let first = wide.slice_params[0].collect(None, None, false);
        let shapes: Vec<Vec<usize>> = first.iter().map(|t| t.shape.as_slice().to_vec()).collect();
        assert!(shapes.contains(&vec![20, 16, 3, 3]) && shapes.contains(&vec![16, 20, 3, 3]), "{shapes:?}");

        // Only convolutions grow: a wider latent (the gains' shape) is refused.
        // Only convolutions and gains grow: wider GDNs (a larger `n`) are refused.
        let mut other = ImageModel::new(&ModelConfig { n: 12, ..config(None) }, &device);
        let err = init_weights(dir.path(), &mut other, &[], &["g_a".into()], false).expect_err("no");
        assert!(err.contains("cannot grow"), "{err}");
    }

    /// A latent grown by a slice (`m` 16 → 24, the hyper features kept at 16) starts as the
    /// trained model: the old channels of `y` are unchanged, `g_s` and `h_a` ignore the new
    /// ones, the old slices' networks are the trained ones, and the new channels' gains start
    /// at each quality's mean.
    #[test]
    fn grown_latent_starts_as_the_trained_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let device = Device::flex();
        let small = saved(dir.path(), &device);
        let c = ModelConfig { m: 24, slices: vec![8, 8, 8], hyper_channels: Some(16), ..config(None) };
        let grow: Vec<String> = ["g_a.convs.3", "g_s.deconvs.0", "h_a.convs.0", "log_gain", "log_inv_gain"]
            .map(String::from)
            .into();
        let fresh: Vec<String> = ["slice_params.2", "slice_lrp.2"].map(String::from).into();
        let mut big = ImageModel::new(&c, &device);
        let err = init_weights(dir.path(), &mut big, &fresh, &[], false).expect_err("shapes differ");
        assert!(err.contains("does not fit"), "{err}");
        let mut big = ImageModel::new(&c, &device);
        init_weights(dir.path(), &mut big, &fresh, &grow, false).expect("grows");

        let x = Tensor::<4>::random([1, 3, 64, 48], Distribution::Uniform(0.0, 1.0), &device);
        let y_small = small.g_a.forward(x.clone());
        let y_big = big.g_a.forward(x);
        close(y_big.clone().narrow(1, 0, 16), y_small.clone(), "g_a");
        let extra = y_big.narrow(1, 16, 8);
        let spread: f32 = extra.clone().abs().sum().into_scalar();
        assert!(spread > 0.0, "the new latent channels carry something");
        let y_wide = Tensor::cat(vec![y_small.clone(), extra], 1);
        close(big.g_s.forward(y_wide.clone()), small.g_s.forward(y_small.clone()), "g_s");
        close(big.h_a.forward(y_wide), small.h_a.forward(y_small), "h_a");
        let g = |m: &ImageModel, q| {
            let (a, b) = m.gains(q);
            Tensor::cat(vec![a, b], 1)
        };
        for q in [1.0, 4.5, 8.0] {
            let (gs, gb) = (g(&small, q), g(&big, q));
            close(
                Tensor::cat(vec![gb.clone().narrow(1, 0, 16), gb.clone().narrow(1, 24, 16)], 1),
                gs,
                "gains",
            );
            // A new channel's log-gain is the mean of the trained ones.
            let logs: Vec<f32> = small.log_gain.val().narrow(0, 0, 1).into_data().iter::<f32>().collect();
            let mean = logs.iter().sum::<f32>() / 16.0;
            let new: f32 = big.log_gain.val().narrow(0, 0, 1).narrow(1, 20, 1).into_scalar();
            assert!((new - mean).abs() < 1e-6, "{new} vs {mean}");
        }
        for (i, (s, b)) in small.slice_params.iter().zip(&big.slice_params).enumerate() {
            let x = Tensor::<4>::random([1, 16 + 8 * i, 5, 4], Distribution::Normal(0.0, 1.0), &device);
            close(b.forward(x.clone()), s.forward(x), "slice networks");
        }
    }
}
