//! What several subcommands share: global flags, finding and opening the
//! history database, and `--since` durations.

use std::path::{Path, PathBuf};

use anyhow::bail;
use chrono::TimeDelta;

use crate::config::{Config, ConfigError};
use crate::store::Store;

/// Global flags, passed to every subcommand.
#[derive(Debug, Clone)]
pub struct Globals {
    /// `--config`.
    pub config: PathBuf,
    /// `--db`.
    pub db: Option<PathBuf>,
}

impl Globals {
    /// Load the configuration (an error when it is missing or invalid).
    pub fn load_config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.config)?)
    }

    /// Load the configuration when the command can live without it
    /// (`--db` given and no config file): `Ok(None)` when the file is missing.
    pub fn load_config_optional(&self) -> anyhow::Result<Option<Config>> {
        match Config::load(&self.config) {
            Ok(cfg) => Ok(Some(cfg)),
            Err(ConfigError::NotFound { .. }) if self.db.is_some() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// `--db`, else `[store] path` of the configuration.
    pub fn db_path(&self, cfg: Option<&Config>) -> anyhow::Result<PathBuf> {
        match (&self.db, cfg) {
            (Some(db), _) => Ok(db.clone()),
            (None, Some(cfg)) => Ok(cfg.store.path.clone()),
            (None, None) => {
                bail!("no history database: pass --db PATH or a --config with [store] path")
            }
        }
    }
}

/// Open the database for writing (created and migrated when missing).
pub fn open_store(path: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(path)?)
}

/// Open an existing database for reading; `Ok(None)` when the file does not
/// exist (nothing was ever recorded there), so readers can say so instead
/// of creating an empty database.
pub fn open_existing_store(path: &Path) -> anyhow::Result<Option<Store>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Store::open(path)?))
}

/// Parse `30d`, `12h`, `90m`, `45s`, `2w` (one integer and a unit).
pub fn parse_since(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 30d, 12h, 90m"))?;
    let delta = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        "w" => TimeDelta::try_weeks(n),
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use s, m, h, d or w)"
            ));
        }
    };
    match delta {
        Some(d) if n > 0 && n <= 3650 * 86_400 => Ok(d),
        _ => Err(format!("`{text}`: out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_durations() {
        assert_eq!(parse_since("30d"), Ok(TimeDelta::days(30)));
        assert_eq!(parse_since("12h"), Ok(TimeDelta::hours(12)));
        assert_eq!(parse_since("2w"), Ok(TimeDelta::weeks(2)));
        assert!(parse_since("30").is_err());
        assert!(parse_since("d").is_err());
        assert!(parse_since("0d").is_err());
        assert!(parse_since("5y").is_err());
        assert!(parse_since("99999999999999999999d").is_err());
    }
}
