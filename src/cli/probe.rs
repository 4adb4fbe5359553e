//! `ringwatch probe`: place test calls now and say what happened.
//!
//! Exit codes: 0 every call rang or was answered; 1 any call did not;
//! 2 some call could not be placed at all (bad flags or config, invalid
//! number, DNS failure, socket error, ICMP unreachable).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tokio::sync::{mpsc, watch};

use super::common::{Globals, open_store};
use crate::config::{Config, E164};
use crate::probe::{self, ProbeRecord, ProbeTarget, Trunk};
use crate::store::Store;

/// Carrier name used for a `--to` destination that no carrier lists.
pub const ADHOC_CARRIER: &str = "adhoc";

/// Arguments of `ringwatch probe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Caller ID to call from (an owned number, or any E.164 number).
    #[arg(long, value_name = "E164")]
    pub from: E164,
    /// Destination(s) to call; default: every destination of the selected carriers.
    #[arg(long, value_name = "E164")]
    pub to: Vec<E164>,
    /// Only these carriers (by configured name); default: all.
    #[arg(long, value_name = "NAME")]
    pub carrier: Vec<String>,
    /// One JSON object per call (JSON Lines) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Do not record the calls in the history store.
    #[arg(long)]
    pub no_record: bool,
    /// Call starts per second (default: `[schedule] cps`).
    #[arg(long)]
    pub cps: Option<f64>,
    /// Calls in flight at once (default: `[schedule] max_concurrent`).
    #[arg(long)]
    pub max_concurrent: Option<usize>,
}

/// The calls `args` asks for, in matrix order.
pub fn targets(cfg: &Config, args: &Args) -> anyhow::Result<Vec<ProbeTarget>> {
    for name in &args.carrier {
        if cfg.carrier(name).is_none() {
            let known: Vec<&str> = cfg.carriers.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "unknown carrier `{name}` (configured: {})",
                known.join(", ")
            );
        }
    }
    let wanted = |name: &str| args.carrier.is_empty() || args.carrier.iter().any(|c| c == name);
    let target = |carrier: &str, destination: &E164| ProbeTarget {
        caller_id: args.from.clone(),
        carrier: carrier.to_string(),
        destination: destination.clone(),
    };
    let mut out = Vec::new();
    if args.to.is_empty() {
        for carrier in cfg.carriers.iter().filter(|c| wanted(&c.name)) {
            out.extend(
                carrier
                    .destinations
                    .iter()
                    .map(|d| target(&carrier.name, d)),
            );
        }
    } else {
        for destination in &args.to {
            match cfg.carrier_of(destination) {
                Some(c) if wanted(&c.name) => out.push(target(&c.name, destination)),
                Some(c) => bail!(
                    "destination {destination} belongs to carrier `{}`, not to {}",
                    c.name,
                    args.carrier.join(", ")
                ),
                None if args.carrier.len() == 1 => out.push(target(&args.carrier[0], destination)),
                None if args.carrier.is_empty() => out.push(target(ADHOC_CARRIER, destination)),
                None => bail!(
                    "destination {destination} is not in the matrix; name one carrier for it with --carrier"
                ),
            }
        }
    }
    if out.is_empty() {
        bail!("nothing to probe");
    }
    Ok(out)
}

/// Run `ringwatch probe`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = globals.load_config()?;
    let targets = targets(&cfg, args)?;
    let cps = args.cps.unwrap_or(cfg.schedule.cps);
    if !(cps.is_finite() && cps > 0.0 && cps <= 100.0) {
        bail!("--cps must be > 0 and <= 100, got {cps}");
    }
    let max_concurrent = args.max_concurrent.unwrap_or(cfg.schedule.max_concurrent);
    if max_concurrent == 0 {
        bail!("--max-concurrent must be at least 1");
    }
    // Open the store before calling anyone: a broken database is an error
    // before a single call is placed, not after.
    let mut store = if args.no_record {
        None
    } else {
        Some(open_store(&globals.db_path(Some(&cfg))?)?)
    };
    let mut printer = Printer::new(args.json);
    let run = place_calls(&cfg, targets, cps, max_concurrent, store.as_mut(), |r| {
        printer.record(r)
    })?;
    Ok(if run.errors > 0 {
        ExitCode::from(2)
    } else if run.not_ok || run.interrupted {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What a batch of calls came to.
#[derive(Debug, Default, Clone, Copy)]
pub struct RunSummary {
    /// Calls that produced a record.
    pub records: usize,
    /// Some record's outcome is neither ringing nor answered.
    pub not_ok: bool,
    /// Calls that could not be placed, or records that could not be stored.
    pub errors: usize,
    /// Ctrl-C stopped the run early.
    pub interrupted: bool,
}

/// Place `targets` through the trunk, store each finished record (when a
/// store is given) **before** handing it to `on_record`, and report
/// failures to place a call on stderr, one line each.
pub fn place_calls(
    cfg: &Config,
    targets: Vec<ProbeTarget>,
    cps: f64,
    max_concurrent: usize,
    mut store: Option<&mut Store>,
    mut on_record: impl FnMut(&ProbeRecord) -> anyhow::Result<()>,
) -> anyhow::Result<RunSummary> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let trunk = Trunk::start(cfg).await?;
        let (hangup_tx, hangup_rx) = watch::channel(false);
        let (results_tx, mut results) = mpsc::unbounded_channel();
        let runner = tokio::spawn(probe::run_many(
            trunk.settings.clone(),
            targets,
            cps,
            max_concurrent,
            hangup_rx,
            results_tx,
        ));
        let mut run = RunSummary::default();
        loop {
            tokio::select! {
                next = results.recv() => {
                    let Some((target, result)) = next else { break };
                    match result {
                        Ok(record) => {
                            run.records += 1;
                            run.not_ok |= !record.outcome.is_ok();
                            if let Some(store) = store.as_deref_mut()
                                && let Err(err) = store.insert_probe(&record)
                            {
                                run.errors += 1;
                                eprintln!("ringwatch: probe {} was NOT recorded: {err:#}", record.id);
                            }
                            on_record(&record)?;
                        }
                        Err(err) => {
                            run.errors += 1;
                            eprintln!(
                                "ringwatch: {} -> {} ({}): {err}",
                                target.caller_id, target.destination, target.carrier
                            );
                        }
                    }
                }
                _ = tokio::signal::ctrl_c(), if !run.interrupted => {
                    // Stop placing calls; CANCEL the ones ringing; keep results.
                    run.interrupted = true;
                    let _ = hangup_tx.send(true);
                }
            }
        }
        runner.await.context("probe runner")?;
        trunk.stop().await;
        Ok(run)
    })
}

/// Writes records as they finish: a fixed-width table or JSON Lines.
pub(crate) struct Printer {
    json: bool,
    header_done: bool,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Self {
            json,
            header_done: false,
        }
    }

    pub(crate) fn record(&mut self, r: &ProbeRecord) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, r)?;
            writeln!(out)?;
            return Ok(out.flush()?);
        }
        if !self.header_done {
            self.header_done = true;
            writeln!(
                out,
                "{:<12} {:<16} {:<16} {:>4}  {:<24} {:>7}  REDRESS",
                "CARRIER", "DESTINATION", "OUTCOME", "CODE", "PHRASE", "PDD"
            )?;
        }
        let code = r.status.map_or_else(|| "-".to_string(), |c| c.to_string());
        let phrase = r.reason_phrase.as_deref().unwrap_or("-");
        let pdd = r
            .pdd_ms
            .map_or_else(|| "-".to_string(), |ms| format!("{ms}ms"));
        let redress = r
            .analytics
            .as_ref()
            .map(|a| {
                let mut parts: Vec<String> = [&a.url, &a.tel, &a.email]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                if let Some(loc) = &a.location {
                    parts.push(format!("location={loc}"));
                }
                if parts.is_empty() {
                    a.standard.as_str().to_string()
                } else {
                    parts.join(" ")
                }
            })
            .unwrap_or_else(|| "-".to_string());
        writeln!(
            out,
            "{:<12} {:<16} {:<16} {:>4}  {:<24} {:>7}  {redress}",
            r.carrier,
            r.destination,
            r.outcome.as_str(),
            code,
            truncate(phrase, 24),
            pdd
        )?;
        Ok(out.flush()?)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
