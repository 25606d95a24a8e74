//! The one error type of this crate.

/// What can go wrong building tables or coding symbols.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntropyError {
    /// A frequency table violates the invariants of [`crate::Distribution`].
    #[error("invalid frequency table: {0}")]
    InvalidTable(String),
    /// A probability mass function cannot be quantised (empty, negative or non-finite).
    #[error("invalid probability mass function: {0}")]
    InvalidPmf(String),
    /// `symbols`/`tables` slices of different lengths, or a table index out of range.
    #[error("invalid coding request: {0}")]
    InvalidRequest(String),
    /// The compressed bytes are not a valid stream for the given tables.
    #[error("corrupt entropy-coded stream: {0}")]
    CorruptStream(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = EntropyError> = std::result::Result<T, E>;
