//! `ringwatch history E164`: what has happened to this number, per carrier.
//!
//! Exit codes: 0 history shown; 3 the number was never probed (there is no
//! history to show); 2 error.

use std::process::ExitCode;

use chrono::TimeDelta;

use super::common::{Globals, open_existing_store, parse_since};
use crate::clock;
use crate::config::{Config, E164};
use crate::reputation::{self, NumberReport, Params};
use crate::store::Store;

/// Arguments of `ringwatch history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The caller ID.
    pub number: E164,
    /// How far back to look (e.g. 30d, 12h).
    #[arg(long, default_value = "30d", value_parser = parse_since)]
    pub since: TimeDelta,
    /// Only this carrier.
    #[arg(long, value_name = "NAME")]
    pub carrier: Option<String>,
    /// One JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Assess `number` over the window `since` (and `fresh`) from the store.
/// `carriers` are the configured ones (records may add others).
pub fn assess(
    store: Option<&Store>,
    number: &E164,
    carriers: &[String],
    carrier: Option<&str>,
    since: TimeDelta,
    fresh: TimeDelta,
) -> anyhow::Result<NumberReport> {
    let now = clock::wall();
    let params = Params {
        fresh,
        ..Params::new(since)
    };
    Ok(match store {
        Some(store) => store.assess_number(number.as_str(), carriers, carrier, &params, now)?,
        None => reputation::assess(number.as_str(), carriers, &[], &[], now, &params),
    })
}

/// Carrier names of the configuration, narrowed to `only`.
pub fn carrier_names(cfg: Option<&Config>, only: Option<&str>) -> Vec<String> {
    let names = cfg.map(|c| {
        c.carriers
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    });
    match only {
        Some(one) => vec![one.to_string()],
        None => names.unwrap_or_default(),
    }
}

/// Run `ringwatch history`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = globals.load_config_optional()?;
    let path = globals.db_path(cfg.as_ref())?;
    let store = open_existing_store(&path)?;
    let ever = match &store {
        Some(s) => s.ever_probed(args.number.as_str())?,
        None => false,
    };
    let carriers = carrier_names(cfg.as_ref(), args.carrier.as_deref());
    let report = assess(
        store.as_ref(),
        &args.number,
        &carriers,
        args.carrier.as_deref(),
        args.since,
        args.since,
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", reputation::history_text(&report));
    }
    if !ever {
        eprintln!(
            "ringwatch: {} was never probed (history database {}); try `ringwatch probe --from {}`",
            args.number,
            path.display(),
            args.number
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
