//! Encoder-side latent refinement: a better choice of symbols for the same decoder.
//!
//! `g_a` is amortised: it proposes a latent that is good on average over the training data,
//! not the best one for this image. Refinement starts from its proposal and runs a few steps
//! of gradient descent on the image's own rate–distortion loss, `λ·255²·MSE + bpp`, with every
//! decoder network fixed, so the result is coded and decoded exactly like any latent: the
//! format and decoders are untouched. Measured on Kodak 01–06 (docs/refine): −3.9% BD-rate,
//! almost all of it at the top qualities, where the transforms are pushed hardest.
//!
//! The loss codes with rounding in the forward pass, as the decoder will see it. The
//! distortion gets a straight-through gradient; the rate gets the gradient of the unrounded
//! residual's rate, which pulls residuals toward the mean even where they round to zero (a
//! straight-through gradient is zero inside the zero bin, and the distortion term alone only
//! pushes symbols out of it). Yang et al. (2020) found soft rounding better, at more
//! iterations than a CPU encoder can afford.

use burn::tensor::Tensor;

use super::model::{ImageModel, LAMBDAS, QUALITIES, gaussian_likelihood, ste_round};

/// The default step size of [`ImageModel::refine_latent`] (Adam, on `y` with gains applied),
/// measured on Kodak 01–06 at 30 iterations (docs/refine).
pub const REFINE_STEP: f64 = 0.02;

/// The rate–distortion trade-off `λ` (on the 0–255² MSE scale) a quality was trained for:
/// the ladder's values at integer qualities, log-linear in between, as the gains are.
pub fn lambda(quality: f64) -> f64 {
    let q = quality.clamp(1.0, QUALITIES as f64) - 1.0;
    let lo = (q.floor() as usize).min(QUALITIES - 2);
    let t = q - lo as f64;
    (LAMBDAS[lo].ln() * (1.0 - t) + LAMBDAS[lo + 1].ln() * t).exp()
}

impl ImageModel {
    /// `λ·255²·MSE + bpp` of coding `y` (gains of `quality` applied) for the image `x`
    /// (`[B, 3, H, W]`, the padded tensor the encoder codes), with rounding in the forward
    /// pass and the slices decoded in order as the codec decodes them. The distortion counts
    /// the visible `width × height` pixels only, the rate is per visible pixel.
    pub fn refine_loss(
        &self,
        y: Tensor<4>,
        x: &Tensor<4>,
        quality: f64,
        visible: (usize, usize),
    ) -> Tensor<1> {
        let (mse, bpp) = self.coded_rd(y, x, quality, visible);
        mse.mul_scalar(lambda(quality) * 255.0 * 255.0) + bpp
    }

    /// The two terms of [`ImageModel::refine_loss`]: MSE (on a 0–1 scale) and bits per
    /// visible pixel, averaged over the batch. Gradients reach `y` and every network that
    /// requires them; the rate's through the unrounded residuals (see the module notes).
    pub fn coded_rd(
        &self,
        y: Tensor<4>,
        x: &Tensor<4>,
        quality: f64,
        visible: (usize, usize),
    ) -> (Tensor<1>, Tensor<1>) {
        let (_, inv_gain) = self.gains(quality);
        let z_hat = ste_round(self.h_a.forward(y.clone()));
        let z_bits = self.prior.likelihood(z_hat.clone()).log().sum();
        let (y_hat, y_likelihood) = self.slice_loop(self.h_s.forward(z_hat), y, |r, sigma| {
            let zeros = Tensor::zeros(r.dims(), &r.device());
            let coded = gaussian_likelihood(r.clone().round(), zeros.clone(), sigma.clone()).log();
            let soft = gaussian_likelihood(r.clone(), zeros, sigma).log();
            // The value is the rounded residual's rate, the gradient the unrounded one's.
            (ste_round(r), soft.clone() + (coded - soft).detach())
        });
        let (w, h) = visible;
        let batch = x.dims()[0];
        let x_hat = self.g_s.forward(y_hat * inv_gain).narrow(2, 0, h).narrow(3, 0, w);
        let bits = (y_likelihood.sum() + z_bits).div_scalar(-std::f64::consts::LN_2);
        let mse = (x_hat - x.clone().narrow(2, 0, h).narrow(3, 0, w)).powi_scalar(2).mean();
        (mse, bits.div_scalar((batch * w * h) as f64))
    }

    /// Refines the latent `y0` that [`ImageModel::analyse`] proposed for `x` at `quality` by
    /// `iterations` Adam steps on [`ImageModel::refine_loss`] (step `step`, decaying linearly to
    /// a tenth so the last steps settle), and returns the iterate with the lowest loss, `y0`
    /// itself when no step improved on it. Only `y` is tracked: the networks stay on their
    /// device without gradients. `None` when this device computes no gradients.
    ///
    /// The loss uses the float networks' means and scales, not the exact path's and the
    /// coder's scale bins, so an encoder should compare the real coded results before keeping
    /// the refined latent.
    pub fn refine_latent(
        &self,
        x: &Tensor<4>,
        y0: Tensor<4>,
        quality: f64,
        visible: (usize, usize),
        iterations: usize,
        step: f64,
    ) -> Option<Tensor<4>> {
        descend(y0, iterations, step, |y| self.refine_loss(y, x, quality, visible))
    }
}

/// Adam on a latent for `iterations` steps of `loss` (step size `step`, decaying linearly to a
/// tenth so the last steps settle), starting at `y0`; returns the iterate with the lowest
/// loss, `y0` itself when no step improved on it. `loss` gets `y` tracked for gradients and
/// must depend on it; only `y` is optimised. `None` when the device computes no gradients.
pub fn descend(
    y0: Tensor<4>,
    iterations: usize,
    step: f64,
    mut loss: impl FnMut(Tensor<4>) -> Tensor<1>,
) -> Option<Tensor<4>> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    let (mut y, mut m, mut v) = (y0.clone(), y0.zeros_like(), y0.zeros_like());
    let (mut best, mut best_loss) = (y0, f64::INFINITY);
    for t in 1..=iterations + 1 {
        let tracked = y.clone().autodiff().require_grad();
        let value_t = loss(tracked.clone());
        let value = f64::from(value_t.clone().into_scalar::<f32>());
        // Refinement's forward pass rounds, so its loss is the coded one up to the coder's
        // tables: the best iterate can be chosen on its value.
        if value < best_loss {
            (best, best_loss) = (y.clone(), value);
        }
        if t > iterations {
            break;
        }
        let grads = value_t.backward();
        let g = tracked.grad(&grads)?;
        m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
        v = v.mul_scalar(b2) + g.powi_scalar(2).mul_scalar(1.0 - b2);
        let m_hat = m.clone().div_scalar(1.0 - b1.powi(t as i32));
        let v_hat = v.clone().div_scalar(1.0 - b2.powi(t as i32));
        let lr = step * (1.0 - 0.9 * (t - 1) as f64 / iterations as f64);
        y = y - (m_hat / v_hat.sqrt().add_scalar(eps)).mul_scalar(lr);
    }
    Some(best)
}
