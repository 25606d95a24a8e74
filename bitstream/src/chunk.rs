//! Chunk types and chunk-table entries.

use std::borrow::Cow;
use std::fmt;

/// A four-byte chunk type code, as in PNG: ASCII letters/digits, first byte a letter.
///
/// An upper-case first letter marks a *critical* chunk (a decoder that does not know it must
/// refuse the file); a lower-case first letter marks an *ancillary* chunk (safe to ignore).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCc(pub [u8; 4]);

impl FourCc {
    /// Hyper-latent `z` stream of one tile (critical).
    pub const HYPER_LATENT: FourCc = FourCc(*b"HYPZ");
    /// Latent `y` stream of one slice of one tile (critical); the entry's index is the slice.
    pub const LATENT: FourCc = FourCc(*b"LATY");
    /// The hyper-latent `z` and every slice of `y` of one tile in a single stream (critical,
    /// format 1.2): replaces the tile's `HYPZ` and `LATY` chunks.
    pub const LATENTS: FourCc = FourCc(*b"LATS");
    /// Losslessly coded alpha plane (critical when present).
    pub const ALPHA: FourCc = FourCc(*b"ALPH");
    /// ICC colour profile carried through unchanged (ancillary).
    pub const ICC: FourCc = FourCc(*b"iCCP");
    /// EXIF metadata carried through unchanged (ancillary).
    pub const EXIF: FourCc = FourCc(*b"eXIf");
    /// XMP metadata carried through unchanged (ancillary).
    pub const XMP: FourCc = FourCc(*b"xMPm");

    /// Critical types this crate knows (v1.0's, and `LATS` from 1.2).
    pub const KNOWN_CRITICAL: [FourCc; 4] = [Self::HYPER_LATENT, Self::LATENT, Self::ALPHA, Self::LATENTS];

    /// Whether the bytes form a valid type code (ASCII alphanumeric, first byte a letter).
    pub fn is_well_formed(&self) -> bool {
        self.0[0].is_ascii_alphabetic() && self.0.iter().all(u8::is_ascii_alphanumeric)
    }

    /// The format minor version that defined this (known) type: a file of an older minor
    /// version may not hold it.
    pub fn since_minor(&self) -> u8 {
        if *self == Self::LATENTS { crate::SINGLE_STREAM_MINOR_VERSION } else { 0 }
    }

    /// Whether a decoder must understand this chunk to decode the file.
    pub fn is_critical(&self) -> bool {
        self.0[0].is_ascii_uppercase()
    }
}

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc(\"{self}\")")
    }
}

/// One chunk: its type, tile, index within the tile and payload.
///
/// Parsed chunks borrow their payload from the input; chunks built by an encoder own it.
#[derive(Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Chunk type.
    pub fourcc: FourCc,
    /// Tile the chunk belongs to (0 for untiled images and for whole-file metadata).
    pub tile: u32,
    /// Index within the tile: the slice number for latent streams, 0 otherwise.
    pub index: u16,
    /// The payload bytes.
    pub payload: Cow<'a, [u8]>,
}

impl<'a> Chunk<'a> {
    /// A chunk borrowing or owning `payload`.
    pub fn new(fourcc: FourCc, tile: u32, index: u16, payload: impl Into<Cow<'a, [u8]>>) -> Self {
        Self { fourcc, tile, index, payload: payload.into() }
    }

    /// Copies the payload so the chunk outlives the input it was parsed from.
    pub fn into_owned(self) -> Chunk<'static> {
        Chunk { payload: Cow::Owned(self.payload.into_owned()), ..self }
    }
}

impl fmt::Debug for Chunk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunk")
            .field("fourcc", &self.fourcc)
            .field("tile", &self.tile)
            .field("index", &self.index)
            .field("len", &self.payload.len())
            .finish()
    }
}
