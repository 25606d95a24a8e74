//! Helpers shared by the trainer's unit tests.

use burn::tensor::Tensor;

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
