//! Numbered schema migrations, applied on open.
//!
//! `MIGRATIONS[i]` takes a database from schema `i` to schema `i + 1`; the
//! version lives in `PRAGMA user_version`. All pending steps run in one
//! `BEGIN IMMEDIATE` transaction (two processes opening an old file at once
//! cannot both upgrade it), so a failed upgrade leaves the file as it was.
//! Steps that need Rust rather than SQL (rebuilding the caller sketches) run
//! in [`backfill`] inside the same transaction.
//!
//! Rules: never edit a migration that has shipped; append a new one. A
//! database newer than [`SCHEMA_VERSION`] is refused, never downgraded.

use std::collections::HashMap;

use rusqlite::{ErrorCode, Transaction, TransactionBehavior};

use super::sketch::Sketch;
use super::{Store, StoreError};

/// The migrations, oldest first. Index `i` upgrades schema `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: probes and their SIP exchanges.
    "CREATE TABLE probes (
        id          TEXT    NOT NULL PRIMARY KEY,
        caller_id   TEXT    NOT NULL,
        carrier     TEXT    NOT NULL,
        destination TEXT    NOT NULL,
        started_at  INTEGER NOT NULL,
        outcome     TEXT    NOT NULL,
        status      INTEGER,
        rang        INTEGER NOT NULL,
        record      TEXT    NOT NULL
    );
    -- A number's probes, partitioned by UTC day: inserts touch only the
    -- current day's few pages instead of one page per caller ID.
    CREATE INDEX probes_by_day_caller ON probes (started_at / 86400000, caller_id, started_at);
    CREATE INDEX probes_by_time ON probes (started_at);
    CREATE TABLE exchange (
        probe_id  TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
        seq       INTEGER NOT NULL,
        offset_us INTEGER NOT NULL,
        direction TEXT    NOT NULL CHECK (direction IN ('sent', 'received')),
        remote    TEXT    NOT NULL,
        data      BLOB    NOT NULL,
        PRIMARY KEY (probe_id, seq)
    );",
    // 2: per-carrier aggregates for baselines (backfilled from probes; the
    // caller sketches are rebuilt in Rust by `backfill`).
    "CREATE TABLE carrier_hour (
        hour    INTEGER NOT NULL,
        carrier TEXT    NOT NULL,
        outcome TEXT    NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (hour, carrier, outcome)
    ) WITHOUT ROWID;
    CREATE TABLE carrier_day (
        day     INTEGER NOT NULL,
        carrier TEXT    NOT NULL,
        outcome TEXT    NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (day, carrier, outcome)
    ) WITHOUT ROWID;
    CREATE TABLE carrier_day_callers (
        day     INTEGER NOT NULL,
        carrier TEXT    NOT NULL,
        sketch  BLOB    NOT NULL,
        PRIMARY KEY (day, carrier)
    );
    INSERT INTO carrier_hour (hour, carrier, outcome, n)
        SELECT started_at / 3600000, carrier, outcome, count(*) FROM probes GROUP BY 1, 2, 3;
    INSERT INTO carrier_day (day, carrier, outcome, n)
        SELECT started_at / 86400000, carrier, outcome, count(*) FROM probes GROUP BY 1, 2, 3;",
    // 3: early-media RTP joins the exchange (direction `rtp_sent` /
    // `rtp_received`). SQLite cannot alter a CHECK constraint, so the table
    // is rebuilt with the rows copied over.
    "CREATE TABLE exchange_v3 (
        probe_id  TEXT    NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
        seq       INTEGER NOT NULL,
        offset_us INTEGER NOT NULL,
        direction TEXT    NOT NULL
            CHECK (direction IN ('sent', 'received', 'rtp_sent', 'rtp_received')),
        remote    TEXT    NOT NULL,
        data      BLOB    NOT NULL,
        PRIMARY KEY (probe_id, seq)
    );
    INSERT INTO exchange_v3 (probe_id, seq, offset_us, direction, remote, data)
        SELECT probe_id, seq, offset_us, direction, remote, data FROM exchange;
    DROP TABLE exchange;
    ALTER TABLE exchange_v3 RENAME TO exchange;",
];

/// The schema version this binary writes (`MIGRATIONS.len()`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`], or refuses a newer one.
pub(super) fn apply(store: &mut Store) -> Result<(), StoreError> {
    let ctx = &store.ctx;
    let found = user_version(&store.conn).map_err(|e| ctx.open_err(e))?;
    if found > SCHEMA_VERSION {
        return Err(too_new(ctx.path.clone(), found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| ctx.err(e))?;
    // Another process may have upgraded while we waited for the lock.
    let found = user_version(&tx).map_err(|e| ctx.err(e))?;
    if found > SCHEMA_VERSION {
        return Err(too_new(ctx.path.clone(), found));
    }
    for version in (found + 1)..=SCHEMA_VERSION {
        let failed = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ctx.err(source),
            _ => StoreError::Migration {
                path: ctx.path.clone(),
                version,
                source,
            },
        };
        let sql = usize::try_from(version - 1)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
            .copied()
            .unwrap_or("");
        tx.execute_batch(sql).map_err(failed)?;
        backfill(&tx, version).map_err(failed)?;
        tracing::info!(path = %ctx.path.display(), version, "history database upgraded");
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| ctx.err(e))?;
    tx.commit().map_err(|e| ctx.err(e))
}

fn too_new(path: std::path::PathBuf, found: i64) -> StoreError {
    StoreError::TooNew {
        path,
        found,
        supported: SCHEMA_VERSION,
    }
}

fn user_version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Data steps of migration `version` that SQL cannot do.
fn backfill(tx: &Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    if version != 2 {
        return Ok(());
    }
    let mut sketches: HashMap<(i64, String), Sketch> = HashMap::new();
    {
        let mut stmt =
            tx.prepare("SELECT DISTINCT started_at / 86400000, carrier, caller_id FROM probes")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let day: i64 = row.get(0)?;
            let carrier: String = row.get(1)?;
            let caller: String = row.get(2)?;
            sketches
                .entry((day, carrier))
                .or_insert_with(Sketch::new)
                .insert(&caller);
        }
    }
    let mut insert =
        tx.prepare("INSERT INTO carrier_day_callers (day, carrier, sketch) VALUES (?1, ?2, ?3)")?;
    for ((day, carrier), sketch) in &sketches {
        insert.execute(rusqlite::params![day, carrier, sketch.as_bytes()])?;
    }
    Ok(())
}
