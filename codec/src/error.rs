//! The one error type users of lic handle.

/// Everything that can go wrong in the codec, one variant per cause.
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
    /// A valid input that this version cannot code yet.
    #[error("not supported yet: {0}")]
    Unsupported(String),
    /// The requested backend cannot run here (no GPU adapter, or a build without it).
    #[error("backend unavailable: {0}")]
    Backend(String),
    /// An argument out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A chunk's payload is invalid although its checksum matched (a buggy or hostile
    /// encoder).
    #[error("corrupt file: {0}")]
    Corrupt(String),
    /// The file lacks a chunk its header requires.
    #[error("corrupt file: missing {0} chunk")]
    MissingChunk(String),
    /// The image is larger than the decoder's pixel limit.
    #[error("image of {width}x{height} exceeds the decoder's limit of {limit} pixels")]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit in force.
        limit: u64,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = CodecError> = std::result::Result<T, E>;
