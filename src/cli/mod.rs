//! Command-line front end: one file per subcommand. `main` is glue only.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod check;
pub mod common;
pub mod config;
pub mod daemon;
pub mod evidence;
pub mod export;
pub mod history;
pub mod lab;
pub mod probe;
pub mod reclassify;

/// ringwatch: places short SIP test calls from caller IDs you own and says
/// whether they ring, are declined, network-blocked (603+) or rejected (608).
#[derive(Debug, Parser)]
#[command(name = "ringwatch", version, about)]
pub struct Cli {
    /// Path of the configuration file.
    #[arg(long, global = true, default_value = "probes.toml")]
    pub config: PathBuf,
    /// Path of the history database (overrides `[store] path`).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Place test calls now and classify every answer.
    Probe(probe::Args),
    /// What has happened to a number, per carrier.
    History(history::Args),
    /// May a campaign use this number now? (exit 0 ready, 1 not ready, 3 unknown)
    Check(check::Args),
    /// A ticket-ready text (and pcap) for one probe.
    Evidence(evidence::Args),
    /// Probe records as CSV or JSON Lines.
    Export(export::Args),
    /// Re-run the classifier over stored raw exchanges.
    Reclassify(reclassify::Args),
    /// Probe the matrix on a schedule; serve metrics and the dashboard; alert on changes.
    Daemon(daemon::Args),
    /// Run the built-in carrier lab (a scripted SIP far end on loopback).
    Lab(lab::Args),
    /// Validate configuration files.
    Config(config::Args),
}

/// Parse argv, run, and map the result to the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with exit 0; usage errors become
            // one line on stderr with exit 2, like every other error.
            if !err.use_stderr() {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            let text = err.to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("ringwatch: {message} (see ringwatch --help)");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ringwatch: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let json_logs =
        matches!(&cli.command, Command::Daemon(a) if a.log_format == daemon::LogFormat::Json);
    init_logging(
        match cli.command {
            Command::Lab(_) => "warn,ringwatch::lab=info",
            Command::Daemon(_) => "info",
            _ => "warn",
        },
        json_logs,
    );
    let globals = common::Globals {
        config: cli.config.clone(),
        db: cli.db.clone(),
    };
    match cli.command {
        Command::Probe(args) => probe::run(&args, &globals),
        Command::History(args) => history::run(&args, &globals),
        Command::Check(args) => check::run(&args, &globals),
        Command::Evidence(args) => evidence::run(&args, &globals),
        Command::Export(args) => export::run(&args, &globals),
        Command::Reclassify(args) => reclassify::run(&args, &globals),
        Command::Lab(args) => lab::run(&args, &globals.config),
        Command::Daemon(args) => daemon::run(&args, &globals),
        Command::Config(args) => config::run(&args, &cli.config),
    }
}

/// Structured logs on stderr; `RUST_LOG` overrides the default filter.
fn init_logging(default: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
