//! `--model` and `--backend`, shared by the coding subcommands.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lic_codec::{Backend, Model};

use crate::ToolError;

/// Where the networks run.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackendArg {
    /// The best available device.
    Auto,
    /// The CPU.
    Cpu,
    /// A GPU through wgpu.
    Gpu,
}

/// Model selection.
#[derive(Args)]
pub struct ModelArgs {
    /// Weights file (default: the model embedded in lic).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
    /// Where to run the networks.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => Backend::Auto,
            BackendArg::Cpu => Backend::Cpu,
            BackendArg::Gpu => Backend::Gpu,
        }
    }
}

impl ModelArgs {
    /// Loads the chosen model onto the chosen backend.
    pub fn load(&self) -> Result<Model, ToolError> {
        let backend = Backend::from(self.backend);
        let model = match &self.model {
            Some(path) => Model::from_path(path, backend),
            None => Model::embedded(backend),
        };
        model.map_err(|source| ToolError::Codec { path: "model".into(), source })
    }
}
