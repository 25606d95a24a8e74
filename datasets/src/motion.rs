//! Synthetic video for training the inter-frame model: there is no large video training set
//! here, so frame pairs are made from still photos by a random camera motion between them —
//! sub-pixel translation, zoom, small rotation and a brightness drift.

use image::RgbImage;

/// Ranges of the random motion between two frames (each drawn uniformly in `±max`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    /// Translation in pixels, per axis.
    pub shift: f32,
    /// Relative zoom (0.03 = up to 3% in or out).
    pub zoom: f32,
    /// Rotation in degrees.
    pub rotate_deg: f32,
    /// Relative brightness change (0.03 = up to ±3%).
    pub brightness: f32,
}

impl Default for Motion {
    fn default() -> Self {
        Self { shift: 6.0, zoom: 0.03, rotate_deg: 1.5, brightness: 0.03 }
    }
}

/// One motion draw: the second frame samples the first's scene at
/// `centre + R(θ)·p / s + d`, scaled in brightness by `b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotionDraw {
    /// Translation `(dx, dy)` in pixels.
    pub shift: (f32, f32),
    /// Zoom factor `s`.
    pub zoom: f32,
    /// Rotation `θ` in radians.
    pub angle: f32,
    /// Brightness factor `b`.
    pub brightness: f32,
}

impl Motion {
    /// Draws one motion from `u`, a source of uniform numbers in `[0, 1)` (the caller's RNG,
    /// so runs stay reproducible from their seed). Magnitudes are skewed towards zero
    /// (`max · v²`, `v` uniform): in real video most frame-to-frame motion is small and much
    /// of the picture holds still.
    pub fn draw(&self, mut u: impl FnMut() -> f32) -> MotionDraw {
        let mut sym = |max: f32| {
            let v = u() * 2.0 - 1.0;
            v * v.abs() * max
        };
        MotionDraw {
            shift: (sym(self.shift), sym(self.shift)),
            zoom: 1.0 + sym(self.zoom),
            angle: sym(self.rotate_deg).to_radians(),
            brightness: 1.0 + sym(self.brightness),
        }
    }
}

/// Two `patch`×`patch` frames, planar RGB in `[0, 1]` (`[3][patch][patch]` each): the first
/// is the crop at `(x0, y0)` of `img`, the second the same view after `m`, bilinearly
/// resampled (edges clamped).
pub fn frame_pair(img: &RgbImage, x0: u32, y0: u32, patch: u32, m: &MotionDraw) -> (Vec<f32>, Vec<f32>) {
    let p = patch as usize;
    let mut first = vec![0f32; 3 * p * p];
    let mut second = vec![0f32; 3 * p * p];
    let (cx, cy) = (x0 as f32 + patch as f32 / 2.0, y0 as f32 + patch as f32 / 2.0);
    let (sin, cos) = m.angle.sin_cos();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let at = |x: i64, y: i64, c: usize| -> f32 {
        let x = x.clamp(0, img.width() as i64 - 1) as u32;
        let y = y.clamp(0, img.height() as i64 - 1) as u32;
        f32::from(img.get_pixel(x, y)[c]) / 255.0
    };
    for y in 0..p {
        for x in 0..p {
            for c in 0..3 {
                first[(c * p + y) * p + x] = at(i64::from(x0) + x as i64, i64::from(y0) + y as i64, c);
            }
            // Pixel centres relative to the view centre.
            let (u, v) = (x as f32 + 0.5 - patch as f32 / 2.0, y as f32 + 0.5 - patch as f32 / 2.0);
            let sx = (cx + (cos * u - sin * v) / m.zoom + m.shift.0 - 0.5).clamp(0.0, w - 1.0);
            let sy = (cy + (sin * u + cos * v) / m.zoom + m.shift.1 - 0.5).clamp(0.0, h - 1.0);
            let (fx, fy) = (sx.floor(), sy.floor());
            let (tx, ty) = (sx - fx, sy - fy);
            let (ix, iy) = (fx as i64, fy as i64);
            for c in 0..3 {
                let top = at(ix, iy, c) * (1.0 - tx) + at(ix + 1, iy, c) * tx;
                let bottom = at(ix, iy + 1, c) * (1.0 - tx) + at(ix + 1, iy + 1, c) * tx;
                second[(c * p + y) * p + x] =
                    ((top * (1.0 - ty) + bottom * ty) * m.brightness).clamp(0.0, 1.0);
            }
        }
    }
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> RgbImage {
        RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 128]))
    }

    #[test]
    fn no_motion_gives_identical_frames() {
        let still = MotionDraw { shift: (0.0, 0.0), zoom: 1.0, angle: 0.0, brightness: 1.0 };
        let (a, b) = frame_pair(&ramp(), 16, 16, 32, &still);
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-5, "{worst}");
    }

    #[test]
    fn a_shift_moves_the_content() {
        let shift = MotionDraw { shift: (2.0, 0.0), zoom: 1.0, angle: 0.0, brightness: 1.0 };
        let (a, b) = frame_pair(&ramp(), 16, 16, 32, &shift);
        // Red is 4·x: the second frame sees x + 2, i.e. 8/255 more red, inside the crop.
        let (i, j) = (5 * 32 + 10, 5 * 32 + 10);
        assert!((b[j] - a[i] - 8.0 / 255.0).abs() < 1e-4, "{} {}", a[i], b[j]);
        assert!((b[2 * 32 * 32 + j] - a[2 * 32 * 32 + i]).abs() < 1e-5);
    }

    #[test]
    fn draws_stay_in_range() {
        let m = Motion::default();
        let mut k = 0u32;
        for _ in 0..100 {
            let d = m.draw(|| {
                k = k.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (k >> 8) as f32 / (1u32 << 24) as f32
            });
            assert!(d.shift.0.abs() <= m.shift && (d.zoom - 1.0).abs() <= m.zoom);
            assert!(
                d.angle.abs() <= m.rotate_deg.to_radians() + 1e-6
                    && (d.brightness - 1.0).abs() <= m.brightness
            );
        }
    }
}
