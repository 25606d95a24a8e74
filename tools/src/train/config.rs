//! `lic train --config FILE.toml`: every knob of a training run, with defaults.

use std::path::{Path, PathBuf};

use lic_models::net::ModelConfig;
use serde::{Deserialize, Serialize};

/// A training run's configuration. Unknown keys are errors, so typos cannot silently fall
/// back to defaults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed for weights, crops, flips, quality sampling and quantisation noise.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// Image folders to train on (relative paths are taken from the data root).
    #[serde(default = "defaults::datasets")]
    pub datasets: Vec<PathBuf>,
    /// Where checkpoints, the CSV log and exported weights go.
    pub out: PathBuf,
    /// Square crop size in pixels (a multiple of 64).
    #[serde(default = "defaults::patch")]
    pub patch: usize,
    /// Crops per batch.
    #[serde(default = "defaults::batch")]
    pub batch: usize,
    /// Crop changes: from step `s` on, batches hold `b` crops of `p`×`p` pixels (triples
    /// `[s, p, b]`, ascending `s`). Small crops train fast but give the hyperprior's `z` only
    /// a few samples (2×2 at 128²), most of its receptive field padding; a run can move to
    /// larger crops at the same pixels per step and still be replayed by one command.
    #[serde(default)]
    pub crop_from: Vec<(u64, usize, usize)>,
    /// Total optimiser steps.
    pub steps: u64,
    /// Adam learning rate.
    #[serde(default = "defaults::lr")]
    pub lr: f64,
    /// Base learning rate changes: from step `s` on, the base rate is `v` (pairs `[s, v]`,
    /// ascending `s`). Lets a long run that spans sessions change its rate and still be
    /// reproduced by one command.
    #[serde(default)]
    pub lr_from: Vec<(u64, f64)>,
    /// The learning rate is multiplied by 0.1 after each of these fractions of `steps`.
    #[serde(default = "defaults::lr_drops")]
    pub lr_drops: Vec<f64>,
    /// Learning rate of the factorized prior's quantiles (auxiliary loss).
    #[serde(default = "defaults::aux_lr")]
    pub aux_lr: f64,
    /// Gradient-norm clipping.
    #[serde(default = "defaults::clip")]
    pub clip: f32,
    /// Seconds between checkpoints.
    #[serde(default = "defaults::checkpoint_secs")]
    pub checkpoint_secs: u64,
    /// Steps between Kodak validations (0: never).
    #[serde(default = "defaults::validate_every")]
    pub validate_every: u64,
    /// Kodak images used for validation (first N of 24).
    #[serde(default = "defaults::validate_images")]
    pub validate_images: usize,
    /// A new run starts from this run folder's checkpoint instead of a fresh initialisation
    /// (weights only: Adam and the step count start over). Ignored when `out` already holds a
    /// checkpoint, which is resumed instead.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    /// With `init_from`: parameters whose path starts with one of these stay at their fresh
    /// initialisation, e.g. `["slice_params", "slice_lrp"]` to compare slicings on trained
    /// transforms. Every other parameter must be in the checkpoint with the same shape.
    #[serde(default)]
    pub init_fresh: Vec<String>,
    /// With `init_from`: convolutions whose path starts with one of these may be wider here
    /// than in the checkpoint (e.g. `["slice_params"]` with a larger `params_hidden`). They are
    /// widened so that the start computes exactly what the checkpoint did: the trained weights
    /// in the leading corner, zero weights from every new hidden unit.
    #[serde(default)]
    pub init_grow: Vec<String>,
    /// With `init_from`: start from that checkpoint's moving average of the weights (what it
    /// ships) instead of its trained weights, e.g. to fine-tune the shipped model.
    #[serde(default)]
    pub init_average: bool,
    /// Train only part of the model, the rest frozen at its `init_from` weights. `"synthesis"`:
    /// only `g_s` and the per-quality inverse gains learn, on the latents the frozen encoder
    /// and entropy model code (rounded as the codec rounds them), with the loss `−PSNR` of the
    /// batch. Every file the frozen encoder writes keeps its size; only the decoded image
    /// changes, and the per-quality loss in dB weighs every quality as a BD-rate does.
    /// `"encoder"`: only what the decoder never runs learns (`g_a`, `h_a`, the per-quality
    /// gains on `y`), on the rate–distortion loss of the codec's real rounding
    /// (`ImageModel::coded_rd`, as `--refine` optimises one image); the decoder is unchanged.
    /// `"context"`: only the slice parameter networks and the checkerboard's spatial networks
    /// learn, on the rate of the residuals the frozen transforms give, rounded as the codec
    /// rounds them. The transforms, hyperprior, latent residual prediction and gains stay, so
    /// the temporal networks trained on them stay valid.
    #[serde(default)]
    pub train_only: Option<String>,
    /// Keep an exponential moving average of the weights with this decay per step (e.g.
    /// 0.999, an average over ≈ 1,000 steps). When set, the average is what the run ships:
    /// export and temporal runs take it, and validation reports it beside the trained weights
    /// (`validate-ema.csv`). It starts at the weights of the step it is turned on.
    #[serde(default)]
    pub ema: Option<f64>,
    /// Network sizes.
    pub model: ModelConfig,
}

mod defaults {
    use std::path::PathBuf;
    pub fn seed() -> u64 {
        1
    }
    pub fn datasets() -> Vec<PathBuf> {
        vec![PathBuf::from("train/images")]
    }
    pub fn patch() -> usize {
        256
    }
    pub fn batch() -> usize {
        8
    }
    pub fn lr() -> f64 {
        1e-4
    }
    pub fn lr_drops() -> Vec<f64> {
        vec![0.8, 0.95]
    }
    pub fn aux_lr() -> f64 {
        1e-2
    }
    pub fn clip() -> f32 {
        1.0
    }
    pub fn checkpoint_secs() -> u64 {
        300
    }
    pub fn validate_every() -> u64 {
        1000
    }
    pub fn validate_images() -> usize {
        4
    }
}

impl TrainConfig {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let config: Self = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        config.validate().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        let crops =
            std::iter::once((self.patch, self.batch)).chain(self.crop_from.iter().map(|&(_, p, b)| (p, b)));
        for (patch, batch) in crops {
            if patch == 0 || patch % 64 != 0 {
                return Err(format!("patch {patch} is not a positive multiple of 64"));
            }
            if batch == 0 {
                return Err("batch must be positive".into());
            }
        }
        if !self.crop_from.is_sorted_by_key(|&(s, _, _)| s) {
            return Err("crop_from must hold [step, patch, batch] triples, steps ascending".into());
        }
        if self.steps == 0 {
            return Err("steps must be positive".into());
        }
        if !(self.lr > 0.0 && self.aux_lr > 0.0) {
            return Err("learning rates must be positive".into());
        }
        if !lr_from_is_valid(&self.lr_from) {
            return Err("lr_from must hold [step, rate] pairs with positive rates, steps ascending".into());
        }
        if self.datasets.is_empty() {
            return Err("no datasets".into());
        }
        if self.ema.is_some_and(|d| !(0.0..1.0).contains(&d)) {
            return Err("ema must be a decay in [0, 1)".into());
        }
        if self.init_from.is_none() && !(self.init_fresh.is_empty() && self.init_grow.is_empty()) {
            return Err("init_fresh and init_grow need init_from".into());
        }
        if self.init_from.is_none() && (self.init_average || self.train_only.is_some()) {
            return Err("init_average and train_only need init_from".into());
        }
        if self.train_only.as_deref().is_some_and(|t| !["synthesis", "encoder", "context"].contains(&t)) {
            return Err(format!(
                "train_only = {:?}: \"synthesis\", \"encoder\" or \"context\"",
                self.train_only
            ));
        }
        Ok(())
    }

    /// Crop size and batch size at `step`: those of the last `crop_from` change at or before
    /// it, else `patch` and `batch`.
    pub fn crop_at(&self, step: u64) -> (usize, usize) {
        self.crop_from
            .iter()
            .rev()
            .find(|&&(s, _, _)| step >= s)
            .map_or((self.patch, self.batch), |&(_, p, b)| (p, b))
    }

    /// Whether only the synthesis transform trains (`train_only = "synthesis"`).
    pub fn synthesis_only(&self) -> bool {
        self.train_only.as_deref() == Some("synthesis")
    }

    /// Whether only the encoder side trains (`train_only = "encoder"`).
    pub fn encoder_only(&self) -> bool {
        self.train_only.as_deref() == Some("encoder")
    }

    /// Whether only the context model's parameter networks train (`train_only = "context"`).
    pub fn context_only(&self) -> bool {
        self.train_only.as_deref() == Some("context")
    }

    /// The largest crop the run ever takes (training images must be at least this large).
    pub fn max_patch(&self) -> usize {
        self.crop_from.iter().map(|&(_, p, _)| p).fold(self.patch, usize::max)
    }

    /// Learning rate at `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        let drops = self.lr_drops.iter().filter(|&&f| step as f64 >= f * self.steps as f64).count();
        lr_from_at(self.lr, &self.lr_from, step) * 0.1f64.powi(drops as i32)
    }
}

/// Whether `lr_from` (`[step, rate]` pairs, image and temporal configs alike) has positive
/// rates and ascending steps.
pub(crate) fn lr_from_is_valid(lr_from: &[(u64, f64)]) -> bool {
    lr_from.iter().all(|&(_, v)| v > 0.0) && lr_from.is_sorted_by_key(|&(s, _)| s)
}

/// The rate `lr_from` sets at `step`: that of the last change at or before it, else `lr`.
pub(crate) fn lr_from_at(lr: f64, lr_from: &[(u64, f64)], step: u64) -> f64 {
    lr_from.iter().rev().find(|&&(s, _)| step >= s).map_or(lr, |&(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> TrainConfig {
        let text = format!(
            "out = \"x\"\nsteps = 100\nlr = 1e-4\n{extra}\n[model]\nn = 8\nm = 16\nz_channels = 8\n\
             slices = [8, 8]\ncontext_hidden = 8\n"
        );
        toml::from_str(&text).expect("test config parses")
    }

    /// Every config committed under `configs/` parses and validates, and a temporal config's
    /// image config does too: they record how each shipped weight file was trained, so one
    /// that no longer loads would break that record unnoticed.
    #[test]
    fn committed_configs_parse_and_validate() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["configs", "configs/ablation"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("the configs folder is readable") {
                let path = entry.expect("a folder entry").path();
                if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 12, "found only {} configs", files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).expect("the config is readable");
            let image = match super::super::temporal::TemporalConfig::parse(&text, &path) {
                Ok(Some(t)) => root.join(t.image_config),
                Ok(None) => path,
                Err(e) => panic!("{e}"),
            };
            if let Err(e) = TrainConfig::load(&image) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn lr_schedule_applies_changes_then_drops() {
        let c = config("lr_from = [[10, 3e-4], [50, 2e-4]]\nlr_drops = [0.8]");
        assert_eq!(c.lr_at(0), 1e-4);
        assert_eq!(c.lr_at(9), 1e-4);
        assert_eq!(c.lr_at(10), 3e-4);
        assert_eq!(c.lr_at(49), 3e-4);
        assert_eq!(c.lr_at(50), 2e-4);
        assert!((c.lr_at(80) - 2e-5).abs() < 1e-12);
    }

    #[test]
    fn unsorted_lr_changes_are_rejected() {
        assert!(config("lr_from = [[50, 3e-4], [10, 2e-4]]").validate().is_err());
        assert!(config("lr_from = [[10, 0.0]]").validate().is_err());
        assert!(config("").validate().is_ok());
    }

    #[test]
    fn crop_schedule_changes_size_and_batch() {
        let c = config("patch = 128\nbatch = 8\ncrop_from = [[20, 256, 2], [40, 192, 4]]");
        assert!(c.validate().is_ok());
        assert_eq!(c.crop_at(0), (128, 8));
        assert_eq!(c.crop_at(19), (128, 8));
        assert_eq!(c.crop_at(20), (256, 2));
        assert_eq!(c.crop_at(40), (192, 4));
        assert_eq!(c.max_patch(), 256);
        assert!(config("crop_from = [[20, 100, 2]]").validate().is_err());
        assert!(config("crop_from = [[20, 256, 0]]").validate().is_err());
        assert!(config("crop_from = [[40, 256, 2], [20, 128, 8]]").validate().is_err());
    }

    #[test]
    fn ema_decay_is_checked() {
        assert!(config("ema = 0.999").validate().is_ok());
        assert!(config("ema = 1.0").validate().is_err());
        assert!(config("ema = -0.5").validate().is_err());
    }

    #[test]
    fn init_fresh_needs_init_from() {
        assert!(config("init_fresh = [\"slice_params\"]").validate().is_err());
        assert!(config("init_from = \"runs/a\"\ninit_fresh = [\"slice_params\"]").validate().is_ok());
    }

    #[test]
    fn partial_training_is_checked() {
        assert!(config("train_only = \"synthesis\"").validate().is_err());
        assert!(config("init_average = true").validate().is_err());
        let base = "init_from = \"runs/a\"\ninit_average = true\n";
        assert!(config(&format!("{base}train_only = \"synthesis\"")).validate().is_ok());
        assert!(config(&format!("{base}train_only = \"encoder\"")).validate().is_ok());
        assert!(config(&format!("{base}train_only = \"context\"")).validate().is_ok());
        assert!(config(&format!("{base}train_only = \"g_a\"")).validate().is_err());
    }
}
