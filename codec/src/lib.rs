//! The lic library API.
//!
//! This layer ties the container ([`lic_bitstream`]), the entropy coder ([`lic_entropy`]) and
//! the models ([`lic_models`]) together. Today it offers [`inspect`], which reads a file's
//! header and chunk table without decoding it; image encode/decode land with the first
//! trained model (models and CLI issues).

mod error;
mod inspect;

pub use error::{CodecError, Result};
pub use inspect::{ChunkInfo, FileInfo, inspect};
pub use lic_bitstream as bitstream;
