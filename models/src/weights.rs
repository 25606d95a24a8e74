//! A safetensors weights file with shape-checked access and a content digest.

use std::path::Path;
use std::sync::Arc;

use lic_bitstream::ModelId;
use lic_entropy::Distribution;
use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use crate::error::{ModelError, Result};

/// SHA-256 of a weights file's bytes: the digest lic files record.
pub fn weights_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `name sha256:` and the digest's first 16 hex digits, for messages.
pub fn short_id(m: &ModelId) -> String {
    format!("{} sha256:{}", m.name, &m.digest_hex()[..16])
}

/// A validated weights file, cheap to clone and share between threads.
#[derive(Clone, Debug)]
pub struct Weights {
    bytes: Arc<[u8]>,
    id: ModelId,
}

impl Weights {
    /// Validates `bytes` as safetensors and names the model `name` (1 to 64 bytes).
    pub fn from_bytes(name: &str, bytes: impl Into<Arc<[u8]>>) -> Result<Self> {
        let bytes = bytes.into();
        let format = |reason: String| ModelError::Format { name: name.to_owned(), reason };
        if name.is_empty() || name.len() > lic_bitstream::MAX_MODEL_NAME_LEN {
            return Err(format(format!(
                "model name must be 1 to {} bytes",
                lic_bitstream::MAX_MODEL_NAME_LEN
            )));
        }
        SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
        let id = ModelId { name: name.to_owned(), digest: weights_digest(&bytes) };
        Ok(Self { bytes, id })
    }

    /// Reads and validates a weights file; the model is named after the file stem.
    pub fn from_path(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io { path: path.to_owned(), source })?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
        let name: String = name.chars().take(lic_bitstream::MAX_MODEL_NAME_LEN).collect();
        Self::from_bytes(&name, bytes)
    }

    /// Name and digest, as recorded in coded files.
    pub fn id(&self) -> &ModelId {
        &self.id
    }

    /// Refuses a file coded with other weights.
    pub fn check_matches(&self, file_model: &ModelId) -> Result<()> {
        if file_model.digest == self.id.digest {
            return Ok(());
        }
        Err(ModelError::WrongModel { file: short_id(file_model), loaded: short_id(&self.id) })
    }

    fn tensors(&self) -> SafeTensors<'_> {
        // Validated in the constructor; the bytes are immutable since.
        SafeTensors::deserialize(&self.bytes).unwrap_or_else(|_| unreachable!("validated at load"))
    }

    fn view(&self, tensor: &str, shape: Option<&[usize]>) -> Result<safetensors::tensor::TensorView<'_>> {
        let view = self.tensors().tensor(tensor).map_err(|_| ModelError::MissingTensor {
            model: self.id.name.clone(),
            tensor: tensor.to_owned(),
        })?;
        if let Some(expected) = shape {
            if view.shape() != expected {
                return Err(ModelError::ShapeMismatch {
                    tensor: tensor.to_owned(),
                    expected: expected.to_vec(),
                    found: view.shape().to_vec(),
                });
            }
        }
        Ok(view)
    }

    /// Names of all tensors, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tensors().names().into_iter().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// Shape of a tensor.
    pub fn shape(&self, tensor: &str) -> Result<Vec<usize>> {
        Ok(self.view(tensor, None)?.shape().to_vec())
    }

    /// A string from the file's metadata.
    pub fn metadata(&self, key: &str) -> Option<String> {
        let (_, meta) = SafeTensors::read_metadata(&self.bytes).ok()?;
        meta.metadata().as_ref()?.get(key).cloned()
    }

    /// The raw file bytes (what the digest covers).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A float tensor of exactly `shape`, widened to `f32` from f32, f16 or bf16 storage.
    pub fn tensor_f32(&self, tensor: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let view = self.view(tensor, Some(shape))?;
        let data = view.data();
        let out = match view.dtype() {
            Dtype::F32 => {
                data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
            }
            Dtype::F16 => {
                data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
            }
            Dtype::BF16 => {
                data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
            }
            other => return Err(dtype_mismatch(tensor, other, "F32, F16 or BF16")),
        };
        Ok(out)
    }

    /// An `i32` tensor of any shape (flattened).
    pub fn tensor_i32(&self, tensor: &str) -> Result<Vec<i32>> {
        let view = self.view(tensor, None)?;
        if view.dtype() != Dtype::I32 {
            return Err(dtype_mismatch(tensor, view.dtype(), "I32"));
        }
        Ok(view.data().chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Integer entropy tables stored as three `I32` tensors: `{prefix}.offsets` and
    /// `{prefix}.lengths` (one per table) and `{prefix}.freqs` (all tables' frequencies,
    /// escape last in each, back to back). Every table is validated.
    pub fn distributions(&self, prefix: &str) -> Result<Vec<Distribution>> {
        let offsets = self.tensor_i32(&format!("{prefix}.offsets"))?;
        let lengths = self.tensor_i32(&format!("{prefix}.lengths"))?;
        let freqs = self.tensor_i32(&format!("{prefix}.freqs"))?;
        let tables_err = |reason: String| ModelError::Tables {
            tensor: prefix.to_owned(),
            source: lic_entropy::EntropyError::InvalidTable(reason),
        };
        if offsets.len() != lengths.len() {
            return Err(tables_err(format!("{} offsets but {} lengths", offsets.len(), lengths.len())));
        }
        let mut out = Vec::with_capacity(offsets.len());
        let mut at = 0usize;
        for (&offset, &len) in offsets.iter().zip(&lengths) {
            let len = usize::try_from(len).map_err(|_| tables_err(format!("negative length {len}")))?;
            let end = at.checked_add(len).filter(|&e| e <= freqs.len());
            let end = end.ok_or_else(|| tables_err("lengths exceed the frequencies stored".into()))?;
            let table: Vec<u32> = freqs[at..end].iter().map(|&f| f.max(0) as u32).collect();
            if freqs[at..end].iter().any(|&f| f <= 0) {
                return Err(tables_err("non-positive frequency".into()));
            }
            out.push(
                Distribution::new(offset, table)
                    .map_err(|source| ModelError::Tables { tensor: prefix.to_owned(), source })?,
            );
            at = end;
        }
        if at != freqs.len() {
            return Err(tables_err(format!("{} frequencies left over", freqs.len() - at)));
        }
        Ok(out)
    }
}

fn dtype_mismatch(tensor: &str, dtype: Dtype, expected: &'static str) -> ModelError {
    ModelError::DtypeMismatch { tensor: tensor.to_owned(), dtype: format!("{dtype:?}"), expected }
}
