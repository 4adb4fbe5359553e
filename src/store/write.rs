//! Writes: inserting finished probes (record, exchange and aggregates in one
//! transaction) and rewriting their classification.
//!
//! Every write is a `BEGIN IMMEDIATE` transaction, so it waits for other
//! writers (busy timeout) instead of failing halfway. Aggregate deltas are
//! summed in memory and flushed once per transaction: a batch of 10,000
//! probes touches a handful of aggregate rows, not 30,000.

use std::collections::HashMap;

use chrono::DateTime;
use rusqlite::{ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params};

use super::sketch::Sketch;
use super::{Ctx, ReclassifyStats, Store, StoreError};
use crate::classify::Outcome;
use crate::probe::{Direction, ProbeRecord, Proto};

/// Milliseconds per hour and per day: the aggregate bucket widths.
pub(super) const HOUR_MS: i64 = 3_600_000;
pub(super) const DAY_MS: i64 = 86_400_000;

/// Probes read and rewritten per transaction by [`Store::reclassify`].
const RECLASSIFY_PAGE: usize = 500;

const INSERT_PROBE: &str = "INSERT INTO probes
    (id, caller_id, carrier, destination, started_at, outcome, status, rang, record)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const INSERT_EXCHANGE: &str = "INSERT INTO exchange
    (probe_id, seq, offset_us, direction, remote, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// `started_at` as unix milliseconds; the store refuses what it cannot
/// bucket (not RFC 3339, or before 1970).
pub(super) fn started_ms(rec: &ProbeRecord) -> Result<i64, StoreError> {
    let at = DateTime::parse_from_rfc3339(&rec.started_at).map_err(|e| StoreError::BadRecord {
        id: rec.id.clone(),
        reason: format!(
            "started_at {:?} is not an RFC 3339 time ({e})",
            rec.started_at
        ),
    })?;
    let ms = at.timestamp_millis();
    if ms < 0 {
        return Err(StoreError::BadRecord {
            id: rec.id.clone(),
            reason: format!("started_at {:?} is before 1970", rec.started_at),
        });
    }
    Ok(ms)
}

fn to_json(rec: &ProbeRecord) -> Result<String, StoreError> {
    serde_json::to_string(rec).map_err(|e| StoreError::BadRecord {
        id: rec.id.clone(),
        reason: format!("cannot be encoded as JSON ({e})"),
    })
}

pub(super) fn direction_str(d: Direction, proto: Proto) -> &'static str {
    match (proto, d) {
        (Proto::Sip, Direction::Sent) => "sent",
        (Proto::Sip, Direction::Received) => "received",
        (Proto::Rtp, Direction::Sent) => "rtp_sent",
        (Proto::Rtp, Direction::Received) => "rtp_received",
    }
}

/// Aggregate changes of one transaction, flushed by [`Deltas::flush`].
#[derive(Default)]
struct Deltas {
    hours: HashMap<(i64, String, Outcome), i64>,
    days: HashMap<(i64, String, Outcome), i64>,
    callers: HashMap<(i64, String), Sketch>,
}

impl Deltas {
    fn count(&mut self, carrier: &str, started_ms: i64, outcome: Outcome, delta: i64) {
        *self
            .hours
            .entry((started_ms / HOUR_MS, carrier.to_owned(), outcome))
            .or_insert(0) += delta;
        *self
            .days
            .entry((started_ms / DAY_MS, carrier.to_owned(), outcome))
            .or_insert(0) += delta;
    }

    fn caller(&mut self, carrier: &str, started_ms: i64, caller_id: &str) {
        self.callers
            .entry((started_ms / DAY_MS, carrier.to_owned()))
            .or_insert_with(Sketch::new)
            .insert(caller_id);
    }

    fn flush(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        for (table, bucket, deltas) in [
            ("carrier_hour", "hour", &self.hours),
            ("carrier_day", "day", &self.days),
        ] {
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO {table} ({bucket}, carrier, outcome, n) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT ({bucket}, carrier, outcome) DO UPDATE SET n = n + excluded.n"
            ))?;
            let mut prune = tx.prepare_cached(&format!(
                "DELETE FROM {table} WHERE {bucket} = ?1 AND carrier = ?2 AND outcome = ?3 AND n <= 0"
            ))?;
            for ((at, carrier, outcome), &delta) in deltas {
                if delta == 0 {
                    continue;
                }
                upsert.execute(params![at, carrier, outcome.as_str(), delta])?;
                if delta < 0 {
                    prune.execute(params![at, carrier, outcome.as_str()])?;
                }
            }
        }
        let mut read = tx.prepare_cached(
            "SELECT sketch FROM carrier_day_callers WHERE day = ?1 AND carrier = ?2",
        )?;
        let mut write = tx.prepare_cached(
            "INSERT OR REPLACE INTO carrier_day_callers (day, carrier, sketch) VALUES (?1, ?2, ?3)",
        )?;
        for ((day, carrier), delta) in &self.callers {
            let mut rows = read.query(params![day, carrier])?;
            let mut sketch = match rows.next()? {
                Some(row) => Sketch::from_bytes(&row.get::<_, Vec<u8>>(0)?),
                None => Sketch::new(),
            };
            drop(rows);
            let before = sketch.clone();
            sketch.merge(delta);
            if sketch != before {
                write.execute(params![day, carrier, sketch.as_bytes()])?;
            }
        }
        Ok(())
    }
}

/// Maps an SQLite error of an insert: a primary-key clash is a duplicate.
fn insert_err(ctx: &Ctx, id: &str, e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.code == ErrorCode::ConstraintViolation
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    {
        return StoreError::Duplicate { id: id.to_owned() };
    }
    ctx.err(e)
}

fn insert_one(
    tx: &Transaction<'_>,
    ctx: &Ctx,
    rec: &ProbeRecord,
    deltas: &mut Deltas,
) -> Result<(), StoreError> {
    if rec.id.is_empty() {
        return Err(StoreError::BadRecord {
            id: String::new(),
            reason: "the probe id is empty".to_owned(),
        });
    }
    let ms = started_ms(rec)?;
    let json = to_json(rec)?;
    let mut probe = tx.prepare_cached(INSERT_PROBE).map_err(|e| ctx.err(e))?;
    probe
        .execute(params![
            rec.id,
            rec.caller_id,
            rec.carrier,
            rec.destination,
            ms,
            rec.outcome.as_str(),
            rec.status,
            rec.rang,
            json,
        ])
        .map_err(|e| insert_err(ctx, &rec.id, e))?;
    if !rec.exchange.is_empty() {
        let mut ex = tx.prepare_cached(INSERT_EXCHANGE).map_err(|e| ctx.err(e))?;
        for (seq, entry) in rec.exchange.iter().enumerate() {
            ex.execute(params![
                rec.id,
                i64::try_from(seq).unwrap_or(i64::MAX),
                i64::try_from(entry.offset_us).unwrap_or(i64::MAX),
                direction_str(entry.direction, entry.proto),
                entry.remote.to_string(),
                entry.data,
            ])
            .map_err(|e| ctx.err(e))?;
        }
    }
    deltas.count(&rec.carrier, ms, rec.outcome, 1);
    deltas.caller(&rec.carrier, ms, &rec.caller_id);
    Ok(())
}

/// Rewrites one stored record inside `tx`; `Ok(false)` when nothing changed.
fn update_one(
    tx: &Transaction<'_>,
    ctx: &Ctx,
    rec: &ProbeRecord,
    deltas: &mut Deltas,
) -> Result<bool, StoreError> {
    let old: Option<(String, String, i64, String, String)> = tx
        .prepare_cached(
            "SELECT caller_id, carrier, started_at, outcome, record FROM probes WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([&rec.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(|e| ctx.err(e))?;
    let Some((caller_id, carrier, started, outcome, old_json)) = old else {
        return Err(StoreError::UnknownProbe { id: rec.id.clone() });
    };
    if caller_id != rec.caller_id {
        return Err(identity(rec, "caller_id"));
    }
    if carrier != rec.carrier {
        return Err(identity(rec, "carrier"));
    }
    let ms = started_ms(rec)?;
    if started != ms {
        return Err(identity(rec, "started_at"));
    }
    let json = to_json(rec)?;
    if old_json == json {
        return Ok(false);
    }
    let old_outcome: Outcome = outcome.parse().map_err(|e| StoreError::BadRecord {
        id: rec.id.clone(),
        reason: format!("stored outcome: {e}"),
    })?;
    tx.prepare_cached(
        "UPDATE probes SET destination = ?2, outcome = ?3, status = ?4, rang = ?5, record = ?6
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            rec.id,
            rec.destination,
            rec.outcome.as_str(),
            rec.status,
            rec.rang,
            json,
        ])
    })
    .map_err(|e| ctx.err(e))?;
    if old_outcome != rec.outcome {
        deltas.count(&rec.carrier, ms, old_outcome, -1);
        deltas.count(&rec.carrier, ms, rec.outcome, 1);
    }
    Ok(true)
}

fn identity(rec: &ProbeRecord, field: &'static str) -> StoreError {
    StoreError::IdentityChanged {
        id: rec.id.clone(),
        field,
    }
}

impl Store {
    /// Stores one finished probe: its record, its whole exchange and the
    /// aggregate counters, in one transaction (all of it or nothing).
    pub fn insert_probe(&mut self, rec: &ProbeRecord) -> Result<(), StoreError> {
        self.insert_probes(std::slice::from_ref(rec))
    }

    /// Stores many probes in one transaction (imports, benchmarks, a daemon
    /// flushing a burst). Any bad or duplicate record fails the whole batch.
    pub fn insert_probes(&mut self, recs: &[ProbeRecord]) -> Result<(), StoreError> {
        let ctx = &self.ctx;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ctx.err(e))?;
        let mut deltas = Deltas::default();
        for rec in recs {
            insert_one(&tx, ctx, rec, &mut deltas)?;
        }
        deltas.flush(&tx).map_err(|e| ctx.err(e))?;
        tx.commit().map_err(|e| ctx.err(e))
    }

    /// Rewrites the stored record of `rec.id` with `rec` (a new
    /// classification of the same call) and moves its aggregate counts when
    /// the outcome changed. The exchange is never rewritten: it is evidence.
    ///
    /// Returns whether anything changed. Errors: [`StoreError::UnknownProbe`],
    /// and [`StoreError::IdentityChanged`] when `rec` has another caller ID,
    /// carrier or start time than the stored probe.
    pub fn update_classification(&mut self, rec: &ProbeRecord) -> Result<bool, StoreError> {
        let ctx = &self.ctx;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ctx.err(e))?;
        let mut deltas = Deltas::default();
        let changed = update_one(&tx, ctx, rec, &mut deltas)?;
        deltas.flush(&tx).map_err(|e| ctx.err(e))?;
        tx.commit().map_err(|e| ctx.err(e))?;
        Ok(changed)
    }

    /// Re-runs a classifier over every stored probe (`ringwatch reclassify`).
    ///
    /// Walks the history in id order, 500 probes at a time,
    /// handing each record *with its exchange* to `reclassify`; a returned
    /// record replaces the stored one as in [`Store::update_classification`]
    /// (same identity rules; aggregates follow). Each page is written in its
    /// own short transaction, so a daemon writing meanwhile waits
    /// milliseconds, not minutes; an interrupted run leaves every page it
    /// finished rewritten and is safe to repeat. The closure sees the old
    /// record and returns the new one, so it can report what changed.
    pub fn reclassify<F>(&mut self, mut reclassify: F) -> Result<ReclassifyStats, StoreError>
    where
        F: FnMut(&ProbeRecord) -> Option<ProbeRecord>,
    {
        let mut stats = ReclassifyStats::default();
        let mut after = String::new();
        loop {
            let page = self.page_with_exchange(&after, RECLASSIFY_PAGE)?;
            let Some(last) = page.last() else {
                break;
            };
            after.clone_from(&last.id);
            let mut updates = Vec::new();
            for old in &page {
                stats.examined += 1;
                if let Some(new) = reclassify(old) {
                    if new.id != old.id {
                        return Err(identity(old, "id"));
                    }
                    updates.push(new);
                }
            }
            if updates.is_empty() {
                continue;
            }
            let ctx = &self.ctx;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| ctx.err(e))?;
            let mut deltas = Deltas::default();
            for rec in &updates {
                if update_one(&tx, ctx, rec, &mut deltas)? {
                    stats.changed += 1;
                }
            }
            deltas.flush(&tx).map_err(|e| ctx.err(e))?;
            tx.commit().map_err(|e| ctx.err(e))?;
        }
        Ok(stats)
    }
}
