//! `ringwatch config check` (placeholder, being written).

use std::path::Path;
use std::process::ExitCode;

/// Arguments of `ringwatch config`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run `ringwatch config ...`.
pub fn run(_args: &Args, _path: &Path) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
