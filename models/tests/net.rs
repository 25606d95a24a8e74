//! The networks: shapes, gradients, encode→decode agreement, export/load.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use lic_entropy::{ScaleTable, TableSet};
use lic_models::net::{ImageModel, ModelConfig, z_table_indices};
use lic_models::{CodecModel, ModelError, Weights, export};

fn tiny() -> ModelConfig {
    ModelConfig {
        n: 8,
        m: 16,
        z_channels: 8,
        slices: vec![4, 4, 8],
        context_hidden: 8,
        params_hidden: None,
        hyper_channels: None,
        synthesis_blocks: vec![],
        checkerboard: false,
    }
}

fn image(device: &Device, h: usize, w: usize) -> Tensor<4> {
    Tensor::random([1, 3, h, w], Distribution::Uniform(0.0, 1.0), device)
}

#[test]
fn forward_and_backward_shapes() {
    let device = Device::flex().autodiff();
    let model = ImageModel::new(&tiny(), &device);
    let x = Tensor::<4>::random([2, 3, 64, 128], Distribution::Uniform(0.0, 1.0), &device);
    let out = model.forward_train(x.clone(), 3.5);
    assert_eq!(out.x_hat.dims(), [2, 3, 64, 128]);
    assert_eq!(out.y_likelihood.dims(), [2, 16, 4, 8]);
    assert_eq!(out.z_likelihood.dims(), [2, 8, 1, 2]);
    let rate = out.y_likelihood.log().sum().neg() + out.z_likelihood.log().sum().neg();
    let loss = (out.x_hat - x).powi_scalar(2).mean().mul_scalar(100.0) + rate.div_scalar(2.0 * 64.0 * 128.0);
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    // Every trainable tensor but the prior's quantiles (trained by the auxiliary loss alone)
    // receives a gradient from the rate–distortion loss.
    let mut params = 0;
    model.visit(&mut CountParams(&mut params));
    assert_eq!(grads.len(), params - 1, "{} of {params} parameters got gradients", grads.len());
    let aux = GradientsParams::from_grads(model.prior.aux_loss().backward(), &model);
    assert_eq!(aux.len(), 1, "the auxiliary loss trains the quantiles only");
}

struct CountParams<'a>(&'a mut usize);

impl burn::module::ModuleVisitor for CountParams<'_> {
    fn visit_float<const D: usize>(&mut self, _param: &burn::module::Param<Tensor<D>>) {
        *self.0 += 1;
    }
}

/// A model of `config` whose checkerboard networks (zero at their start) are randomised, so
/// that the second pass really depends on the first.
fn model_with_live_context(config: &ModelConfig, device: &Device) -> ImageModel {
    struct Randomise;
    impl burn::module::ModuleMapper for Randomise {
        fn map_float<const D: usize>(
            &mut self,
            param: burn::module::Param<Tensor<D>>,
        ) -> burn::module::Param<Tensor<D>> {
            param.map(|t| Tensor::random(t.dims(), Distribution::Uniform(-0.3, 0.3), &t.device()))
        }
    }
    let mut model = ImageModel::new(config, device);
    model.slice_spatial = model.slice_spatial.map(&mut Randomise);
    model
}

/// Codes a random image with `model` and decodes it from the bytes alone, one stream per
/// slice read in parts as the codec reads them; checks every symbol, scale bin and pixel.
fn round_trip(model: &ImageModel, device: &Device) {
    use lic_models::net::Part;
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let z_coder = TableSet::new(model.z_distributions().expect("z tables")).expect("z coder");
    let exact = lic_models::net::ExactParams::new(model).expect("exact path");
    let q = model.quantise(&exact, image(device, 128, 64), 2.25, &scales);
    let z_bytes = z_coder.encode(&q.z_symbols, &q.z_tables).expect("z");
    let y_bytes: Vec<Vec<u8>> =
        q.y_symbols.iter().zip(&q.y_bins).map(|(s, b)| coder.encode(s, b).expect("y")).collect();

    // Decoder side: only the bytes.
    let z = z_coder.decode(&z_bytes, &z_table_indices(q.z_shape)).expect("z decode");
    assert_eq!(z, q.z_symbols);
    let mut decoded: Vec<Vec<i32>> = vec![Vec::new(); q.y_symbols.len()];
    let mut bins_seen: Vec<Vec<u16>> = vec![Vec::new(); q.y_symbols.len()];
    let mut streams = Vec::new();
    let mut parts = Vec::new();
    let x_hat = model
        .decode_latents(&exact, &z, q.z_shape, 2.25, device, |i, part, _mu, sigma| {
            let bins: Vec<u16> = sigma.iter().map(|&s| scales.bin(s)).collect();
            if part != Part::NonAnchors {
                streams.push(coder.stream(&y_bytes[i]).expect("stream"));
            }
            let symbols = streams[i].decode(&bins).expect("y decode");
            decoded[i].extend_from_slice(&symbols);
            bins_seen[i].extend_from_slice(&bins);
            parts.push(part);
            Ok::<_, ()>(symbols)
        })
        .expect("synthesis");
    for s in streams {
        s.finish().expect("every stream used up exactly");
    }
    assert_eq!(bins_seen, q.y_bins, "the decoder derived other scale bins");
    assert_eq!(decoded, q.y_symbols);
    assert_eq!(x_hat.into_data(), model.reconstruct(q.latents, 2.25, device).into_data());
    let expected = if model.slice_spatial.is_empty() { 1 } else { 2 } * model.slices.len();
    assert_eq!(parts.len(), expected, "{parts:?}");
}

#[test]
fn decoding_reproduces_the_encoders_latents() {
    let device = Device::flex();
    round_trip(&ImageModel::new(&tiny(), &device), &device);
}

#[test]
fn checkerboard_inter_frames_decode_to_the_encoders_latents() {
    use lic_models::net::{ExactParams, Part, TemporalModel};
    let device = Device::flex();
    let config = ModelConfig { checkerboard: true, ..tiny() };
    let model = model_with_live_context(&config, &device);
    let mut temporal = TemporalModel::from_image(&model, &device);
    assert_eq!(temporal.spatial.len(), config.slices.len(), "inter frames get their own networks");
    // Different from the intra ones, so that using the wrong set would show.
    temporal.spatial = model_with_live_context(&config, &device).slice_spatial;
    let exact = ExactParams::new(&model).and_then(|e| e.with_temporal(&temporal)).expect("exact");
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let x = image(&device, 64, 128);
    let first = model.quantise(&exact, x.clone(), 5.0, &scales);
    let x_second = x + 0.01;
    let second = model.quantise_with(&exact, x_second.clone(), 5.0, &scales, Some(&first.latents));
    let bytes: Vec<Vec<u8>> =
        second.y_symbols.iter().zip(&second.y_bins).map(|(s, b)| coder.encode(s, b).expect("y")).collect();
    let mut streams = Vec::new();
    let decoded = exact
        .run_with(&second.z_symbols, second.z_shape, Some(&first.latents), |i, part, _mu, sigma| {
            let bins: Vec<u16> = sigma.iter().map(|&s| scales.bin(s)).collect();
            if part != Part::NonAnchors {
                streams.push(coder.stream(&bytes[i]).expect("stream"));
            }
            streams[i].decode(&bins)
        })
        .expect("decode");
    assert_eq!(decoded, second.latents);
    // The same temporal model with the intra networks in its checkerboard codes otherwise:
    // inter frames use their own.
    let shared = ExactParams::new(&model)
        .and_then(|e| e.with_temporal(&TemporalModel::from_image(&model, &device)))
        .expect("exact");
    let other = model.quantise_with(&shared, x_second, 5.0, &scales, Some(&first.latents));
    assert_ne!(other.y_bins, second.y_bins);
}

#[test]
fn checkerboard_decoding_reproduces_the_encoders_latents() {
    let device = Device::flex();
    round_trip(&model_with_live_context(&ModelConfig { checkerboard: true, ..tiny() }, &device), &device);
}

#[test]
fn checkerboard_starts_as_the_channel_model_and_its_second_pass_sees_only_anchors() {
    use burn::store::{ModuleSnapshot, SafetensorsStore};
    use lic_models::net::{ExactParams, Part};
    let device = Device::flex();
    let base = ImageModel::new(&tiny(), &device);
    let config = ModelConfig { checkerboard: true, ..tiny() };
    // Grown from the base model: its spatial networks keep their (zero-ended) initialisation.
    let mut grown = ImageModel::new(&config, &device);
    let mut store = SafetensorsStore::from_bytes(None);
    base.save_into(&mut store).expect("save");
    let bytes = store.get_bytes().expect("bytes");
    let applied =
        grown.load_from(&mut SafetensorsStore::from_bytes(Some(bytes)).allow_partial(true)).expect("load");
    assert!(applied.missing.iter().all(|(p, _)| p.starts_with("slice_spatial")), "{:?}", applied.missing);
    let scales = ScaleTable::default();
    let x = image(&device, 128, 64);
    let a = base.quantise(&ExactParams::new(&base).expect("exact"), x.clone(), 3.0, &scales);
    let b = grown.quantise(&ExactParams::new(&grown).expect("exact"), x.clone(), 3.0, &scales);
    assert_eq!(a.latents, b.latents, "a fresh checkerboard must code as the channel model");
    // Same symbols, reordered within each slice: anchors first.
    for (i, (sa, sb)) in a.y_symbols.iter().zip(&b.y_symbols).enumerate() {
        let shape = [base.slices[i], a.latents.shape[1], a.latents.shape[2]];
        let order = [Part::Anchors.positions(shape), Part::NonAnchors.positions(shape)].concat();
        let reordered: Vec<i32> = order.iter().map(|&k| sa[k]).collect();
        assert_eq!(&reordered, sb, "slice {i}");
    }

    // Live spatial networks. In the codec's path, changing an anchor symbol of slice 0
    // changes the parameters of its non-anchors (they see it) but not those of the anchors.
    let live = model_with_live_context(&config, &device);
    let exact = ExactParams::new(&live).expect("exact");
    let q = live.quantise(&exact, x.clone(), 3.0, &scales);
    let all: Vec<i32> = q.y_symbols.iter().flatten().copied().collect();
    let params = |flip: bool| {
        let (mut seen, mut at) = (Vec::new(), 0);
        exact
            .run(&q.z_symbols, q.z_shape, |i, part, mu, sigma| {
                seen.push((mu.to_vec(), sigma.to_vec()));
                let mut out = all[at..at + mu.len()].to_vec();
                at += mu.len();
                if flip && i == 0 && part == Part::Anchors {
                    out[0] += 5;
                }
                Ok::<_, ()>(out)
            })
            .expect("run");
        seen
    };
    let (plain, flipped) = (params(false), params(true));
    assert_eq!(plain[0], flipped[0], "anchors of slice 0");
    assert_ne!(plain[1], flipped[1], "the non-anchors of slice 0 see its anchors");

    // In training's path, the non-anchors' parameters do not depend on the non-anchors'
    // own values: moving every non-anchor latent leaves the second pass's scales as they were.
    let y = live.analyse(x, 3.0);
    let [_, m, h, w] = y.dims();
    let rest = lic_models::net::anchor_mask(h, w, &device).neg().add_scalar(1.0);
    let moved = y.clone() + rest.mul_scalar(7.0).repeat_dim(1, m);
    let hyper = live.h_s.forward(live.h_a.forward(y.clone()).round());
    let second_pass_scales = |y: Tensor<4>| {
        let mut calls = Vec::new();
        live.slice_loop(hyper.clone(), y, |r, sigma| {
            calls.push(sigma.clone().into_data());
            (r.clone().round(), sigma.ones_like())
        });
        calls[1].clone()
    };
    assert_eq!(second_pass_scales(y), second_pass_scales(moved));
}

#[test]
fn export_then_load_gives_the_same_network() {
    let device = Device::flex();
    let model = ImageModel::new(&tiny(), &device);
    let bytes = export(&model, &tiny()).expect("export");
    let loaded = CodecModel::load(Weights::from_bytes("tiny", bytes.clone()).expect("weights"), &device)
        .expect("load");
    assert_eq!(loaded.config, tiny());
    let x = image(&device, 64, 64);
    let a = model.g_a.forward(x.clone()).into_data();
    let b = loaded.net.g_a.forward(x).into_data();
    // Kernels are stored in fp16: close, not identical.
    a.assert_approx_eq::<f32>(&b, burn::tensor::Tolerance::absolute(2e-2));
    assert_eq!(loaded.z_coder.distributions(), model.z_distributions().expect("tables").as_slice());
}

#[test]
fn grown_synthesis_starts_as_the_trained_one_and_round_trips() {
    use burn::store::{ModuleSnapshot, SafetensorsStore};
    let device = Device::flex();
    let base = ImageModel::new(&tiny(), &device);
    let grown_config = ModelConfig { synthesis_blocks: vec![1, 2], ..tiny() };
    let mut grown = ImageModel::new(&grown_config, &device);
    // Every weight of the base model copied over; the blocks keep their initialisation.
    let mut store = SafetensorsStore::from_bytes(None);
    base.save_into(&mut store).expect("save");
    let bytes = store.get_bytes().expect("bytes");
    let applied =
        grown.load_from(&mut SafetensorsStore::from_bytes(Some(bytes)).allow_partial(true)).expect("load");
    assert!(applied.errors.is_empty());
    assert!(applied.missing.iter().all(|(p, _)| p.starts_with("g_s.blocks")), "{:?}", applied.missing);
    assert_eq!(applied.missing.len(), 3 * 4, "three blocks of two convolutions with bias");

    let y = Tensor::<4>::random([1, 16, 4, 4], Distribution::Uniform(-2.0, 2.0), &device);
    let a = base.g_s.forward(y.clone()).into_data();
    let b = grown.g_s.forward(y.clone()).into_data();
    assert_eq!(a, b, "fresh residual blocks must be the identity");

    // The blocks are stored and restored like every other layer, and the config says so.
    let file = export(&grown, &grown_config).expect("export");
    let loaded =
        CodecModel::load(Weights::from_bytes("grown", file).expect("weights"), &device).expect("load");
    assert_eq!(loaded.config, grown_config);
    loaded
        .net
        .g_s
        .forward(y)
        .into_data()
        .assert_approx_eq::<f32>(&b, burn::tensor::Tolerance::absolute(2e-2));
    // The base config (no blocks) still serialises as before the blocks existed.
    let json = serde_json::to_string(&tiny()).expect("json");
    assert!(!json.contains("synthesis_blocks"), "{json}");
}

#[test]
fn bad_weights_fail_clearly() {
    let device = Device::flex();
    let model = ImageModel::new(&tiny(), &device);
    let bytes = export(&model, &tiny()).expect("export");

    let truncated = Weights::from_bytes("tiny", bytes[..bytes.len() / 2].to_vec());
    assert!(matches!(truncated, Err(ModelError::Format { .. })));

    // A file whose metadata claims another architecture: shape mismatch, not garbage.
    let mut other = tiny();
    other.m = 24;
    other.slices = vec![8, 8, 8];
    let relabelled = relabel(&bytes, &other);
    let err = CodecModel::load(Weights::from_bytes("tiny", relabelled).expect("weights"), &device)
        .expect_err("mismatched config accepted");
    assert!(!err.to_string().is_empty());

    // Plain safetensors without lic metadata.
    let plain = safetensors::serialize(Vec::<(&str, safetensors::tensor::TensorView<'_>)>::new(), None)
        .expect("empty");
    let err = CodecModel::load(Weights::from_bytes("plain", plain).expect("weights"), &device)
        .expect_err("accepted");
    assert!(err.to_string().contains("not a lic model file"), "{err}");
}

/// The same tensors with another config in the metadata.
fn relabel(bytes: &[u8], config: &ModelConfig) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(bytes).expect("parse");
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> =
        st.iter().map(|(n, v)| (n.to_owned(), v)).collect();
    let meta = std::collections::HashMap::from([(
        lic_models::CONFIG_KEY.to_owned(),
        serde_json::to_string(config).expect("json"),
    )]);
    safetensors::serialize(views, Some(meta)).expect("serialise")
}
