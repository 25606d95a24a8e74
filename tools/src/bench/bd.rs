//! Bjøntegaard deltas: BD-rate and BD-PSNR between two rate–distortion curves.
//!
//! Both variants of the common practice are provided: the original cubic polynomial fit
//! (VCEG-M33) and piecewise cubic Hermite interpolation (pchip, as in the JVET/CompressAI
//! tools). Rates enter as `ln(bpp)`; integrals run over the overlap of the two quality (or
//! rate) ranges.

/// How curves are interpolated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Least-squares cubic polynomial through all points.
    Cubic,
    /// Piecewise cubic Hermite interpolation (monotone, Fritsch–Carlson).
    Pchip,
}

/// Average rate difference of `test` against `anchor` at equal quality, in percent
/// (negative: `test` needs fewer bits). `None` when the curves do not overlap or have fewer
/// than 4 points (cubic) / 2 points (pchip).
pub fn bd_rate(anchor: &[(f64, f64)], test: &[(f64, f64)], fit: Fit) -> Option<f64> {
    // x = quality, y = ln(rate).
    let a: Vec<(f64, f64)> = anchor.iter().map(|&(r, q)| (q, r.ln())).collect();
    let t: Vec<(f64, f64)> = test.iter().map(|&(r, q)| (q, r.ln())).collect();
    let diff = mean_difference(&a, &t, fit)?;
    Some((diff.exp() - 1.0) * 100.0)
}

/// Average quality difference of `test` against `anchor` at equal rate (e.g. dB).
pub fn bd_quality(anchor: &[(f64, f64)], test: &[(f64, f64)], fit: Fit) -> Option<f64> {
    let a: Vec<(f64, f64)> = anchor.iter().map(|&(r, q)| (r.ln(), q)).collect();
    let t: Vec<(f64, f64)> = test.iter().map(|&(r, q)| (r.ln(), q)).collect();
    mean_difference(&a, &t, fit)
}

/// Mean of `f_t − f_a` over the overlap of the x ranges, each curve interpolated in x.
fn mean_difference(a: &[(f64, f64)], t: &[(f64, f64)], fit: Fit) -> Option<f64> {
    let (a, t) = (sorted(a), sorted(t));
    let need = if fit == Fit::Cubic { 4 } else { 2 };
    if a.len() < need || t.len() < need {
        return None;
    }
    let lo = a[0].0.max(t[0].0);
    let hi = a[a.len() - 1].0.min(t[t.len() - 1].0);
    if hi <= lo {
        return None;
    }
    let integral = |pts: &[(f64, f64)]| match fit {
        Fit::Cubic => {
            let c = cubic_fit(pts)?;
            let prim =
                |x: f64| c[0] * x + c[1] * x * x / 2.0 + c[2] * x.powi(3) / 3.0 + c[3] * x.powi(4) / 4.0;
            Some(prim(hi) - prim(lo))
        }
        Fit::Pchip => Some(pchip_integral(pts, lo, hi)),
    };
    Some((integral(&t)? - integral(&a)?) / (hi - lo))
}

/// The finite points of a curve, sorted by x, one per x.
fn sorted(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = pts.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    v.sort_by(|p, q| p.0.total_cmp(&q.0));
    v.dedup_by(|p, q| p.0 == q.0);
    v
}

/// Least-squares cubic `c0 + c1 x + c2 x² + c3 x³` (normal equations, Gaussian elimination
/// with partial pivoting).
fn cubic_fit(pts: &[(f64, f64)]) -> Option<[f64; 4]> {
    let mut m = [[0.0f64; 5]; 4];
    for &(x, y) in pts {
        let p = [1.0, x, x * x, x * x * x];
        for (row, pi) in m.iter_mut().zip(p) {
            for (v, pj) in row.iter_mut().zip(p) {
                *v += pi * pj;
            }
            row[4] += pi * y;
        }
    }
    for col in 0..4 {
        let pivot = (col..4).max_by(|&r, &s| m[r][col].abs().total_cmp(&m[s][col].abs()))?;
        m.swap(col, pivot);
        if m[col][col].abs() < 1e-300 {
            return None;
        }
        let pivot_row = m[col];
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (v, p) in r.iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    Some([m[0][4] / m[0][0], m[1][4] / m[1][1], m[2][4] / m[2][2], m[3][4] / m[3][3]])
}

/// The pchip interpolant's slope at each of `pts` (sorted by x, at least 2 points).
fn pchip_slopes(pts: &[(f64, f64)]) -> Vec<f64> {
    let n = pts.len();
    let h: Vec<f64> = (0..n - 1).map(|i| pts[i + 1].0 - pts[i].0).collect();
    let delta: Vec<f64> = (0..n - 1).map(|i| (pts[i + 1].1 - pts[i].1) / h[i]).collect();
    if n == 2 {
        return vec![delta[0]; 2];
    }
    let mut d = vec![0.0; n];
    for i in 1..n - 1 {
        if delta[i - 1] * delta[i] > 0.0 {
            let (w1, w2) = (2.0 * h[i] + h[i - 1], h[i] + 2.0 * h[i - 1]);
            d[i] = (w1 + w2) / (w1 / delta[i - 1] + w2 / delta[i]);
        }
    }
    d[0] = end_slope(h[0], h[1], delta[0], delta[1]);
    d[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
    d
}

/// The Hermite cubic of segment `i` (between `pts[i]` and `pts[i + 1]`) at `x`.
fn hermite(pts: &[(f64, f64)], d: &[f64], i: usize, x: f64) -> f64 {
    let (x0, x1) = (pts[i].0, pts[i + 1].0);
    let h = x1 - x0;
    let t = (x - x0) / h;
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * pts[i].1
        + (t3 - 2.0 * t2 + t) * h * d[i]
        + (-2.0 * t3 + 3.0 * t2) * pts[i + 1].1
        + (t3 - t2) * h * d[i + 1]
}

/// Integral over `[lo, hi]` of the pchip interpolant through `pts` (sorted by x).
fn pchip_integral(pts: &[(f64, f64)], lo: f64, hi: f64) -> f64 {
    let d = pchip_slopes(pts);
    // Integrate each Hermite segment over its part of [lo, hi] with Simpson's rule, exact
    // for cubics.
    let mut total = 0.0;
    for i in 0..pts.len() - 1 {
        let (a, b) = (pts[i].0.max(lo), pts[i + 1].0.min(hi));
        if b <= a {
            continue;
        }
        let f = |x: f64| hermite(pts, &d, i, x);
        total += (b - a) / 6.0 * (f(a) + 4.0 * f((a + b) / 2.0) + f(b));
    }
    total
}

/// Rate of `test` at each of its own points against `anchor`'s rate at the same quality, in
/// percent (negative: fewer bits), the anchor's `ln(rate)` interpolated by pchip in quality
/// as BD-rate does. `None` where a point's quality lies outside the anchor's range. BD-rate
/// is the mean of this over the overlap; the points show where along the curve a codec wins
/// or loses.
pub fn rate_differences(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Vec<Option<f64>> {
    let a = sorted(&anchor.iter().map(|&(r, q)| (q, r.ln())).collect::<Vec<_>>());
    let d = if a.len() >= 2 { pchip_slopes(&a) } else { Vec::new() };
    test.iter()
        .map(|&(rate, q)| {
            let i = a.windows(2).position(|w| w[0].0 <= q && q <= w[1].0)?;
            let ln_anchor = hermite(&a, &d, i, q);
            Some(((rate.ln() - ln_anchor).exp() - 1.0) * 100.0)
        })
        .collect()
}

/// SciPy's three-point end condition for pchip.
fn end_slope(h0: f64, h1: f64, m0: f64, m1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if d.signum() != m0.signum() {
        0.0
    } else if m0.signum() != m1.signum() && d.abs() > 3.0 * m0.abs() {
        3.0 * m0
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> Vec<(f64, f64)> {
        vec![(0.2, 28.0), (0.45, 31.0), (0.8, 34.0), (1.4, 37.0), (2.1, 39.5)]
    }

    #[test]
    fn identical_curves_give_zero() {
        for fit in [Fit::Cubic, Fit::Pchip] {
            assert!(bd_rate(&curve(), &curve(), fit).expect("overlap").abs() < 1e-9);
            assert!(bd_quality(&curve(), &curve(), fit).expect("overlap").abs() < 1e-9);
        }
    }

    #[test]
    fn rates_times_point_nine_give_minus_ten_percent() {
        let test: Vec<(f64, f64)> = curve().iter().map(|&(r, q)| (r * 0.9, q)).collect();
        for fit in [Fit::Cubic, Fit::Pchip] {
            let bd = bd_rate(&curve(), &test, fit).expect("overlap");
            assert!((bd + 10.0).abs() < 1e-9, "{fit:?}: {bd}");
        }
    }

    #[test]
    fn quality_shift_gives_bd_psnr() {
        let test: Vec<(f64, f64)> = curve().iter().map(|&(r, q)| (r, q + 0.5)).collect();
        for fit in [Fit::Cubic, Fit::Pchip] {
            let bd = bd_quality(&curve(), &test, fit).expect("overlap");
            assert!((bd - 0.5).abs() < 1e-9, "{fit:?}: {bd}");
        }
    }

    #[test]
    fn rate_differences_at_each_point() {
        // On the anchor's own points the interpolant is exact; a curve at 0.8× the rate is
        // −20% at every point, and a point beyond the anchor's quality range has no value.
        let test: Vec<(f64, f64)> = curve().iter().map(|&(r, q)| (r * 0.8, q)).collect();
        for d in rate_differences(&curve(), &test) {
            assert!((d.expect("inside the range") + 20.0).abs() < 1e-9);
        }
        // Between points ln(rate) is interpolated; through two points that is a straight
        // line, so the anchor needs 2 bpp at 35 dB and 1 bpp there is −50%. Outside the
        // anchor's range there is no value.
        let anchor = [(1.0, 30.0), (4.0, 40.0)];
        let got = rate_differences(&anchor, &[(1.0, 35.0), (1.0, 41.0)]);
        assert!((got[0].expect("inside") + 50.0).abs() < 1e-9, "{got:?}");
        assert_eq!(got[1], None);
    }

    #[test]
    fn disjoint_or_short_curves_have_no_delta() {
        let far: Vec<(f64, f64)> = curve().iter().map(|&(r, q)| (r, q + 50.0)).collect();
        assert_eq!(bd_rate(&curve(), &far, Fit::Pchip), None);
        assert_eq!(bd_rate(&curve()[..3], &curve(), Fit::Cubic), None);
    }
}
