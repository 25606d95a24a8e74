//! The lic image model: analysis/synthesis transforms, a mean-scale hyperprior and a
//! channel-wise context model with latent residual prediction (Minnen & Singh 2020), made
//! variable-rate by per-quality gain vectors on the latent (Cui et al. 2021).

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::exact::{ExactParams, Latents};
use super::factorized::FactorizedPrior;
use super::gdn::Gdn;

/// Number of quality levels; quality `q ∈ [1, 8]` interpolates between neighbours.
pub const QUALITIES: usize = 8;
/// λ of each quality level (MSE on a 0–255 scale), the usual ladder.
pub const LAMBDAS: [f64; QUALITIES] = [0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.18];
/// Smallest scale the Gaussian conditional uses (the first scale bin).
pub const SCALE_MIN: f64 = 0.11;

/// Channel counts and slicing of a model; stored with its weights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Channels of the transforms' hidden layers.
    pub n: usize,
    /// Channels of the latent `y`.
    pub m: usize,
    /// Channels of the hyper-latent `z`.
    pub z_channels: usize,
    /// Channels of the hyper-synthesis output (the features every slice's networks see) when
    /// they differ from `m`. A model whose latent grows (`init_grow` on `g_a`) keeps its
    /// trained hyperprior this way: only the new slices' networks are new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyper_channels: Option<usize>,
    /// Channel counts of the latent slices (sum = `m`), coded in order.
    pub slices: Vec<usize>,
    /// Hidden width of each slice's parameter and residual-prediction networks.
    pub context_hidden: usize,
    /// Hidden width of the slice *parameter* networks (mean and scale, intra and inter) when
    /// it differs from `context_hidden`. They are the entropy model's core and change no
    /// reconstruction's pixels, so they can be widened alone and trained on frozen transforms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_hidden: Option<usize>,
    /// Residual blocks in `g_s` after each of its first three layers (entry `i`: how many
    /// follow layer `i`, at 1/8, 1/4 and 1/2 resolution). Empty: none. Blocks start as the
    /// identity, so a trained model can grow them and fine-tune (see [`ResBlock`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synthesis_blocks: Vec<usize>,
    /// Checkerboard spatial context inside each slice (He et al. 2021, as in ELIC): each
    /// slice is coded in two passes, the anchors (`(row + col)` even) from the channel
    /// context alone, then the other half with parameters refined from the decoded anchors
    /// around them (see [`ImageModel::slice_spatial`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checkerboard: bool,
}

impl ModelConfig {
    /// Checks the slicing adds up.
    pub fn validate(&self) -> Result<(), String> {
        if self.slices.iter().sum::<usize>() != self.m || self.slices.contains(&0) {
            return Err(format!("slices {:?} do not partition m = {}", self.slices, self.m));
        }
        if self.n == 0
            || self.m == 0
            || self.z_channels == 0
            || self.context_hidden == 0
            || self.params_hidden == Some(0)
            || self.hyper_channels == Some(0)
        {
            return Err("channel counts must be positive".into());
        }
        if self.synthesis_blocks.len() > 3 || self.synthesis_blocks.iter().any(|&b| b > 8) {
            return Err(format!(
                "synthesis_blocks {:?}: at most 3 stages of at most 8 blocks",
                self.synthesis_blocks
            ));
        }
        Ok(())
    }

    /// Hidden width of the slice parameter networks.
    pub fn params_hidden(&self) -> usize {
        self.params_hidden.unwrap_or(self.context_hidden)
    }

    /// Channels of the hyper features `h_s` gives every slice's networks.
    pub fn hyper_channels(&self) -> usize {
        self.hyper_channels.unwrap_or(self.m)
    }
}

pub(crate) fn conv(cin: usize, cout: usize, k: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
        .init(device)
}

fn deconv(cin: usize, cout: usize, k: usize, stride: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding([k / 2, k / 2])
        .with_padding_out([stride - 1, stride - 1])
        .init(device)
}

/// A convolution whose weights and bias start at zero: the last layer of a branch added to a
/// trained model, so that the grown model starts as the trained one.
fn zero_conv(cin: usize, cout: usize, k: usize, device: &Device) -> Conv2d {
    let mut c = conv(cin, cout, k, 1, device);
    c.weight = c.weight.map(|w| w.zeros_like());
    c.bias = c.bias.map(|b| b.map(|b| b.zeros_like()));
    c
}

/// A checkerboard's spatial network for a slice of `s` channels: (first-pass mean and scale,
/// anchor residuals) → a correction of the mean and scale. Two 3×3 layers, so each
/// non-anchor sees the twelve anchors of its 5×5 window; the last starts at zero.
pub(crate) fn spatial_stack(s: usize, hidden: usize, device: &Device) -> Stack {
    Stack {
        convs: vec![conv(3 * s, hidden, 3, 1, device), zero_conv(hidden, 2 * s, 3, device)],
        deconvs: vec![],
    }
}

/// Analysis transform `g_a`: image → latent, 16× down-sampled.
#[derive(Module, Debug)]
pub struct Analysis {
    convs: Vec<Conv2d>,
    gdns: Vec<Gdn>,
}

impl Analysis {
    fn new(c: &ModelConfig, device: &Device) -> Self {
        let convs = vec![
            conv(3, c.n, 5, 2, device),
            conv(c.n, c.n, 5, 2, device),
            conv(c.n, c.n, 5, 2, device),
            conv(c.n, c.m, 5, 2, device),
        ];
        let gdns = (0..3).map(|_| Gdn::new(c.n, false, device)).collect();
        Self { convs, gdns }
    }

    /// `[B, 3, H, W]` in [0, 1] → `[B, M, H/16, W/16]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = x;
        for (i, c) in self.convs.iter().enumerate() {
            x = c.forward(x);
            if let Some(g) = self.gdns.get(i) {
                x = g.forward(x);
            }
        }
        x
    }
}

/// A residual block, `x + conv₃(ReLU(conv₃(x)))`, that starts as the identity: its second
/// convolution is zero, so inserting it into a trained transform changes nothing until
/// training moves it (and the first convolution gets gradients once the second is non-zero).
#[derive(Module, Debug)]
pub struct ResBlock {
    convs: Vec<Conv2d>,
}

impl ResBlock {
    fn new(channels: usize, device: &Device) -> Self {
        Self { convs: vec![conv(channels, channels, 3, 1, device), zero_conv(channels, channels, 3, device)] }
    }

    /// Same shape in and out.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut h = x.clone();
        for (i, c) in self.convs.iter().enumerate() {
            h = c.forward(if i > 0 { relu(h) } else { h });
        }
        x + h
    }
}

/// Synthesis transform `g_s`: latent → image.
#[derive(Module, Debug)]
pub struct Synthesis {
    deconvs: Vec<ConvTranspose2d>,
    igdns: Vec<Gdn>,
    /// Residual blocks, in order; `blocks_after[j]` is the layer block `j` follows.
    blocks: Vec<ResBlock>,
    blocks_after: Vec<usize>,
}

impl Synthesis {
    fn new(c: &ModelConfig, device: &Device) -> Self {
        let deconvs = vec![
            deconv(c.m, c.n, 5, 2, device),
            deconv(c.n, c.n, 5, 2, device),
            deconv(c.n, c.n, 5, 2, device),
            deconv(c.n, 3, 5, 2, device),
        ];
        let igdns = (0..3).map(|_| Gdn::new(c.n, true, device)).collect();
        let blocks_after: Vec<usize> =
            c.synthesis_blocks.iter().enumerate().flat_map(|(i, &k)| std::iter::repeat_n(i, k)).collect();
        let blocks = blocks_after.iter().map(|_| ResBlock::new(c.n, device)).collect();
        Self { deconvs, igdns, blocks, blocks_after }
    }

    /// `[B, M, h, w]` → `[B, 3, 16h, 16w]` (not clamped).
    pub fn forward(&self, y: Tensor<4>) -> Tensor<4> {
        let mut x = y;
        for (i, d) in self.deconvs.iter().enumerate() {
            x = d.forward(x);
            if let Some(g) = self.igdns.get(i) {
                x = g.forward(x);
            }
            for (b, &after) in self.blocks.iter().zip(&self.blocks_after) {
                if after == i {
                    x = b.forward(x);
                }
            }
        }
        x
    }
}

/// A small conv net used for the hyper-synthesis and the per-slice context networks.
#[derive(Module, Debug)]
pub struct Stack {
    pub(crate) convs: Vec<Conv2d>,
    pub(crate) deconvs: Vec<ConvTranspose2d>,
}

impl Stack {
    /// Applies the layers in order (transposed convolutions first), ReLU between them.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = x;
        let n = self.convs.len() + self.deconvs.len();
        let mut i = 0;
        for d in &self.deconvs {
            x = d.forward(x);
            i += 1;
            if i < n {
                x = relu(x);
            }
        }
        for c in &self.convs {
            x = c.forward(x);
            i += 1;
            if i < n {
                x = relu(x);
            }
        }
        x
    }
}

/// Everything a training step needs from one forward pass.
pub struct ForwardOutput {
    /// Reconstruction, `[B, 3, H, W]`, not clamped.
    pub x_hat: Tensor<4>,
    /// Likelihood of every latent element (noisy `y`).
    pub y_likelihood: Tensor<4>,
    /// Likelihood of every hyper-latent element (noisy `z`).
    pub z_likelihood: Tensor<4>,
}

/// The whole model.
#[derive(Module, Debug)]
pub struct ImageModel {
    /// Analysis transform.
    pub g_a: Analysis,
    /// Synthesis transform.
    pub g_s: Synthesis,
    /// Hyper-analysis: `y` → `z`.
    pub h_a: Stack,
    /// Hyper-synthesis: `ẑ` → hyper features (`M` channels unless `hyper_channels` says
    /// otherwise), shared by every slice's networks.
    pub h_s: Stack,
    /// Per slice: (hyper features, decoded slices before it) → mean and scale.
    pub slice_params: Vec<Stack>,
    /// Per slice: (hyper features, decoded slices up to it) → latent residual prediction.
    pub slice_lrp: Vec<Stack>,
    /// Per slice, with a checkerboard context (else empty): (the slice's first-pass mean and
    /// scale, its decoded anchor residuals) → a correction of the mean and scale of the
    /// non-anchor half. Its last layer starts at zero, so a model grown with it codes exactly
    /// as before until training moves it.
    pub slice_spatial: Vec<Stack>,
    /// Factorized prior of `z`.
    pub prior: FactorizedPrior,
    /// Per-quality gains on `y` (`[Q, M]`, stored as logs so they stay positive).
    pub log_gain: Param<Tensor<2>>,
    /// Per-quality inverse gains applied before synthesis.
    pub log_inv_gain: Param<Tensor<2>>,
    /// Slice channel counts.
    pub slices: Vec<usize>,
}

impl ImageModel {
    /// A freshly initialised model.
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        let n = c.n;
        let h_a = Stack {
            convs: vec![
                conv(c.m, n, 3, 1, device),
                conv(n, n, 5, 2, device),
                conv(n, c.z_channels, 5, 2, device),
            ],
            deconvs: vec![],
        };
        let h_s = Stack {
            deconvs: vec![deconv(c.z_channels, n, 5, 2, device), deconv(n, n * 3 / 2, 5, 2, device)],
            convs: vec![conv(n * 3 / 2, c.hyper_channels(), 3, 1, device)],
        };
        let hyper = c.hyper_channels();
        let mut slice_params = Vec::new();
        let mut slice_lrp = Vec::new();
        let mut slice_spatial = Vec::new();
        let mut before = 0;
        let hidden = c.context_hidden;
        for &s in &c.slices {
            slice_params.push(Stack {
                convs: vec![
                    conv(hyper + before, c.params_hidden(), 3, 1, device),
                    conv(c.params_hidden(), 2 * s, 3, 1, device),
                ],
                deconvs: vec![],
            });
            slice_lrp.push(Stack {
                convs: vec![conv(hyper + before + s, hidden, 3, 1, device), conv(hidden, s, 3, 1, device)],
                deconvs: vec![],
            });
            if c.checkerboard {
                slice_spatial.push(spatial_stack(s, hidden, device));
            }
            before += s;
        }
        // Start with gains spread around 1 so the ladder is ordered from the first step:
        // higher quality → larger latent → finer effective quantisation.
        let ladder: Vec<f32> = (0..QUALITIES).map(|q| (q as f32 - 3.5) * 0.35).collect();
        let log_gain =
            Tensor::<1>::from_floats(ladder.as_slice(), device).reshape([QUALITIES, 1]).repeat_dim(1, c.m);
        let log_inv_gain = log_gain.clone().neg();
        Self {
            g_a: Analysis::new(c, device),
            g_s: Synthesis::new(c, device),
            h_a,
            h_s,
            slice_params,
            slice_lrp,
            slice_spatial,
            prior: FactorizedPrior::new(c.z_channels, device),
            log_gain: Param::from_tensor(log_gain),
            log_inv_gain: Param::from_tensor(log_inv_gain),
            slices: c.slices.clone(),
        }
    }

    /// Channels of the hyper features (the output of `h_s`).
    pub fn hyper_channels(&self) -> usize {
        self.h_s.convs.last().map_or(0, |c| c.weight.dims()[0])
    }

    /// Gain vectors for a continuous quality in `[1, 8]`, `[1, M, 1, 1]` each: log-linear
    /// interpolation between the neighbouring levels, so rate varies continuously.
    pub fn gains(&self, quality: f64) -> (Tensor<4>, Tensor<4>) {
        let q = quality.clamp(1.0, QUALITIES as f64) - 1.0;
        let lo = (q.floor() as usize).min(QUALITIES - 2);
        let t = (q - lo as f64) as f32;
        let m = self.log_gain.dims()[1];
        let mix = |p: &Param<Tensor<2>>| {
            let v = p.val();
            let a = v.clone().narrow(0, lo, 1);
            let b = v.narrow(0, lo + 1, 1);
            (a.mul_scalar(1.0 - t) + b.mul_scalar(t)).exp().reshape([1, m, 1, 1])
        };
        (mix(&self.log_gain), mix(&self.log_inv_gain))
    }

    /// Training forward pass at quality level `quality` (1 ..= 8): additive uniform noise
    /// for the rate terms, straight-through rounding for what the synthesis sees.
    pub fn forward_train(&self, x: Tensor<4>, quality: f64) -> ForwardOutput {
        let (gain, inv_gain) = self.gains(quality);
        let y = self.g_a.forward(x) * gain;
        let z = self.h_a.forward(y.clone());
        let z_noisy = add_uniform_noise(z);
        let z_likelihood = self.prior.likelihood(z_noisy.clone());
        let hyper = self.h_s.forward(z_noisy);

        // Noisy residuals for the rate, straight-through rounding for what the synthesis and
        // the later slices see.
        let (y_hat, y_likelihood) = self.slice_loop(hyper, y, |r, sigma| {
            let zeros = Tensor::zeros(r.dims(), &r.device());
            (ste_round(r.clone()), gaussian_likelihood(add_uniform_noise(r), zeros, sigma))
        });
        ForwardOutput { x_hat: self.g_s.forward(y_hat * inv_gain), y_likelihood, z_likelihood }
    }
}

impl ImageModel {
    /// Intra coding of a latent `y` (gains applied) as the codec does it, in tensors and
    /// without gradients: each slice's residual around its mean is rounded, the latent
    /// residual prediction is added, and later slices see the decoded ones. Returns `ŷ` and
    /// the likelihood of every rounded residual. Training the inter-frame model uses it for
    /// `ŷ_{t−1}` and for the intra rate it is compared with.
    pub fn code_latent(&self, hyper: Tensor<4>, y: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        self.slice_loop(hyper, y, |r, sigma| {
            let q = r.round();
            let zeros = Tensor::zeros(q.dims(), &q.device());
            (q.clone(), gaussian_likelihood(q, zeros, sigma))
        })
    }

    /// The channel-wise context model's slice loop, shared by training, intra coding and
    /// refinement, which differ only in how a residual is quantised and how its rate is
    /// measured. For each slice in order, its mean `μ` and scale `σ` come from the hyper
    /// features and the slices decoded before it; `code(y_i − μ, σ)` returns the quantised
    /// residual and the residual's likelihood; the slice is decoded as `q + μ` plus the latent
    /// residual prediction. Returns `ŷ` (gains still applied) and every likelihood.
    pub fn slice_loop(
        &self,
        hyper: Tensor<4>,
        y: Tensor<4>,
        mut code: impl FnMut(Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
    ) -> (Tensor<4>, Tensor<4>) {
        let mut decoded: Vec<Tensor<4>> = Vec::new();
        let mut likelihoods = Vec::new();
        let mut start = 0;
        for (i, &s) in self.slices.iter().enumerate() {
            let ctx = Tensor::cat([vec![hyper.clone()], decoded.clone()].concat(), 1);
            let params = self.slice_params[i].forward(ctx.clone());
            let y_i = y.clone().narrow(1, start, s);
            let (q, mu, likelihood) = code_slice(params, y_i, self.slice_spatial.get(i), &mut code);
            likelihoods.push(likelihood);
            decoded.push(self.predict_residual(i, ctx, q + mu));
            start += s;
        }
        (Tensor::cat(decoded, 1), Tensor::cat(likelihoods, 1))
    }

    /// Slice `i`'s decoded latent `ŷ_i` with its latent residual prediction added, from the
    /// context the slice's parameters came from (hyper features and the slices before it).
    pub fn predict_residual(&self, i: usize, ctx: Tensor<4>, y_hat: Tensor<4>) -> Tensor<4> {
        let lrp = self.slice_lrp[i].forward(Tensor::cat(vec![ctx, y_hat.clone()], 1));
        y_hat + lrp.tanh().mul_scalar(0.5)
    }
}

/// Codes one slice `y_i` (`[B, s, h, w]`) from its first-pass parameters `params` (`2s`
/// channels: means, then scales) with `code(y_i − μ, σ)` (which returns the quantised residual
/// and its likelihood), in one pass, or with a checkerboard's `spatial` network in two: every
/// position is coded with the first pass's parameters, then again with those corrected from
/// the anchors' quantised residuals, and the mask keeps each position from the pass the codec
/// codes it in (anchors from the first). Returns the quantised residuals, the means they are
/// residuals around, and their likelihoods. Shared by the intra slice loop and the temporal
/// model, whose inter frames have spatial networks of their own.
pub fn code_slice(
    params: Tensor<4>,
    y_i: Tensor<4>,
    spatial: Option<&Stack>,
    code: &mut impl FnMut(Tensor<4>, Tensor<4>) -> (Tensor<4>, Tensor<4>),
) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
    let [_, s, h, w] = y_i.dims();
    let mu = params.clone().narrow(1, 0, s);
    let (q, likelihood) = code(y_i.clone() - mu.clone(), params.clone().narrow(1, s, s));
    let Some(spatial) = spatial else { return (q, mu, likelihood) };
    let anchor = anchor_mask(h, w, &y_i.device());
    let known = q.clone() * anchor.clone();
    let params = params.clone() + spatial.forward(Tensor::cat(vec![params, known], 1));
    let mu_n = params.clone().narrow(1, 0, s);
    let (q_n, l_n) = code(y_i - mu_n.clone(), params.narrow(1, s, s));
    let rest = anchor.clone().neg().add_scalar(1.0);
    let pick = |a: Tensor<4>, b: Tensor<4>| a * anchor.clone() + b * rest.clone();
    (pick(q, q_n), pick(mu, mu_n), pick(likelihood, l_n))
}

/// A [`code_slice`] coder for the codec's real rate: the residual rounded (straight through,
/// so the mean still gets a gradient) and its likelihood the discretised Gaussian's at that
/// integer. What the temporal model and the context-only fine-tune train on.
pub fn code_rounded(residual: Tensor<4>, sigma: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    let q = ste_round(residual);
    let zeros = Tensor::zeros(q.dims(), &q.device());
    (q.clone(), gaussian_likelihood(q, zeros, sigma))
}

/// `[1, 1, h, w]`: 1 at the checkerboard's anchors (`(row + col)` even), 0 elsewhere.
pub fn anchor_mask(h: usize, w: usize, device: &Device) -> Tensor<4> {
    let data: Vec<f32> = (0..h * w).map(|p| f32::from(u8::from((p / w + p % w) % 2 == 0))).collect();
    Tensor::<4>::from_data(TensorData::new(data, [1, 1, h, w]), device)
}

/// `x + U(−½, ½)`.
fn add_uniform_noise<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let noise = Tensor::<D>::random(x.dims(), Distribution::Uniform(-0.5, 0.5), &x.device());
    x + noise
}

/// Rounds in the forward pass, identity in the backward pass.
pub fn ste_round<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone() + (x.clone().round() - x).detach()
}

/// `P(y ∈ [v − ½, v + ½])` for `v ~ N(μ, σ²)`, σ floored at [`SCALE_MIN`], likelihood
/// floored at 1e-9.
pub fn gaussian_likelihood(y: Tensor<4>, mu: Tensor<4>, sigma: Tensor<4>) -> Tensor<4> {
    let sigma = sigma.abs().clamp_min(SCALE_MIN);
    let v = (y - mu).abs();
    let phi = |t: Tensor<4>| {
        t.mul_scalar(-std::f64::consts::FRAC_1_SQRT_2).erf().neg().add_scalar(1.0).mul_scalar(0.5)
    };
    // Φ((½ − |v|)/σ) − Φ((−½ − |v|)/σ), written with erfc to stay accurate in the tails.
    let upper = phi((v.clone().neg().add_scalar(0.5)) / sigma.clone());
    let lower = phi((v.neg().sub_scalar(0.5)) / sigma);
    (upper - lower).clamp_min(1e-9)
}

/// What an encoder needs from a quantised (rounding, no noise) forward pass.
pub struct Quantised {
    /// The decoded latents `ŷ` a decoder will see (feed them to
    /// [`ImageModel::reconstruct`] for the reconstruction; the encoder itself never needs it).
    pub latents: Latents,
    /// `round(z)` in C, H, W order.
    pub z_symbols: Vec<i32>,
    /// Channel of each `z` symbol (the factorized table index).
    pub z_tables: Vec<u16>,
    /// Shape `[C, H, W]` of `z`.
    pub z_shape: [usize; 3],
    /// Per slice: `round(y − μ)` in coding order: C, H, W order within each of the slice's
    /// parts, the parts in turn ([`super::exact::Part`]).
    pub y_symbols: Vec<Vec<i32>>,
    /// Per slice: the scale bin of each symbol.
    pub y_bins: Vec<Vec<u16>>,
    /// Rate the continuous model assigns to the quantised latents, in bits (what training
    /// optimises; the real coded size differs by table and scale-bin quantisation).
    pub estimated_bits: f64,
}

impl Quantised {
    /// A `symbols` callback for [`ExactParams::run`] that hands back these symbols part by
    /// part, in the order the path asks for them: what a decoder reads from the file.
    pub fn replay(
        &self,
    ) -> impl FnMut(usize, super::exact::Part, &[f32], &[f32]) -> Result<Vec<i32>, std::convert::Infallible> + '_
    {
        let mut at = vec![0; self.y_symbols.len()];
        move |i, _part, mu, _sigma| {
            let n = mu.len();
            at[i] += n;
            Ok(self.y_symbols[i][at[i] - n..at[i]].to_vec())
        }
    }
}

/// Table index (channel) of each element of a `[C, H, W]` hyper-latent, in C, H, W order.
pub fn z_table_indices(shape: [usize; 3]) -> Vec<u16> {
    let [c, h, w] = shape;
    (0..c).flat_map(|c| std::iter::repeat_n(c as u16, h * w)).collect()
}

impl ImageModel {
    /// The decoder half shared by encoder and decoder: from `ẑ`, the exact entropy-parameter
    /// path decodes `ŷ` slice by slice, then `g_s` reconstructs the image on this model's
    /// device. `slice_symbols(i, part, μ, σ)` returns the rounded residuals `round(y_i − μ_i)`
    /// of that part of slice `i` ([`super::exact::Part`]), from the latent (encoder) or the
    /// bitstream (decoder).
    pub fn decode_latents<E>(
        &self,
        exact: &ExactParams,
        z_hat: &[i32],
        z_shape: [usize; 3],
        quality: f64,
        device: &Device,
        slice_symbols: impl FnMut(usize, super::exact::Part, &[f32], &[f32]) -> Result<Vec<i32>, E>,
    ) -> Result<Tensor<4>, E> {
        let latents = exact.run(z_hat, z_shape, slice_symbols)?;
        Ok(self.reconstruct(latents, quality, device))
    }

    /// `g_s` of decoded latents (gains removed for `quality`), on `device`.
    pub fn reconstruct(&self, latents: Latents, quality: f64, device: &Device) -> Tensor<4> {
        let [m, h, w] = latents.shape;
        let y_hat = Tensor::<4>::from_data(TensorData::new(latents.y_hat, [1, m, h, w]), device);
        let (_, inv_gain) = self.gains(quality);
        self.g_s.forward(y_hat * inv_gain)
    }

    /// Quantised forward pass of one image `[1, 3, H, W]` (H, W multiples of 64): what the
    /// encoder writes. Means and scale bins come from the exact path, so any decoder on any
    /// device derives the same ones.
    pub fn quantise(
        &self,
        exact: &ExactParams,
        x: Tensor<4>,
        quality: f64,
        scales: &lic_entropy::ScaleTable,
    ) -> Quantised {
        self.quantise_with(exact, x, quality, scales, None)
    }

    /// As [`ImageModel::quantise`], as an inter frame when `prev` (the previous frame's
    /// decoded latent) is given and `exact` has a temporal network.
    pub fn quantise_with(
        &self,
        exact: &ExactParams,
        x: Tensor<4>,
        quality: f64,
        scales: &lic_entropy::ScaleTable,
        prev: Option<&Latents>,
    ) -> Quantised {
        self.quantise_latent(exact, self.analyse(x, quality), scales, prev)
    }

    /// The analysis transform with the gains of `quality` applied: the latent `y` that
    /// [`ImageModel::quantise_latent`] codes. An encoder that tries several ways of coding
    /// one frame runs it once.
    pub fn analyse(&self, x: Tensor<4>, quality: f64) -> Tensor<4> {
        let (gain, _) = self.gains(quality);
        self.g_a.forward(x) * gain
    }

    /// As [`ImageModel::quantise_with`], from the latent [`ImageModel::analyse`] returned.
    pub fn quantise_latent(
        &self,
        exact: &ExactParams,
        y: Tensor<4>,
        scales: &lic_entropy::ScaleTable,
        prev: Option<&Latents>,
    ) -> Quantised {
        let [_, _, yh, yw] = y.dims();
        let z_hat = self.h_a.forward(y.clone()).round();
        let [_, zc, zh, zw] = z_hat.dims();
        let z_symbols: Vec<i32> = z_hat.clone().into_data().iter::<f32>().map(|v| v as i32).collect();
        let z_bits =
            self.prior.likelihood(z_hat).log().sum().into_scalar::<f32>() as f64 / -std::f64::consts::LN_2;
        let mut estimated_bits = z_bits;
        let y_values: Vec<f32> = y.into_data().iter::<f32>().collect();
        // Each slice's symbols and bins in coding order: its parts one after the other.
        let (mut y_symbols, mut y_bins) =
            (vec![Vec::new(); self.slices.len()], vec![Vec::new(); self.slices.len()]);
        let starts: Vec<usize> =
            self.slices.iter().scan(0, |at, &s| Some(std::mem::replace(at, *at + s))).collect();
        let z_shape = [zc, zh, zw];
        let latents = exact
            .run_with(&z_symbols, z_shape, prev, |i, part, mu, sigma| {
                let shape = [self.slices[i], yh, yw];
                let offset = starts[i] * yh * yw;
                let q: Vec<i32> = part
                    .positions(shape)
                    .iter()
                    .zip(mu)
                    .map(|(&k, &m)| (y_values[offset + k] - m).round() as i32)
                    .collect();
                estimated_bits += gaussian_bits(&q, sigma);
                y_bins[i].extend(sigma.iter().map(|&v| scales.bin(v)));
                y_symbols[i].extend_from_slice(&q);
                Ok::<_, std::convert::Infallible>(q)
            })
            .unwrap_or_else(|e| match e {});
        Quantised {
            latents,
            z_symbols,
            z_tables: z_table_indices(z_shape),
            z_shape,
            y_symbols,
            y_bins,
            estimated_bits,
        }
    }

    /// Integer tables of the factorized prior, one per `z` channel.
    ///
    /// Each table's range is read off the learned CDF itself (every integer whose bin holds
    /// more than `TAIL_MASS / 2` on either side), not off the auxiliary quantiles, so a
    /// table is right even before the quantiles have converged; values outside are escaped.
    pub fn z_distributions(&self) -> Result<Vec<lic_entropy::Distribution>, lic_entropy::EntropyError> {
        (0..self.prior.channels())
            .map(|c| {
                let (lo, hi) = self.prior.support(c, super::factorized::TAIL_MASS / 2.0);
                let pmf = self.prior.pmf(c, lo, hi);
                let tail = (1.0 - pmf.iter().sum::<f64>()).max(1e-9);
                lic_entropy::Distribution::from_pmf(lo, &pmf, tail)
            })
            .collect()
    }
}

/// Bits the continuous Gaussian model assigns to residuals `q` (relative to the mean) with
/// scales `sigma`: what training optimises, for comparison with the coded size.
fn gaussian_bits(q: &[i32], sigma: &[f32]) -> f64 {
    let phi = |t: f64| 0.5 * libm::erfc(-t * std::f64::consts::FRAC_1_SQRT_2);
    q.iter()
        .zip(sigma)
        .map(|(&q, &s)| {
            let (v, s) = (f64::from(q.unsigned_abs()), f64::from(s));
            let p = (phi((0.5 - v) / s) - phi((-0.5 - v) / s)).max(1e-9);
            -p.log2()
        })
        .sum()
}
