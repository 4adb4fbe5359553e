//! `ringwatch reclassify`: re-run the classifier over every stored raw
//! exchange (after ringwatch learned a new carrier dialect) and report what
//! changed.

use std::process::ExitCode;

use anyhow::bail;

use super::common::{Globals, open_existing_store};

/// Arguments of `ringwatch reclassify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show what would change without writing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Run `ringwatch reclassify`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = globals.load_config_optional()?;
    let path = globals.db_path(cfg.as_ref())?;
    let Some(mut store) = open_existing_store(&path)? else {
        bail!("no history database at {}", path.display());
    };
    let mut changed = 0u64;
    let stats = store.reclassify(|old| {
        if old.exchange.is_empty() {
            return None; // nothing raw to re-derive from
        }
        let mut new = old.clone();
        new.apply(old.reclassify());
        let same = new.outcome == old.outcome
            && new.analytics == old.analytics
            && new.status == old.status
            && new.reasons == old.reasons
            && new.retry_after_s == old.retry_after_s;
        if same {
            return None;
        }
        changed += 1;
        println!(
            "{}  {} -> {}  {} {}",
            old.id,
            old.outcome.as_str(),
            new.outcome.as_str(),
            old.carrier,
            old.caller_id
        );
        (!args.dry_run).then_some(new)
    })?;
    let verb = if args.dry_run {
        "would change"
    } else {
        "changed"
    };
    println!("examined {} probe(s); {verb} {changed}", stats.examined);
    Ok(ExitCode::SUCCESS)
}
