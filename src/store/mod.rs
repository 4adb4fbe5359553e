//! The history store: every finished probe, its whole SIP exchange and the
//! per-carrier counters that make baselines cheap, in one SQLite file.
//!
//! This is the only module with SQL in the crate. It owns the schema and its
//! numbered migrations ([`MIGRATIONS`]), writes ([`Store::insert_probe`],
//! [`Store::insert_probes`], [`Store::update_classification`],
//! [`Store::reclassify`]) and the reads `history`, `check`, `evidence` and
//! `export` need. It never reads the clock: every query takes explicit time
//! bounds. It never classifies: reclassification hands stored records to a
//! caller-supplied function and writes back what that function returns.
//!
//! # Schema (version [`SCHEMA_VERSION`])
//!
//! ```text
//! probes              one row per finished probe: id (UUID v7 text, primary key),
//!                     caller_id, carrier, destination, started_at (unix ms, UTC),
//!                     outcome, status, rang, record (the ProbeRecord as JSON)
//!                     indexes: (started_at / 86400000, caller_id, started_at), (started_at)
//! exchange            one row per datagram: (probe_id, seq) primary key, offset_us,
//!                     direction ('sent' | 'received'), remote ("ip:port"), data BLOB
//! carrier_hour        (hour, carrier, outcome) -> n    probes per UTC hour
//! carrier_day         (day, carrier, outcome) -> n     probes per UTC day
//! carrier_day_callers (day, carrier) -> sketch         HyperLogLog of caller IDs
//! ```
//!
//! The JSON `record` is the source of truth for reads; the columns exist for
//! `WHERE` clauses and are rewritten with it. The three aggregate tables are
//! maintained in the same transaction as every insert and update, so a
//! carrier baseline over 7 to 30 days reads a few hundred rows whatever the
//! size of the history. The number index is partitioned by UTC day so that
//! batched inserts touch the current day's pages only; a number's queries
//! seek it once per day of their window. `docs/DECISIONS.md` ("History
//! store") has the why, `docs/PERFORMANCE.md` the figures.
//!
//! # Concurrency
//!
//! WAL journal, `synchronous=NORMAL`, a busy timeout (default
//! [`DEFAULT_BUSY_TIMEOUT`]) and `BEGIN IMMEDIATE` for every write: the
//! daemon and a one-off `ringwatch probe` can write the same file at once;
//! the second waits for the first instead of failing.

mod assess;
mod migrations;
mod read;
mod sketch;
mod write;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};
use serde::Serialize;

use crate::classify::Outcome;

pub use migrations::{MIGRATIONS, SCHEMA_VERSION};

/// How long a writer waits for another writer before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Shortest probe id prefix [`Store::probe`] accepts (a UUID v7 has 8 hex
/// digits of timestamp first, so shorter prefixes are rarely unique).
pub const MIN_ID_PREFIX: usize = 8;

/// Everything that can go wrong in the store. Each message names the
/// database file; the underlying SQLite error, when there is one, is the
/// `source` (printed by `{:#}` chains).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created (missing directory, no
    /// permission, a directory in the way).
    #[error("cannot open history database {path}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not an SQLite database, or it is damaged.
    #[error("{path} is not a usable ringwatch history database (not SQLite, or corrupt)")]
    Corrupt {
        /// The database path.
        path: PathBuf,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process held the write lock for longer than the busy timeout.
    #[error(
        "history database {path} is locked: another process kept it busy for more than {waited_ms} ms"
    )]
    Locked {
        /// The database path.
        path: PathBuf,
        /// How long we waited.
        waited_ms: u128,
    },
    /// The schema version is newer than this binary knows.
    #[error(
        "database {path} was written by a newer ringwatch (schema {found}, this binary knows {supported}); upgrade ringwatch"
    )]
    TooNew {
        /// The database path.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// Applying a migration failed (the database is left at the version
    /// before it: migrations run in one transaction).
    #[error("upgrading history database {path} to schema {version} failed")]
    Migration {
        /// The database path.
        path: PathBuf,
        /// The migration that failed.
        version: i64,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// Any other SQLite failure.
    #[error("history database {path}: query failed")]
    Sqlite {
        /// The database path.
        path: PathBuf,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// A record that cannot be stored or a stored row that cannot be read.
    #[error("probe {id}: {reason}")]
    BadRecord {
        /// The probe id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A probe with this id is already stored.
    #[error("probe {id} is already stored")]
    Duplicate {
        /// The probe id.
        id: String,
    },
    /// No stored probe has this id (writes only; reads answer `None`).
    #[error("no stored probe has id {id}")]
    UnknownProbe {
        /// The probe id.
        id: String,
    },
    /// An id prefix shorter than [`MIN_ID_PREFIX`] that is not a whole id.
    #[error("probe id prefix {prefix:?} is too short: give at least {MIN_ID_PREFIX} characters")]
    PrefixTooShort {
        /// The prefix given.
        prefix: String,
    },
    /// An id prefix that matches more than one probe.
    #[error("probe id prefix {prefix:?} is ambiguous: it matches {}", list_ids(.matches))]
    AmbiguousId {
        /// The prefix given.
        prefix: String,
        /// Up to ten matching ids (an eleventh means "and more").
        matches: Vec<String>,
    },
    /// An update tried to change what a probe is (its caller ID, carrier or
    /// start time) rather than how it was classified.
    #[error("probe {id}: reclassification may not change {field}")]
    IdentityChanged {
        /// The probe id.
        id: String,
        /// The field that differs.
        field: &'static str,
    },
}

fn list_ids(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
    let more = if ids.len() > 10 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// How the probes of every other caller ID fared at one carrier.
///
/// Built from the aggregate tables by [`Store::carrier_baselines`]; plain
/// data for `reputation` (the lead converts it to that module's input type).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarrierBaseline {
    /// Carrier name from the configuration.
    pub carrier: String,
    /// Probes from other caller IDs in the window (exact).
    pub probes: u64,
    /// Those probes per outcome (exact; outcomes with no probes are absent),
    /// in the declaration order of [`Outcome::ALL`].
    pub by_outcome: Vec<(Outcome, u64)>,
    /// Distinct other caller IDs seen at this carrier in the window
    /// (approximate: a HyperLogLog estimate over whole UTC days, within a few
    /// percent at thousands of numbers and practically exact below a hundred).
    pub callers: u64,
}

impl CarrierBaseline {
    /// The count for one outcome (0 when absent).
    #[must_use]
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.by_outcome
            .iter()
            .find(|(o, _)| *o == outcome)
            .map_or(0, |(_, n)| *n)
    }

    /// The counts as a map keyed by outcome name.
    #[must_use]
    pub fn by_outcome_name(&self) -> BTreeMap<&'static str, u64> {
        self.by_outcome
            .iter()
            .map(|(o, n)| (o.as_str(), *n))
            .collect()
    }
}

/// What [`Store::reclassify`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReclassifyStats {
    /// Probes handed to the classifier.
    pub examined: u64,
    /// Probes whose stored record changed.
    pub changed: u64,
}

/// A handle on the history database. One per thread; several processes and
/// several `Store`s may open the same file at once.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    ctx: Ctx,
}

/// What error messages need to know about the store.
#[derive(Debug, Clone)]
struct Ctx {
    /// The file, or `:memory:`; named in every error.
    path: PathBuf,
    busy_timeout: Duration,
}

impl Store {
    /// Opens (creating if missing) the database at `path`, switches it to
    /// WAL and applies pending migrations, waiting up to
    /// [`DEFAULT_BUSY_TIMEOUT`] for other writers.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with_busy_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Store::open`] with an explicit busy timeout (how long every write
    /// waits for another process's write to finish).
    pub fn open_with_busy_timeout(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut store = Store {
            conn,
            ctx: Ctx {
                path: path.to_owned(),
                busy_timeout,
            },
        };
        store.configure(true)?;
        migrations::apply(&mut store)?;
        Ok(store)
    }

    /// A private in-memory database (tests, `--no-record` dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let mut store = Store {
            conn,
            ctx: Ctx {
                path,
                busy_timeout: DEFAULT_BUSY_TIMEOUT,
            },
        };
        store.configure(false)?;
        migrations::apply(&mut store)?;
        Ok(store)
    }

    /// The path this store was opened with (`:memory:` for in-memory ones).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.ctx.path
    }

    fn configure(&mut self, file: bool) -> Result<(), StoreError> {
        // The busy timeout first: everything after may need a lock.
        self.conn
            .busy_timeout(self.ctx.busy_timeout)
            .map_err(|e| self.ctx.open_err(e))?;
        if file {
            // Reading the journal mode reads the header: a file that is not
            // SQLite fails here, with NOTADB. Switching a fresh file to WAL
            // needs the write lock, and SQLite does not run the busy handler
            // for this pragma: two processes creating the database at once
            // would see an immediate BUSY. So retry for the busy timeout.
            let started = crate::clock::now();
            let mode: String = loop {
                match self
                    .conn
                    .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                {
                    Err(e)
                        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                            && started.elapsed() < self.ctx.busy_timeout =>
                    {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    other => break other.map_err(|e| self.ctx.open_err(e))?,
                }
            };
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(path = %self.ctx.path.display(), mode, "history database is not in WAL mode");
            }
        }
        // synchronous=NORMAL: in WAL mode a commit survives a crash of the
        // process; an OS crash may lose the last commits, never the file.
        // A 32 MiB page cache. Checkpoints every ~40 MiB of WAL rather than
        // every 4 MiB: bulk inserts re-dirty the same index pages, which
        // are then copied back once instead of after every commit (+25 %
        // batched throughput); the WAL file is truncated back to 64 MiB.
        self.conn
            .execute_batch(
                "PRAGMA synchronous=NORMAL;
                 PRAGMA foreign_keys=ON;
                 PRAGMA temp_store=MEMORY;
                 PRAGMA cache_size=-32768;
                 PRAGMA wal_autocheckpoint=10000;
                 PRAGMA journal_size_limit=67108864;",
            )
            .map_err(|e| self.ctx.open_err(e))?;
        self.conn.set_prepared_statement_cache_capacity(32);
        Ok(())
    }
}

impl Ctx {
    /// Classifies an error met while opening.
    fn open_err(&self, source: rusqlite::Error) -> StoreError {
        match source.sqlite_error_code() {
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                StoreError::Open {
                    path: self.path.clone(),
                    source,
                }
            }
            _ => self.err(source),
        }
    }

    /// Classifies an SQLite error: busy, corrupt, or anything else.
    fn err(&self, source: rusqlite::Error) -> StoreError {
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
                path: self.path.clone(),
                waited_ms: self.busy_timeout.as_millis(),
            },
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path: self.path.clone(),
                source,
            },
            _ => StoreError::Sqlite {
                path: self.path.clone(),
                source,
            },
        }
    }
}
