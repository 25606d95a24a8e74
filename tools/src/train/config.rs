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
    /// Total optimiser steps.
    pub steps: u64,
    /// Adam learning rate.
    #[serde(default = "defaults::lr")]
    pub lr: f64,
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
        if self.patch == 0 || self.patch % 64 != 0 {
            return Err(format!("patch {} is not a positive multiple of 64", self.patch));
        }
        if self.batch == 0 || self.steps == 0 {
            return Err("batch and steps must be positive".into());
        }
        if !(self.lr > 0.0 && self.aux_lr > 0.0) {
            return Err("learning rates must be positive".into());
        }
        if self.datasets.is_empty() {
            return Err("no datasets".into());
        }
        Ok(())
    }

    /// Learning rate at `step`.
    pub fn lr_at(&self, step: u64) -> f64 {
        let drops = self.lr_drops.iter().filter(|&&f| step as f64 >= f * self.steps as f64).count();
        self.lr * 0.1f64.powi(drops as i32)
    }
}
