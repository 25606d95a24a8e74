//! Gaussian conditional tables: a fixed ladder of scales, one integer table per scale.

use crate::error::Result;
use crate::table::{Distribution, MAX_SYMBOLS};

/// Number of scale bins in the default ladder.
pub const DEFAULT_SCALE_BINS: usize = 64;
/// Smallest scale of the default ladder (as in CompressAI).
pub const DEFAULT_SCALE_MIN: f64 = 0.11;
/// Largest scale of the default ladder.
pub const DEFAULT_SCALE_MAX: f64 = 256.0;
/// Half-width of each table's in-range support, in standard deviations; values further out
/// are escaped. 6σ leaves ~2e-9 of the mass to the escape.
pub const TAIL_SIGMAS: f64 = 6.0;

/// An increasing ladder of Gaussian scales (standard deviations).
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleTable {
    scales: Vec<f64>,
}

impl Default for ScaleTable {
    /// 64 scales spaced evenly in log between 0.11 and 256.
    fn default() -> Self {
        Self::log_spaced(DEFAULT_SCALE_MIN, DEFAULT_SCALE_MAX, DEFAULT_SCALE_BINS)
    }
}

impl ScaleTable {
    /// `bins` scales from `min` to `max`, evenly spaced in log. Uses `libm` (pure software,
    /// no platform intrinsics) so the ladder is identical everywhere.
    pub fn log_spaced(min: f64, max: f64, bins: usize) -> Self {
        let bins = bins.max(2);
        let (lo, hi) = (libm::log(min), libm::log(max));
        let step = (hi - lo) / (bins - 1) as f64;
        let scales = (0..bins).map(|i| libm::exp(lo + step * i as f64)).collect();
        Self { scales }
    }

    /// The scales, increasing.
    pub fn scales(&self) -> &[f64] {
        &self.scales
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// Always false: a ladder has at least two bins.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The bin for a predicted scale: the largest ladder scale ≤ `scale`, clamped to the
    /// ladder (NaN maps to bin 0). The result depends only on IEEE comparisons, so equal
    /// inputs give equal bins everywhere; callers that need cross-device agreement must
    /// feed it equal inputs (lic derives them in integer arithmetic).
    pub fn bin(&self, scale: f32) -> u16 {
        let s = f64::from(scale);
        self.scales.partition_point(|&x| x <= s).saturating_sub(1) as u16
    }

    /// One integer table per scale bin: discretised N(0, σ²) over `−K ..= K` with
    /// `K = max(1, ceil(6σ))`, the two tails together as the escape.
    pub fn distributions(&self) -> Result<Vec<Distribution>> {
        self.scales.iter().map(|&s| gaussian_distribution(s)).collect()
    }
}

/// Upper tail `Q(x) = P(X > x)` of the standard normal, accurate far into the tail.
fn upper_tail(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

/// The table of one zero-mean Gaussian of scale `sigma`, symmetric by construction.
pub fn gaussian_distribution(sigma: f64) -> Result<Distribution> {
    let max_half = ((MAX_SYMBOLS - 2) / 2) as f64;
    let k = (sigma * TAIL_SIGMAS).ceil().clamp(1.0, max_half) as i32;
    let mut pmf = Vec::with_capacity(2 * k as usize + 1);
    for i in -k..=k {
        let a = f64::from(i.unsigned_abs());
        // Mass of [|i| − ½, |i| + ½] computed from the upper tail so that small tail
        // probabilities keep their relative precision; i = 0 covers [−½, ½].
        let p = if i == 0 {
            1.0 - 2.0 * upper_tail(0.5 / sigma)
        } else {
            upper_tail((a - 0.5) / sigma) - upper_tail((a + 0.5) / sigma)
        };
        pmf.push(p);
    }
    let tail = 2.0 * upper_tail((f64::from(k) + 0.5) / sigma);
    Distribution::from_pmf(-k, &pmf, tail)
}
