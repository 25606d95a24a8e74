//! The one error type users of lic handle.

/// Everything that can go wrong in the codec, one variant per layer.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The file is not a valid lic file (corrupt, truncated, foreign, unsupported version).
    #[error(transparent)]
    Bitstream(#[from] lic_bitstream::BitstreamError),
    /// Entropy decoding failed.
    #[error(transparent)]
    Entropy(#[from] lic_entropy::EntropyError),
    /// The model weights are missing, invalid or not the ones the file needs.
    #[error(transparent)]
    Model(#[from] lic_models::ModelError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = CodecError> = std::result::Result<T, E>;
