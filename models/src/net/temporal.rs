//! The inter-frame entropy model: a spatiotemporal context for the latent of a video frame.
//!
//! An inter frame is coded with the image model's transforms and hyperprior; only the means
//! and scales of its latent slices change. Each slice's parameters come from a network that
//! sees the hyper-synthesis output, the previous frame's *decoded* latent `ŷ_{t−1}` and the
//! slices of `ŷ_t` decoded so far (as in "Spatiotemporal Entropy Model is All You Need for
//! Learned Video Compression", Sheng et al. 2021, without its motion-free warping). Where the
//! scene is static, `ŷ_{t−1}` predicts `y_t` almost exactly and the scales collapse, which is
//! where the bits go away.
//!
//! [`TemporalModel::from_image`] starts from the image model's slice networks with zero
//! weights on the new `ŷ_{t−1}` inputs, so an untrained temporal model codes exactly like
//! intra and training can only lower the rate from there.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, TensorData};

use super::model::{
    ImageModel, ModelConfig, Stack, code_rounded, code_slice, conv, gaussian_likelihood, spatial_stack,
};

/// Per-slice parameter networks conditioned on the previous frame.
#[derive(Module, Debug)]
pub struct TemporalModel {
    /// Per slice: (hyper features, `ŷ_{t−1}`, decoded slices before it) → mean and scale.
    pub slice_params: Vec<Stack>,
    /// Per slice: a linear 1×1 map of `ŷ_{t−1}` added to that output. Where the scene holds
    /// still, the mean is the previous latent itself: a direct linear path learns that in a
    /// few hundred steps, where routing it through the ReLU network would take thousands.
    pub skip: Vec<Conv2d>,
    /// Per slice, with a checkerboard image model (else empty): the inter frames' own
    /// checkerboard networks, started from the image model's (their inputs, a mean and scale
    /// and the anchors' residuals, mean the same here, but inter residuals are smaller).
    pub spatial: Vec<Stack>,
}

impl TemporalModel {
    /// A randomly initialised temporal model for an image model of config `c`, on `device`
    /// (the shapes [`TemporalModel::from_image`] produces; load weights into it).
    pub fn new(c: &ModelConfig, device: &Device) -> Self {
        let mut before = 0;
        let slice_params = c
            .slices
            .iter()
            .map(|&s| {
                let stack = Stack {
                    convs: vec![
                        conv(c.hyper_channels() + c.m + before, c.params_hidden(), 3, 1, device),
                        conv(c.params_hidden(), 2 * s, 3, 1, device),
                    ],
                    deconvs: vec![],
                };
                before += s;
                stack
            })
            .collect();
        let skip = c.slices.iter().map(|&s| conv(c.m, 2 * s, 1, 1, device)).collect();
        let spatial = if c.checkerboard {
            c.slices.iter().map(|&s| spatial_stack(s, c.context_hidden, device)).collect()
        } else {
            Vec::new()
        };
        Self { slice_params, skip, spatial }
    }

    /// The image model's slice networks widened with zero-weight `ŷ_{t−1}` inputs (inserted
    /// after the hyper features), on `device`.
    pub fn from_image(net: &ImageModel, device: &Device) -> Self {
        let m: usize = net.slices.iter().sum();
        let hyper = net.hyper_channels();
        // Every parameter is rebuilt from its values on `device`, so on an autodiff device
        // they are fresh leaves, not the outputs of a copy the graph would track.
        let param = |data: Vec<f32>, shape: [usize; 4]| {
            Param::from_tensor(Tensor::<4>::from_data(TensorData::new(data, shape), device))
        };
        let slice_params = net
            .slice_params
            .iter()
            .map(|s| {
                let mut s = s.clone();
                for (i, conv) in s.convs.iter_mut().enumerate() {
                    let w = conv.weight.val();
                    let [cout, cin, kh, kw] = w.dims();
                    let data: Vec<f32> = w.into_data().iter::<f32>().collect();
                    conv.weight = if i == 0 {
                        let wide = cin + m;
                        let mut out = vec![0f32; cout * wide * kh * kw];
                        let plane = kh * kw;
                        for co in 0..cout {
                            for ci in 0..cin {
                                // Hyper features keep their place; decoded slices move past ŷ_{t−1}.
                                let to = if ci < hyper { ci } else { ci + m };
                                let src = (co * cin + ci) * plane;
                                let dst = (co * wide + to) * plane;
                                out[dst..dst + plane].copy_from_slice(&data[src..src + plane]);
                            }
                        }
                        param(out, [cout, wide, kh, kw])
                    } else {
                        param(data, [cout, cin, kh, kw])
                    };
                    if let Some(b) = &conv.bias {
                        let v: Vec<f32> = b.val().into_data().iter::<f32>().collect();
                        let n = v.len();
                        conv.bias =
                            Some(Param::from_tensor(Tensor::<1>::from_data(TensorData::new(v, [n]), device)));
                    }
                }
                s
            })
            .collect();
        // The skip paths start at zero: the untrained model is exactly the image model.
        let skip = net
            .slices
            .iter()
            .map(|&s| {
                let mut c = conv(m, 2 * s, 1, 1, device);
                c.weight = param(vec![0.0; 2 * s * m], [2 * s, m, 1, 1]);
                c.bias = Some(Param::from_tensor(Tensor::<1>::zeros([2 * s], device)));
                c
            })
            .collect();
        Self { slice_params, skip, spatial: net.slice_spatial.clone().fork(device) }
    }

    /// Training-time likelihood of a frame's latent `y` (gains applied, `[B, M, h, w]`) given
    /// the hyper features (`[B, H, h, w]`) and the previous frame's decoded latent (`[B, M, h, w]`).
    /// Uniform noise stands in for quantisation, and the noisy slices stand in for the
    /// decoded ones as context.
    pub fn likelihood(&self, slices: &[usize], hyper: Tensor<4>, prev: Tensor<4>, y: Tensor<4>) -> Tensor<4> {
        let noise =
            Tensor::<4>::random(y.dims(), burn::tensor::Distribution::Uniform(-0.5, 0.5), &y.device());
        let y_noisy = y + noise;
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &s) in slices.iter().enumerate() {
            let mut ctx = vec![hyper.clone(), prev.clone()];
            if start > 0 {
                ctx.push(y_noisy.clone().narrow(1, 0, start));
            }
            let params =
                self.slice_params[i].forward(Tensor::cat(ctx, 1)) + self.skip[i].forward(prev.clone());
            // The noisy residual stands in for the quantised one, the checkerboard's too.
            let mut code = |r: Tensor<4>, sigma| {
                let zeros = Tensor::zeros(r.dims(), &r.device());
                (r.clone(), gaussian_likelihood(r, zeros, sigma))
            };
            let (_, _, likelihood) =
                code_slice(params, y_noisy.clone().narrow(1, start, s), self.spatial.get(i), &mut code);
            out.push(likelihood);
            start += s;
        }
        Tensor::cat(out, 1)
    }

    /// Training-time likelihood of a frame's latent `y` as the codec really codes it: each
    /// slice's residual `y − μ` is rounded (straight through, so the mean still gets a
    /// gradient) and its likelihood is the discretised Gaussian's at that integer. Unlike
    /// [`TemporalModel::likelihood`]'s uniform noise, this lets the scales collapse where
    /// `ŷ_{t−1}` predicts the latent to within rounding — a still background then costs
    /// nothing, as it does in the codec. `decode(i, ctx, ŷ_i)` returns slice `i`'s decoded
    /// latent from the intra context and the rounded slice (the image model's latent residual
    /// prediction, without gradients); it is the context of the slices after it.
    pub fn rounded_likelihood(
        &self,
        slices: &[usize],
        hyper: Tensor<4>,
        prev: Tensor<4>,
        y: Tensor<4>,
        mut decode: impl FnMut(usize, Tensor<4>, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut decoded: Vec<Tensor<4>> = Vec::new();
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &s) in slices.iter().enumerate() {
            let inputs = [vec![hyper.clone(), prev.clone()], decoded.clone()].concat();
            let params =
                self.slice_params[i].forward(Tensor::cat(inputs, 1)) + self.skip[i].forward(prev.clone());
            let (q, mu, likelihood) =
                code_slice(params, y.clone().narrow(1, start, s), self.spatial.get(i), &mut code_rounded);
            out.push(likelihood);
            let ctx = Tensor::cat([vec![hyper.clone()], decoded.clone()].concat(), 1);
            decoded.push(decode(i, ctx, (q + mu).detach()).detach());
            start += s;
        }
        Tensor::cat(out, 1)
    }
}
