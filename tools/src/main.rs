//! `lic`: the command line of the lic learned image codec.
//!
//! Subcommands arrive with the features behind them; today: `lic info`.

mod info;
mod io;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// lic, a learned image codec.
#[derive(Parser)]
#[command(name = "lic", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a .lic file's header and chunk table (every checksum is verified).
    Info(info::InfoArgs),
}

/// A user-facing failure: printed as one line, exit status 1.
#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error(transparent)]
    Io(#[from] io::IoError),
    #[error("{path}: {source}")]
    Codec { path: String, source: lic_codec::CodecError },
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lic: {e}");
            ExitCode::FAILURE
        }
    }
}
