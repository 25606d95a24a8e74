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
        synthesis_blocks: vec![],
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

#[test]
fn decoding_reproduces_the_encoders_latents() {
    let device = Device::flex();
    let model = ImageModel::new(&tiny(), &device);
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let z_coder = TableSet::new(model.z_distributions().expect("z tables")).expect("z coder");
    let exact = lic_models::net::ExactParams::new(&model).expect("exact path");
    let q = model.quantise(&exact, image(&device, 128, 64), 2.25, &scales);
    let z_bytes = z_coder.encode(&q.z_symbols, &q.z_tables).expect("z");
    let y_bytes: Vec<Vec<u8>> =
        q.y_symbols.iter().zip(&q.y_bins).map(|(s, b)| coder.encode(s, b).expect("y")).collect();

    // Decoder side: only the bytes.
    let z = z_coder.decode(&z_bytes, &z_table_indices(q.z_shape)).expect("z decode");
    assert_eq!(z, q.z_symbols);
    let mut decoded = Vec::new();
    let x_hat = model
        .decode_latents(&exact, &z, q.z_shape, 2.25, &device, |i, _mu, sigma| {
            let bins: Vec<u16> = sigma.iter().map(|&s| scales.bin(s)).collect();
            assert_eq!(bins, q.y_bins[i], "slice {i}: decoder derived other scale bins");
            let symbols = coder.decode(&y_bytes[i], &bins).expect("y decode");
            decoded.push(symbols.clone());
            Ok::<_, ()>(symbols)
        })
        .expect("synthesis");
    assert_eq!(decoded, q.y_symbols);
    assert_eq!(x_hat.into_data(), model.reconstruct(q.latents, 2.25, &device).into_data());
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
