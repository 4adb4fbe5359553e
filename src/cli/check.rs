//! `ringwatch check E164`: may a campaign use this number now?
//!
//! Exit codes: 0 ready (clean on every configured carrier with fresh
//! evidence), 1 not ready (blocked or suspect somewhere), 3 unknown (some
//! carrier has no fresh evidence), 2 error.

use std::process::ExitCode;

use chrono::TimeDelta;

use super::common::{Globals, open_existing_store, open_store, parse_since};
use super::history::{assess, carrier_names};
use super::probe::{Printer, place_calls};
use crate::probe::ProbeTarget;
use crate::reputation::{self, DEFAULT_PROBE_HINT};

/// Arguments of `ringwatch check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The caller ID.
    pub number: crate::config::E164,
    /// How recent evidence must be (e.g. 7d).
    #[arg(long, default_value = "7d", value_parser = parse_since)]
    pub since: TimeDelta,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// First probe every carrier that lacks fresh evidence, then answer.
    #[arg(long)]
    pub probe_stale: bool,
}

/// Run `ringwatch check`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = if args.probe_stale {
        Some(globals.load_config()?)
    } else {
        globals.load_config_optional()?
    };
    let path = globals.db_path(cfg.as_ref())?;
    let carriers = carrier_names(cfg.as_ref(), None);
    let mut report = {
        let store = open_existing_store(&path)?;
        assess(
            store.as_ref(),
            &args.number,
            &carriers,
            None,
            args.since,
            args.since,
        )?
    };
    if let (true, Some(cfg)) = (args.probe_stale, cfg.as_ref()) {
        let targets: Vec<ProbeTarget> = report
            .carriers
            .iter()
            .filter(|c| !c.fresh)
            .filter_map(|c| cfg.carrier(&c.carrier))
            .flat_map(|c| {
                c.destinations.iter().map(|d| ProbeTarget {
                    caller_id: args.number.clone(),
                    carrier: c.name.clone(),
                    destination: d.clone(),
                })
            })
            .collect();
        if !targets.is_empty() {
            eprintln!(
                "ringwatch: probing {} stale destination(s) first",
                targets.len()
            );
            let mut store = open_store(&path)?;
            let mut printer = Printer::new(false);
            let run = place_calls(
                cfg,
                targets,
                cfg.schedule.cps,
                cfg.schedule.max_concurrent,
                Some(&mut store),
                |r| if args.json { Ok(()) } else { printer.record(r) },
            )?;
            if run.errors > 0 {
                return Ok(ExitCode::from(2));
            }
            report = assess(
                Some(&store),
                &args.number,
                &carriers,
                None,
                args.since,
                args.since,
            )?;
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", reputation::check_text(&report, DEFAULT_PROBE_HINT));
    }
    Ok(ExitCode::from(report.verdict.exit_code()))
}
