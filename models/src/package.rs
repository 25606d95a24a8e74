//! A trained model as shipped: one safetensors file holding the network (convolution kernels
//! in fp16, everything else f32), the factorized prior's integer tables, and the model
//! config in the metadata. Its SHA-256 is the model identity coded files record.

use std::collections::HashMap;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use lic_entropy::{ScaleTable, TableSet};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{ModelError, Result};
use crate::net::{ExactParams, ImageModel, ModelConfig, TemporalModel};
use crate::weights::Weights;

/// Metadata key holding the model config as JSON.
pub const CONFIG_KEY: &str = "lic.config";
/// Tensor-name prefix of the factorized prior's integer tables.
pub const Z_TABLES: &str = "lic.z_tables";
/// Tensor-name prefix of the inter-frame (temporal) networks, present in video-capable files.
pub const TEMPORAL: &str = "temporal.";

fn format_err(name: &str, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Format { name: name.to_owned(), reason: reason.to_string() }
}

/// Serialises a trained network as a shippable weights file.
pub fn export(net: &ImageModel, config: &ModelConfig) -> Result<Vec<u8>> {
    export_with(net, config, None)
}

/// Module tensors as (name, dtype, shape, bytes), names prefixed with `prefix`; convolution
/// kernels (4-D) in fp16, which they tolerate; GDN, prior and gains stay f32.
fn module_tensors<M: ModuleSnapshot>(
    module: &M,
    prefix: &str,
    owned: &mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None);
    module.save_into(&mut store).map_err(|e| format_err("export", e))?;
    let f32_bytes = store.get_bytes().map_err(|e| format_err("export", e))?;
    let tensors = SafeTensors::deserialize(&f32_bytes).map_err(|e| format_err("export", e))?;
    for (name, view) in tensors.iter() {
        let name = format!("{prefix}{name}");
        if view.dtype() == Dtype::F32 && view.shape().len() == 4 {
            let data = view
                .data()
                .chunks_exact(4)
                .flat_map(|b| half::f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes())
                .collect();
            owned.push((name, Dtype::F16, view.shape().to_vec(), data));
        } else {
            owned.push((name, view.dtype(), view.shape().to_vec(), view.data().to_vec()));
        }
    }
    Ok(())
}

/// As [`export`], with the inter-frame networks when `temporal` is given (a video-capable
/// model file).
pub fn export_with(
    net: &ImageModel,
    config: &ModelConfig,
    temporal: Option<&TemporalModel>,
) -> Result<Vec<u8>> {
    // Owned buffers first, views into them after.
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    module_tensors(net, "", &mut owned)?;
    if let Some(t) = temporal {
        module_tensors(t, TEMPORAL, &mut owned)?;
    }
    let tables =
        net.z_distributions().map_err(|source| ModelError::Tables { tensor: Z_TABLES.into(), source })?;
    let offsets: Vec<u8> = tables.iter().flat_map(|d| d.offset().to_le_bytes()).collect();
    let lengths: Vec<u8> = tables.iter().flat_map(|d| (d.freqs().len() as i32).to_le_bytes()).collect();
    let freqs: Vec<u8> =
        tables.iter().flat_map(|d| d.freqs().iter().flat_map(|&f| (f as i32).to_le_bytes())).collect();
    let n_freqs = freqs.len() / 4;
    owned.push((format!("{Z_TABLES}.offsets"), Dtype::I32, vec![tables.len()], offsets));
    owned.push((format!("{Z_TABLES}.lengths"), Dtype::I32, vec![tables.len()], lengths));
    owned.push((format!("{Z_TABLES}.freqs"), Dtype::I32, vec![n_freqs], freqs));

    let views = owned
        .iter()
        .map(|(n, d, s, b)| TensorView::new(*d, s.clone(), b).map(|v| (n.as_str(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format_err("export", e))?;
    let json = serde_json::to_string(config).map_err(|e| format_err("export", e))?;
    let meta = HashMap::from([(CONFIG_KEY.to_owned(), json)]);
    safetensors::serialize(views, Some(meta)).map_err(|e| format_err("export", e))
}

/// A loaded model, ready to code: the network on a device plus its entropy coders.
#[derive(Debug)]
pub struct CodecModel {
    /// Identity and raw weights.
    pub weights: Weights,
    /// Channel counts and slicing.
    pub config: ModelConfig,
    /// The network.
    pub net: ImageModel,
    /// The inter-frame entropy networks, when the file has them (video).
    pub temporal: Option<TemporalModel>,
    /// Its entropy-parameter path in platform-independent arithmetic (inter frames included
    /// when `temporal` is present).
    pub exact: ExactParams,
    /// Scale ladder of the Gaussian conditional.
    pub scales: ScaleTable,
    /// Coder of the latents `y`.
    pub y_coder: TableSet,
    /// Coder of the hyper-latents `z`, one table per channel.
    pub z_coder: TableSet,
}

impl CodecModel {
    /// Builds the network from a weights file on `device`, checking every tensor's shape.
    pub fn load(weights: Weights, device: &Device) -> Result<Self> {
        let name = weights.id().name.clone();
        let config_json = weights
            .metadata(CONFIG_KEY)
            .ok_or_else(|| format_err(&name, format!("no {CONFIG_KEY} metadata: not a lic model file")))?;
        let config: ModelConfig = serde_json::from_str(&config_json).map_err(|e| format_err(&name, e))?;
        config.validate().map_err(|e| format_err(&name, e))?;

        let mut net = ImageModel::new(&config, device);
        load_part(&weights, &mut net, "", &name)?;
        let temporal = if weights.names().iter().any(|t| t.starts_with(TEMPORAL)) {
            let mut t = TemporalModel::from_image(&net, device);
            load_part(&weights, &mut t, TEMPORAL, &name)?;
            Some(t)
        } else {
            None
        };
        let tables = weights.distributions(Z_TABLES)?;
        if tables.len() != config.z_channels {
            return Err(format_err(
                &name,
                format!("{} z tables for {} channels", tables.len(), config.z_channels),
            ));
        }
        let scales = ScaleTable::default();
        let table_err = |source| ModelError::Tables { tensor: Z_TABLES.into(), source };
        let y_coder = TableSet::gaussian(&scales).map_err(table_err)?;
        let z_coder = TableSet::new(tables).map_err(table_err)?;
        let mut exact = ExactParams::new(&net).map_err(|e| format_err(&name, e))?;
        if let Some(t) = &temporal {
            exact = exact.with_temporal(t).map_err(|e| format_err(&name, e))?;
        }
        Ok(Self { weights, config, net, temporal, exact, scales, y_coder, z_coder })
    }
}

/// Loads the tensors named `prefix…` (prefix removed; with an empty prefix, all tensors but
/// the integer tables and other prefixed parts) into `module`, widened to f32 for Burn's
/// loader, requiring an exact match of names and shapes.
fn load_part<M: ModuleSnapshot>(weights: &Weights, module: &mut M, prefix: &str, name: &str) -> Result<()> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for tensor in weights.names() {
        let local = if prefix.is_empty() {
            if tensor.starts_with(Z_TABLES) || tensor.starts_with(TEMPORAL) {
                continue;
            }
            tensor.clone()
        } else {
            match tensor.strip_prefix(prefix) {
                Some(rest) => rest.to_owned(),
                None => continue,
            }
        };
        let shape = weights.shape(&tensor)?;
        let data = weights.tensor_f32(&tensor, &shape)?;
        owned.push((local, shape, data.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    let views = owned
        .iter()
        .map(|(n, s, b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.as_str(), v)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format_err(name, e))?;
    let f32_bytes = safetensors::serialize(views, None).map_err(|e| format_err(name, e))?;
    let mut store = SafetensorsStore::from_bytes(Some(f32_bytes));
    let applied = module.load_from(&mut store).map_err(|e| format_err(name, e))?;
    if let Some((tensor, _)) = applied.missing.first() {
        return Err(ModelError::MissingTensor {
            model: name.to_owned(),
            tensor: format!("{prefix}{tensor}"),
        });
    }
    if let Some(e) = applied.errors.first() {
        return Err(format_err(name, format!("{e:?}")));
    }
    if let Some(extra) = applied.unused.first() {
        return Err(format_err(name, format!("tensor {prefix}{extra:?} is not part of this architecture")));
    }
    Ok(())
}
