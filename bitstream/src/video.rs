//! Stream kind 1: a video sequence (FORMAT.md §8).
//!
//! A video file is the common preamble and a sequence header, then one self-delimiting,
//! checksummed packet per frame, then an index packet listing the intra frames and a 16-byte
//! trailer pointing at it. Packets carry a sync code and their own header CRC, so a reader
//! that meets damage can report it and find the next intact packet; the trailer lets a reader
//! seek without scanning, and a file cut short (no trailer) can still be read front to back.

use crate::chunk::Chunk;
use crate::container::{
    MINOR_VERSION, StreamKind, check_chunks_writable, check_crc, invalid, parse_chunk_table, parse_preamble,
    rebase, write_chunk_table, write_preamble,
};
use crate::cursor::Cursor;
use crate::error::{BitstreamError, Result};
use crate::header::{ModelId, Quality, validate_model_and_size};

/// The four bytes every packet starts with.
pub const PACKET_SYNC: [u8; 4] = *b"LICP";
/// Size of a packet header: sync, frame, type, flags, reserved, length, payload CRC, header CRC.
pub const PACKET_HEADER_LEN: usize = 24;
/// The four bytes the trailer starts with.
pub const TRAILER_MAGIC: [u8; 4] = *b"LICX";
/// Size of the trailer: magic, index offset, CRC.
pub const TRAILER_LEN: usize = 16;
/// Largest group of pictures a header may declare.
pub const MAX_GOP: u32 = 1 << 16;
/// Size of one index entry: frame number and packet offset.
const INDEX_ENTRY_LEN: usize = 12;

/// The sequence header of a video file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceHeader {
    /// The weights the sequence was coded with (intra and inter models in one file).
    pub model: ModelId,
    /// The quality every frame was coded at.
    pub quality: Quality,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second as numerator and denominator (both non-zero), e.g. 30000/1001.
    pub frame_rate: (u32, u32),
    /// Most frames from one intra frame to the next (1 = all intra). Informative: the frame
    /// types in the packets are what a decoder follows.
    pub gop: u32,
}

impl SequenceHeader {
    fn validate(&self, offset: usize) -> Result<()> {
        let bad = |field: &'static str, reason: String| Err(invalid(field, offset, reason));
        validate_model_and_size(&self.model, self.width, self.height, offset)?;
        if self.frame_rate.0 == 0 || self.frame_rate.1 == 0 {
            return bad("frame rate", format!("{}/{} has a zero term", self.frame_rate.0, self.frame_rate.1));
        }
        if self.gop == 0 || self.gop > MAX_GOP {
            return bad("gop", format!("{} is not in 1..={MAX_GOP}", self.gop));
        }
        Ok(())
    }

    fn body(&self) -> Vec<u8> {
        let name = self.model.name.as_bytes();
        let mut b = Vec::with_capacity(1 + name.len() + 32 + 2 + 4 * 5);
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        b.extend_from_slice(&self.model.digest);
        b.extend_from_slice(&self.quality.milli().to_le_bytes());
        for v in [self.width, self.height, self.frame_rate.0, self.frame_rate.1, self.gop] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn parse_body(body: &[u8], base: usize, minor: u8) -> Result<Self> {
        let mut cur = Cursor::new(body);
        let r = |e| rebase(e, base);
        let name_len = cur.u8("model name length").map_err(r)? as usize;
        let name_offset = base + cur.pos();
        let name = std::str::from_utf8(cur.take(name_len, "model name").map_err(r)?)
            .map_err(|_| invalid("model name", name_offset, "not valid UTF-8".into()))?
            .to_owned();
        let digest = cur.array::<32>("model digest").map_err(r)?;
        let quality = Quality::from_milli(cur.u16("quality").map_err(r)?);
        let width = cur.u32("width").map_err(r)?;
        let height = cur.u32("height").map_err(r)?;
        let num = cur.u32("frame rate numerator").map_err(r)?;
        let den = cur.u32("frame rate denominator").map_err(r)?;
        let gop = cur.u32("gop").map_err(r)?;
        // Later minors may append fields; the minors this reader knows add none, so their
        // body must end exactly here.
        if minor <= MINOR_VERSION && cur.remaining() != 0 {
            return Err(invalid(
                "header length",
                12,
                format!("{} bytes beyond the header body", cur.remaining()),
            ));
        }
        let h = Self { model: ModelId { name, digest }, quality, width, height, frame_rate: (num, den), gop };
        h.validate(base)?;
        Ok(h)
    }
}

/// How a frame is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Coded on its own (the image model): a decoder can start here.
    Intra = 0,
    /// Coded with the previous decoded frame as context.
    Inter = 1,
}

/// Packet type of the index (not a frame).
const INDEX_TYPE: u8 = 2;

/// One frame's packet: its number, type and chunks (as in an untiled image, §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramePacket<'a> {
    /// Frame number, from 0, consecutive in a well-formed file.
    pub frame: u32,
    /// Intra or inter.
    pub frame_type: FrameType,
    /// The frame's chunks.
    pub chunks: Vec<Chunk<'a>>,
    /// Byte offset of the packet in the file (0 for packets not read from a file).
    pub offset: u64,
}

impl FramePacket<'_> {
    /// The chunk of the given type and index.
    pub fn chunk(&self, fourcc: crate::FourCc, index: u16) -> Option<&Chunk<'_>> {
        self.chunks.iter().find(|c| c.fourcc == fourcc && c.index == index)
    }

    /// Bytes the packet takes in the file, header included.
    pub fn coded_len(&self) -> usize {
        PACKET_HEADER_LEN
            + 8
            + self.chunks.len() * crate::CHUNK_ENTRY_LEN
            + self.chunks.iter().map(|c| c.payload.len()).sum::<usize>()
    }
}

/// An intra frame listed in the index: where a decoder can start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeekPoint {
    /// Frame number.
    pub frame: u32,
    /// Byte offset of its packet.
    pub offset: u64,
}

/// Writes a video file piece by piece, so frames can be streamed out as they are coded: the
/// caller sends each returned byte string to its sink in order.
#[derive(Debug)]
pub struct VideoWriter {
    pos: u64,
    next_frame: u32,
    seek_points: Vec<SeekPoint>,
}

impl VideoWriter {
    /// Starts a file: returns the writer and the preamble and header bytes.
    pub fn new(header: &SequenceHeader) -> Result<(Self, Vec<u8>)> {
        header.validate(0).map_err(|e| BitstreamError::Unwritable(e.to_string()))?;
        let mut out = Vec::new();
        // Written as the newest minor: frames are chunked as they come, and a frame may use the
        // single-stream `LATS` chunk (1.2).
        write_preamble(&mut out, StreamKind::Video, MINOR_VERSION, &header.body());
        Ok((Self { pos: out.len() as u64, next_frame: 0, seek_points: Vec::new() }, out))
    }

    /// The bytes of the next frame's packet. Frames are numbered by the writer; the first
    /// must be intra.
    pub fn frame(&mut self, frame_type: FrameType, chunks: &[Chunk<'_>]) -> Result<Vec<u8>> {
        if self.next_frame == 0 && frame_type != FrameType::Intra {
            return Err(BitstreamError::Unwritable("the first frame must be intra".into()));
        }
        if self.next_frame == u32::MAX {
            return Err(BitstreamError::Unwritable("more than 2^32 - 1 frames".into()));
        }
        check_chunks_writable(chunks, 1)?;
        let mut payload = Vec::new();
        write_chunk_table(&mut payload, chunks);
        if frame_type == FrameType::Intra {
            self.seek_points.push(SeekPoint { frame: self.next_frame, offset: self.pos });
        }
        let out = packet(self.next_frame, frame_type as u8, &payload)?;
        self.next_frame += 1;
        self.pos += out.len() as u64;
        Ok(out)
    }

    /// Frames written so far.
    pub fn frames(&self) -> u32 {
        self.next_frame
    }

    /// Ends the file: the index packet and the trailer.
    pub fn finish(self) -> Result<Vec<u8>> {
        let mut payload = Vec::with_capacity(4 + self.seek_points.len() * INDEX_ENTRY_LEN);
        payload.extend_from_slice(&(self.seek_points.len() as u32).to_le_bytes());
        for p in &self.seek_points {
            payload.extend_from_slice(&p.frame.to_le_bytes());
            payload.extend_from_slice(&p.offset.to_le_bytes());
        }
        let mut out = packet(self.next_frame, INDEX_TYPE, &payload)?;
        let trailer_start = out.len();
        out.extend_from_slice(&TRAILER_MAGIC);
        out.extend_from_slice(&self.pos.to_le_bytes());
        let crc = crc32c::crc32c(&out[trailer_start..]);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

fn packet(frame: u32, kind: u8, payload: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(payload.len())
        .map_err(|_| BitstreamError::Unwritable("a packet larger than 4 GiB".into()))?;
    let mut out = Vec::with_capacity(PACKET_HEADER_LEN + payload.len());
    out.extend_from_slice(&PACKET_SYNC);
    out.extend_from_slice(&frame.to_le_bytes());
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// A parsed video file: the header is checked up front, packets as they are read.
#[derive(Clone, Debug)]
pub struct VideoFile<'a> {
    data: &'a [u8],
    /// Minor format version of the file.
    pub minor_version: u8,
    /// The sequence header.
    pub header: SequenceHeader,
    first_packet: usize,
}

/// What the reader found at an offset.
enum Packet<'a> {
    Frame(FramePacket<'a>),
    Index(Vec<SeekPoint>, u32),
}

impl<'a> VideoFile<'a> {
    /// Parses the preamble and sequence header; packets are read lazily.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut cur = Cursor::new(data);
        let (minor, body, body_offset) = parse_preamble(&mut cur, StreamKind::Video)?;
        let header = SequenceHeader::parse_body(body, body_offset, minor)?;
        Ok(Self { data, minor_version: minor, header, first_packet: cur.pos() })
    }

    /// The seek index from the trailer, with the total frame count; `None` when the file has
    /// no intact trailer (cut short, or still being written), in which case
    /// [`VideoFile::packets`] still reads it front to back.
    pub fn index(&self) -> Option<Result<(Vec<SeekPoint>, u32)>> {
        let n = self.data.len();
        let start = n.checked_sub(TRAILER_LEN).filter(|&s| s >= self.first_packet)?;
        let t = &self.data[start..];
        if t[..4] != TRAILER_MAGIC {
            return None;
        }
        let mut cur = Cursor::at(self.data, start + 4);
        let offset = cur.u64("index offset").ok()?;
        let stored = cur.u32("trailer CRC").ok()?;
        if crc32c::crc32c(&t[..12]) != stored {
            return None;
        }
        let offset = usize::try_from(offset).ok().filter(|&o| o >= self.first_packet && o < start);
        let Some(offset) = offset else {
            return Some(Err(invalid("index offset", start + 4, "outside the packet area".into())));
        };
        Some(match self.packet_at(offset, start) {
            Ok((Packet::Index(points, frames), end)) if end == start => Ok((points, frames)),
            Ok(_) => Err(invalid("index offset", start + 4, "does not point at the index packet".into())),
            Err(e) => Err(e),
        })
    }

    /// Reads the frame packet at `offset` (from [`VideoFile::index`]).
    pub fn frame_at(&self, offset: u64) -> Result<FramePacket<'a>> {
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        if at < self.first_packet || at >= self.data.len() {
            return Err(invalid("packet offset", at.min(self.data.len()), "outside the packet area".into()));
        }
        match self.packet_at(at, self.data.len())? {
            (Packet::Frame(f), _) => Ok(f),
            (Packet::Index(..), _) => Err(invalid("packet type", at + 12, "the index, not a frame".into())),
        }
    }

    /// Frame packets in file order. A damaged packet yields one error, after which the reader
    /// looks for the next intact packet (by sync code and header CRC) and goes on; reading
    /// ends at the index packet or the end of the data.
    pub fn packets(&self) -> Packets<'a, '_> {
        Packets { file: self, pos: self.first_packet, done: false }
    }

    /// As [`VideoFile::packets`], from the packet at `offset` (a [`SeekPoint`]'s). An offset
    /// outside the packet area yields one error.
    pub fn packets_from(&self, offset: u64) -> Packets<'a, '_> {
        let pos = usize::try_from(offset).unwrap_or(usize::MAX).clamp(self.first_packet, self.data.len());
        Packets { file: self, pos, done: false }
    }

    /// Parses the packet at `at`, which must end by `limit`; returns it and its end.
    fn packet_at(&self, at: usize, limit: usize) -> Result<(Packet<'a>, usize)> {
        let data = &self.data[..limit];
        let mut cur = Cursor::at(data, at);
        let sync: [u8; 4] = cur.array("packet sync")?;
        if sync != PACKET_SYNC {
            return Err(invalid("packet sync", at, "not the start of a packet".into()));
        }
        let frame = cur.u32("packet frame")?;
        let kind = cur.u8("packet type")?;
        let flags = cur.u8("packet flags")?;
        let reserved = cur.u16("packet reserved")?;
        let len = cur.u32("packet length")? as usize;
        let payload_crc = cur.u32("packet payload CRC")?;
        let header = cur.since(at);
        let stored = cur.u32("packet header CRC")?;
        check_crc("packet header", at, header, stored)?;
        if flags != 0 || reserved != 0 {
            return Err(invalid("packet flags", at + 13, "must be 0".into()));
        }
        let payload_at = cur.pos();
        let payload = cur.take(len, "packet payload")?;
        check_crc("packet payload", payload_at, payload, payload_crc)?;
        let end = cur.pos();
        let packet = match kind {
            0 | 1 => {
                let mut inner = Cursor::at(&data[..end], payload_at);
                let chunks = parse_chunk_table(&mut inner, 1, self.minor_version)?;
                let frame_type = if kind == 0 { FrameType::Intra } else { FrameType::Inter };
                Packet::Frame(FramePacket { frame, frame_type, chunks, offset: at as u64 })
            }
            INDEX_TYPE => {
                let mut inner = Cursor::at(&data[..end], payload_at);
                let count = inner.u32("index count")? as usize;
                if count.saturating_mul(INDEX_ENTRY_LEN) != inner.remaining() {
                    return Err(invalid(
                        "index count",
                        payload_at,
                        format!("{count} entries do not fill the packet"),
                    ));
                }
                let mut points = Vec::with_capacity(count);
                // The index packet's frame field is the number of frames in the file.
                let total = frame;
                for _ in 0..count {
                    let entry_at = inner.pos();
                    let point = SeekPoint {
                        frame: inner.u32("index frame")?,
                        offset: inner.u64("index packet offset")?,
                    };
                    if points.last().is_some_and(|p: &SeekPoint| p.frame >= point.frame)
                        || point.frame >= total
                    {
                        return Err(invalid(
                            "index frame",
                            entry_at,
                            "frames out of order or past the end".into(),
                        ));
                    }
                    points.push(point);
                }
                Packet::Index(points, total)
            }
            other => return Err(invalid("packet type", at + 12, format!("{other} is not 0, 1 or 2"))),
        };
        Ok((packet, end))
    }
}

/// Iterator over a file's frame packets; see [`VideoFile::packets`].
pub struct Packets<'a, 'f> {
    file: &'f VideoFile<'a>,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Packets<'a, '_> {
    type Item = Result<FramePacket<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.file.data.len() {
            return None;
        }
        match self.file.packet_at(self.pos, self.file.data.len()) {
            Ok((Packet::Frame(f), end)) => {
                self.pos = end;
                Some(Ok(f))
            }
            Ok((Packet::Index(..), _)) => {
                self.done = true;
                None
            }
            Err(e) => {
                // Resynchronise: the next sync code whose packet header checks out.
                let data = self.file.data;
                let next = (self.pos + 1..data.len().saturating_sub(PACKET_HEADER_LEN - 1))
                    .find(|&i| data[i..].starts_with(&PACKET_SYNC) && header_intact(&data[i..]));
                match next {
                    Some(i) => self.pos = i,
                    None => self.done = true,
                }
                Some(Err(e))
            }
        }
    }
}

fn header_intact(at: &[u8]) -> bool {
    at.len() >= PACKET_HEADER_LEN
        && u32::from_le_bytes([at[20], at[21], at[22], at[23]]) == crc32c::crc32c(&at[..20])
}
