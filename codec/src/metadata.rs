//! Metadata carried through verbatim: ICC profile, EXIF and XMP (ancillary chunks).

use lic_bitstream::{Chunk, FourCc, ImageFile};

/// Metadata of an image, each item verbatim as the source format stored it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// ICC colour profile.
    pub icc: Option<Vec<u8>>,
    /// EXIF data, from the TIFF header on.
    pub exif: Option<Vec<u8>>,
    /// XMP packet.
    pub xmp: Option<Vec<u8>>,
}

impl Metadata {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.icc.is_none() && self.exif.is_none() && self.xmp.is_none()
    }

    fn fields(&self) -> [(FourCc, &Option<Vec<u8>>); 3] {
        [(FourCc::ICC, &self.icc), (FourCc::EXIF, &self.exif), (FourCc::XMP, &self.xmp)]
    }

    /// The ancillary chunks holding this metadata.
    pub(crate) fn chunks(&self) -> Vec<Chunk<'static>> {
        self.fields()
            .into_iter()
            .filter_map(|(cc, v)| v.as_ref().map(|bytes| Chunk::new(cc, 0, 0, bytes.clone())))
            .collect()
    }

    /// Reads the metadata chunks of a parsed file.
    pub(crate) fn from_file(file: &ImageFile<'_>) -> Self {
        let get = |cc: FourCc| file.chunk(cc, 0, 0).map(|c| c.payload.to_vec());
        Self { icc: get(FourCc::ICC), exif: get(FourCc::EXIF), xmp: get(FourCc::XMP) }
    }
}
