//! Helpers shared by the trainer's unit tests.

use burn::tensor::Tensor;
use lic_models::net::ModelConfig;

/// A tensor's values, flattened.
pub(crate) fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Asserts that two tensors hold the same values up to float noise (1e-5 relative), naming
/// `what` on failure.
pub(crate) fn close(a: Tensor<4>, b: Tensor<4>, what: &str) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len(), "{what}");
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() <= 1e-5 * (1.0 + p.abs()), "{what}: {p} vs {q}");
    }
}

/// The smallest model the trainer's tests build: two slices of 8, no checkerboard.
pub(crate) fn tiny_config() -> ModelConfig {
    ModelConfig {
        n: 8,
        m: 16,
        z_channels: 8,
        slices: vec![8, 8],
        context_hidden: 8,
        params_hidden: None,
        hyper_channels: None,
        synthesis_blocks: vec![],
        checkerboard: false,
    }
}
