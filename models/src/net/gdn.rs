//! Generalized divisive normalisation (Ballé et al. 2016) and its inverse.

use burn::module::{Module, Param};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

/// `y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²)` (or `x_i · sqrt(…)` for the inverse, IGDN).
///
/// β and γ are stored as square roots: `γ = p²` and `β = p² + β_min`. Both stay positive
/// and, unlike a clamp at a lower bound, every entry keeps a gradient. That matters: γ's
/// off-diagonal entries start at (almost) zero, on a clamp-based bound, and Burn's
/// `clamp_min` passes no gradient below it, so once Adam stepped them under it the
/// cross-channel terms never learned again and every GDN stayed diagonal (what CompressAI
/// avoids with a custom `LowerBound` gradient). Squares are symmetric, so a parameter that
/// overshoots zero just comes back; it does not get stuck below a bound.
#[derive(Module, Debug)]
pub struct Gdn {
    beta: Param<Tensor<1>>,
    gamma: Param<Tensor<2>>,
    inverse: bool,
}

const BETA_MIN: f64 = 1e-6;
/// Initial root of γ's off-diagonal entries: γ ≈ 1e-6, negligible next to the diagonal's
/// 0.1, but far enough from zero that the gradient 2p·∂L/∂γ is not lost under Adam's ε.
const OFF_DIAGONAL_ROOT: f64 = 1e-3;

impl Gdn {
    /// A GDN (or IGDN) over `channels`, initialised to β = 1, γ = 0.1·I (+ ≈1e-6 off the
    /// diagonal).
    pub fn new(channels: usize, inverse: bool, device: &Device) -> Self {
        let beta = Tensor::<1>::ones([channels], device).sub_scalar(BETA_MIN).sqrt();
        let eye = Tensor::<2>::eye(channels, device);
        let gamma = eye.clone().mul_scalar(0.1f64.sqrt() - OFF_DIAGONAL_ROOT).add_scalar(OFF_DIAGONAL_ROOT);
        Self { beta: Param::from_tensor(beta), gamma: Param::from_tensor(gamma), inverse }
    }

    /// Applies the normalisation to `[B, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let c = self.beta.dims()[0];
        let beta = self.beta.val().powi_scalar(2).add_scalar(BETA_MIN);
        let gamma = self.gamma.val().powi_scalar(2);
        let norm = conv2d(
            x.clone().powi_scalar(2),
            gamma.reshape([c, c, 1, 1]),
            Some(beta),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        if self.inverse { x * norm.sqrt() } else { x * norm.sqrt().recip() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// Every γ entry must get a gradient, the cross-channel ones included, also after an Adam
    /// step has taken them across zero: a reparameterisation that blocks them there (a clamp
    /// at a lower bound) silently makes the GDN diagonal for the rest of training.
    #[test]
    fn cross_channel_terms_get_gradients() {
        let device = Device::flex().autodiff();
        for (inverse, sign) in [(false, 1.0), (true, 1.0), (false, -1.0), (true, -1.0)] {
            let mut gdn = Gdn::new(4, inverse, &device);
            let eye = Tensor::<2>::eye(4, &device);
            let root = eye.clone().mul_scalar(0.1f64.sqrt())
                + (eye.neg().add_scalar(1.0)).mul_scalar(sign * OFF_DIAGONAL_ROOT);
            gdn.gamma = Param::from_tensor(root);
            let x = Tensor::<4>::random([2, 4, 5, 5], Distribution::Uniform(-2.0, 2.0), &device);
            let grads = gdn.forward(x).powi_scalar(2).sum().backward();
            let g: Vec<f32> =
                gdn.gamma.val().grad(&grads).expect("γ has a gradient").into_data().iter().collect();
            for i in 0..4 {
                for j in 0..4 {
                    assert!(
                        g[i * 4 + j].abs() > 1e-9,
                        "γ[{i}][{j}] gets no gradient (inverse = {inverse}): {g:?}"
                    );
                }
            }
        }
    }
}
