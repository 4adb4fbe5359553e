//! `ringwatch export [--since DUR] [--format csv|json]`: probe records for
//! spreadsheets and BI, oldest first, streamed.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, TimeDelta, Utc};

use super::common::{Globals, open_existing_store, parse_since};
use crate::clock;
use crate::probe::ProbeRecord;

/// Output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One row per probe with the main fields.
    Csv,
    /// JSON Lines: the full record per line.
    Json,
}

/// Arguments of `ringwatch export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only probes newer than this (e.g. 30d); default: everything.
    #[arg(long, value_parser = parse_since)]
    pub since: Option<TimeDelta>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
}

/// CSV columns, in order.
const COLUMNS: &[&str] = &[
    "id",
    "started_at",
    "caller_id",
    "carrier",
    "destination",
    "call_id",
    "outcome",
    "rang",
    "status",
    "reason_phrase",
    "pdd_ms",
    "duration_ms",
    "analytics_standard",
    "redress_url",
    "redress_tel",
    "redress_email",
    "redress_id",
    "block_location",
    "retry_after_s",
    "q850_cause",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row(r: &ProbeRecord) -> Vec<String> {
    let a = r.analytics.as_ref();
    vec![
        r.id.clone(),
        r.started_at.clone(),
        r.caller_id.clone(),
        r.carrier.clone(),
        r.destination.clone(),
        r.call_id.clone(),
        r.outcome.as_str().to_string(),
        r.rang.to_string(),
        opt(r.status),
        opt(r.reason_phrase.as_ref()),
        opt(r.pdd_ms),
        r.duration_ms.to_string(),
        opt(a.map(|a| a.standard.as_str())),
        opt(a.and_then(|a| a.url.as_ref())),
        opt(a.and_then(|a| a.tel.as_ref())),
        opt(a.and_then(|a| a.email.as_ref())),
        opt(a.and_then(|a| a.id.as_ref())),
        opt(a.and_then(|a| a.location.as_ref())),
        opt(r.retry_after_s),
        opt(r.q850_cause),
    ]
}

/// Run `ringwatch export`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = globals.load_config_optional()?;
    let path = globals.db_path(cfg.as_ref())?;
    let since = match args.since {
        Some(d) => clock::wall() - d,
        None => DateTime::<Utc>::UNIX_EPOCH,
    };
    let stdout = std::io::stdout().lock();
    let Some(store) = open_existing_store(&path)? else {
        anyhow::bail!("no history database at {}", path.display());
    };
    let count = match args.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(stdout);
            w.write_record(COLUMNS)?;
            let n = store.for_each_probe(since, |r| -> anyhow::Result<()> {
                Ok(w.write_record(row(&r))?)
            })?;
            w.flush()?;
            n
        }
        Format::Json => {
            let mut w = std::io::BufWriter::new(stdout);
            let n = store.for_each_probe(since, |r| -> anyhow::Result<()> {
                serde_json::to_writer(&mut w, &r)?;
                Ok(writeln!(w)?)
            })?;
            w.flush()?;
            n
        }
    };
    eprintln!(
        "ringwatch: exported {count} probe(s) from {}",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
