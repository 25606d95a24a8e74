//! Parsing and writing whole files: preamble, header, chunk table, payloads.
//!
//! The layout is specified byte by byte in `FORMAT.md`; the constants here are its names.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::chunk::{Chunk, FourCc};
use crate::cursor::Cursor;
use crate::error::{BitstreamError, Result};
use crate::header::{ColourSpace, ImageHeader, ModelId, Quality, Tiling};

/// The eight magic bytes every lic file starts with (`\x89LIC\r\n\x1a\n`): the high byte and
/// the line endings catch 7-bit and text-mode transfers, as in PNG.
pub const MAGIC: [u8; 8] = [0x89, b'L', b'I', b'C', b'\r', b'\n', 0x1a, b'\n'];
/// The format major version this crate reads and writes.
pub const MAJOR_VERSION: u8 = 1;
/// The newest format minor version this crate reads and writes.
pub const MINOR_VERSION: u8 = 2;
/// The oldest minor version image files are written with: an image file is written with the
/// oldest version that can express it (1.0, or 1.2 when it holds `LATS` chunks), which lets
/// the most readers open it.
pub const IMAGE_MINOR_VERSION: u8 = 0;
/// The minor version that introduced video (stream kind 1).
pub const VIDEO_MINOR_VERSION: u8 = 1;
/// The minor version that introduced the single-stream `LATS` chunk ([`FourCc::LATENTS`]).
pub const SINGLE_STREAM_MINOR_VERSION: u8 = 2;
/// Size of the fixed preamble (magic, versions, kind, flags, header length).
pub const PREAMBLE_LEN: usize = 16;
/// Largest header body a reader accepts.
pub const MAX_HEADER_LEN: u32 = 1 << 16;
/// Size of one chunk-table entry.
pub const CHUNK_ENTRY_LEN: usize = 20;
/// Header body length of format v1.0 without the model name.
const V1_0_HEADER_FIXED_LEN: usize = 1 + 32 + 2 + 4 + 4 + 1 + 1 + 1 + 4 + 4 + 2;

/// What a file holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StreamKind {
    /// A single still image.
    Image = 0,
    /// A video sequence (kind byte 1, format 1.1 and later; see `video`).
    Video = 1,
}

impl std::fmt::Display for StreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StreamKind::Image => "an image",
            StreamKind::Video => "a video",
        })
    }
}

impl StreamKind {
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Image),
            1 => Some(Self::Video),
            _ => None,
        }
    }
}

/// The oldest minor version that can hold `chunks`, at least `base`.
pub(crate) fn minor_for(chunks: &[Chunk<'_>], base: u8) -> u8 {
    chunks.iter().map(|c| c.fourcc.since_minor()).fold(base, u8::max)
}

/// A parsed (or to-be-written) image file: its header and its chunks in table order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFile<'a> {
    /// Minor format version the file was written with. [`ImageFile::to_bytes`] writes the
    /// oldest version that can hold the chunks (1.0 without `LATS` chunks, else 1.2).
    pub minor_version: u8,
    /// The header.
    pub header: ImageHeader,
    /// All chunks, critical and ancillary, in table order.
    pub chunks: Vec<Chunk<'a>>,
}

impl<'a> ImageFile<'a> {
    /// A file of the oldest minor version that can hold `chunks` ([`ImageFile::written_minor`]).
    pub fn new(header: ImageHeader, chunks: Vec<Chunk<'a>>) -> Self {
        Self { minor_version: minor_for(&chunks, IMAGE_MINOR_VERSION), header, chunks }
    }

    /// The minor version [`ImageFile::to_bytes`] writes for these chunks: the oldest that can
    /// hold them. A parsed file is canonical only if it was written with this version.
    pub fn written_minor(&self) -> u8 {
        minor_for(&self.chunks, IMAGE_MINOR_VERSION)
    }

    /// The first chunk of the given type, tile and index.
    pub fn chunk(&self, fourcc: FourCc, tile: u32, index: u16) -> Option<&Chunk<'a>> {
        self.chunks.iter().find(|c| c.fourcc == fourcc && c.tile == tile && c.index == index)
    }

    /// Parses and fully validates a file: every CRC is checked, every field range-checked.
    ///
    /// Payloads are borrowed from `data`; the only allocations are the model name and the
    /// chunk list, both bounded by `data.len()`.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut cur = Cursor::new(data);
        let (minor, body, body_offset) = parse_preamble(&mut cur, StreamKind::Image)?;
        let header = parse_header_body(body, body_offset, minor)?;

        let chunks = parse_chunk_table(&mut cur, header.tile_count(), minor)?;
        Ok(Self { minor_version: minor, header, chunks })
    }

    /// Serialises the file, validating it exactly as [`ImageFile::parse`] would.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let unwritable = |e: BitstreamError| BitstreamError::Unwritable(e.to_string());
        self.header.validate(PREAMBLE_LEN).map_err(unwritable)?;
        check_chunks_writable(&self.chunks, self.header.tile_count())?;
        let body = header_body(&self.header);
        let payload_len: usize = self.chunks.iter().map(|c| c.payload.len()).sum();
        let mut out = Vec::with_capacity(
            PREAMBLE_LEN + body.len() + 8 + self.chunks.len() * CHUNK_ENTRY_LEN + 4 + payload_len,
        );
        write_preamble(&mut out, StreamKind::Image, self.written_minor(), &body);

        write_chunk_table(&mut out, &self.chunks);
        Ok(out)
    }

    /// Copies all payloads so the file outlives its input.
    pub fn into_owned(self) -> ImageFile<'static> {
        ImageFile {
            minor_version: self.minor_version,
            header: self.header,
            chunks: self.chunks.into_iter().map(Chunk::into_owned).collect(),
        }
    }
}

/// Reads the preamble, the header body and its CRC (§2, §4), checking the stream kind; returns
/// the minor version, the body and the body's offset. Shared by images and videos.
pub(crate) fn parse_preamble<'a>(cur: &mut Cursor<'a>, expect: StreamKind) -> Result<(u8, &'a [u8], usize)> {
    let magic: [u8; 8] = cur.array("magic")?;
    if magic != MAGIC {
        return Err(BitstreamError::BadMagic);
    }
    let major = cur.u8("major version")?;
    let minor = cur.u8("minor version")?;
    if major != MAJOR_VERSION {
        return Err(BitstreamError::UnsupportedVersion { major, minor, supported: MAJOR_VERSION });
    }
    let kind = cur.u8("stream kind")?;
    match StreamKind::from_u8(kind) {
        None => return Err(BitstreamError::UnsupportedStreamKind(kind)),
        Some(found) if found != expect => {
            return Err(BitstreamError::WrongStreamKind { found, expected: expect });
        }
        Some(StreamKind::Video) if minor < VIDEO_MINOR_VERSION => {
            return Err(invalid(
                "minor version",
                9,
                format!("{minor}: video needs format 1.{VIDEO_MINOR_VERSION}"),
            ));
        }
        Some(_) => {}
    }
    let flags_offset = cur.pos();
    let flags = cur.u8("flags")?;
    if flags != 0 {
        return Err(invalid("flags", flags_offset, format!("{flags:#04x}: no flags are defined, must be 0")));
    }
    let header_len_offset = cur.pos();
    let header_len = cur.u32("header length")?;
    if header_len > MAX_HEADER_LEN {
        return Err(invalid(
            "header length",
            header_len_offset,
            format!("{header_len} exceeds {MAX_HEADER_LEN}"),
        ));
    }
    // Check the CRC before interpreting the body, so that a corrupt header is reported as
    // corruption rather than as whichever field the damage happened to hit.
    let body_offset = cur.pos();
    let body = cur.take(header_len as usize, "header body")?;
    let protected = cur.since(0);
    let stored = cur.u32("header CRC")?;
    check_crc("header", 0, protected, stored)?;
    Ok((minor, body, body_offset))
}

/// Appends preamble, header body and header CRC for a file of `kind` and `minor` version.
pub(crate) fn write_preamble(out: &mut Vec<u8>, kind: StreamKind, minor: u8, body: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[MAJOR_VERSION, minor, kind as u8, 0]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Parses a chunk table (§5) at the cursor and the payloads after it, which must fill the
/// rest of the cursor's input exactly; `tiles` bounds the entries' tile numbers, and `minor`
/// (the file's minor version) the chunk types it may hold. Shared by image files and video
/// frame packets.
pub(crate) fn parse_chunk_table<'a>(cur: &mut Cursor<'a>, tiles: u64, minor: u8) -> Result<Vec<Chunk<'a>>> {
    let table_offset = cur.pos();
    let count = cur.u32("chunk count")? as usize;
    // Bound the table by the bytes present *before* allocating anything for it.
    let needed = count.saturating_mul(CHUNK_ENTRY_LEN).saturating_add(4);
    if needed > cur.remaining() {
        return Err(BitstreamError::Truncated {
            what: "chunk table",
            offset: cur.pos(),
            needed,
            available: cur.remaining(),
        });
    }
    let mut entries = Vec::with_capacity(count);
    for entry in 0..count {
        let offset = cur.pos();
        let fourcc = FourCc(cur.array("chunk type")?);
        let tile = cur.u32("chunk tile")?;
        let index = cur.u16("chunk index")?;
        let flags = cur.u16("chunk flags")?;
        let len = cur.u32("chunk length")?;
        let crc = cur.u32("chunk CRC")?;
        entries.push((offset, fourcc, tile, index, flags, len, crc, entry));
    }
    let table_bytes = cur.since(table_offset);
    let stored = cur.u32("chunk table CRC")?;
    check_crc("chunk table", table_offset, table_bytes, stored)?;

    let payload_offset = cur.pos();
    let claimed: u64 = entries.iter().map(|e| u64::from(e.5)).sum();
    let available = cur.remaining() as u64;
    if claimed != available {
        return Err(BitstreamError::PayloadSizeMismatch { claimed, available, offset: payload_offset });
    }

    let mut seen = HashSet::with_capacity(count);
    let mut chunks = Vec::with_capacity(count);
    for (offset, fourcc, tile, index, flags, len, crc, entry) in entries {
        if !fourcc.is_well_formed() {
            return Err(invalid("chunk type", offset, format!("{fourcc} is not a valid type code")));
        }
        if fourcc.is_critical() && !FourCc::KNOWN_CRITICAL.contains(&fourcc) {
            return Err(BitstreamError::UnknownCriticalChunk { fourcc, entry, offset });
        }
        if fourcc.since_minor() > minor {
            return Err(invalid(
                "chunk type",
                offset,
                format!("{fourcc} needs format 1.{} but the file is 1.{minor}", fourcc.since_minor()),
            ));
        }
        if u64::from(tile) >= tiles {
            return Err(invalid("chunk tile", offset + 4, format!("tile {tile} but the image has {tiles}")));
        }
        if flags != 0 {
            return Err(invalid("chunk flags", offset + 10, format!("{flags:#06x}: must be 0")));
        }
        if !seen.insert((fourcc, tile, index)) {
            return Err(BitstreamError::DuplicateChunk { fourcc, tile, index, entry, offset });
        }
        let at = cur.pos();
        let payload = cur.take(len as usize, "chunk payload")?;
        check_crc_with(|| format!("chunk {entry} ({fourcc} tile {tile} index {index})"), at, payload, crc)?;
        chunks.push(Chunk { fourcc, tile, index, payload: Cow::Borrowed(payload) });
    }
    Ok(chunks)
}

/// Checks chunks as [`parse_chunk_table`] would, before anything is written.
pub(crate) fn check_chunks_writable(chunks: &[Chunk<'_>], tiles: u64) -> Result<()> {
    let mut seen = HashSet::new();
    for c in chunks {
        if !c.fourcc.is_well_formed() {
            return Err(BitstreamError::Unwritable(format!(
                "chunk type {} is not a valid type code",
                c.fourcc
            )));
        }
        if u64::from(c.tile) >= tiles {
            return Err(BitstreamError::Unwritable(format!(
                "chunk {} names tile {} of {tiles}",
                c.fourcc, c.tile
            )));
        }
        if !seen.insert((c.fourcc, c.tile, c.index)) {
            return Err(BitstreamError::Unwritable(format!(
                "duplicate chunk {} tile {} index {}",
                c.fourcc, c.tile, c.index
            )));
        }
        if u32::try_from(c.payload.len()).is_err() {
            return Err(BitstreamError::Unwritable(format!("chunk {} is larger than 4 GiB", c.fourcc)));
        }
    }
    if u32::try_from(chunks.len()).is_err() {
        return Err(BitstreamError::Unwritable("more than 2^32 chunks".into()));
    }
    Ok(())
}

/// Appends a chunk table and the payloads (§5); the chunks must have passed
/// [`check_chunks_writable`].
pub(crate) fn write_chunk_table(out: &mut Vec<u8>, chunks: &[Chunk<'_>]) {
    let table_start = out.len();
    out.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&c.fourcc.0);
        out.extend_from_slice(&c.tile.to_le_bytes());
        out.extend_from_slice(&c.index.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(c.payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&c.payload).to_le_bytes());
    }
    let table_crc = crc32c::crc32c(&out[table_start..]);
    out.extend_from_slice(&table_crc.to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&c.payload);
    }
}

pub(crate) fn invalid(field: &'static str, offset: usize, reason: String) -> BitstreamError {
    BitstreamError::InvalidField { field, offset, reason }
}

pub(crate) fn check_crc(what: &str, offset: usize, bytes: &[u8], stored: u32) -> Result<()> {
    check_crc_with(|| what.to_owned(), offset, bytes, stored)
}

pub(crate) fn check_crc_with(
    what: impl FnOnce() -> String,
    offset: usize,
    bytes: &[u8],
    stored: u32,
) -> Result<()> {
    let computed = crc32c::crc32c(bytes);
    if computed == stored {
        Ok(())
    } else {
        Err(BitstreamError::CrcMismatch { what: what(), offset, stored, computed })
    }
}

fn header_body(h: &ImageHeader) -> Vec<u8> {
    let name = h.model.name.as_bytes();
    let mut b = Vec::with_capacity(V1_0_HEADER_FIXED_LEN + name.len());
    b.push(name.len() as u8);
    b.extend_from_slice(name);
    b.extend_from_slice(&h.model.digest);
    b.extend_from_slice(&h.quality.milli().to_le_bytes());
    b.extend_from_slice(&h.width.to_le_bytes());
    b.extend_from_slice(&h.height.to_le_bytes());
    b.extend_from_slice(&[h.channels, h.bit_depth, h.colour_space as u8]);
    let t = h.tiling.unwrap_or(Tiling { tile_width: 0, tile_height: 0, overlap: 0 });
    b.extend_from_slice(&t.tile_width.to_le_bytes());
    b.extend_from_slice(&t.tile_height.to_le_bytes());
    b.extend_from_slice(&t.overlap.to_le_bytes());
    b
}

fn parse_header_body(body: &[u8], base: usize, minor: u8) -> Result<ImageHeader> {
    let mut cur = Cursor::new(body);
    // Offsets in errors are file offsets: the body starts at `base`.
    let at = |cur: &Cursor<'_>| base + cur.pos();
    let name_len = cur.u8("model name length").map_err(|e| rebase(e, base))? as usize;
    let name_offset = at(&cur);
    let name_bytes = cur.take(name_len, "model name").map_err(|e| rebase(e, base))?;
    let name = std::str::from_utf8(name_bytes)
        .map_err(|_| invalid("model name", name_offset, "not valid UTF-8".into()))?
        .to_owned();
    let digest = cur.array::<32>("model digest").map_err(|e| rebase(e, base))?;
    let quality = Quality::from_milli(cur.u16("quality").map_err(|e| rebase(e, base))?);
    let width = cur.u32("width").map_err(|e| rebase(e, base))?;
    let height = cur.u32("height").map_err(|e| rebase(e, base))?;
    let channels = cur.u8("channels").map_err(|e| rebase(e, base))?;
    let bit_depth = cur.u8("bit depth").map_err(|e| rebase(e, base))?;
    let cs_offset = at(&cur);
    let cs = cur.u8("colour space").map_err(|e| rebase(e, base))?;
    let colour_space = ColourSpace::from_u8(cs)
        .ok_or_else(|| invalid("colour space", cs_offset, format!("{cs} is not a defined colour space")))?;
    let tile_width = cur.u32("tile width").map_err(|e| rebase(e, base))?;
    let tile_height = cur.u32("tile height").map_err(|e| rebase(e, base))?;
    let overlap = cur.u16("tile overlap").map_err(|e| rebase(e, base))?;
    let tiling = if tile_width == 0 && tile_height == 0 && overlap == 0 {
        None
    } else {
        Some(Tiling { tile_width, tile_height, overlap })
    };
    // Fields appended by later minor versions are skipped by this reader; the minors it knows
    // add none to the image header, so their body must end exactly here.
    if minor <= MINOR_VERSION && cur.remaining() != 0 {
        return Err(invalid(
            "header length",
            12,
            format!("{} bytes beyond the v1.0 header body", cur.remaining()),
        ));
    }
    let header = ImageHeader {
        model: ModelId { name, digest },
        quality,
        width,
        height,
        channels,
        bit_depth,
        colour_space,
        tiling,
    };
    header.validate(base)?;
    Ok(header)
}

/// Turns body-relative truncation offsets into file offsets.
pub(crate) fn rebase(e: BitstreamError, base: usize) -> BitstreamError {
    match e {
        BitstreamError::Truncated { what, offset, needed, available } => {
            BitstreamError::Truncated { what, offset: offset + base, needed, available }
        }
        other => other,
    }
}
