//! The one error type of this crate.

use crate::chunk::FourCc;

/// Everything that can be wrong with a lic file, with the byte offset where it was found.
///
/// Every variant names *what* is wrong and *where*; none of them is ever produced by a panic
/// path, and parsing never allocates before the input has shown it holds the bytes it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitstreamError {
    /// The input ended before a field could be read.
    #[error("truncated file: {what} needs {needed} bytes at offset {offset}, only {available} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes actually left.
        available: usize,
    },
    /// The first eight bytes are not the lic magic: this is not a lic file.
    #[error("not a lic file (bad magic bytes at offset 0)")]
    BadMagic,
    /// The file was written by an incompatible (newer) major version of the format.
    #[error("unsupported lic format version {major}.{minor}: this decoder reads major version {supported}")]
    UnsupportedVersion {
        /// Major version found in the file.
        major: u8,
        /// Minor version found in the file.
        minor: u8,
        /// The major version this decoder implements.
        supported: u8,
    },
    /// The stream kind byte names a kind this decoder cannot read.
    #[error("unsupported stream kind {0} at offset 10")]
    UnsupportedStreamKind(u8),
    /// The file is a lic file of another kind (a video where an image was expected, or the
    /// reverse).
    #[error("this lic file holds {found} where {expected} was expected")]
    WrongStreamKind {
        /// The kind the file holds.
        found: crate::container::StreamKind,
        /// The kind the caller asked for.
        expected: crate::container::StreamKind,
    },
    /// A stored CRC-32C does not match the bytes it protects: the file is corrupt.
    #[error(
        "corrupt file: CRC-32C mismatch in {what} (stored {stored:#010x}, computed {computed:#010x}) at offset {offset}"
    )]
    CrcMismatch {
        /// Which part of the file failed its check.
        what: String,
        /// Byte offset of the protected region.
        offset: usize,
        /// The CRC stored in the file.
        stored: u32,
        /// The CRC of the bytes as read.
        computed: u32,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid {field} at offset {offset}: {reason}")]
    InvalidField {
        /// The field's name, as in FORMAT.md.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Why the value is rejected.
        reason: String,
    },
    /// The chunk table lists more bytes than the file holds (or fewer: trailing bytes).
    #[error(
        "chunk table claims {claimed} payload bytes but the file holds {available} after offset {offset}"
    )]
    PayloadSizeMismatch {
        /// Sum of chunk lengths in the table.
        claimed: u64,
        /// Bytes present after the table.
        available: u64,
        /// Offset where payloads start.
        offset: usize,
    },
    /// A critical chunk type that this decoder does not know; it cannot safely be skipped.
    #[error("unknown critical chunk {fourcc} (entry {entry}) at offset {offset}")]
    UnknownCriticalChunk {
        /// The chunk's type.
        fourcc: FourCc,
        /// Index in the chunk table.
        entry: usize,
        /// Offset of its table entry.
        offset: usize,
    },
    /// Two table entries name the same chunk type, tile and index.
    #[error("duplicate chunk {fourcc} tile {tile} index {index} (entry {entry}) at offset {offset}")]
    DuplicateChunk {
        /// The chunk's type.
        fourcc: FourCc,
        /// Its tile.
        tile: u32,
        /// Its index within the tile.
        index: u16,
        /// Index in the chunk table of the second occurrence.
        entry: usize,
        /// Offset of that table entry.
        offset: usize,
    },
    /// The writer was asked to produce a file the format cannot express.
    #[error("cannot write lic file: {0}")]
    Unwritable(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = BitstreamError> = std::result::Result<T, E>;
