//! The factorized prior for the hyper-latent `z` (Ballé et al. 2018, appendix 6.1): one
//! learned, non-parametric univariate density per channel.

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{Device, Distribution, Tensor};

/// Filter widths of the cumulative-density network, as in CompressAI.
const FILTERS: [usize; 3] = [3, 3, 3];
/// Probability mass left outside the `[quantiles[0], quantiles[2]]` range per channel.
pub const TAIL_MASS: f64 = 1e-9;
const INIT_SCALE: f64 = 10.0;

/// A per-channel density `p_c`, evaluated through its CDF: `P(z ∈ [a, b]) = F(b) − F(a)`,
/// with `F = sigmoid(logits_cumulative(·))` monotone by construction (softplus weights).
#[derive(Module, Debug)]
pub struct FactorizedPrior {
    matrices: Vec<Param<Tensor<3>>>,
    biases: Vec<Param<Tensor<3>>>,
    factors: Vec<Param<Tensor<3>>>,
    /// Per channel: the `TAIL_MASS/2` quantile, the median and the `1 − TAIL_MASS/2` quantile,
    /// learned by the auxiliary loss; they bound the integer tables.
    pub quantiles: Param<Tensor<3>>,
}

impl FactorizedPrior {
    /// A prior over `channels` channels, initialised as in CompressAI.
    pub fn new(channels: usize, device: &Device) -> Self {
        let dims: Vec<usize> = std::iter::once(1).chain(FILTERS).chain(std::iter::once(1)).collect();
        let scale = INIT_SCALE.powf(1.0 / (FILTERS.len() + 1) as f64);
        let (mut matrices, mut biases, mut factors) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..=FILTERS.len() {
            let init = (1.0 / scale / dims[i + 1] as f64).exp_m1().ln();
            matrices.push(Param::from_tensor(Tensor::<3>::full(
                [channels, dims[i + 1], dims[i]],
                init,
                device,
            )));
            biases.push(Param::from_tensor(Tensor::<3>::random(
                [channels, dims[i + 1], 1],
                Distribution::Uniform(-0.5, 0.5),
                device,
            )));
            if i < FILTERS.len() {
                factors.push(Param::from_tensor(Tensor::<3>::zeros([channels, dims[i + 1], 1], device)));
            }
        }
        let q = Tensor::<1>::from_floats([-INIT_SCALE as f32, 0.0, INIT_SCALE as f32], device);
        let quantiles = q.reshape([1, 1, 3]).repeat_dim(0, channels);
        Self { matrices, biases, factors, quantiles: Param::from_tensor(quantiles) }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.quantiles.dims()[0]
    }

    /// `logits_cumulative` of CompressAI: `x` is `[C, 1, N]`, the result `[C, 1, N]`.
    /// With `detach`, gradients do not reach the density (used by the auxiliary loss).
    pub fn logits_cumulative(&self, x: Tensor<3>, detach: bool) -> Tensor<3> {
        let mut logits = x;
        let last = self.matrices.len() - 1;
        for i in 0..=last {
            let get = |p: &Param<Tensor<3>>| if detach { p.val().detach() } else { p.val() };
            let m = softplus(get(&self.matrices[i]), 1.0);
            logits = m.matmul(logits) + get(&self.biases[i]);
            if i < last {
                let f = get(&self.factors[i]).tanh();
                logits = logits.clone() + f * logits.tanh();
            }
        }
        logits
    }

    /// Likelihood of each element of `z` (`[B, C, H, W]`, already quantised or noisy) under
    /// its channel's density, floored at 1e-9.
    pub fn likelihood(&self, z: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = z.dims();
        let x = z.permute([1, 0, 2, 3]).reshape([c, 1, b * h * w]);
        let lower = self.logits_cumulative(x.clone().sub_scalar(0.5), false);
        let upper = self.logits_cumulative(x.add_scalar(0.5), false);
        // Evaluate in the tail where the sigmoid is most accurate (CompressAI's sign trick).
        let sign = (lower.clone() + upper.clone()).sign().neg();
        let lik = (sigmoid(sign.clone() * upper) - sigmoid(sign * lower)).abs().clamp_min(1e-9);
        lik.reshape([c, b, h, w]).permute([1, 0, 2, 3])
    }

    /// The auxiliary loss that places `quantiles` at the tail-mass quantiles and the median.
    pub fn aux_loss(&self) -> Tensor<1> {
        let logits = self.logits_cumulative(self.quantiles.val(), true);
        let t = (2.0 / TAIL_MASS - 1.0).ln() as f32;
        let target = Tensor::<1>::from_floats([-t, 0.0, t], &logits.device()).reshape([1, 1, 3]);
        (logits - target).abs().sum()
    }

    /// Probability of each integer in `lo ..= hi` for channel `c` (for building tables).
    pub fn pmf(&self, c: usize, lo: i32, hi: i32) -> Vec<f64> {
        let device = self.quantiles.device();
        let xs: Vec<f32> = (lo..=hi).map(|v| v as f32).collect();
        let n = xs.len();
        let x = Tensor::<1>::from_floats(xs.as_slice(), &device).reshape([1, 1, n]);
        let this = self.clone().select_channel(c);
        let lower = this.logits_cumulative(x.clone().sub_scalar(0.5), true);
        let upper = this.logits_cumulative(x.add_scalar(0.5), true);
        let sign = (lower.clone() + upper.clone()).sign().neg();
        let lik = (sigmoid(sign.clone() * upper) - sigmoid(sign * lower)).abs();
        lik.into_data().iter::<f32>().map(f64::from).collect()
    }

    /// The integers `lo ..= hi` outside which channel `c` holds less than `tail` probability
    /// on each side, searched over `±SUPPORT_LIMIT` and at most `MAX_SYMBOLS − 2` wide.
    pub fn support(&self, c: usize, tail: f64) -> (i32, i32) {
        const SUPPORT_LIMIT: i32 = 2000;
        let device = self.quantiles.device();
        let n = (2 * SUPPORT_LIMIT + 1) as usize;
        let edges: Vec<f32> = (-SUPPORT_LIMIT..=SUPPORT_LIMIT).map(|v| v as f32 + 0.5).collect();
        let x = Tensor::<1>::from_floats(edges.as_slice(), &device).reshape([1, 1, n]);
        // logits[i] = logit F(v + ½) for v = i − SUPPORT_LIMIT; compared in logit space because
        // f32 sigmoids saturate long before 1 − tail.
        let logits: Vec<f32> =
            self.clone().select_channel(c).logits_cumulative(x, true).into_data().iter::<f32>().collect();
        let t = (tail / (1.0 - tail)).ln();
        let lo = logits.iter().position(|&l| f64::from(l) > t).unwrap_or(0) as i32 - SUPPORT_LIMIT;
        let hi = logits.iter().position(|&l| f64::from(l) >= -t).unwrap_or(n - 1) as i32 - SUPPORT_LIMIT;
        let max_width = (lic_entropy::MAX_SYMBOLS - 2) as i32;
        let hi = hi.max(lo).min(lo + max_width - 1);
        (lo, hi)
    }

    fn select_channel(self, c: usize) -> Self {
        let pick = |p: Param<Tensor<3>>| Param::from_tensor(p.val().narrow(0, c, 1));
        Self {
            matrices: self.matrices.into_iter().map(pick).collect(),
            biases: self.biases.into_iter().map(pick).collect(),
            factors: self.factors.into_iter().map(pick).collect(),
            quantiles: pick(self.quantiles),
        }
    }
}
