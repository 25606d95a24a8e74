//! The Burn networks of lic's image model.

mod exact;
mod factorized;
mod gdn;
mod model;
mod refine;
mod temporal;

pub use exact::{ExactParams, Latents, Part};
pub use factorized::{FactorizedPrior, TAIL_MASS};
pub use gdn::Gdn;
pub use model::{
    Analysis, ForwardOutput, ImageModel, LAMBDAS, ModelConfig, QUALITIES, Quantised, ResBlock, SCALE_MIN,
    Stack, Synthesis, anchor_mask, code_rounded, gaussian_likelihood, ste_round, z_table_indices,
};
pub use refine::{REFINE_STEP, descend, lambda};
pub use temporal::TemporalModel;
