//! Reading and writing real video files through the system FFmpeg (ffmpeg-next).
//!
//! Input: anything FFmpeg demuxes and decodes (y4m, mp4, mkv, …), converted to 8-bit RGB by
//! swscale (BT.601 for untagged YUV, as FFmpeg assumes). Output by extension: `.y4m` (4:2:0,
//! written with the `y4m` crate after swscale's conversion), `.mkv` (FFV1, lossless RGB) or
//! `.mp4` (H.264 4:4:4 at QP 0: lossless in YUV, near-lossless after the colour conversion).

use std::io::Write;
use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::util::frame::video::Video as AvFrame;
use ffmpeg_next as ffmpeg;
use image::RgbImage;

/// Geometry and timing of a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second as a fraction.
    pub frame_rate: (u32, u32),
}

fn init() -> Result<(), String> {
    ffmpeg::init().map_err(|e| format!("FFmpeg: {e}"))?;
    ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
    Ok(())
}

/// Copies a packed RGB24 frame (rows padded to its stride) into an image.
fn to_image(f: &AvFrame) -> RgbImage {
    let (w, h, stride) = (f.width() as usize, f.height() as usize, f.stride(0));
    let data = f.data(0);
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        out.extend_from_slice(&data[y * stride..y * stride + w * 3]);
    }
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| RgbImage::new(w as u32, h as u32))
}

/// Decodes every frame of `path` (`-` for standard input), calling `on_start` with the
/// geometry before the first frame and `on_frame` with each frame in display order.
pub fn read_video(
    path: &Path,
    on_start: impl FnOnce(VideoInfo) -> Result<(), String>,
    mut on_frame: impl FnMut(RgbImage) -> Result<(), String>,
) -> Result<VideoInfo, String> {
    init()?;
    let name = if path == Path::new("-") { "pipe:0".into() } else { path.display().to_string() };
    let mut ictx =
        ffmpeg::format::input(&name).map_err(|e| format!("{name}: not a video FFmpeg can read ({e})"))?;
    let stream =
        ictx.streams().best(ffmpeg::media::Type::Video).ok_or_else(|| format!("{name}: no video stream"))?;
    let index = stream.index();
    let rate = {
        let r = stream.avg_frame_rate();
        let r = if r.numerator() > 0 && r.denominator() > 0 { r } else { stream.rate() };
        if r.numerator() > 0 && r.denominator() > 0 {
            (r.numerator() as u32, r.denominator() as u32)
        } else {
            (25, 1)
        }
    };
    let ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| format!("{name}: {e}"))?;
    let mut decoder = ctx.decoder().video().map_err(|e| format!("{name}: cannot decode its video ({e})"))?;
    let (w, h) = (decoder.width(), decoder.height());
    if w == 0 || h == 0 {
        return Err(format!("{name}: video of size {w}x{h}"));
    }
    let info = VideoInfo { width: w, height: h, frame_rate: rate };
    on_start(info)?;
    let mut scaler = Scaler::get(
        decoder.format(),
        w,
        h,
        Pixel::RGB24,
        w,
        h,
        Flags::BICUBIC | Flags::ACCURATE_RND | Flags::FULL_CHR_H_INT,
    )
    .map_err(|e| format!("{name}: colour conversion: {e}"))?;
    let mut drain = |decoder: &mut ffmpeg::decoder::Video| -> Result<(), String> {
        let mut frame = AvFrame::empty();
        while decoder.receive_frame(&mut frame).is_ok() {
            if frame.width() != w || frame.height() != h {
                return Err(format!(
                    "{name}: frame size changes mid-stream ({}x{})",
                    frame.width(),
                    frame.height()
                ));
            }
            let mut rgb = AvFrame::empty();
            scaler.run(&frame, &mut rgb).map_err(|e| format!("{name}: colour conversion: {e}"))?;
            on_frame(to_image(&rgb))?;
        }
        Ok(())
    };
    for (s, packet) in ictx.packets() {
        if s.index() == index {
            decoder.send_packet(&packet).map_err(|e| format!("{name}: corrupt video ({e})"))?;
            drain(&mut decoder)?;
        }
    }
    decoder.send_eof().map_err(|e| format!("{name}: {e}"))?;
    drain(&mut decoder)?;
    Ok(info)
}

/// A video being written, frame by frame.
pub enum VideoSink {
    /// YUV4MPEG2 through the `y4m` crate.
    Y4m { enc: y4m::Encoder<Box<dyn Write>>, scaler: Scaler },
    /// An FFmpeg-muxed file.
    Ffmpeg(Box<FfmpegSink>),
}

/// Encoder state for mkv/mp4 output.
pub struct FfmpegSink {
    octx: ffmpeg::format::context::Output,
    encoder: ffmpeg::encoder::Video,
    scaler: Scaler,
    time_base: ffmpeg::Rational,
    stream_tb: ffmpeg::Rational,
    pts: i64,
}

impl VideoSink {
    /// Creates `path` (`-` writes y4m to standard output) for frames of `info`'s geometry.
    pub fn create(path: &Path, info: VideoInfo) -> Result<Self, String> {
        init()?;
        let (w, h) = (info.width, info.height);
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if path == Path::new("-") || ext.as_deref() == Some("y4m") {
            let out: Box<dyn Write> = if path == Path::new("-") {
                Box::new(std::io::BufWriter::new(std::io::stdout()))
            } else {
                Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
                ))
            };
            let rate = y4m::Ratio::new(info.frame_rate.0 as usize, info.frame_rate.1 as usize);
            let enc = y4m::encode(w as usize, h as usize, rate)
                .with_colorspace(y4m::Colorspace::C420mpeg2)
                .write_header(out)
                .map_err(|e| format!("cannot write {}: {e:?}", path.display()))?;
            let scaler =
                Scaler::get(Pixel::RGB24, w, h, Pixel::YUV420P, w, h, Flags::BICUBIC | Flags::ACCURATE_RND)
                    .map_err(|e| format!("colour conversion: {e}"))?;
            return Ok(Self::Y4m { enc, scaler });
        }
        let (codec_id, pixel, opts) = match ext.as_deref() {
            Some("mkv") => (ffmpeg::codec::Id::FFV1, Pixel::BGRZ, vec![("level", "3")]),
            Some("mp4") => (ffmpeg::codec::Id::H264, Pixel::YUV444P, vec![("qp", "0"), ("preset", "medium")]),
            _ => {
                return Err(format!(
                    "{}: write .y4m, .mkv (FFV1, lossless) or .mp4 (H.264 QP 0)",
                    path.display()
                ));
            }
        };
        let codec = ffmpeg::encoder::find(codec_id)
            .ok_or_else(|| format!("this FFmpeg has no {codec_id:?} encoder"))?;
        let mut octx =
            ffmpeg::format::output(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let global = octx.format().flags().contains(ffmpeg::format::Flags::GLOBAL_HEADER);
        let mut ost = octx.add_stream(codec).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut enc = ffmpeg::codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let time_base = ffmpeg::Rational(info.frame_rate.1 as i32, info.frame_rate.0 as i32);
        enc.set_width(w);
        enc.set_height(h);
        enc.set_format(pixel);
        enc.set_time_base(time_base);
        enc.set_frame_rate(Some(ffmpeg::Rational(info.frame_rate.0 as i32, info.frame_rate.1 as i32)));
        if global {
            enc.set_flags(ffmpeg::codec::Flags::GLOBAL_HEADER);
        }
        let mut dict = ffmpeg::Dictionary::new();
        for (k, v) in opts {
            dict.set(k, v);
        }
        let encoder = enc
            .open_with(dict)
            .map_err(|e| format!("{}: cannot open the {codec_id:?} encoder: {e}", path.display()))?;
        ost.set_parameters(&encoder);
        ost.set_time_base(time_base);
        octx.write_header().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let stream_tb = octx.stream(0).map_or(time_base, |s| s.time_base());
        let scaler = Scaler::get(Pixel::RGB24, w, h, pixel, w, h, Flags::BICUBIC | Flags::ACCURATE_RND)
            .map_err(|e| format!("colour conversion: {e}"))?;
        Ok(Self::Ffmpeg(Box::new(FfmpegSink { octx, encoder, scaler, time_base, stream_tb, pts: 0 })))
    }

    /// Appends a frame.
    pub fn write(&mut self, img: &RgbImage) -> Result<(), String> {
        let src = rgb_frame(img);
        match self {
            Self::Y4m { enc, scaler } => {
                let mut yuv = AvFrame::empty();
                scaler.run(&src, &mut yuv).map_err(|e| format!("colour conversion: {e}"))?;
                let (w, h) = (img.width() as usize, img.height() as usize);
                let plane = |i: usize, pw: usize, ph: usize| -> Vec<u8> {
                    let (d, s) = (yuv.data(i), yuv.stride(i));
                    (0..ph).flat_map(|y| d[y * s..y * s + pw].iter().copied()).collect()
                };
                let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
                let (y, u, v) = (plane(0, w, h), plane(1, cw, ch), plane(2, cw, ch));
                enc.write_frame(&y4m::Frame::new([&y, &u, &v], None))
                    .map_err(|e| format!("writing y4m: {e:?}"))
            }
            Self::Ffmpeg(s) => {
                let mut conv = AvFrame::empty();
                s.scaler.run(&src, &mut conv).map_err(|e| format!("colour conversion: {e}"))?;
                conv.set_pts(Some(s.pts));
                s.pts += 1;
                s.encoder.send_frame(&conv).map_err(|e| format!("encoding: {e}"))?;
                s.drain()
            }
        }
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<(), String> {
        match self {
            Self::Y4m { enc, .. } => {
                drop(enc);
                Ok(())
            }
            Self::Ffmpeg(mut s) => {
                s.encoder.send_eof().map_err(|e| format!("encoding: {e}"))?;
                s.drain()?;
                s.octx.write_trailer().map_err(|e| format!("writing trailer: {e}"))
            }
        }
    }
}

impl FfmpegSink {
    fn drain(&mut self) -> Result<(), String> {
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(0);
            packet.rescale_ts(self.time_base, self.stream_tb);
            packet.write_interleaved(&mut self.octx).map_err(|e| format!("writing: {e}"))?;
        }
        Ok(())
    }
}

/// An image as an RGB24 FFmpeg frame.
fn rgb_frame(img: &RgbImage) -> AvFrame {
    let (w, h) = img.dimensions();
    let mut f = AvFrame::new(Pixel::RGB24, w, h);
    let stride = f.stride(0);
    let row = w as usize * 3;
    let data = f.data_mut(0);
    for (y, src) in img.as_raw().chunks_exact(row).enumerate() {
        data[y * stride..y * stride + row].copy_from_slice(src);
    }
    f
}
