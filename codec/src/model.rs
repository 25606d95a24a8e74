//! Loading a model: from a path or bytes, onto a backend.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use lic_models::{CodecModel, Weights};

use crate::error::Result;

/// Where the networks run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The best available: today the CPU.
    #[default]
    Auto,
    /// Burn's `flex` CPU backend.
    Cpu,
}

impl Backend {
    pub(crate) fn device(self) -> Device {
        match self {
            Backend::Auto | Backend::Cpu => Device::flex(),
        }
    }
}

/// A loaded model, cheap to clone and share: encoders and decoders borrow it.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) inner: Arc<CodecModel>,
    pub(crate) device: Device,
}

impl Model {
    /// The default model embedded in lic.
    pub fn embedded(backend: Backend) -> Result<Self> {
        Self::from_bytes(lic_models::DEFAULT_MODEL_NAME, lic_models::DEFAULT_WEIGHTS, backend)
    }

    /// Loads a weights file (`.safetensors` exported by `lic train`).
    pub fn from_path(path: &Path, backend: Backend) -> Result<Self> {
        Self::from_weights(Weights::from_path(path)?, backend)
    }

    /// Loads weights held in memory under `name`.
    pub fn from_bytes(name: &str, bytes: impl Into<Arc<[u8]>>, backend: Backend) -> Result<Self> {
        Self::from_weights(Weights::from_bytes(name, bytes)?, backend)
    }

    fn from_weights(weights: Weights, backend: Backend) -> Result<Self> {
        let device = backend.device();
        Ok(Self { inner: Arc::new(CodecModel::load(weights, &device)?), device })
    }

    /// Name and SHA-256 of the weights, as coded files record them.
    pub fn id(&self) -> &lic_bitstream::ModelId {
        self.inner.weights.id()
    }
}
