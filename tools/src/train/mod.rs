//! `lic train`: rate–distortion training of the variable-rate image model, and (configs with
//! `kind = "temporal"`) rate training of the inter-frame entropy model (`temporal.rs`).
//!
//! Loss per batch: `λ_q · 255² · MSE + bpp`, the quality level `q` drawn uniformly from the
//! eight-level ladder per batch; uniform noise stands in for quantisation in the rate terms
//! and straight-through rounding feeds the synthesis. The factorized prior's quantiles are
//! fitted by the auxiliary loss with their own optimiser.

mod checkpoint;
mod config;
mod data;
mod ema;
mod optim_state;
mod temporal;
#[cfg(test)]
mod test_util;
mod validate;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;
use clap::Args;
use lic_models::net::{ImageModel, LAMBDAS, QUALITIES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use config::TrainConfig;

/// Arguments of `lic train`.
#[derive(Args)]
pub struct TrainArgs {
    /// The run's TOML configuration (see configs/).
    #[arg(long)]
    config: PathBuf,
    /// Data root (default: $LIC_DATA, else ../shared/datasets).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Stop after this many steps in this invocation (the run resumes later).
    #[arg(long)]
    max_steps: Option<u64>,
    /// Stop after this many seconds in this invocation (a checkpoint is written first).
    #[arg(long)]
    max_seconds: Option<u64>,
    /// Start over even if the output folder holds a checkpoint (it is overwritten).
    #[arg(long)]
    restart: bool,
    /// Do not train: export the run's checkpoint as a shippable weights file (fp16 kernels,
    /// integer z tables, config in the metadata) to this path.
    #[arg(long, value_name = "PATH")]
    export: Option<PathBuf>,
    /// Overwrite the export path if it exists.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Where to train: `auto` picks a hardware GPU (wgpu: Vulkan, Metal, DX12) when there is
    /// one, else the CPU (Burn's `flex`). Checkpoints move freely between backends.
    #[arg(long, value_enum, default_value = "auto")]
    backend: crate::model_arg::BackendArg,
}

impl TrainArgs {
    /// The device this run trains on (without autodiff), announced on stderr.
    fn device(&self) -> Result<Device, String> {
        let (device, adapter) = lic_codec::Backend::from(self.backend).device().map_err(|e| e.to_string())?;
        eprintln!("training on {adapter}");
        Ok(device)
    }
}

fn export(config: &TrainConfig, path: &std::path::Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!("{} exists (use --force to overwrite)", path.display()));
    }
    if !checkpoint::exists(&config.out) {
        return Err(format!("no checkpoint in {} to export", config.out.display()));
    }
    let device = Device::flex();
    let mut model = ImageModel::new(&config.model, &device);
    let progress = checkpoint::load_shipped(&config.out, &mut model)?;
    let bytes = lic_models::export(&model, &config.model).map_err(|e| e.to_string())?;
    std::fs::write(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "exported step {} ({:.0} s trained) to {} ({} bytes, sha256 {})",
        progress.step,
        progress.seconds,
        path.display(),
        bytes.len(),
        lic_models::weights_digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    Ok(())
}

/// Adam as the learned-compression literature runs it (PyTorch's ε = 1e-8). Burn's default
/// ε = 1e-5 swamps small gradients — GDN's γ entries near zero get gradients of that order —
/// and so slows exactly the parameters that start small.
pub(crate) fn adam() -> AdamConfig {
    AdamConfig::new().with_epsilon(1e-8)
}

/// Bits of a tensor of likelihoods.
fn to_bits<const D: usize>(likelihood: burn::tensor::Tensor<D>) -> burn::tensor::Tensor<1> {
    likelihood.log().sum().neg().div_scalar(std::f64::consts::LN_2)
}

/// Loss, bpp and MSE of one training step.
type StepTerms = (burn::tensor::Tensor<1>, burn::tensor::Tensor<1>, burn::tensor::Tensor<1>);

/// The frozen encoder side of a partial step, run without gradients on `plain`: the batch
/// there, its latent `y` (gains of `quality` applied), the hyper features of `round(z)`, and
/// the bits of `round(z)`.
struct FrozenEncoder {
    x: burn::tensor::Tensor<4>,
    y: burn::tensor::Tensor<4>,
    hyper: burn::tensor::Tensor<4>,
    z_bits: burn::tensor::Tensor<1>,
}

impl FrozenEncoder {
    fn run(frozen: &ImageModel, x: &burn::tensor::Tensor<4>, quality: f64, plain: &Device) -> Self {
        let x = burn::tensor::Tensor::<4>::from_data(x.to_data(), plain);
        let y = frozen.analyse(x.clone(), quality);
        let z_hat = frozen.h_a.forward(y.clone()).round();
        let z_bits = to_bits(frozen.prior.likelihood(z_hat.clone()));
        Self { x, y, hyper: frozen.h_s.forward(z_hat), z_bits }
    }
}

/// Loss, bpp and MSE of a step that trains only the synthesis (`train_only = "synthesis"`).
/// The encoder, hyperprior and context model run without gradients on `plain` and code the
/// batch as the codec does (`z` and every slice residual rounded, latent residual prediction
/// added); `g_s` and the inverse gains decode it with gradients. The rate cannot change, so
/// the loss is the distortion alone, in dB (`10·log10 MSE`): a gain of 0.1 dB counts the same
/// at every quality, as it does in a BD-rate.
fn synthesis_loss(
    model: &ImageModel,
    x: burn::tensor::Tensor<4>,
    quality: f64,
    pixels: f64,
    plain: &Device,
) -> StepTerms {
    use burn::tensor::Tensor;
    let device = x.device();
    let frozen = model.valid();
    let f = FrozenEncoder::run(&frozen, &x, quality, plain);
    let (y_hat, y_likelihood) = frozen.code_latent(f.hyper, f.y);
    let bpp = (to_bits(y_likelihood) + f.z_bits).div_scalar(pixels);
    let (_, inv_gain) = model.gains(quality);
    let x_hat = model.g_s.forward(Tensor::<4>::from_data(y_hat.into_data(), &device) * inv_gain);
    let mse = (x_hat - x).powi_scalar(2).mean();
    let loss = mse.clone().log().mul_scalar(10.0 / std::f64::consts::LN_10);
    (loss, Tensor::<1>::from_data(bpp.into_data(), &device), mse)
}

/// What a partial run (`train_only`) trains.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `g_a`, `h_a` and the gains on `y`.
    Encoder,
    /// `g_s` and the inverse gains.
    Synthesis,
    /// The intra slice parameter networks and the checkerboard's spatial networks.
    Context,
}

/// The model set up to train one part only (`train_only`); the prior is frozen in every
/// case. Freezing also keeps `gains()` from building a graph for the frozen gains that no
/// backward pass would free (each step's would slow the next, as an undifferentiated graph
/// does).
fn train_only(mut model: ImageModel, part: Part) -> ImageModel {
    let encoder = part == Part::Encoder;
    let context = part == Part::Context;
    model.g_a = model.g_a.set_require_grad(encoder);
    model.h_a = model.h_a.set_require_grad(encoder);
    model.log_gain = model.log_gain.set_require_grad(encoder);
    model.g_s = model.g_s.set_require_grad(part == Part::Synthesis);
    model.log_inv_gain = model.log_inv_gain.set_require_grad(part == Part::Synthesis);
    model.h_s = model.h_s.set_require_grad(false);
    model.slice_params = model.slice_params.set_require_grad(context);
    model.slice_spatial = model.slice_spatial.set_require_grad(context);
    model.slice_lrp = model.slice_lrp.set_require_grad(false);
    model.prior = model.prior.set_require_grad(false);
    model
}

/// Loss (= bpp), bpp and MSE of a step that trains only the context model's parameter
/// networks (`train_only = "context"`). The frozen transforms and hyperprior run without
/// gradients on `plain`; the slice networks code the latent with gradients, each residual
/// rounded as the codec rounds it (straight through) and its rate the discretised Gaussian's
/// at that integer, as the temporal model trains. The distortion is logged, not optimised:
/// with straight-through rounding a mean moves the decoded latent with it and so gets no
/// gradient from the distortion anyway.
fn context_loss(
    model: &ImageModel,
    x: burn::tensor::Tensor<4>,
    quality: f64,
    pixels: f64,
    plain: &Device,
) -> StepTerms {
    use burn::tensor::Tensor;
    let device = x.device();
    let frozen = model.valid();
    let f = FrozenEncoder::run(&frozen, &x, quality, plain);
    let z_bits = f.z_bits.into_scalar::<f32>();
    let on = |t: Tensor<4>| Tensor::<4>::from_data(t.into_data(), &device);
    let (y_hat, y_likelihood) = model.slice_loop(on(f.hyper), on(f.y), lic_models::net::code_rounded);
    let bpp = (to_bits(y_likelihood) + f64::from(z_bits)).div_scalar(pixels);
    let (_, inv_gain) = frozen.gains(quality);
    let x_hat = frozen.g_s.forward(Tensor::<4>::from_data(y_hat.into_data(), plain) * inv_gain);
    let mse = (x_hat.clamp(0.0, 1.0) - f.x).powi_scalar(2).mean();
    (bpp.clone(), bpp, Tensor::<1>::from_data(mse.into_data(), &device))
}

/// Runs (or resumes) a training run.
pub fn run(args: &TrainArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("cannot read {}: {e}", args.config.display()))?;
    if let Some(t) = temporal::TemporalConfig::parse(&text, &args.config)? {
        return temporal::run(&t, args);
    }
    let config = TrainConfig::load(&args.config)?;
    if let Some(path) = &args.export {
        return export(&config, path, args.force);
    }
    let root = lic_datasets::data_root(args.data.as_deref());
    let folders: Vec<PathBuf> =
        config.datasets.iter().map(|d| if d.is_absolute() { d.clone() } else { root.join(d) }).collect();
    let plain = args.device()?;
    let device = plain.clone().autodiff();
    device.seed(config.seed);

    let mut model = ImageModel::new(&config.model, &device);
    let clip = Some(GradientClippingConfig::Norm(config.clip));
    let mut optim = adam().with_grad_clipping(clip).init();
    let mut aux_optim = adam().init();
    let mut progress = checkpoint::Progress::default();
    if checkpoint::exists(&config.out) && !args.restart {
        let (o, a, p) = checkpoint::load(&config.out, &mut model, optim, aux_optim)?;
        (optim, aux_optim, progress) = (o, a, p);
        eprintln!("resuming {} at step {}", config.out.display(), progress.step);
    } else {
        if checkpoint::exists(&config.out) {
            eprintln!("--restart: ignoring the checkpoint in {}", config.out.display());
        }
        if let Some(init) = &config.init_from {
            let from = checkpoint::init_weights(
                init,
                &mut model,
                &config.init_fresh,
                &config.init_grow,
                config.init_average,
            )?;
            eprintln!(
                "starting from {} (step {}), fresh: {:?}",
                init.display(),
                from.step,
                config.init_fresh
            );
        }
    }

    // Rows logged past the checkpoint (or, starting over, by an earlier run) would be
    // logged again: drop them.
    for log in ["train.csv", "validate.csv", "validate-ema.csv"] {
        crate::io::truncate_log_after(&config.out.join(log), progress.step)?;
    }

    // The moving average (what the run ships), resumed from the checkpoint or started at the
    // current weights when this config turns it on.
    let mut ema = match config.ema {
        Some(_) => {
            let mut avg = ImageModel::new(&config.model, &plain);
            if checkpoint::exists(&config.out)
                && !args.restart
                && checkpoint::load_ema(&config.out, &mut avg)?
            {
                Some(avg)
            } else {
                eprintln!("weights average starts at step {}", progress.step);
                Some(ema::start(&model))
            }
        }
        None => None,
    };

    let source = data::PatchSource::load(&folders, config.max_patch())?;
    eprintln!("{} training images; model {:?}", source.len(), config.model);
    let validator = if config.validate_every > 0 {
        Some(validate::Validator::new(&root, config.validate_images)?)
    } else {
        None
    };

    std::fs::create_dir_all(&config.out)
        .map_err(|e| format!("cannot create {}: {e}", config.out.display()))?;
    std::fs::write(config.out.join("config.toml"), toml::to_string(&config).map_err(|e| e.to_string())?)
        .map_err(|e| format!("writing config copy: {e}"))?;
    let mut log = crate::io::append_csv(
        &config.out.join("train.csv"),
        "step,quality,lambda,loss,bpp,mse,psnr,aux,lr,images_per_s,seconds",
    )?;

    let started = Instant::now();
    let base_seconds = progress.seconds;
    let mut last_checkpoint = Instant::now();
    let stop_at = args.max_steps.map_or(config.steps, |n| (progress.step + n).min(config.steps));
    let bar = crate::io::progress(stop_at, args.quiet, "train");
    bar.set_position(progress.step);
    while progress.step < stop_at {
        let step_start = Instant::now();
        // All randomness of this step derives from (seed, step): resumable exactly.
        let mut rng =
            ChaCha8Rng::seed_from_u64(config.seed ^ progress.step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        device.seed(rng.random());
        let level = rng.random_range(0..QUALITIES);
        let lambda = LAMBDAS[level];
        let (patch, batch) = config.crop_at(progress.step);
        let x = source.batch(&mut rng, batch, patch, &device);

        let quality = (level + 1) as f64;
        let pixels = (batch * patch * patch) as f64;
        let (loss, bpp, mse) = if config.synthesis_only() {
            model = train_only(model, Part::Synthesis);
            synthesis_loss(&model, x, quality, pixels, &plain)
        } else if config.context_only() {
            model = train_only(model, Part::Context);
            context_loss(&model, x, quality, pixels, &plain)
        } else if config.encoder_only() {
            model = train_only(model, Part::Encoder);
            let (mse, bpp) = model.coded_rd(model.analyse(x.clone(), quality), &x, quality, (patch, patch));
            let loss = mse.clone().mul_scalar(lambda * 255.0 * 255.0) + bpp.clone();
            (loss, bpp, mse)
        } else {
            let out = model.forward_train(x.clone(), quality);
            let mse = (out.x_hat - x).powi_scalar(2).mean();
            let bpp = (to_bits(out.y_likelihood) + to_bits(out.z_likelihood)).div_scalar(pixels);
            let loss = mse.clone().mul_scalar(lambda * 255.0 * 255.0) + bpp.clone();
            (loss, bpp, mse)
        };
        let lr = config.lr_at(progress.step);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);

        // The prior is frozen whenever only part of the model trains (it is the decoder's); its
        // loss is then only logged, computed without gradients (an autodiff graph that is
        // never differentiated is never freed, and each step's would slow the next).
        let aux = if config.train_only.is_some() {
            let aux = model.prior.valid().aux_loss();
            burn::tensor::Tensor::<1>::from_data(aux.into_data(), &device)
        } else {
            let aux = model.prior.aux_loss();
            let aux_grads = GradientsParams::from_grads(aux.clone().backward(), &model);
            model = aux_optim.step(config.aux_lr, model, aux_grads);
            aux
        };
        if let (Some(avg), Some(decay)) = (ema.take(), config.ema) {
            ema = Some(ema::update(avg, &model, decay));
        }

        progress.step += 1;
        progress.seconds = base_seconds + started.elapsed().as_secs_f64();
        let scalar = |t: burn::tensor::Tensor<1>| t.into_scalar::<f32>() as f64;
        let (loss_v, bpp_v, mse_v, aux_v) = (scalar(loss), scalar(bpp), scalar(mse), scalar(aux));
        if !loss_v.is_finite() {
            return Err(format!("loss became {loss_v} at step {}; lower lr or clip", progress.step));
        }
        let psnr = -10.0 * mse_v.log10();
        let ips = batch as f64 / step_start.elapsed().as_secs_f64();
        writeln!(
            log,
            "{},{},{lambda},{loss_v:.5},{bpp_v:.5},{mse_v:.7},{psnr:.3},{aux_v:.3},{lr:e},{ips:.2},{:.1}",
            progress.step,
            level + 1,
            progress.seconds
        )
        .map_err(|e| e.to_string())?;

        bar.set_position(progress.step);
        bar.set_message(format!("{bpp_v:.3} bpp {psnr:.2} dB"));
        let out_of_time = args.max_seconds.is_some_and(|s| started.elapsed().as_secs() >= s);
        let done = progress.step >= stop_at || out_of_time;
        if done || last_checkpoint.elapsed().as_secs() >= config.checkpoint_secs {
            checkpoint::save(&config.out, &model, &optim, &aux_optim, ema.as_ref(), &progress)?;
            last_checkpoint = Instant::now();
            bar.println(format!("step {}: checkpoint ({:.0} s trained)", progress.step, progress.seconds));
        }
        if let Some(v) = &validator {
            if progress.step % config.validate_every == 0 || done {
                v.run(&model.valid(), progress.step, &config.out.join("validate.csv"))?;
                if let Some(avg) = &ema {
                    v.run(avg, progress.step, &config.out.join("validate-ema.csv"))?;
                }
            }
        }
        if out_of_time {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(())
}
