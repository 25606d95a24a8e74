//! `--model` and `--backend`, shared by the coding subcommands.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lic_codec::bitstream::ModelId;
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
    /// Weights file (default: the model embedded in lic; decoders take the embedded model
    /// the file was coded with).
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
    /// Loads `--model`, or else the embedded image model, onto the chosen backend.
    pub fn load(&self) -> Result<Model, ToolError> {
        self.load_or(Model::embedded)
    }

    /// Loads `--model`, or else the embedded video model.
    pub fn load_video(&self) -> Result<Model, ToolError> {
        self.load_or(Model::embedded_video)
    }

    /// Loads `--model`, or else the embedded model a file's header names (`coded_with`), so
    /// any file an embedded model coded decodes without flags. With no readable header the
    /// image model is loaded, and the decoder then says what is wrong with the file.
    pub fn load_for(&self, coded_with: Option<&ModelId>) -> Result<Model, ToolError> {
        match coded_with {
            Some(id) => self.load_or(|backend| Model::embedded_for(id, backend)),
            None => self.load(),
        }
    }

    fn load_or(
        &self,
        embedded: impl FnOnce(Backend) -> lic_codec::Result<Model>,
    ) -> Result<Model, ToolError> {
        let backend = Backend::from(self.backend);
        let model = match &self.model {
            Some(path) => Model::from_path(path, backend),
            None => embedded(backend),
        };
        model.map_err(|source| ToolError::Codec { path: "model".into(), source })
    }
}
