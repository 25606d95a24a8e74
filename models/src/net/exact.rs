//! The entropy-parameter path (hyper-synthesis, slice context networks, latent residual
//! prediction) in plain, fixed-order scalar `f32` arithmetic on the CPU.
//!
//! Encoder and decoder must derive *identical* means and scale bins, or the decoder reads
//! garbage. GPU kernels, SIMD reductions and BLAS libraries sum in orders that vary by
//! device, driver and thread count, so this path never runs on them. Here every output is
//! the bias plus its products accumulated in one fixed order (kernel row, kernel column,
//! input channel); Rust evaluates `f32` `+` and `*` as IEEE-754 binary32 with
//! round-to-nearest and never contracts them into fused multiply-adds, and `tanh` comes
//! from the pure-software `libm` crate. The result is the same bits on every CPU, operating
//! system and thread count. Parallelism splits *outputs* across threads, never one sum.
//! The analysis and synthesis transforms stay on any backend: they may differ in the last
//! bits, which moves pixels slightly but never the decoded latents.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use rayon::prelude::*;

use super::model::{ImageModel, SCALE_MIN, Stack};
use super::temporal::TemporalModel;

/// A feature map, channels innermost (`[H][W][C]`).
#[derive(Clone, Debug, PartialEq)]
struct Feature {
    h: usize,
    w: usize,
    c: usize,
    data: Vec<f32>,
}

impl Feature {
    /// From `[C][H][W]` (the bitstream's and Burn's order).
    fn from_chw(data: &[f32], c: usize, h: usize, w: usize) -> Self {
        let mut out = vec![0f32; c * h * w];
        for ch in 0..c {
            for p in 0..h * w {
                out[p * c + ch] = data[ch * h * w + p];
            }
        }
        Self { h, w, c, data: out }
    }

    /// Channels `start..start + n` in `[C][H][W]` order.
    fn to_chw(&self, start: usize, n: usize) -> Vec<f32> {
        let hw = self.h * self.w;
        let mut out = vec![0f32; n * hw];
        for p in 0..hw {
            for ch in 0..n {
                out[ch * hw + p] = self.data[p * self.c + start + ch];
            }
        }
        out
    }

    /// Channel-wise concatenation.
    fn concat(parts: &[&Feature]) -> Self {
        let (h, w) = (parts[0].h, parts[0].w);
        let c: usize = parts.iter().map(|p| p.c).sum();
        let mut data = Vec::with_capacity(h * w * c);
        for p in 0..h * w {
            for f in parts {
                data.extend_from_slice(&f.data[p * f.c..(p + 1) * f.c]);
            }
        }
        Self { h, w, c, data }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Conv { stride: usize, pad: usize },
    Deconv { stride: usize, pad: usize, pad_out: usize },
}

/// One convolution with weights laid out `[ky][kx][ci][co]`, so the innermost loop runs over
/// independent outputs.
#[derive(Clone, Debug)]
struct Layer {
    kind: Kind,
    k: usize,
    cin: usize,
    cout: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

fn values<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Reorders a square kernel to `[ky][kx][ci][co]`; `plane(ci, co)` is the index of the
/// `(ci, co)` k×k plane in the source layout.
fn taps_last(src: &[f32], [cin, cout, k]: [usize; 3], plane: impl Fn(usize, usize) -> usize) -> Vec<f32> {
    let mut w = vec![0f32; src.len()];
    for ci in 0..cin {
        for co in 0..cout {
            let from = plane(ci, co) * k * k;
            for t in 0..k * k {
                w[(t * cin + ci) * cout + co] = src[from + t];
            }
        }
    }
    w
}

impl Layer {
    fn conv(c: &Conv2d) -> Result<Self, String> {
        let [cout, cin, kh, kw] = c.weight.dims();
        let pad = match &c.padding {
            PaddingConfig2d::Explicit(t, l, b, r) if t == l && l == b && b == r && 2 * t + 1 == kh => *t,
            other => return Err(format!("unsupported conv padding {other:?}")),
        };
        if kh != kw || c.stride[0] != c.stride[1] || c.groups != 1 || c.dilation != [1, 1] {
            return Err("unsupported conv geometry".into());
        }
        // Burn stores conv kernels `[co][ci][ky][kx]`.
        let w = taps_last(&values(c.weight.val()), [cin, cout, kh], |ci, co| co * cin + ci);
        let b = c.bias.as_ref().map_or_else(|| vec![0.0; cout], |b| values(b.val()));
        Ok(Self { kind: Kind::Conv { stride: c.stride[0], pad }, k: kh, cin, cout, w, b })
    }

    fn deconv(d: &ConvTranspose2d) -> Result<Self, String> {
        let [cin, cout, kh, kw] = d.weight.dims();
        if kh != kw
            || d.stride[0] != d.stride[1]
            || d.padding[0] != d.padding[1]
            || d.padding_out[0] != d.padding_out[1]
            || d.groups != 1
            || d.dilation != [1, 1]
        {
            return Err("unsupported transposed-conv geometry".into());
        }
        // Burn stores transposed-conv kernels `[ci][co][ky][kx]`.
        let w = taps_last(&values(d.weight.val()), [cin, cout, kh], |ci, co| ci * cout + co);
        let b = d.bias.as_ref().map_or_else(|| vec![0.0; cout], |b| values(b.val()));
        let kind = Kind::Deconv { stride: d.stride[0], pad: d.padding[0], pad_out: d.padding_out[0] };
        Ok(Self { kind, k: kh, cin, cout, w, b })
    }

    /// Input position feeding output `o` through kernel tap `t`, if any.
    fn source(&self, o: usize, t: usize, n_in: usize) -> Option<usize> {
        match self.kind {
            Kind::Conv { stride, pad } => (o * stride + t).checked_sub(pad).filter(|&i| i < n_in),
            Kind::Deconv { stride, pad, .. } => {
                // Output o receives input i through tap t when o = i·stride − pad + t.
                let v = (o + pad).checked_sub(t)?;
                (v % stride == 0 && v / stride < n_in).then_some(v / stride)
            }
        }
    }

    fn out_size(&self, n: usize) -> usize {
        match self.kind {
            Kind::Conv { stride, pad } => (n + 2 * pad - self.k) / stride + 1,
            Kind::Deconv { stride, pad, pad_out } => (n - 1) * stride + self.k + pad_out - 2 * pad,
        }
    }

    fn forward(&self, x: &Feature, relu: bool) -> Feature {
        self.forward_at(x, relu, |_, _| true)
    }

    /// [`Layer::forward`] at the output positions `(row, column)` that `wanted` selects; the
    /// others hold only the bias. Inputs that are exactly zero are skipped: adding their
    /// products (±0) would leave every sum as it is, so the outputs do not change, and after
    /// a ReLU or the checkerboard's unknown half, many inputs are zero.
    fn forward_at(&self, x: &Feature, relu: bool, wanted: impl Fn(usize, usize) -> bool + Sync) -> Feature {
        debug_assert_eq!(x.c, self.cin);
        let (oh, ow) = (self.out_size(x.h), self.out_size(x.w));
        let (k, cin, cout) = (self.k, self.cin, self.cout);
        let mut data = vec![0f32; oh * ow * cout];
        data.par_chunks_mut(ow * cout).enumerate().for_each(|(oy, row)| {
            for ox in 0..ow {
                let acc = &mut row[ox * cout..(ox + 1) * cout];
                acc.copy_from_slice(&self.b);
                if !wanted(oy, ox) {
                    continue;
                }
                for ky in 0..k {
                    let Some(iy) = self.source(oy, ky, x.h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = self.source(ox, kx, x.w) else { continue };
                        let xin = &x.data[(iy * x.w + ix) * cin..(iy * x.w + ix + 1) * cin];
                        let taps = &self.w[(ky * k + kx) * cin * cout..(ky * k + kx + 1) * cin * cout];
                        for (ci, &v) in xin.iter().enumerate() {
                            if v == 0.0 {
                                continue;
                            }
                            let wrow = &taps[ci * cout..(ci + 1) * cout];
                            for (a, &wv) in acc.iter_mut().zip(wrow) {
                                *a += v * wv;
                            }
                        }
                    }
                }
                if relu {
                    for a in acc.iter_mut() {
                        *a = a.max(0.0);
                    }
                }
            }
        });
        Feature { h: oh, w: ow, c: cout, data }
    }
}

/// A [`Stack`] in exact arithmetic: its layers in order, ReLU between them.
#[derive(Clone, Debug)]
struct ExactStack(Vec<Layer>);

impl ExactStack {
    fn new(s: &Stack) -> Result<Self, String> {
        let mut layers: Vec<Layer> = s.deconvs.iter().map(Layer::deconv).collect::<Result<_, _>>()?;
        for c in &s.convs {
            layers.push(Layer::conv(c)?);
        }
        Ok(Self(layers))
    }

    fn forward(&self, x: &Feature) -> Feature {
        self.forward_at(x, |_, _| true)
    }

    /// [`ExactStack::forward`] with the last layer evaluated only where `wanted` says (the
    /// earlier layers everywhere, since their outputs feed neighbouring positions).
    fn forward_at(&self, x: &Feature, wanted: impl Fn(usize, usize) -> bool + Sync) -> Feature {
        let n = self.0.len();
        // Each layer reads the previous one's output; the input itself is never copied.
        let mut out: Option<Feature> = None;
        for (i, l) in self.0.iter().enumerate() {
            let input = out.as_ref().unwrap_or(x);
            out = Some(if i + 1 < n { l.forward(input, true) } else { l.forward_at(input, false, &wanted) });
        }
        out.unwrap_or_else(|| x.clone())
    }
}

/// The platform-independent entropy-parameter path of an [`ImageModel`], and of its
/// [`TemporalModel`] for inter frames when the model has one.
#[derive(Clone, Debug)]
pub struct ExactParams {
    h_s: ExactStack,
    slice_params: Vec<ExactStack>,
    slice_lrp: Vec<ExactStack>,
    slice_spatial: Vec<ExactStack>,
    temporal: Option<Vec<(ExactStack, Layer)>>,
    temporal_spatial: Vec<ExactStack>,
    slices: Vec<usize>,
}

/// Which positions of a slice one call for symbols covers. Without a checkerboard context a
/// slice is one part; with it, an intra slice is two, coded in this order: the anchors, then
/// the rest (whose means and scales depend on the decoded anchors). Symbols, means and scales
/// of a part are in `[C][H][W]` order restricted to its positions ([`Part::positions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Every position of the slice.
    Whole,
    /// The checkerboard's anchors, `(row + col)` even.
    Anchors,
    /// The other half.
    NonAnchors,
}

impl Part {
    /// Indices into a `[s][h][w]` slice (`[C][H][W]` order) of this part's positions, in
    /// coding order.
    pub fn positions(self, [s, h, w]: [usize; 3]) -> Vec<usize> {
        let keep = |p: usize| match self {
            Part::Whole => true,
            Part::Anchors => (p / w + p % w) % 2 == 0,
            Part::NonAnchors => (p / w + p % w) % 2 == 1,
        };
        (0..s).flat_map(|c| (0..h * w).filter(move |&p| keep(p)).map(move |p| c * h * w + p)).collect()
    }
}

/// What the path produced for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Latents {
    /// Decoded latent `ŷ` (gains still applied), `[M][h][w]`.
    pub y_hat: Vec<f32>,
    /// `[M, h, w]`.
    pub shape: [usize; 3],
}

impl ExactParams {
    /// Copies the weights of `net`'s entropy-parameter networks.
    pub fn new(net: &ImageModel) -> Result<Self, String> {
        Ok(Self {
            h_s: ExactStack::new(&net.h_s)?,
            slice_params: net.slice_params.iter().map(ExactStack::new).collect::<Result<_, _>>()?,
            slice_lrp: net.slice_lrp.iter().map(ExactStack::new).collect::<Result<_, _>>()?,
            slice_spatial: net.slice_spatial.iter().map(ExactStack::new).collect::<Result<_, _>>()?,
            temporal: None,
            temporal_spatial: Vec::new(),
            slices: net.slices.clone(),
        })
    }

    /// Adds the inter-frame parameter networks of `t`.
    pub fn with_temporal(mut self, t: &TemporalModel) -> Result<Self, String> {
        if t.slice_params.len() != self.slices.len() || t.skip.len() != self.slices.len() {
            return Err(format!(
                "{} temporal slice networks for {} slices",
                t.slice_params.len(),
                self.slices.len()
            ));
        }
        let nets = t
            .slice_params
            .iter()
            .zip(&t.skip)
            .map(|(s, k)| Ok((ExactStack::new(s)?, Layer::conv(k)?)))
            .collect::<Result<_, String>>()?;
        if t.spatial.len() != self.slice_spatial.len() {
            return Err(format!(
                "{} temporal checkerboard networks for {} intra ones",
                t.spatial.len(),
                self.slice_spatial.len()
            ));
        }
        self.temporal_spatial = t.spatial.iter().map(ExactStack::new).collect::<Result<_, _>>()?;
        self.temporal = Some(nets);
        Ok(self)
    }

    /// Whether inter frames can be coded (the model has a temporal network).
    pub fn has_temporal(&self) -> bool {
        self.temporal.is_some()
    }

    /// From `ẑ` (`[C][h][w]` integers), slice by slice and part by part ([`Part`]):
    /// computes the means and scales of a part (scales already floored at [`SCALE_MIN`]),
    /// asks `symbols(slice, part, μ, σ)` for its rounded residuals `round(y − μ)` (from the
    /// latent when encoding, from the bitstream when decoding), and returns `ŷ`.
    pub fn run<E>(
        &self,
        z_hat: &[i32],
        z_shape: [usize; 3],
        symbols: impl FnMut(usize, Part, &[f32], &[f32]) -> Result<Vec<i32>, E>,
    ) -> Result<Latents, E> {
        self.run_with(z_hat, z_shape, None, symbols)
    }

    /// As [`ExactParams::run`], for an inter frame when `prev` (the previous frame's decoded
    /// latent) is given: the temporal networks then predict each slice's mean and scale.
    /// The caller checks [`ExactParams::has_temporal`] and the shape first; `prev` is ignored
    /// (intra coding) when either does not hold.
    pub fn run_with<E>(
        &self,
        z_hat: &[i32],
        z_shape: [usize; 3],
        prev: Option<&Latents>,
        mut symbols: impl FnMut(usize, Part, &[f32], &[f32]) -> Result<Vec<i32>, E>,
    ) -> Result<Latents, E> {
        let [zc, zh, zw] = z_shape;
        let z: Vec<f32> = z_hat.iter().map(|&v| v as f32).collect();
        let hyper = self.h_s.forward(&Feature::from_chw(&z, zc, zh, zw));
        let (h, w) = (hyper.h, hyper.w);
        let m: usize = self.slices.iter().sum();
        let inter = match (prev, &self.temporal) {
            (Some(p), Some(t)) if p.shape == [m, h, w] => Some((Feature::from_chw(&p.y_hat, m, h, w), t)),
            _ => None,
        };
        let mut decoded: Vec<Feature> = Vec::new();
        for (i, &s) in self.slices.iter().enumerate() {
            let mut parts = vec![&hyper];
            parts.extend(decoded.iter());
            let ctx = Feature::concat(&parts);
            let params = match &inter {
                Some((prev, t)) => {
                    let mut parts = vec![&hyper, prev];
                    parts.extend(decoded.iter());
                    let (net, skip) = &t[i];
                    let mut p = net.forward(&Feature::concat(&parts));
                    // Fixed order: the network's output, then the skip path's, added.
                    for (a, b) in p.data.iter_mut().zip(&skip.forward(prev, false).data) {
                        *a += b;
                    }
                    p
                }
                None => self.slice_params[i].forward(&ctx),
            };
            // Inter frames have checkerboard networks of their own.
            let spatial = if inter.is_some() { &self.temporal_spatial } else { &self.slice_spatial }.get(i);
            let y = match spatial {
                None => {
                    let (mu, sigma) = mean_scale(&params, s);
                    let q = symbols(i, Part::Whole, &mu, &sigma)?;
                    q.iter().zip(&mu).map(|(&q, &m)| q as f32 + m).collect::<Vec<f32>>()
                }
                Some(spatial) => {
                    let shape = [s, h, w];
                    let (anchors, rest) = (Part::Anchors.positions(shape), Part::NonAnchors.positions(shape));
                    let (mu, sigma) = mean_scale(&params, s);
                    let q_a = symbols(i, Part::Anchors, &pick(&mu, &anchors), &pick(&sigma, &anchors))?;
                    let mut known = vec![0f32; s * h * w];
                    for (&k, &q) in anchors.iter().zip(&q_a) {
                        known[k] = q as f32;
                    }
                    let input = Feature::concat(&[&params, &Feature::from_chw(&known, s, h, w)]);
                    let mut second = params.clone();
                    // Fixed order: the first pass's parameters, then the correction, added.
                    // Only the non-anchors' corrections are used: the anchors are coded already.
                    let correction = spatial.forward_at(&input, |r, c| (r + c) % 2 == 1);
                    for (a, b) in second.data.iter_mut().zip(&correction.data) {
                        *a += b;
                    }
                    let (mu_n, sigma_n) = mean_scale(&second, s);
                    let q_n = symbols(i, Part::NonAnchors, &pick(&mu_n, &rest), &pick(&sigma_n, &rest))?;
                    let mut y = vec![0f32; s * h * w];
                    for (&k, &q) in anchors.iter().zip(&q_a) {
                        y[k] = q as f32 + mu[k];
                    }
                    for (&k, &q) in rest.iter().zip(&q_n) {
                        y[k] = q as f32 + mu_n[k];
                    }
                    y
                }
            };
            let y = Feature::from_chw(&y, s, h, w);
            let lrp = self.slice_lrp[i].forward(&Feature::concat(&[&ctx, &y]));
            let data = y.data.iter().zip(&lrp.data).map(|(&v, &r)| v + 0.5 * libm::tanhf(r)).collect();
            decoded.push(Feature { data, ..y });
        }
        let all = Feature::concat(&decoded.iter().collect::<Vec<_>>());
        Ok(Latents { y_hat: all.to_chw(0, m), shape: [m, h, w] })
    }
}

/// Means and scales of a parameter map's `2s` channels, `[s][H][W]` each, the scales floored
/// at [`SCALE_MIN`].
fn mean_scale(params: &Feature, s: usize) -> (Vec<f32>, Vec<f32>) {
    let sigma = params.to_chw(s, s).into_iter().map(|v| v.abs().max(SCALE_MIN as f32)).collect();
    (params.to_chw(0, s), sigma)
}

/// `values` at `positions`.
fn pick(values: &[f32], positions: &[usize]) -> Vec<f32> {
    positions.iter().map(|&k| values[k]).collect()
}
