//! `lic`: the command line of the lic learned image codec.
//!
//! Subcommands: `encode`, `decode`, `info`, `bench`, `train`, `encode-video`, `decode-video`.

mod bench;
mod decode;
mod encode;
mod info;
mod io;
mod model_arg;
mod train;
mod video;
mod video_io;

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
    /// Encode an image into a .lic file.
    Encode(encode::EncodeArgs),
    /// Decode a .lic file into an image.
    Decode(decode::DecodeArgs),
    /// Print a .lic file's header and chunk table (every checksum is verified).
    Info(info::InfoArgs),
    /// Rate–distortion and speed benchmark of lic and classical anchors.
    Bench(Box<bench::BenchArgs>),
    /// Train (or resume training) a model from a TOML config (image, or `kind = "temporal"`).
    Train(train::TrainArgs),
    /// Encode a video (anything FFmpeg reads) into a .licv file.
    EncodeVideo(video::EncodeVideoArgs),
    /// Decode a .licv file into a y4m, mkv (FFV1) or mp4 (H.264) video.
    DecodeVideo(video::DecodeVideoArgs),
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
    #[error("training: {0}")]
    Train(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => encode::run(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Train(args) => train::run(&args).map_err(ToolError::Train),
        Command::Bench(args) => bench::run(&args).map_err(ToolError::Usage),
        Command::EncodeVideo(args) => video::encode(&args),
        Command::DecodeVideo(args) => video::decode(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lic: {e}");
            ExitCode::FAILURE
        }
    }
}
