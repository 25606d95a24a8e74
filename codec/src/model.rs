//! Loading a model: from a path or bytes, onto a backend.

use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use lic_models::{CodecModel, Weights};

use crate::error::Result;

/// Where the analysis and synthesis transforms run.
///
/// The entropy-parameter networks always run in lic's exact CPU path, so a file coded on one
/// backend decodes to the same latents on any other (FORMAT.md §7); only reconstructed pixels
/// may differ in their last bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// A hardware GPU through wgpu when one is present, else the CPU. A software Vulkan device
    /// (lavapipe, SwiftShader) is slower than the CPU backend, so `Auto` never picks one.
    #[default]
    Auto,
    /// Burn's `flex` CPU backend.
    Cpu,
    /// A GPU through wgpu (Vulkan, Metal or DX12): the first high-power adapter wgpu finds,
    /// software devices included. An error when none can be opened.
    Gpu,
}

impl Backend {
    /// Opens this backend's Burn device, for callers that run their own modules on it (`lic
    /// train`), with a description of the adapter for reports.
    pub fn device(self) -> Result<(Device, String)> {
        self.open().map(|(device, r)| (device, r.adapter))
    }

    /// Opens this backend's device: the device, and a description for reports.
    fn open(self) -> Result<(Device, Resolved)> {
        let cpu = || (Device::flex(), Resolved { kind: "cpu", adapter: "flex (CPU)".into() });
        let gpu = |g: &gpu::Gpu| (g.device.clone(), Resolved { kind: "gpu", adapter: g.adapter.clone() });
        match self {
            Backend::Cpu => Ok(cpu()),
            Backend::Gpu => gpu::device().map(gpu),
            Backend::Auto if !may_have_gpu() => Ok(cpu()),
            Backend::Auto => Ok(match gpu::device() {
                Ok(g) if g.hardware => gpu(g),
                _ => cpu(),
            }),
        }
    }
}

/// Whether probing for a hardware GPU is worth it. On Linux every GPU driver exposes a device
/// node (DRM render nodes, or NVIDIA's own); without one, `Auto` goes straight to the CPU
/// instead of starting a Vulkan instance (≈0.2 s and 70 MB) only to find a software device.
fn may_have_gpu() -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/dev/dri").exists() || Path::new("/dev/nvidia0").exists()
    } else {
        true
    }
}

/// What a [`Backend`] resolved to on this machine.
#[derive(Clone, Debug)]
struct Resolved {
    kind: &'static str,
    adapter: String,
}

/// The process's one wgpu device. Burn's wgpu runtime is registered process-wide and cannot be
/// initialised twice, so the outcome of the first attempt is kept, success or failure.
#[cfg(feature = "gpu")]
mod gpu {
    use std::sync::OnceLock;

    use burn::tensor::Device;
    use burn::tensor::wgpu::wgpu::DeviceType;

    use crate::error::{CodecError, Result};

    pub(super) struct Gpu {
        pub(super) device: Device,
        /// False for software rasterisers, which wgpu reports as CPU devices.
        pub(super) hardware: bool,
        /// Adapter name, graphics API and driver, for reports.
        pub(super) adapter: String,
    }

    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();

    pub(super) fn device() -> Result<&'static Gpu> {
        GPU.get_or_init(|| {
            let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| e.to_string())?;
            let info = setup.adapter.get_info();
            Ok(Gpu {
                device,
                hardware: info.device_type != DeviceType::Cpu,
                adapter: format!("{} ({:?}, {} {})", info.name, info.backend, info.driver, info.driver_info),
            })
        })
        .as_ref()
        .map_err(|e| CodecError::Backend(format!("no usable GPU through wgpu: {e}")))
    }
}

#[cfg(not(feature = "gpu"))]
#[allow(dead_code)] // the fields exist for the shape `Backend::open` expects
mod gpu {
    use burn::tensor::Device;

    use crate::error::{CodecError, Result};

    pub(super) struct Gpu {
        pub(super) device: Device,
        pub(super) hardware: bool,
        pub(super) adapter: String,
    }

    pub(super) fn device() -> Result<&'static Gpu> {
        Err(CodecError::Backend(
            "this build of lic has no GPU backend (built without the `gpu` feature)".into(),
        ))
    }
}

/// A loaded model, cheap to clone and share: encoders and decoders borrow it.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) inner: Arc<CodecModel>,
    pub(crate) device: Device,
    backend: Resolved,
}

impl Model {
    /// The default image model embedded in lic. It codes images only; video uses
    /// [`Model::embedded_video`].
    pub fn embedded(backend: Backend) -> Result<Self> {
        Self::from_bytes(lic_models::DEFAULT_MODEL_NAME, lic_models::DEFAULT_WEIGHTS, backend)
    }

    /// The video model embedded in lic: an image model with inter-frame networks.
    pub fn embedded_video(backend: Backend) -> Result<Self> {
        Self::from_bytes(lic_models::VIDEO_MODEL_NAME, lic_models::VIDEO_WEIGHTS, backend)
    }

    /// The embedded model a file was coded with (its header's [`ModelId`]), found by digest,
    /// so files coded by any embedded model, or by an earlier build whose model this one
    /// still embeds, decode with no `--model`. An error naming the model when none matches.
    ///
    /// [`ModelId`]: lic_bitstream::ModelId
    pub fn embedded_for(model: &lic_bitstream::ModelId, backend: Backend) -> Result<Self> {
        let (name, bytes) = lic_models::embedded_with_digest(&model.digest)
            .ok_or_else(|| lic_models::ModelError::NotEmbedded { file: lic_models::short_id(model) })?;
        Self::from_bytes(name, bytes, backend)
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
        let (device, backend) = backend.open()?;
        Ok(Self { inner: Arc::new(CodecModel::load(weights, &device)?), device, backend })
    }

    /// Name and SHA-256 of the weights, as coded files record them.
    pub fn id(&self) -> &lic_bitstream::ModelId {
        self.inner.weights.id()
    }

    /// Where the transforms run: `"cpu"` or `"gpu"` (what [`Backend::Auto`] resolved to).
    pub fn backend_kind(&self) -> &'static str {
        self.backend.kind
    }

    /// The device in words, e.g. `"flex (CPU)"` or a GPU adapter with its API and driver.
    pub fn adapter(&self) -> &str {
        &self.backend.adapter
    }
}
