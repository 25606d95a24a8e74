//! An exponential moving average of the weights (Polyak averaging), the copy a run ships.
//!
//! Why: on the CPU the image model trains in short sessions, and a session that stops at a
//! high learning rate stops at weights jittered by gradient noise. Before, the only remedy was
//! to decay the rate before every shipment and raise it again afterwards, which cost the next
//! session its first thousand steps. The average smooths that noise while training continues
//! at the rate that makes progress, and it is always ready to export.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use lic_models::net::ImageModel;

/// Every float parameter of a module, flattened and without autodiff, in visiting order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().without_autodiff();
        let n = value.shape().num_elements();
        self.0.push(value.reshape([n]));
    }
}

/// Moves each parameter of the average towards the collected values (same visiting order:
/// both modules are the same type built from the same config).
struct Blend {
    values: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(value) = self.values.next() else { return param };
        let decay = self.decay;
        param.map(|avg| {
            let dims = avg.dims();
            avg.mul_scalar(decay) + value.reshape(dims).mul_scalar(1.0 - decay)
        })
    }
}

/// Starts an average at `model`'s current weights (without autodiff).
pub fn start(model: &ImageModel) -> ImageModel {
    model.valid()
}

/// One step of the average: `avg ← decay·avg + (1 − decay)·model`.
pub fn update(avg: ImageModel, model: &ImageModel, decay: f64) -> ImageModel {
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    avg.map(&mut Blend { values: collect.0.into_iter(), decay })
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    fn params(model: &ImageModel) -> Vec<f32> {
        let mut c = Collect(Vec::new());
        model.visit(&mut c);
        c.0.into_iter().flat_map(|t| t.into_data().iter::<f32>().collect::<Vec<_>>()).collect()
    }

    #[test]
    fn average_moves_by_the_decay() {
        let config = crate::train::test_util::tiny_config();
        let device = Device::flex();
        let a = ImageModel::new(&config, &device);
        let b = ImageModel::new(&config, &device);
        let (pa, pb) = (params(&a), params(&b));
        assert_ne!(pa, pb, "two initialisations differ");
        let avg = update(start(&a), &b, 0.75);
        for ((&x, &y), &m) in pa.iter().zip(&pb).zip(&params(&avg)) {
            assert!((m - (0.75 * x + 0.25 * y)).abs() <= 1e-6 * (1.0 + x.abs() + y.abs()));
        }
        // Decay 1 keeps the average where it was.
        assert_eq!(params(&update(start(&a), &b, 1.0)), pa);
    }
}
