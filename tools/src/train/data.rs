//! Training patches: every image decoded once into memory, then random crops and flips.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;

/// All training images, RGB, decoded once.
pub struct PatchSource {
    images: Vec<image::RgbImage>,
}

impl PatchSource {
    /// Decodes every image in `folders` whose sides are at least `patch`.
    pub fn load(folders: &[impl AsRef<Path>], patch: usize) -> Result<Self, String> {
        let mut images = Vec::new();
        let mut skipped = 0;
        for folder in folders {
            let files = lic_datasets::image_files(folder.as_ref()).map_err(|e| e.to_string())?;
            for f in files {
                let img = lic_datasets::load_image(&f).map_err(|e| e.to_string())?.into_rgb8();
                if (img.width() as usize) < patch || (img.height() as usize) < patch {
                    skipped += 1;
                    continue;
                }
                images.push(img);
            }
        }
        if images.is_empty() {
            return Err(format!("no training image is at least {patch}×{patch} ({skipped} smaller)"));
        }
        Ok(Self { images })
    }

    /// A random image.
    pub fn pick(&self, rng: &mut impl Rng) -> &image::RgbImage {
        &self.images[rng.random_range(0..self.images.len())]
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// A batch `[B, 3, P, P]` in [0, 1]: random image, random crop, random horizontal and
    /// vertical flips, all drawn from `rng`.
    pub fn batch(&self, rng: &mut impl Rng, batch: usize, patch: usize, device: &Device) -> Tensor<4> {
        let mut data = Vec::with_capacity(batch * 3 * patch * patch);
        for _ in 0..batch {
            let img = &self.images[rng.random_range(0..self.images.len())];
            let x0 = rng.random_range(0..=img.width() as usize - patch);
            let y0 = rng.random_range(0..=img.height() as usize - patch);
            let (fx, fy) = (rng.random::<bool>(), rng.random::<bool>());
            for c in 0..3 {
                for y in 0..patch {
                    let sy = if fy { patch - 1 - y } else { y };
                    for x in 0..patch {
                        let sx = if fx { patch - 1 - x } else { x };
                        let p = img.get_pixel((x0 + sx) as u32, (y0 + sy) as u32);
                        data.push(f32::from(p[c]) / 255.0);
                    }
                }
            }
        }
        Tensor::from_data(TensorData::new(data, [batch, 3, patch, patch]), device)
    }
}
