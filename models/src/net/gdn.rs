//! Generalized divisive normalisation (Ballé et al. 2016) and its inverse.

use burn::module::{Module, Param};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

/// `y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²)` (or `x_i · sqrt(…)` for the inverse, IGDN).
///
/// β and γ are stored reparameterised (as in CompressAI): the stored value `p` maps to
/// `max(p, √(bound + ε))² − ε`, which keeps both positive and well-conditioned near zero.
#[derive(Module, Debug)]
pub struct Gdn {
    beta: Param<Tensor<1>>,
    gamma: Param<Tensor<2>>,
    inverse: bool,
}

const PEDESTAL: f64 = 1.0 / (1u64 << 36) as f64; // 2^-36: (2^-18)²
const BETA_MIN: f64 = 1e-6;

fn reparam_bound(min: f64) -> f64 {
    (min + PEDESTAL).sqrt()
}

impl Gdn {
    /// A GDN (or IGDN) over `channels`, initialised to β = 1, γ = 0.1·I.
    pub fn new(channels: usize, inverse: bool, device: &Device) -> Self {
        let beta = Tensor::<1>::ones([channels], device).add_scalar(PEDESTAL).sqrt();
        let gamma = Tensor::<2>::eye(channels, device).mul_scalar(0.1).add_scalar(PEDESTAL).sqrt();
        Self { beta: Param::from_tensor(beta), gamma: Param::from_tensor(gamma), inverse }
    }

    /// Applies the normalisation to `[B, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let c = self.beta.dims()[0];
        let beta = self.beta.val().clamp_min(reparam_bound(BETA_MIN)).powi_scalar(2).sub_scalar(PEDESTAL);
        let gamma = self.gamma.val().clamp_min(reparam_bound(0.0)).powi_scalar(2).sub_scalar(PEDESTAL);
        let norm = conv2d(
            x.clone().powi_scalar(2),
            gamma.reshape([c, c, 1, 1]),
            Some(beta),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        if self.inverse { x * norm.sqrt() } else { x * norm.sqrt().recip() }
    }
}
