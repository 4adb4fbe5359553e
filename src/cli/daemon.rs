//! `ringwatch daemon`: probe the matrix on a schedule, serve the dashboard,
//! send alerts. SIGHUP reloads the configuration (an invalid one is
//! rejected and the old one kept); SIGTERM/SIGINT stop placing calls,
//! CANCEL the ones in flight, record them and exit 0.

use std::process::ExitCode;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::common::Globals;
use crate::daemon::{Control, DaemonPaths};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Arguments of `ringwatch daemon`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// Run `ringwatch daemon`.
pub fn run(_args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    // Fail fast, before any socket opens, on a broken config.
    globals.load_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
        tokio::spawn(async move {
            loop {
                let ctl = tokio::select! {
                    _ = hup.recv() => Control::Reload,
                    _ = term.recv() => Control::Stop,
                    _ = int.recv() => Control::Stop,
                };
                if tx.send(ctl).is_err() {
                    break;
                }
            }
        });
        let paths = DaemonPaths {
            config: globals.config.clone(),
            db: globals.db.clone(),
        };
        crate::daemon::run(paths, rx, None).await
    })?;
    Ok(ExitCode::SUCCESS)
}
