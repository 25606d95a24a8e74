//! Encode/decode throughput of the Gaussian conditional coder on latent-like data.
//!
//! `cargo bench -p lic-entropy` reports elements/s (= symbols/s). "typical" draws scale bins
//! as a trained model's latents use them (mostly small scales: ~70% of symbols below σ = 1);
//! "wide" draws bins uniformly over all 64 scales.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lic_entropy::{ScaleTable, TableSet};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

const N: usize = 294_912; // latents of a 768×512 image at M = 192: (768/16)·(512/16)·192

fn data(skew: i32, seed: u64) -> (Vec<i32>, Vec<u16>) {
    let scales = ScaleTable::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut symbols = Vec::with_capacity(N);
    let mut bins = Vec::with_capacity(N);
    for _ in 0..N {
        let bin = (rng.random::<f64>().powi(skew) * 64.0) as u16;
        let s = scales.scales()[usize::from(bin)];
        let u1: f64 = rng.random::<f64>().max(1e-300);
        let u2: f64 = rng.random();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        symbols.push((z * s).round() as i32);
        bins.push(bin);
    }
    (symbols, bins)
}

fn bench(c: &mut Criterion) {
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    for (name, skew) in [("typical", 3), ("wide", 1)] {
        let (symbols, bins) = data(skew, 7);
        let bytes = coder.encode(&symbols, &bins).expect("encode");
        let mut g = c.benchmark_group(format!("gaussian/{name}"));
        g.throughput(Throughput::Elements(N as u64));
        g.bench_function("encode", |b| b.iter(|| coder.encode(black_box(&symbols), black_box(&bins))));
        let mut out = vec![0; N];
        g.bench_function("decode", |b| {
            b.iter(|| coder.decode_into(black_box(&bytes), black_box(&bins), &mut out))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
