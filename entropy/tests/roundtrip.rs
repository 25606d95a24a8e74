//! Round trips, escapes, empty input, and coded size against information content.

use lic_entropy::{Distribution, EntropyError, ScaleTable, TOTAL, TableSet, encode_parts, quantize_pmf};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn normal(rng: &mut impl Rng) -> f64 {
    // Box–Muller: enough for test data.
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Symbols drawn from the Gaussian of a random scale bin, as a latent would be.
fn gaussian_symbols(n: usize, seed: u64, scales: &ScaleTable) -> (Vec<i32>, Vec<u16>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut symbols = Vec::with_capacity(n);
    let mut bins = Vec::with_capacity(n);
    for _ in 0..n {
        let bin = rng.random_range(0..scales.len() as u16);
        let s = scales.scales()[usize::from(bin)];
        symbols.push((normal(&mut rng) * s).round() as i32);
        bins.push(bin);
    }
    (symbols, bins)
}

#[test]
fn millions_of_symbols_across_all_bins_round_trip() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let (symbols, bins) = gaussian_symbols(2_000_000, 1, &scales);
    let bytes = coder.encode(&symbols, &bins).expect("encode");
    assert_eq!(coder.decode(&bytes, &bins).expect("decode"), symbols);
}

#[test]
fn uniform_random_values_round_trip_through_escape() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 200_000;
    let symbols: Vec<i32> = (0..n).map(|_| rng.random::<i32>()).collect();
    let bins: Vec<u16> = (0..n).map(|_| rng.random_range(0..64)).collect();
    let bytes = coder.encode(&symbols, &bins).expect("encode");
    assert_eq!(coder.decode(&bytes, &bins).expect("decode"), symbols);
}

#[test]
fn extreme_values_round_trip() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let mut symbols = vec![i32::MIN, i32::MAX, i32::MIN + 1, i32::MAX - 1, 0, 1, -1];
    for d in coder.distributions() {
        let (lo, hi) = d.range();
        symbols.extend([lo, hi, lo - 1, hi + 1, lo - 2, hi + 2, lo - 65_537, hi + 65_537]);
    }
    for bin in 0..scales.len() as u16 {
        let bins = vec![bin; symbols.len()];
        let bytes = coder.encode(&symbols, &bins).expect("encode");
        assert_eq!(coder.decode(&bytes, &bins).expect("decode"), symbols, "bin {bin}");
    }
}

#[test]
fn empty_input() {
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    let bytes = coder.encode(&[], &[]).expect("encode");
    assert!(bytes.is_empty());
    assert_eq!(coder.decode(&bytes, &[]).expect("decode"), Vec::<i32>::new());
}

#[test]
fn coded_size_is_within_one_percent_of_information_content() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    // A latent-like mix: mostly small scales, a few large ones.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 1_000_000;
    let mut symbols = Vec::with_capacity(n);
    let mut bins = Vec::with_capacity(n);
    let mut exact_bits = 0.0;
    for _ in 0..n {
        let bin = (rng.random::<f64>().powi(3) * 64.0) as u16;
        let s = scales.scales()[usize::from(bin)];
        let v = (normal(&mut rng) * s).round();
        // Information content under the exact (unquantised) Gaussian.
        let p = lic_test_phi((v + 0.5) / s) - lic_test_phi((v - 0.5) / s);
        exact_bits -= p.max(1e-300).log2();
        symbols.push(v as i32);
        bins.push(bin);
    }
    let bytes = coder.encode(&symbols, &bins).expect("encode");
    let coded = bytes.len() as f64 * 8.0;
    let ideal = coder.information_bits(&symbols, &bins).expect("bits");
    assert!(coded <= ideal * 1.01, "coded {coded} bits vs ideal {ideal}");
    assert!(coded >= ideal * 0.99, "coded {coded} bits below ideal {ideal}?");
    // Table quantisation (16-bit, 6σ support) costs under 1% against the exact Gaussian too.
    assert!(ideal <= exact_bits * 1.01, "quantised tables cost {ideal} vs exact {exact_bits}");
}

fn lic_test_phi(x: f64) -> f64 {
    0.5 * libm_erfc(-x / std::f64::consts::SQRT_2)
}

fn libm_erfc(x: f64) -> f64 {
    // The test recomputes the Gaussian independently of the crate's own table code.
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { y } else { 2.0 - y }
}

#[test]
fn factorized_tables_round_trip() {
    // A factorized prior: one arbitrary learned-looking PMF per channel.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let dists: Vec<Distribution> = (0..192)
        .map(|c| {
            let len = rng.random_range(1..40);
            let pmf: Vec<f64> = (0..len).map(|_| rng.random::<f64>().powi(4)).collect();
            Distribution::from_pmf(-len / 2 + (c % 3), &pmf, 1e-6).expect("pmf")
        })
        .collect();
    let coder = TableSet::new(dists).expect("tables");
    let n = 300_000;
    let tables: Vec<u16> = (0..n).map(|i| (i % 192) as u16).collect();
    let symbols: Vec<i32> = (0..n).map(|_| (normal(&mut rng) * 8.0).round() as i32).collect();
    let bytes = coder.encode(&symbols, &tables).expect("encode");
    assert_eq!(coder.decode(&bytes, &tables).expect("decode"), symbols);
}

#[test]
fn quantized_tables_are_valid_and_cover_everything() {
    for pmf in [vec![1.0], vec![0.0, 1.0, 0.0], vec![1e-30; 100], vec![0.25; 4]] {
        let freqs = quantize_pmf(&pmf, 0.0).expect("quantise");
        assert_eq!(freqs.len(), pmf.len() + 1);
        assert_eq!(freqs.iter().map(|&f| u64::from(f)).sum::<u64>(), u64::from(TOTAL));
        assert!(freqs.iter().all(|&f| f >= 1));
    }
    assert!(matches!(quantize_pmf(&[], 0.5), Err(EntropyError::InvalidPmf(_))));
    assert!(matches!(quantize_pmf(&[f64::NAN], 0.5), Err(EntropyError::InvalidPmf(_))));
    assert!(matches!(quantize_pmf(&[-1.0], 0.5), Err(EntropyError::InvalidPmf(_))));
    assert!(matches!(quantize_pmf(&[0.0], 0.0), Err(EntropyError::InvalidPmf(_))));
    assert!(Distribution::new(0, vec![TOTAL]).is_err());
    assert!(Distribution::new(0, vec![TOTAL - 1, 0, 1]).is_err());
    assert!(Distribution::new(0, vec![TOTAL - 2, 1]).is_err());
    assert!(Distribution::new(i32::MAX, vec![TOTAL - 2, 1, 1]).is_err());
}

#[test]
fn bad_requests_are_errors() {
    let coder = TableSet::gaussian(&ScaleTable::default()).expect("tables");
    assert!(matches!(coder.encode(&[1, 2], &[0]), Err(EntropyError::InvalidRequest(_))));
    assert!(matches!(coder.encode(&[1], &[64]), Err(EntropyError::InvalidRequest(_))));
    assert!(matches!(coder.decode(&[0; 8], &[64]), Err(EntropyError::InvalidRequest(_))));
    assert!(matches!(coder.decode(&[1, 2, 3], &[0]), Err(EntropyError::CorruptStream(_))));
}

#[test]
fn scale_bins_pick_the_largest_scale_not_above() {
    let scales = ScaleTable::default();
    assert_eq!(scales.bin(0.0), 0);
    assert_eq!(scales.bin(f32::NAN), 0);
    assert_eq!(scales.bin(-5.0), 0);
    assert_eq!(scales.bin(1e9), 63);
    for (i, &s) in scales.scales().iter().enumerate() {
        assert_eq!(usize::from(scales.bin((s * 1.0001) as f32)), i);
    }
}

/// A stream read in parts (a checkerboard slice: anchors, then the rest) gives the symbols a
/// one-shot decode gives, and `finish` holds it to the same exactness: a stream not used up
/// is an error.
#[test]
fn a_stream_decodes_in_parts() {
    let scales = ScaleTable::default();
    let coder = TableSet::gaussian(&scales).expect("tables");
    let (symbols, bins) = gaussian_symbols(5_000, 7, &scales);
    let bytes = coder.encode(&symbols, &bins).expect("encode");
    let mut stream = coder.stream(&bytes).expect("stream");
    let mut parts = stream.decode(&bins[..1_234]).expect("first part");
    parts.extend(stream.decode(&bins[1_234..]).expect("second part"));
    stream.finish().expect("used up");
    assert_eq!(parts, symbols);

    let mut short = coder.stream(&bytes).expect("stream");
    short.decode(&bins[..1_234]).expect("first part");
    assert!(matches!(short.finish(), Err(EntropyError::CorruptStream(_))), "half a stream left");
}

/// Parts coded with different table sets share one stream, read back part by part with each
/// part's own set; the one stream is smaller than separate ones (one final state, not three).
#[test]
fn parts_with_different_tables_share_one_stream() {
    let scales = ScaleTable::default();
    let gaussian = TableSet::gaussian(&scales).expect("tables");
    let prior = TableSet::new(
        (0..4)
            .map(|c| Distribution::from_pmf(-3 - c, &[1.0, 2.0, 4.0, 8.0, 4.0, 2.0, 1.0], 1e-6).expect("pmf"))
            .collect(),
    )
    .expect("tables");
    let z: Vec<i32> = (0..37).map(|i| i % 9 - 4).collect();
    let z_tables: Vec<u16> = (0..37).map(|i| (i % 4) as u16).collect();
    let (a, a_bins) = gaussian_symbols(300, 11, &scales);
    let (b, b_bins) = gaussian_symbols(500, 12, &scales);
    let parts =
        [(&prior, &z[..], &z_tables[..]), (&gaussian, &a[..], &a_bins[..]), (&gaussian, &b[..], &b_bins[..])];
    let bytes = encode_parts(&parts).expect("encode");

    let mut stream = prior.stream(&bytes).expect("stream");
    assert_eq!(stream.decode(&z_tables).expect("z"), z);
    assert_eq!(stream.decode_with(&gaussian, &a_bins).expect("a"), a);
    assert_eq!(stream.decode_with(&gaussian, &b_bins).expect("b"), b);
    stream.finish().expect("used up");

    let separate = prior.encode(&z, &z_tables).expect("z").len()
        + gaussian.encode(&a, &a_bins).expect("a").len()
        + gaussian.encode(&b, &b_bins).expect("b").len();
    assert!(bytes.len() < separate, "{} bytes in one stream, {separate} in three", bytes.len());

    // A part read with the wrong tables does not come back as what was written.
    let mut wrong = prior.stream(&bytes).expect("stream");
    let misread = wrong.decode_with(&gaussian, &z_tables);
    assert!(misread.map_or(true, |v| v != z));
}
