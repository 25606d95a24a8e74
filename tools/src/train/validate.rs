//! Periodic validation on Kodak with the *real* coded size: the latents are entropy-coded
//! with the integer tables and wrapped in a lic container, and bpp is that file's size.

use std::io::Write;
use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use lic_bitstream::{ColourSpace, ImageFile, ImageHeader, ModelId, Quality};
use lic_entropy::{ScaleTable, TableSet};
use lic_models::net::ImageModel;

/// Qualities validated at each round.
const QUALITIES: [f64; 3] = [1.0, 4.0, 8.0];

/// The validation images and coders.
pub struct Validator {
    images: Vec<image::RgbImage>,
    scales: ScaleTable,
    gaussian: TableSet,
}

impl Validator {
    /// Loads the first `n` Kodak images.
    pub fn new(root: &Path, n: usize) -> Result<Self, String> {
        let files = lic_datasets::kodak(root).map_err(|e| e.to_string())?;
        let images = files
            .iter()
            .take(n.max(1))
            .map(|f| lic_datasets::load_image(f).map(|i| i.into_rgb8()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        let scales = ScaleTable::default();
        let gaussian = TableSet::gaussian(&scales).map_err(|e| e.to_string())?;
        Ok(Self { images, scales, gaussian })
    }

    /// Codes every image at each validation quality; appends means to the CSV file `csv`.
    pub fn run(&self, model: &ImageModel, step: u64, csv: &Path) -> Result<(), String> {
        // The model's own device (the CPU, or the GPU it trains on).
        let device = model.devices().into_iter().next().unwrap_or_else(Device::flex);
        let z_coder =
            TableSet::new(model.z_distributions().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let exact = lic_models::net::ExactParams::new(model)?;
        let name = csv.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut csv = crate::io::append_csv(csv, "step,quality,images,bpp,psnr")?;
        for q in QUALITIES {
            let (mut bpp, mut psnr) = (0.0, 0.0);
            for img in &self.images {
                let x = lic_codec::image_to_tensor(img, &device);
                let coded = model.quantise(&exact, x, q, &self.scales);
                let chunks = vec![
                    lic_codec::latents_chunk(&z_coder, &self.gaussian, &coded, 0)
                        .map_err(|e| e.to_string())?,
                ];
                let header = ImageHeader {
                    model: ModelId { name: "training".into(), digest: [0; 32] },
                    quality: Quality::from_f64(q).unwrap_or(Quality::from_milli(1000)),
                    width: img.width(),
                    height: img.height(),
                    channels: 3,
                    bit_depth: 8,
                    colour_space: ColourSpace::Srgb,
                    tiling: None,
                };
                let file = ImageFile::new(header, chunks).to_bytes().map_err(|e| e.to_string())?;
                bpp += file.len() as f64 * 8.0 / f64::from(img.width() * img.height());
                // PSNR on the 8-bit output, as a user would see it.
                let x_hat = model.reconstruct(coded.latents, q, &device);
                let rec = lic_codec::tensor_to_image(x_hat, img.width(), img.height());
                psnr += crate::bench::metrics::psnr(img, &rec);
            }
            let n = self.images.len() as f64;
            writeln!(csv, "{step},{q},{},{:.4},{:.3}", self.images.len(), bpp / n, psnr / n)
                .map_err(|e| e.to_string())?;
            eprintln!(
                "step {step}: Kodak[{}] q{q}: {:.4} bpp (real), {:.2} dB ({name})",
                self.images.len(),
                bpp / n,
                psnr / n
            );
        }
        Ok(())
    }
}
