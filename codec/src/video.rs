//! Video: intra frames coded as images, inter frames with the temporal entropy model.
//!
//! ```no_run
//! use lic_codec::{Backend, Model, VideoDecoder, VideoEncoder};
//! # fn frames() -> Vec<image::RgbImage> { vec![] }
//! let model = Model::embedded(Backend::Auto)?;
//! let mut enc = VideoEncoder::new(&model, 4.0, 32, 176, 144, (30, 1))?;
//! let mut file = enc.header().to_vec();
//! for f in frames() {
//!     file.extend(enc.encode_frame(&f)?.bytes);
//! }
//! file.extend(enc.finish()?);
//! for frame in VideoDecoder::new(&model, &file)?.frames(0)? {
//!     let frame = frame?; // a damaged frame is an error; decoding resumes at the next intra frame
//!     println!("frame {} {:?}", frame.number, frame.frame_type);
//! }
//! # Ok::<(), lic_codec::CodecError>(())
//! ```

use image::RgbImage;
use lic_bitstream::{FramePacket, FrameType, Quality, SequenceHeader, VideoFile, VideoWriter};
use lic_models::net::Latents;

use crate::decoder::decode_latents;
use crate::encoder::encode_picture;
use crate::error::{CodecError, Result};
use crate::model::Model;
use crate::pixels;

/// One coded frame, ready to append to the file.
#[derive(Clone, Debug)]
pub struct EncodedFrame {
    /// The frame's packet.
    pub bytes: Vec<u8>,
    /// Intra or inter.
    pub frame_type: FrameType,
}

/// Codes a sequence of equally sized RGB frames. Frames go in one at a time and come out as
/// packets, so a long video never has to be held in memory.
pub struct VideoEncoder<'m> {
    model: &'m Model,
    quality: Quality,
    gop: u32,
    width: u32,
    height: u32,
    writer: VideoWriter,
    header: Vec<u8>,
    /// The previous frame's decoded latent (what the decoder will hold).
    prev: Option<Latents>,
    /// Inter frames since the last intra frame.
    since_intra: u32,
}

impl<'m> VideoEncoder<'m> {
    /// A video of `width`×`height` frames at `frame_rate` (numerator, denominator), at most
    /// `gop` frames from one intra frame to the next (1: all intra). Between them the encoder
    /// codes each frame both ways and keeps the smaller, so a scene cut or fast motion gets an
    /// intra frame of its own.
    pub fn new(
        model: &'m Model,
        quality: f64,
        gop: u32,
        width: u32,
        height: u32,
        frame_rate: (u32, u32),
    ) -> Result<Self> {
        let (lo, hi) = crate::QUALITY_RANGE;
        if !(lo..=hi).contains(&quality) {
            return Err(CodecError::InvalidArgument(format!("quality {quality} is not in 1..=8")));
        }
        let quality = Quality::from_f64(quality)
            .ok_or_else(|| CodecError::InvalidArgument(format!("quality {quality}")))?;
        if gop > 1 && !model.inner.exact.has_temporal() {
            return Err(CodecError::Unsupported(format!(
                "model {} has no inter-frame network: use a GOP of 1 (all intra)",
                model.id().name
            )));
        }
        let seq = SequenceHeader { model: model.id().clone(), quality, width, height, frame_rate, gop };
        let (writer, header) =
            VideoWriter::new(&seq).map_err(|e| CodecError::InvalidArgument(e.to_string()))?;
        Ok(Self { model, quality, gop, width, height, writer, header, prev: None, since_intra: 0 })
    }

    /// The file's first bytes: preamble and sequence header.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Codes the next frame.
    pub fn encode_frame(&mut self, frame: &RgbImage) -> Result<EncodedFrame> {
        if frame.dimensions() != (self.width, self.height) {
            return Err(CodecError::InvalidArgument(format!(
                "frame of {}x{} in a {}x{} video",
                frame.width(),
                frame.height(),
                self.width,
                self.height
            )));
        }
        // The GOP counts from the last intra frame, forced or chosen.
        let prev = if self.since_intra + 1 >= self.gop { None } else { self.prev.as_ref() };
        let picture = encode_picture(self.model, frame, self.quality.as_f64(), 0, prev, 0)?;
        let frame_type = if picture.inter { FrameType::Inter } else { FrameType::Intra };
        let bytes = self.writer.frame(frame_type, &picture.chunks)?;
        self.prev = Some(picture.latents);
        self.since_intra = if picture.inter { self.since_intra + 1 } else { 0 };
        Ok(EncodedFrame { bytes, frame_type })
    }

    /// Ends the file: the seek index and trailer bytes.
    pub fn finish(self) -> Result<Vec<u8>> {
        Ok(self.writer.finish()?)
    }
}

/// A decoded frame.
#[derive(Clone, Debug)]
pub struct VideoFrame {
    /// Frame number from 0.
    pub number: u32,
    /// Intra or inter.
    pub frame_type: FrameType,
    /// The pixels.
    pub image: RgbImage,
    /// Bytes the frame took in the file.
    pub coded_bytes: usize,
}

/// Decodes a lic video file held in memory.
pub struct VideoDecoder<'m, 'a> {
    model: &'m Model,
    file: VideoFile<'a>,
}

impl<'m, 'a> VideoDecoder<'m, 'a> {
    /// Parses the header and checks that `model` is the one the video was coded with.
    pub fn new(model: &'m Model, data: &'a [u8]) -> Result<Self> {
        let file = VideoFile::parse(data)?;
        model.inner.weights.check_matches(&file.header.model)?;
        let pixels = u64::from(file.header.width) * u64::from(file.header.height);
        if pixels > crate::DEFAULT_MAX_PIXELS {
            return Err(CodecError::TooLarge {
                width: file.header.width,
                height: file.header.height,
                limit: crate::DEFAULT_MAX_PIXELS,
            });
        }
        Ok(Self { model, file })
    }

    /// The sequence header.
    pub fn header(&self) -> &SequenceHeader {
        &self.file.header
    }

    /// Number of frames and intra-frame offsets from the file's index; `None` for a file cut
    /// short (it still decodes front to back).
    pub fn index(&self) -> Option<Result<(Vec<lic_bitstream::SeekPoint>, u32)>> {
        self.file.index().map(|r| r.map_err(CodecError::from))
    }

    /// Decoded frames from frame `start` on, starting at the last intra frame at or before it
    /// (found through the index, or by reading from the beginning when there is none). A
    /// damaged or missing frame yields an error; the frames that depend on it are skipped
    /// (one error for the run of them) and decoding resumes at the next intra frame.
    pub fn frames(&self, start: u32) -> Result<Frames<'m, 'a, '_>> {
        let seek = match self.file.index() {
            Some(Ok((points, _))) => points.iter().rev().find(|p| p.frame <= start).map(|p| p.offset),
            _ => None,
        };
        Ok(Frames {
            decoder: self,
            packets: match seek {
                Some(offset) => self.file.packets_from(offset),
                None => self.file.packets(),
            },
            start,
            prev: None,
            expected: None,
            lost: false,
        })
    }

    fn decode_packet(&self, p: &FramePacket<'_>, prev: Option<&Latents>) -> Result<(RgbImage, Latents)> {
        let h = &self.file.header;
        let m = &self.model.inner;
        let chunk = |fourcc, index| p.chunk(fourcc, index).map(|c| &*c.payload);
        let latents = decode_latents(m, chunk, h.width, h.height, prev)?;
        let x_hat = m.net.reconstruct(latents.clone(), h.quality.as_f64(), &self.model.device);
        Ok((pixels::from_tensor(x_hat, h.width, h.height), latents))
    }
}

/// Iterator over decoded frames; see [`VideoDecoder::frames`].
pub struct Frames<'m, 'a, 'd> {
    decoder: &'d VideoDecoder<'m, 'a>,
    packets: lic_bitstream::Packets<'a, 'd>,
    start: u32,
    prev: Option<Latents>,
    expected: Option<u32>,
    /// The reference chain is broken until the next intra frame.
    lost: bool,
}

impl Iterator for Frames<'_, '_, '_> {
    type Item = Result<VideoFrame>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let packet = match self.packets.next()? {
                Ok(p) => p,
                Err(e) => {
                    self.prev = None;
                    self.lost = true;
                    return Some(Err(e.into()));
                }
            };
            // A gap in the numbering is a lost packet: its dependants cannot be decoded.
            if self.expected.is_some_and(|n| packet.frame != n) {
                self.prev = None;
                self.lost = true;
            }
            self.expected = packet.frame.checked_add(1);
            let prev = match packet.frame_type {
                FrameType::Intra => {
                    self.lost = false;
                    None
                }
                FrameType::Inter if self.lost => continue,
                FrameType::Inter => match &self.prev {
                    Some(p) => Some(p),
                    // An inter frame with nothing before it (a stream starting mid-GOP).
                    None => {
                        self.lost = true;
                        return Some(Err(CodecError::Corrupt(format!(
                            "frame {}: inter frame without its reference",
                            packet.frame
                        ))));
                    }
                },
            };
            match self.decoder.decode_packet(&packet, prev) {
                Ok((image, latents)) => {
                    self.prev = Some(latents);
                    if packet.frame < self.start {
                        continue;
                    }
                    return Some(Ok(VideoFrame {
                        number: packet.frame,
                        frame_type: packet.frame_type,
                        image,
                        coded_bytes: packet.coded_len(),
                    }));
                }
                Err(e) => {
                    self.prev = None;
                    self.lost = true;
                    return Some(Err(CodecError::Corrupt(format!("frame {}: {e}", packet.frame))));
                }
            }
        }
    }
}
