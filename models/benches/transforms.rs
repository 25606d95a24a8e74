//! Time of lic's networks on a Kodak-sized input (768×512), per Burn backend compiled in.
//!
//! `cargo bench -p lic-models --bench transforms` runs the embedded default model's analysis
//! (g_a), synthesis (g_s) and the decoder's whole network path (hyper-synthesis, the slice
//! context networks and g_s, i.e. a decode without the entropy decoder). Each backend in
//! `backends()` gets its own group, so a GPU backend appears beside the CPU when built.

use std::hint::black_box;

use burn::tensor::{Device, Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use lic_models::{CodecModel, DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS, Weights};

const H: usize = 512;
const W: usize = 768;

fn backends() -> Vec<(&'static str, Device)> {
    vec![("cpu-flex", Device::flex())]
}

fn bench(c: &mut Criterion) {
    for (name, device) in backends() {
        let weights = Weights::from_bytes(DEFAULT_MODEL_NAME, DEFAULT_WEIGHTS).expect("embedded weights");
        let model = CodecModel::load(weights, &device).expect("embedded model loads");
        let net = &model.net;
        let m = model.config.m;
        let x = Tensor::<4>::random([1, 3, H, W], Distribution::Uniform(0.0, 1.0), &device);

        let mut g = c.benchmark_group(format!("transforms/{name}/768x512"));
        g.sample_size(10);
        g.bench_function("analysis g_a", |b| b.iter(|| net.g_a.forward(black_box(x.clone())).into_data()));
        let y_plain = Tensor::<4>::random([1, m, H / 16, W / 16], Distribution::Normal(0.0, 1.0), &device);
        g.bench_function("synthesis g_s", |b| {
            b.iter(|| net.g_s.forward(black_box(y_plain.clone())).into_data())
        });
        // The decoder's networks as a decode runs them: the exact entropy-parameter path on
        // the CPU, then g_s on this backend.
        let q = net.quantise(&model.exact, x.clone(), 4.0, &model.scales);
        g.bench_function("entropy-parameter path (exact, CPU)", |b| {
            b.iter(|| model.exact.run(&q.z_symbols, q.z_shape, q.replay()))
        });
        g.bench_function("decoder networks (exact path + g_s)", |b| {
            b.iter(|| {
                net.decode_latents(&model.exact, &q.z_symbols, q.z_shape, 4.0, &device, q.replay())
                    .map(|t| t.into_data())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
