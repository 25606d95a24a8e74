//! A trained model as shipped: one safetensors file holding the network (convolution kernels
//! in fp16, everything else f32), the factorized prior's integer tables, and the model
//! config in the metadata. Its SHA-256 is the model identity coded files record.

use std::collections::HashMap;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use lic_entropy::{ScaleTable, TableSet};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{ModelError, Result};
use crate::net::{ExactParams, ImageModel, ModelConfig};
use crate::weights::Weights;

/// Metadata key holding the model config as JSON.
pub const CONFIG_KEY: &str = "lic.config";
/// Tensor-name prefix of the factorized prior's integer tables.
pub const Z_TABLES: &str = "lic.z_tables";

fn format_err(name: &str, reason: impl std::fmt::Display) -> ModelError {
    ModelError::Format { name: name.to_owned(), reason: reason.to_string() }
}

/// Serialises a trained network as a shippable weights file.
pub fn export(net: &ImageModel, config: &ModelConfig) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None);
    net.save_into(&mut store).map_err(|e| format_err("export", e))?;
    let f32_bytes = store.get_bytes().map_err(|e| format_err("export", e))?;
    let tensors = SafeTensors::deserialize(&f32_bytes).map_err(|e| format_err("export", e))?;

    // Owned buffers first, views into them after.
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in tensors.iter() {
        // Convolution kernels (4-D) tolerate fp16; GDN, prior and gains stay f32.
        if view.dtype() == Dtype::F32 && view.shape().len() == 4 {
            let data = view
                .data()
                .chunks_exact(4)
                .flat_map(|b| half::f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes())
                .collect();
            owned.push((name.to_owned(), Dtype::F16, view.shape().to_vec(), data));
        } else {
            owned.push((name.to_owned(), view.dtype(), view.shape().to_vec(), view.data().to_vec()));
        }
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
    /// Its entropy-parameter path in platform-independent arithmetic.
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

        // Widen to an all-f32 file for Burn's loader; integer tables are left out.
        let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for tensor in weights.names() {
            if tensor.starts_with(Z_TABLES) {
                continue;
            }
            let shape = weights.shape(&tensor)?;
            let data = weights.tensor_f32(&tensor, &shape)?;
            owned.push((tensor, shape, data.iter().flat_map(|v| v.to_le_bytes()).collect()));
        }
        let views = owned
            .iter()
            .map(|(n, s, b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.as_str(), v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| format_err(&name, e))?;
        let f32_bytes = safetensors::serialize(views, None).map_err(|e| format_err(&name, e))?;

        let mut net = ImageModel::new(&config, device);
        let mut store = SafetensorsStore::from_bytes(Some(f32_bytes));
        let applied = net.load_from(&mut store).map_err(|e| format_err(&name, e))?;
        if let Some((tensor, _)) = applied.missing.first() {
            return Err(ModelError::MissingTensor { model: name, tensor: tensor.clone() });
        }
        if let Some(e) = applied.errors.first() {
            return Err(format_err(&name, format!("{e:?}")));
        }
        if let Some(extra) = applied.unused.first() {
            return Err(format_err(&name, format!("tensor {extra:?} is not part of this architecture")));
        }
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
        let exact = ExactParams::new(&net).map_err(|e| format_err(&name, e))?;
        Ok(Self { weights, config, net, exact, scales, y_coder, z_coder })
    }
}
