//! lic as an image format of the `image` crate: [`LicImageDecoder`] implements
//! `image::ImageDecoder`, and [`register_image_format`] installs it behind `image::open` and
//! `ImageReader` (by the `.lic` extension and by the file's magic bytes).

use std::io::Read;

use image::error::{DecodingError, ImageError, ImageFormatHint, ImageResult, LimitError, LimitErrorKind};
use image::{ColorType, ImageDecoder, Limits};
use lic_bitstream::ImageFile;

use crate::decoder::{DEFAULT_MAX_PIXELS, Decoder};
use crate::error::CodecError;
use crate::metadata::Metadata;
use crate::model::Model;

/// A lic file opened for the `image` crate: the header is parsed (and the model checked)
/// up front, the pixels are decoded by `read_image`.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = lic_codec::Model::embedded(lic_codec::Backend::Auto)?;
/// let file = std::fs::File::open("photo.lic")?;
/// let img = image::DynamicImage::from_decoder(lic_codec::LicImageDecoder::new(model, file)?)?;
/// # Ok(()) }
/// ```
pub struct LicImageDecoder {
    model: Model,
    bytes: Vec<u8>,
    dimensions: (u32, u32),
    color: ColorType,
    metadata: Metadata,
    max_pixels: u64,
}

fn decoding_error(e: CodecError) -> ImageError {
    ImageError::Decoding(DecodingError::new(ImageFormatHint::Name("lic".into()), e))
}

impl LicImageDecoder {
    /// Reads a whole lic file from `reader` and checks its header against `model`.
    pub fn new(model: Model, mut reader: impl Read) -> ImageResult<Self> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(ImageError::IoError)?;
        let file = ImageFile::parse(&bytes).map_err(|e| decoding_error(e.into()))?;
        model.inner.weights.check_matches(&file.header.model).map_err(|e| decoding_error(e.into()))?;
        let h = &file.header;
        let color = match h.channels {
            1 => ColorType::L8,
            2 => ColorType::La8,
            3 => ColorType::Rgb8,
            4 => ColorType::Rgba8,
            c => return Err(decoding_error(CodecError::Unsupported(format!("{c} channels")))),
        };
        let dimensions = (h.width, h.height);
        let metadata = Metadata::from_file(&file);
        Ok(Self { model, bytes, dimensions, color, metadata, max_pixels: DEFAULT_MAX_PIXELS })
    }
}

impl ImageDecoder for LicImageDecoder {
    fn dimensions(&self) -> (u32, u32) {
        self.dimensions
    }

    fn color_type(&self) -> ColorType {
        self.color
    }

    fn icc_profile(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.metadata.icc.clone())
    }

    fn exif_metadata(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.metadata.exif.clone())
    }

    fn xmp_metadata(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.metadata.xmp.clone())
    }

    fn set_limits(&mut self, limits: Limits) -> ImageResult<()> {
        limits.check_dimensions(self.dimensions.0, self.dimensions.1)?;
        if let Some(max) = limits.max_alloc {
            // The decoder's working set is a few f32 planes per pixel; keep it within budget.
            self.max_pixels = self.max_pixels.min(max / 64);
            let (w, h) = self.dimensions;
            if u64::from(w) * u64::from(h) > self.max_pixels {
                return Err(ImageError::Limits(LimitError::from_kind(LimitErrorKind::InsufficientMemory)));
            }
        }
        Ok(())
    }

    fn read_image(self, buf: &mut [u8]) -> ImageResult<()> {
        let img = Decoder::new(&self.model)
            .max_pixels(self.max_pixels)
            .decode(&self.bytes)
            .map_err(decoding_error)?;
        let src = img.as_bytes();
        if src.len() != buf.len() {
            return Err(decoding_error(CodecError::Corrupt("decoded size differs from the header".into())));
        }
        buf.copy_from_slice(src);
        Ok(())
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// Lets every `image::open`/`ImageReader` in this process read `.lic` files with `model`
/// (found by extension, or by the magic bytes with `with_guessed_format`). Returns false
/// when a `.lic` decoder was already registered (the first registration stays).
pub fn register_image_format(model: Model) -> bool {
    let registered = image::hooks::register_decoding_hook(
        "lic".into(),
        Box::new(move |reader| Ok(Box::new(LicImageDecoder::new(model.clone(), reader)?))),
    );
    if registered {
        image::hooks::register_format_detection_hook("lic".into(), &lic_bitstream::MAGIC, None);
    }
    registered
}
