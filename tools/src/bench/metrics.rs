//! Distortion metrics on 8-bit RGB: PSNR and MS-SSIM (Wang et al. 2003), computed the way
//! CompressAI's evaluation does (MS-SSIM averaged over the three channels at each scale).

use image::RgbImage;

/// PSNR over all RGB samples, in dB (infinite for identical images).
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let se: f64 =
        a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    let mse = se / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// PSNR of the luma plane (BT.601 weights on 8-bit RGB, full range), in dB: the Y-PSNR video
/// papers report.
pub fn psnr_y(a: &RgbImage, b: &RgbImage) -> f64 {
    let luma = |p: &[u8]| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
    let se: f64 = a
        .as_raw()
        .chunks_exact(3)
        .zip(b.as_raw().chunks_exact(3))
        .map(|(x, y)| (luma(x) - luma(y)).powi(2))
        .sum();
    let mse = se / (a.as_raw().len() / 3) as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

const WEIGHTS: [f64; 5] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
const WIN: usize = 11;

fn gaussian_window() -> [f64; WIN] {
    let mut g = [0.0; WIN];
    for (i, v) in g.iter_mut().enumerate() {
        let x = i as f64 - (WIN / 2) as f64;
        *v = (-x * x / (2.0 * 1.5 * 1.5)).exp();
    }
    let s: f64 = g.iter().sum();
    g.map(|v| v / s)
}

/// One channel as a plane of f64.
#[derive(Clone)]
struct Plane {
    w: usize,
    h: usize,
    v: Vec<f64>,
}

impl Plane {
    /// Separable Gaussian filter, "valid" region only.
    fn blur(&self, g: &[f64; WIN]) -> Plane {
        let (w, h) = (self.w - WIN + 1, self.h - WIN + 1);
        let mut tmp = vec![0.0; w * self.h];
        for y in 0..self.h {
            for x in 0..w {
                tmp[y * w + x] = (0..WIN).map(|k| g[k] * self.v[y * self.w + x + k]).sum();
            }
        }
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = (0..WIN).map(|k| g[k] * tmp[(y + k) * w + x]).sum();
            }
        }
        Plane { w, h, v: out }
    }

    fn mul(&self, o: &Plane) -> Plane {
        Plane { w: self.w, h: self.h, v: self.v.iter().zip(&o.v).map(|(a, b)| a * b).collect() }
    }

    /// 2×2 average pooling (odd edges dropped).
    fn downsample(&self) -> Plane {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut v = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let at = |dx: usize, dy: usize| self.v[(2 * y + dy) * self.w + 2 * x + dx];
                v[y * w + x] = (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4.0;
            }
        }
        Plane { w, h, v }
    }
}

/// Mean SSIM and mean contrast–structure of one channel at one scale.
fn ssim_cs(a: &Plane, b: &Plane, g: &[f64; WIN]) -> (f64, f64) {
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mu_a, mu_b) = (a.blur(g), b.blur(g));
    let (aa, bb, ab) = (a.mul(a).blur(g), b.mul(b).blur(g), a.mul(b).blur(g));
    let n = mu_a.v.len() as f64;
    let (mut ssim, mut cs) = (0.0, 0.0);
    for i in 0..mu_a.v.len() {
        let (ma, mb) = (mu_a.v[i], mu_b.v[i]);
        let (va, vb, cov) = (aa.v[i] - ma * ma, bb.v[i] - mb * mb, ab.v[i] - ma * mb);
        let c = (2.0 * cov + c2) / (va + vb + c2);
        cs += c;
        ssim += c * (2.0 * ma * mb + c1) / (ma * ma + mb * mb + c1);
    }
    (ssim / n, cs / n)
}

/// MS-SSIM of two RGB images, or `None` when the image is too small for five scales
/// (each side must be at least 161 pixels).
pub fn ms_ssim(a: &RgbImage, b: &RgbImage) -> Option<f64> {
    let (w, h) = (a.width() as usize, a.height() as usize);
    if w.min(h) < (WIN - 1) * 16 + 1 || a.dimensions() != b.dimensions() {
        return None;
    }
    let g = gaussian_window();
    let plane = |img: &RgbImage, c: usize| Plane { w, h, v: img.pixels().map(|p| f64::from(p[c])).collect() };
    let mut pa: Vec<Plane> = (0..3).map(|c| plane(a, c)).collect();
    let mut pb: Vec<Plane> = (0..3).map(|c| plane(b, c)).collect();
    let mut result = 1.0;
    for (scale, weight) in WEIGHTS.iter().enumerate() {
        let (mut ssim, mut cs) = (0.0, 0.0);
        for c in 0..3 {
            let (s, k) = ssim_cs(&pa[c], &pb[c], &g);
            ssim += s / 3.0;
            cs += k / 3.0;
        }
        let value = if scale == WEIGHTS.len() - 1 { ssim } else { cs };
        result *= value.max(0.0).powf(*weight);
        pa = pa.iter().map(Plane::downsample).collect();
        pb = pb.iter().map(Plane::downsample).collect();
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed).wrapping_mul(97) >> 24;
            image::Rgb([v as u8, (v as u8).wrapping_add(40), (255 - v) as u8])
        })
    }

    #[test]
    fn identical_images() {
        let a = noise(256, 192, 1);
        assert!(psnr(&a, &a).is_infinite());
        assert!((ms_ssim(&a, &a).expect("large enough") - 1.0).abs() < 1e-12);
    }

    #[test]
    fn psnr_of_a_known_error() {
        let a = RgbImage::from_pixel(8, 8, image::Rgb([100, 100, 100]));
        let b = RgbImage::from_pixel(8, 8, image::Rgb([110, 100, 100]));
        // MSE = 100 / 3 over all samples.
        assert!((psnr(&a, &b) - 10.0 * (255.0f64.powi(2) * 3.0 / 100.0).log10()).abs() < 1e-9);
    }

    #[test]
    fn ms_ssim_drops_with_distortion_and_needs_size() {
        let a = noise(256, 192, 1);
        let b = RgbImage::from_fn(256, 192, |x, y| {
            let p = a.get_pixel(x, y);
            image::Rgb([p[0].saturating_add(((x + y) % 7) as u8 * 6), p[1], p[2]])
        });
        let v = ms_ssim(&a, &b).expect("large enough");
        assert!(v < 0.999 && v > 0.5, "{v}");
        assert_eq!(ms_ssim(&noise(100, 100, 1), &noise(100, 100, 2)), None);
    }
}
