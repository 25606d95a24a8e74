//! `lic train` for the inter-frame entropy model (a config with `kind = "temporal"`).
//!
//! The image model is frozen: its transforms, gains and hyperprior are the video codec's
//! too, so distortion does not depend on the temporal networks and the loss is the rate
//! alone — the bits per pixel of frame `t`'s latent given the hyperprior and frame `t−1`'s
//! latent. Frame pairs are synthesised from the photo crops with a random camera motion
//! (`lic_datasets::motion`); `ŷ_{t−1}` is approximated by `round(y_{t−1})`, which has the
//! quantisation error of a decoded latent. Training starts from the image model's slice
//! networks with zero weights on the new input, i.e. from intra coding.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::{BurnpackStore, ModuleSnapshot, ModuleStore, SafetensorsStore};
use burn::tensor::{Device, Tensor, TensorData};
use lic_datasets::motion::Motion;
use lic_models::net::{ImageModel, QUALITIES, TemporalModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::TrainArgs;
use super::checkpoint::{self, Progress};
use super::config::TrainConfig;

/// A temporal run's configuration. Unknown keys are errors.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalConfig {
    /// Must be `"temporal"`.
    pub kind: String,
    /// The image model's training config: its checkpoint is the frozen base, and the
    /// export writes both into one weights file.
    pub image_config: PathBuf,
    /// Seed for crops, motions, qualities and noise.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Photo folders to synthesise motion from (relative to the data root).
    #[serde(default = "default_datasets")]
    pub datasets: Vec<PathBuf>,
    /// Where checkpoints and the CSV log go.
    pub out: PathBuf,
    /// Square frame size (multiple of 64), cropped from inside the photos.
    pub patch: usize,
    /// Frame pairs per batch.
    pub batch: usize,
    /// Total optimiser steps.
    pub steps: u64,
    /// Adam learning rate.
    pub lr: f64,
    /// `[step, rate]` pairs: from each step on, the learning rate is that rate.
    #[serde(default)]
    pub lr_from: Vec<(u64, f64)>,
    /// Seconds between checkpoints.
    #[serde(default = "default_checkpoint_secs")]
    pub checkpoint_secs: u64,
    /// Largest translation in pixels.
    pub shift: f32,
    /// Largest relative zoom.
    pub zoom: f32,
    /// Largest rotation in degrees.
    pub rotate_deg: f32,
    /// Largest relative brightness change.
    pub brightness: f32,
    /// Fraction of pairs with no motion at all (a still camera over a still scene), so the
    /// model learns to trust `ŷ_{t−1}` fully where the hyperprior agrees with it.
    #[serde(default)]
    pub still_fraction: f32,
    /// From this step on, the rate is measured as the codec codes: residuals around the
    /// mean rounded, `ŷ_{t−1}` the intra-decoded previous latent (see
    /// [`TemporalModel::rounded_likelihood`]). Before it, uniform noise stands in for rounding.
    #[serde(default)]
    pub round_from: Option<u64>,
    /// Largest standard deviation (8-bit levels) of Gaussian sensor noise added to each frame
    /// of a pair independently (drawn uniformly per pair), so a still camera is not a perfect
    /// copy — real clips never are.
    #[serde(default)]
    pub sensor_noise: f32,
    /// Step from which `sensor_noise` applies.
    #[serde(default)]
    pub sensor_noise_from: u64,
    /// A temporal checkpoint folder to start a new run from (weights only, step 0), even one
    /// trained against another image checkpoint: after the image model trains further, its
    /// temporal model is fine-tuned rather than retrained from intra.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    /// `init_from` was trained for a narrower latent (the image model grew a slice): its
    /// `ŷ_{t−1}` inputs are widened with zero weights and the slices it lacks start from the
    /// image model's own networks, so the first step codes exactly as before ([`grow_weights`]).
    #[serde(default)]
    pub init_grow: bool,
}

fn default_seed() -> u64 {
    1
}
fn default_datasets() -> Vec<PathBuf> {
    vec![PathBuf::from("train/images")]
}
fn default_checkpoint_secs() -> u64 {
    300
}

impl TemporalConfig {
    /// Parses a config whose `kind` is `temporal`; `Ok(None)` for any other config.
    pub fn parse(text: &str, path: &Path) -> Result<Option<Self>, String> {
        let value: toml::Value = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some("temporal") {
            return Ok(None);
        }
        let c: Self = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
        if c.patch == 0
            || c.patch % 64 != 0
            || c.batch == 0
            || c.steps == 0
            || c.lr.is_nan()
            || c.lr <= 0.0
            || !(0.0..=64.0).contains(&c.sensor_noise)
            || !super::config::lr_from_is_valid(&c.lr_from)
        {
            return Err(format!(
                "{}: patch must be a multiple of 64; batch, steps, lr positive; sensor_noise in 0..=64; \
                 lr_from [step, rate] pairs with positive rates, steps ascending",
                path.display()
            ));
        }
        Ok(Some(c))
    }

    /// Learning rate at `step`.
    fn lr_at(&self, step: u64) -> f64 {
        super::config::lr_from_at(self.lr, &self.lr_from, step)
    }

    fn motion(&self) -> Motion {
        Motion {
            shift: self.shift,
            zoom: self.zoom,
            rotate_deg: self.rotate_deg,
            brightness: self.brightness,
        }
    }
}

/// What a temporal checkpoint records beside the step: the image checkpoint it was trained
/// against, so an export never pairs it with a different image model.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct TemporalProgress {
    #[serde(flatten)]
    progress: Progress,
    image_step: u64,
}

/// The frozen image model from its run's checkpoint (the weights it ships: the moving average
/// when it keeps one), and the step of the checkpoint its encoder side comes from.
fn image_model(c: &TemporalConfig, device: &Device) -> Result<(ImageModel, TrainConfig, u64), String> {
    let image = TrainConfig::load(&c.image_config)?;
    if !checkpoint::exists(&image.out) {
        return Err(format!(
            "no image checkpoint in {} (see {})",
            image.out.display(),
            c.image_config.display()
        ));
    }
    let mut net = ImageModel::new(&image.model, device);
    let p = checkpoint::load_shipped(&image.out, &mut net)?;
    // A run that trained only the synthesis, or only the intra slice parameter networks, left
    // every network the temporal model depends on (encoder, hyperprior, latent residual
    // prediction) exactly as its starting checkpoint had them, so the latents a temporal run
    // was trained on are that checkpoint's: count its step.
    let encoder_step = match (&image.init_from, image.synthesis_only() || image.context_only()) {
        (Some(from), true) => checkpoint::read_progress(&from.join("checkpoint.json"))?.step,
        _ => p.step,
    };
    Ok((net, image, encoder_step))
}

fn paths(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (dir.join("temporal.model.bpk"), dir.join("temporal.optim.bin"), dir.join("temporal.json"))
}

fn save(dir: &Path, t: &TemporalModel, optim: &ModuleOptimizer, p: &TemporalProgress) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (m, o, j) = paths(dir);
    let tmp = |path: &Path| path.with_extension("tmp");
    let mut store = BurnpackStore::from_file(tmp(&m)).overwrite(true);
    t.save_into(&mut store).map_err(|e| format!("saving temporal model: {e}"))?;
    super::optim_state::save(optim, &o)?;
    std::fs::write(tmp(&j), serde_json::to_string_pretty(p).map_err(|e| e.to_string())?)
        .map_err(|e| format!("writing {}: {e}", j.display()))?;
    for f in [&m, &j] {
        std::fs::rename(tmp(f), f).map_err(|e| format!("renaming {}: {e}", f.display()))?;
    }
    Ok(())
}

fn load(
    dir: &Path,
    t: &mut TemporalModel,
    optim: ModuleOptimizer,
) -> Result<(ModuleOptimizer, TemporalProgress), String> {
    let p = load_weights(dir, t, false)?;
    let o = paths(dir).1;
    let optim = super::optim_state::load(optim, &o)?;
    Ok((optim, p))
}

/// Reads a temporal run's progress (`temporal.json`).
fn read_progress(j: &Path) -> Result<TemporalProgress, String> {
    let text = std::fs::read_to_string(j).map_err(|e| format!("reading {}: {e}", j.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", j.display()))
}

/// Loads the temporal weights saved in `dir` into `t`. With `grow`, the checkerboard
/// networks may be missing from it (a run trained before the image model had them): they
/// keep what `t` holds, the image model's. Every other weight must be there.
fn load_weights(dir: &Path, t: &mut TemporalModel, grow: bool) -> Result<TemporalProgress, String> {
    let (m, _, j) = paths(dir);
    let p = read_progress(&j)?;
    let mut store = BurnpackStore::from_file(&m).allow_partial(grow);
    let applied = t.load_from(&mut store).map_err(|e| format!("loading {}: {e}", m.display()))?;
    let missing = applied.missing.iter().filter(|(path, _)| !(grow && path.starts_with("spatial."))).count();
    if !applied.errors.is_empty() || missing > 0 {
        return Err(format!("{} does not fit the image model's config", m.display()));
    }
    Ok(p)
}

/// Loads the temporal weights saved in `dir`, trained for a narrower latent, into `t` (built
/// from the wider image model by [`TemporalModel::from_image`], which `t` must hold):
///
/// - a slice's first parameter layer reads `[hyper features | ŷ_{t−1} | decoded slices]`; the
///   trained weights keep their places in the hyper features and the decoded slices, and
///   those of the old `ŷ_{t−1}` channels too; the new `ŷ_{t−1}` channels get zero weights;
/// - a skip map (`ŷ_{t−1}` → mean and scale) widens its input the same way;
/// - a slice the saved model lacks keeps what `t` holds: the image model's networks (intra);
/// - every other saved tensor must fit its place exactly.
///
/// So the grown model predicts the old slices from what the trained one saw, and ignores the
/// new latent channels until training moves their weights.
fn grow_weights(dir: &Path, t: &mut TemporalModel, hyper: usize) -> Result<TemporalProgress, String> {
    use burn::store::bridge::{from_data, to_data};
    let (m, _, j) = paths(dir);
    let p = read_progress(&j)?;
    let mut store = BurnpackStore::from_file(&m);
    let saved = store.get_all_tensors().map_err(|e| format!("reading {}: {e}", m.display()))?;
    // The old latent width: the input width of any skip map.
    let old_m = saved
        .get("skip.0.weight")
        .and_then(|w| w.shape.as_slice().get(1).copied())
        .ok_or_else(|| format!("{}: no skip.0.weight, not a temporal model", m.display()))?;
    let new_m = t.skip.first().map_or(0, |c| c.weight.dims()[1]);
    if old_m > new_m {
        return Err(format!("{}: its latent ({old_m}) is wider than this model's ({new_m})", m.display()));
    }
    let mut grown = Vec::new();
    let mut kept = 0;
    for now in t.collect(None, None, false) {
        let Some(old) = saved.get(&now.name) else { continue };
        let read =
            |x: &burn::store::burn_pack::Tensor| to_data(x).map_err(|e| format!("reading {}: {e}", now.name));
        let (os, ns) = (old.shape.as_slice().to_vec(), now.shape.as_slice().to_vec());
        let data = if os == ns {
            read(old)?
        } else {
            let first_layer = now.name.starts_with("slice_params.") && now.name.ends_with(".convs.0.weight");
            let skip = now.name.starts_with("skip.") && now.name.ends_with(".weight");
            let widen = os.len() == 4 && ns.len() == 4 && os[0] == ns[0] && os[2..] == ns[2..];
            if !(widen && (first_layer || skip) && ns[1] == os[1] + new_m - old_m) {
                return Err(format!("{}: cannot grow {} {os:?} into {ns:?}", m.display(), now.name));
            }
            // Where old input channel `ci` goes: after the old ŷ_{t−1}, everything moves
            // past the new channels; new inputs are zero.
            let first_prev = if first_layer { hyper } else { 0 };
            let place = |ci: usize| if ci < first_prev + old_m { ci } else { ci + new_m - old_m };
            let old_v: Vec<f32> = read(old)?.iter::<f32>().collect();
            let plane = ns[2] * ns[3];
            let mut v = vec![0f32; ns.iter().product()];
            for co in 0..ns[0] {
                for ci in 0..os[1] {
                    let src = (co * os[1] + ci) * plane;
                    let dst = (co * ns[1] + place(ci)) * plane;
                    v[dst..dst + plane].copy_from_slice(&old_v[src..src + plane]);
                }
            }
            burn::tensor::TensorData::new(v, now.shape.clone())
        };
        if os == ns {
            kept += 1;
        }
        grown.push(from_data(data, now.name.clone(), None));
    }
    if grown.len() != saved.len() {
        let names: Vec<String> = t.collect(None, None, false).into_iter().map(|x| x.name).collect();
        let extra: Vec<&String> = saved.keys().filter(|k| !names.contains(k)).collect();
        return Err(format!("{}: tensors this model does not have: {extra:?}", m.display()));
    }
    let n = grown.len();
    let applied = t.apply(grown, None, None, false);
    if !applied.errors.is_empty() || applied.applied.len() != n {
        return Err(format!("growing {}: {} errors", m.display(), applied.errors.len()));
    }
    eprintln!(
        "grew {} ({old_m} → {new_m} latent channels): {kept} tensors kept, {} widened",
        m.display(),
        n - kept
    );
    Ok(p)
}

/// Exports image and temporal networks as one video-capable weights file.
fn export(c: &TemporalConfig, path: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!("{} exists (use --force to overwrite)", path.display()));
    }
    let device = Device::flex();
    let (net, image, image_step) = image_model(c, &device)?;
    let mut t = TemporalModel::from_image(&net, &device);
    let (_, p) = load(&c.out, &mut t, super::adam().init())?;
    if p.image_step != image_step {
        return Err(format!(
            "the temporal run was trained against image step {} but {} is at step {image_step}: retrain it",
            p.image_step,
            image.out.display()
        ));
    }
    let bytes = lic_models::export_with(&net, &image.model, Some(&t)).map_err(|e| e.to_string())?;
    std::fs::write(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "exported image step {image_step} + temporal step {} ({:.0} s trained) to {} ({} bytes, sha256 {})",
        p.progress.step,
        p.progress.seconds,
        path.display(),
        bytes.len(),
        lic_models::weights_digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    Ok(())
}

/// Runs (or resumes) a temporal run, or exports it.
pub fn run(c: &TemporalConfig, args: &TrainArgs) -> Result<(), String> {
    if let Some(path) = &args.export {
        return export(c, path, args.force);
    }
    let root = lic_datasets::data_root(args.data.as_deref());
    let folders: Vec<PathBuf> =
        c.datasets.iter().map(|d| if d.is_absolute() { d.clone() } else { root.join(d) }).collect();
    let plain = args.device()?;
    let device = plain.clone().autodiff();
    device.seed(c.seed);
    let (net, image, image_step) = image_model(c, &plain)?;
    // Built fresh on the autodiff device, then given the image model's slice networks
    // through a store, exactly as a checkpoint is restored.
    let mut temporal = TemporalModel::new(&image.model, &device);
    {
        let mut store = SafetensorsStore::from_bytes(None);
        TemporalModel::from_image(&net, &plain).save_into(&mut store).map_err(|e| e.to_string())?;
        let bytes = store.get_bytes().map_err(|e| e.to_string())?;
        let applied =
            temporal.load_from(&mut SafetensorsStore::from_bytes(Some(bytes))).map_err(|e| e.to_string())?;
        if !applied.errors.is_empty() || !applied.missing.is_empty() {
            return Err("temporal model shapes do not match the image model".into());
        }
    }
    let mut optim = super::adam().with_grad_clipping(Some(GradientClippingConfig::Norm(1.0))).init();
    let mut progress = TemporalProgress { image_step, ..Default::default() };
    if paths(&c.out).2.is_file() && !args.restart {
        let (o, p) = load(&c.out, &mut temporal, optim)?;
        if p.image_step != image_step {
            return Err(format!(
                "{} was trained against image step {}, the image checkpoint is at {image_step}: use --restart",
                c.out.display(),
                p.image_step
            ));
        }
        (optim, progress) = (o, p);
        eprintln!("resuming {} at step {}", c.out.display(), progress.progress.step);
    } else if let Some(init) = &c.init_from {
        let p = if c.init_grow {
            grow_weights(init, &mut temporal, image.model.hyper_channels())?
        } else {
            load_weights(init, &mut temporal, true)?
        };
        eprintln!(
            "starting from {} (step {}, trained against image step {})",
            init.display(),
            p.progress.step,
            p.image_step
        );
    }
    // Rows logged past the checkpoint (or, starting over, by an earlier run): dropped.
    crate::io::truncate_log_after(&c.out.join("train.csv"), progress.progress.step)?;
    let source = super::data::PatchSource::load(&folders, c.patch + 64)?;
    let motion = c.motion();
    std::fs::create_dir_all(&c.out).map_err(|e| format!("cannot create {}: {e}", c.out.display()))?;
    let mut log = crate::io::append_csv(
        &c.out.join("train.csv"),
        "step,quality,bpp_intra,bpp_inter,ratio,images_per_s,seconds",
    )?;
    let started = Instant::now();
    let base_seconds = progress.progress.seconds;
    let mut last_checkpoint = Instant::now();
    let stop_at = args.max_steps.map_or(c.steps, |n| (progress.progress.step + n).min(c.steps));
    let pixels = (c.batch * c.patch * c.patch) as f64;
    let bar = crate::io::progress(stop_at, args.quiet, "train");
    bar.set_position(progress.progress.step);
    // The untrained widening is exactly the image model's slice networks: the intra reference.
    let intra = TemporalModel::from_image(&net, &plain);
    let to_bits = |l: Tensor<4>| l.log().sum().neg().div_scalar(std::f64::consts::LN_2);
    while progress.progress.step < stop_at {
        let step_start = Instant::now();
        let step = progress.progress.step;
        let mut rng = ChaCha8Rng::seed_from_u64(c.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        device.seed(rng.random());
        let quality = rng.random_range(1.0..=QUALITIES as f64);
        let noise = if step >= c.sensor_noise_from { c.sensor_noise } else { 0.0 };
        let (prev, cur) =
            source.frame_pairs(&mut rng, c.batch, c.patch, &motion, c.still_fraction, noise, &plain);

        // Frozen image model, no gradients: latents, hyperprior.
        let (gain, _) = net.gains(quality);
        let y_prev = net.g_a.forward(prev) * gain.clone();
        let y = net.g_a.forward(cur) * gain;
        let hyper = net.h_s.forward(net.h_a.forward(y.clone()).round());
        let move_ad = |t: Tensor<4>| Tensor::<4>::from_data(t.into_data(), &device);
        let (intra_bits, likelihood) = if c.round_from.is_some_and(|from| step >= from) {
            let hyper_prev = net.h_s.forward(net.h_a.forward(y_prev.clone()).round());
            let (y_hat_prev, _) = net.code_latent(hyper_prev, y_prev);
            // The image model's own rate for the same latent, for the log.
            let (_, intra_likelihood) = net.code_latent(hyper.clone(), y.clone());
            let to_plain = |t: Tensor<4>| Tensor::<4>::from_data(t.into_data(), &plain);
            let likelihood = temporal.rounded_likelihood(
                &net.slices,
                move_ad(hyper),
                move_ad(y_hat_prev),
                move_ad(y),
                |i, ctx, y_hat| move_ad(net.predict_residual(i, to_plain(ctx), to_plain(y_hat))),
            );
            (to_bits(intra_likelihood), likelihood)
        } else {
            let zero = Tensor::<4>::zeros(y.dims(), &plain);
            let intra_likelihood = intra.likelihood(&net.slices, hyper.clone(), zero, y.clone());
            let likelihood =
                temporal.likelihood(&net.slices, move_ad(hyper), move_ad(y_prev.round()), move_ad(y));
            (to_bits(intra_likelihood), likelihood)
        };
        let intra_bits = intra_bits.into_scalar::<f32>() as f64;
        let bpp = to_bits(likelihood).div_scalar(pixels);
        let grads = GradientsParams::from_grads(bpp.backward(), &temporal);
        temporal = optim.step(c.lr_at(step), temporal, grads);

        progress.progress.step += 1;
        progress.progress.seconds = base_seconds + started.elapsed().as_secs_f64();
        let inter = bpp.into_scalar::<f32>() as f64;
        if !inter.is_finite() {
            return Err(format!("loss became {inter} at step {}", progress.progress.step));
        }
        let intra = intra_bits / pixels;
        let ips = c.batch as f64 / step_start.elapsed().as_secs_f64();
        writeln!(
            log,
            "{},{quality:.3},{intra:.5},{inter:.5},{:.4},{ips:.2},{:.1}",
            progress.progress.step,
            inter / intra,
            progress.progress.seconds
        )
        .map_err(|e| e.to_string())?;
        bar.set_position(progress.progress.step);
        bar.set_message(format!("inter/intra {:.3}", inter / intra));
        let out_of_time = args.max_seconds.is_some_and(|s| started.elapsed().as_secs() >= s);
        let done = progress.progress.step >= stop_at || out_of_time;
        if done || last_checkpoint.elapsed().as_secs() >= c.checkpoint_secs {
            save(&c.out, &temporal, &optim, &progress)?;
            last_checkpoint = Instant::now();
            bar.println(format!("step {}: checkpoint", progress.progress.step));
        }
        if out_of_time {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

impl super::data::PatchSource {
    /// `batch` synthetic frame pairs `[B, 3, P, P]` each: a random photo, a random view
    /// inside it (a 32-pixel margin leaves room for the motion), a random motion, and
    /// Gaussian sensor noise of a standard deviation drawn up to `noise` (8-bit levels) on
    /// each frame.
    #[allow(clippy::too_many_arguments)]
    pub fn frame_pairs(
        &self,
        rng: &mut impl Rng,
        batch: usize,
        patch: usize,
        motion: &Motion,
        still: f32,
        noise: f32,
        device: &Device,
    ) -> (Tensor<4>, Tensor<4>) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..batch {
            let img = self.pick(rng);
            let x0 = rng.random_range(32..=img.width() as usize - patch - 32) as u32;
            let y0 = rng.random_range(32..=img.height() as usize - patch - 32) as u32;
            let m = if rng.random::<f32>() < still {
                lic_datasets::motion::MotionDraw { shift: (0.0, 0.0), zoom: 1.0, angle: 0.0, brightness: 1.0 }
            } else {
                motion.draw(|| rng.random::<f32>())
            };
            let (mut f0, mut f1) = lic_datasets::motion::frame_pair(img, x0, y0, patch as u32, &m);
            if noise > 0.0 {
                let sigma = rng.random::<f32>() * noise / 255.0;
                for v in f0.iter_mut().chain(f1.iter_mut()) {
                    *v = (*v + sigma * standard_normal(rng)).clamp(0.0, 1.0);
                }
            }
            a.extend(f0);
            b.extend(f1);
        }
        let shape = [batch, 3, patch, patch];
        (
            Tensor::from_data(TensorData::new(a, shape), device),
            Tensor::from_data(TensorData::new(b, shape), device),
        )
    }
}

/// One standard normal draw (Box–Muller) from `rng`.
fn standard_normal(rng: &mut impl Rng) -> f32 {
    let u1 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::test_util::{close, values};
    use burn::tensor::Distribution;
    use lic_models::net::ModelConfig;

    fn config(m: usize, slices: Vec<usize>) -> ModelConfig {
        ModelConfig {
            n: 8,
            m,
            z_channels: 8,
            slices,
            context_hidden: 8,
            params_hidden: None,
            hyper_channels: Some(16),
            synthesis_blocks: vec![],
            checkerboard: true,
        }
    }

    /// A temporal model trained for `m` = 16 grown onto an image model with `m` = 24 (one
    /// more slice) predicts the old slices exactly as before, whatever the new `ŷ_{t−1}`
    /// channels hold, and starts the new slice from the image model's networks.
    #[test]
    fn grown_temporal_model_predicts_the_old_slices_as_before() {
        let dir = tempfile::tempdir().expect("tempdir");
        let device = Device::flex();
        // Random weights everywhere, the skip maps too, so every input matters.
        let small = TemporalModel::new(&config(16, vec![8, 8]), &device);
        save(dir.path(), &small, &super::super::adam().init(), &TemporalProgress::default()).expect("save");

        let big_image = ImageModel::new(&config(24, vec![8, 8, 8]), &device);
        let mut exact = TemporalModel::from_image(&big_image, &device);
        let err = load_weights(dir.path(), &mut exact, false).expect_err("shapes differ");
        assert!(err.contains("ShapeMismatch") || err.contains("does not fit"), "{err}");
        let mut big = TemporalModel::from_image(&big_image, &device);
        grow_weights(dir.path(), &mut big, 16).expect("grows");

        let rand = |c| Tensor::<4>::random([1, c, 5, 4], Distribution::Normal(0.0, 1.0), &device);
        let (hyper, prev, extra, decoded) = (rand(16), rand(16), rand(8), rand(8));
        let prev_wide = Tensor::cat(vec![prev.clone(), extra], 1);
        for i in 0..2 {
            let mut ctx = vec![hyper.clone(), prev.clone()];
            let mut wide = vec![hyper.clone(), prev_wide.clone()];
            if i > 0 {
                ctx.push(decoded.clone());
                wide.push(decoded.clone());
            }
            close(
                big.slice_params[i].forward(Tensor::cat(wide, 1)) + big.skip[i].forward(prev_wide.clone()),
                small.slice_params[i].forward(Tensor::cat(ctx, 1)) + small.skip[i].forward(prev.clone()),
                "old slices",
            );
            let x = rand(24);
            close(big.spatial[i].forward(x.clone()), small.spatial[i].forward(x), "checkerboard networks");
        }
        // The new slice is the image model's: its networks match the untrained widening's.
        let intra = TemporalModel::from_image(&big_image, &device);
        let x = rand(16 + 24 + 16);
        close(big.slice_params[2].forward(x.clone()), intra.slice_params[2].forward(x), "new slice");
        assert_eq!(values(big.skip[2].forward(prev_wide.clone())), values(intra.skip[2].forward(prev_wide)));

        // A wider saved latent than the model's is refused, not truncated.
        let tiny_image = ImageModel::new(&config(8, vec![8]), &device);
        let mut narrow = TemporalModel::from_image(&tiny_image, &device);
        assert!(grow_weights(dir.path(), &mut narrow, 16).is_err());
    }
}
