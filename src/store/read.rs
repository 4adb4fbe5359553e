//! Reads: one probe with its exchange, a number's probes, carrier baselines,
//! export and the small questions the daemon and `check` ask.
//!
//! Every query takes its time bounds as arguments; nothing here reads the
//! clock. A stored row that cannot be decoded is an error naming the probe,
//! never a silently shorter answer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::sketch::Sketch;
use super::write::{DAY_MS, HOUR_MS};
use super::{CarrierBaseline, MIN_ID_PREFIX, Store, StoreError};
use crate::classify::Outcome;
use crate::probe::{Direction, ExchangeEntry, ProbeRecord, Proto};

/// The UTC days `?1 ..= ?2`, oldest first: the partitions of the
/// `probes_by_day_caller` index a number's query visits, one seek each.
macro_rules! days_up {
    () => {
        "WITH RECURSIVE days(d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days WHERE d < ?2) "
    };
}

/// A number's probes since `?4` on days `?1 ..= ?2` (optionally at carrier `?5`).
pub(super) const PROBES_FOR_NUMBER: &str = concat!(
    days_up!(),
    "SELECT p.id, p.record FROM days CROSS JOIN probes AS p
     WHERE p.started_at / 86400000 = days.d AND p.caller_id = ?3
       AND p.started_at >= ?4 AND (?5 IS NULL OR p.carrier = ?5)
     ORDER BY p.started_at"
);

/// A number's counts per (carrier, outcome, started at or after `?4`) on
/// days `?1 ..= ?2`.
pub(super) const OWN_COUNTS: &str = concat!(
    days_up!(),
    "SELECT p.carrier, p.outcome, p.started_at >= ?4, count(*)
     FROM days CROSS JOIN probes AS p
     WHERE p.started_at / 86400000 = days.d AND p.caller_id = ?3
     GROUP BY 1, 2, 3"
);

/// Whether the number has a probe on days `?1 ..= ?2` (newest day first).
pub(super) const EVER_PROBED: &str = "WITH RECURSIVE days(d) AS
     (SELECT ?2 UNION ALL SELECT d - 1 FROM days WHERE d > ?1)
     SELECT EXISTS (SELECT 1 FROM days CROSS JOIN probes AS p
     WHERE p.started_at / 86400000 = days.d AND p.caller_id = ?3)";

/// The number's probes in `[?4, ?5)`, on days `?1 ..= ?2`.
pub(super) const CALLS_BETWEEN: &str = concat!(
    days_up!(),
    "SELECT count(*) FROM days CROSS JOIN probes AS p
     WHERE p.started_at / 86400000 = days.d AND p.caller_id = ?3
       AND p.started_at >= ?4 AND p.started_at < ?5"
);

/// Unix milliseconds of a bound, clamped to the store's range (≥ 0).
fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis().max(0)
}

fn decode(id: &str, json: &str) -> Result<ProbeRecord, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::BadRecord {
        id: id.to_owned(),
        reason: format!("stored record is unreadable ({e})"),
    })
}

/// One `exchange` row (`probe_id, offset_us, direction, remote, data`).
fn exchange_entry(row: &Row<'_>) -> rusqlite::Result<Result<(String, ExchangeEntry), StoreError>> {
    let id: String = row.get(0)?;
    let offset: i64 = row.get(1)?;
    let direction: String = row.get(2)?;
    let remote: String = row.get(3)?;
    let data: Vec<u8> = row.get(4)?;
    let bad = |reason: String| StoreError::BadRecord {
        id: id.clone(),
        reason,
    };
    let (direction, proto) = match direction.as_str() {
        "sent" => (Direction::Sent, Proto::Sip),
        "received" => (Direction::Received, Proto::Sip),
        "rtp_sent" => (Direction::Sent, Proto::Rtp),
        "rtp_received" => (Direction::Received, Proto::Rtp),
        other => return Ok(Err(bad(format!("exchange direction {other:?} is unknown")))),
    };
    let remote: SocketAddr = match remote.parse() {
        Ok(r) => r,
        Err(_) => {
            return Ok(Err(bad(format!(
                "exchange address {remote:?} is unreadable"
            ))));
        }
    };
    let entry = ExchangeEntry {
        offset_us: u64::try_from(offset).unwrap_or(0),
        direction,
        remote,
        data,
        proto,
    };
    Ok(Ok((id, entry)))
}

impl Store {
    /// One probe with its exchange, by full id or by a unique prefix of at
    /// least [`MIN_ID_PREFIX`] characters (as `git` takes commit prefixes).
    ///
    /// `Ok(None)`: no such probe. Errors: [`StoreError::PrefixTooShort`] for
    /// a short string that is not a whole id, [`StoreError::AmbiguousId`]
    /// (listing the matches) when the prefix fits several probes.
    pub fn probe(&self, id: &str) -> Result<Option<ProbeRecord>, StoreError> {
        if let Some(rec) = self.load_full(id)? {
            return Ok(Some(rec));
        }
        if id.chars().count() < MIN_ID_PREFIX {
            return Err(StoreError::PrefixTooShort {
                prefix: id.to_owned(),
            });
        }
        let mut matches = self.ids_with_prefix(id)?;
        if matches.is_empty() && id.to_ascii_lowercase() != id {
            // UUIDs are stored lowercase; accept a prefix pasted in capitals.
            matches = self.ids_with_prefix(&id.to_ascii_lowercase())?;
        }
        match matches.as_slice() {
            [] => Ok(None),
            [one] => self.load_full(one),
            _ => Err(StoreError::AmbiguousId {
                prefix: id.to_owned(),
                matches,
            }),
        }
    }

    /// Up to eleven ids starting with `prefix`, in order.
    fn ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Every id that starts with `prefix` sorts in [prefix, prefix + U+10FFFF).
        let upper = format!("{prefix}\u{10FFFF}");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM probes WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 11")
            .map_err(|e| self.ctx.err(e))?;
        let ids = stmt
            .query_map(params![prefix, upper], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        Ok(ids)
    }

    /// The record of exactly `id` with its exchange.
    fn load_full(&self, id: &str) -> Result<Option<ProbeRecord>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT record FROM probes WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(|e| self.ctx.err(e))?;
        let Some(json) = json else {
            return Ok(None);
        };
        let mut rec = decode(id, &json)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT probe_id, offset_us, direction, remote, data FROM exchange
                 WHERE probe_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.ctx.err(e))?;
        let entries: Vec<Result<(String, ExchangeEntry), StoreError>> = stmt
            .query_map([id], exchange_entry)
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        for entry in entries {
            rec.exchange.push(entry?.1);
        }
        Ok(Some(rec))
    }

    /// Up to `limit` probes with ids after `after` (`""`: from the start),
    /// in id order, each with its exchange. The pages of `reclassify`.
    pub(super) fn page_with_exchange(
        &self,
        after: &str,
        limit: usize,
    ) -> Result<Vec<ProbeRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, record FROM probes WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(|e| self.ctx.err(e))?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        let mut page = Vec::with_capacity(rows.len());
        let mut index = HashMap::with_capacity(rows.len());
        for (id, json) in &rows {
            index.insert(id.as_str(), page.len());
            page.push(decode(id, json)?);
        }
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(page);
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT probe_id, offset_us, direction, remote, data FROM exchange
                 WHERE probe_id >= ?1 AND probe_id <= ?2 ORDER BY probe_id, seq",
            )
            .map_err(|e| self.ctx.err(e))?;
        let entries: Vec<Result<(String, ExchangeEntry), StoreError>> = stmt
            .query_map(params![first.0, last.0], exchange_entry)
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        for entry in entries {
            let (id, entry) = entry?;
            if let Some(rec) = index.get(id.as_str()).and_then(|&i| page.get_mut(i)) {
                rec.exchange.push(entry);
            }
        }
        Ok(page)
    }

    /// Every probe from `caller_id` that started at or after `since`
    /// (optionally at one carrier), oldest first, without exchanges.
    pub fn probes_for_number(
        &self,
        caller_id: &str,
        since: DateTime<Utc>,
        carrier: Option<&str>,
    ) -> Result<Vec<ProbeRecord>, StoreError> {
        let Some((first_day, last_day)) = self.day_span()? else {
            return Ok(Vec::new());
        };
        let since = ms(since);
        let mut stmt = self
            .conn
            .prepare_cached(PROBES_FOR_NUMBER)
            .map_err(|e| self.ctx.err(e))?;
        let rows: Vec<(String, String)> = stmt
            .query_map(
                params![
                    (since / DAY_MS).max(first_day),
                    last_day,
                    caller_id,
                    since,
                    carrier
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        rows.iter().map(|(id, json)| decode(id, json)).collect()
    }

    /// Per carrier, how the probes of every caller ID other than
    /// `excluding_caller` fared since `since`: the comparison data of
    /// attribution ("does this carrier block everyone, or just us?").
    ///
    /// Read from the aggregate tables, so the cost does not grow with the
    /// size of the history. The window starts at the UTC hour containing
    /// `since` (up to 59 minutes earlier) and has no upper bound; `probes`
    /// and `by_outcome` are exact over that window. `callers` is estimated
    /// over the whole UTC days of the window (see [`CarrierBaseline`]).
    /// Carriers with no probe from another caller ID are absent. Sorted by
    /// carrier name.
    pub fn carrier_baselines(
        &self,
        since: DateTime<Utc>,
        excluding_caller: &str,
    ) -> Result<Vec<CarrierBaseline>, StoreError> {
        let first_hour = ms(since) / HOUR_MS;
        let first_whole_day = (first_hour + 23) / 24;
        let first_day = first_hour / 24;
        let mut counts: BTreeMap<String, [i64; Outcome::ALL.len()]> = BTreeMap::new();
        let mut add = |carrier: String, outcome: &str, n: i64| match outcome.parse::<Outcome>() {
            Ok(o) => {
                let slot = Outcome::ALL.iter().position(|&x| x == o).unwrap_or(0);
                if let Some(c) = counts
                    .entry(carrier)
                    .or_insert([0; Outcome::ALL.len()])
                    .get_mut(slot)
                {
                    *c += n;
                }
            }
            Err(e) => {
                tracing::warn!(carrier, error = %e, "aggregate row with an unknown outcome skipped")
            }
        };
        let sums: [(&str, i64, i64); 2] = [
            (
                "SELECT carrier, outcome, sum(n) FROM carrier_hour
                 WHERE hour >= ?1 AND hour < ?2 GROUP BY carrier, outcome",
                first_hour,
                first_whole_day * 24,
            ),
            (
                "SELECT carrier, outcome, sum(n) FROM carrier_day
                 WHERE day >= ?1 AND day < ?2 GROUP BY carrier, outcome",
                first_whole_day,
                i64::MAX,
            ),
        ];
        for (sql, from, to) in sums {
            let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.ctx.err(e))?;
            let rows: Vec<(String, String, i64)> = stmt
                .query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(Iterator::collect)
                .map_err(|e| self.ctx.err(e))?;
            for (carrier, outcome, n) in rows {
                add(carrier, &outcome, n);
            }
        }
        // Take the excluded caller's own probes back out (same window), and
        // note where it was seen on the days the sketches cover.
        let mut own_carriers = BTreeSet::new();
        let (oldest_day, last_day) = self.day_span()?.unwrap_or((first_day, first_day));
        let mut stmt = self
            .conn
            .prepare_cached(OWN_COUNTS)
            .map_err(|e| self.ctx.err(e))?;
        let rows: Vec<(String, String, bool, i64)> = stmt
            .query_map(
                params![
                    first_day.max(oldest_day),
                    last_day,
                    excluding_caller,
                    first_hour * HOUR_MS
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .and_then(Iterator::collect)
            .map_err(|e| self.ctx.err(e))?;
        for (carrier, outcome, in_window, n) in rows {
            own_carriers.insert(carrier.clone());
            if in_window {
                add(carrier, &outcome, -n);
            }
        }
        let mut sketches: HashMap<String, Sketch> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT carrier, sketch FROM carrier_day_callers WHERE day >= ?1")
            .map_err(|e| self.ctx.err(e))?;
        let mut rows = stmt.query([first_day]).map_err(|e| self.ctx.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.ctx.err(e))? {
            let carrier: String = row.get(0).map_err(|e| self.ctx.err(e))?;
            let bytes: Vec<u8> = row.get(1).map_err(|e| self.ctx.err(e))?;
            sketches
                .entry(carrier)
                .or_insert_with(Sketch::new)
                .merge(&Sketch::from_bytes(&bytes));
        }
        let baselines = counts
            .into_iter()
            .filter_map(|(carrier, per)| {
                let by_outcome: Vec<(Outcome, u64)> = Outcome::ALL
                    .iter()
                    .zip(per)
                    .filter_map(|(&o, n)| u64::try_from(n).ok().filter(|&n| n > 0).map(|n| (o, n)))
                    .collect();
                let probes: u64 = by_outcome.iter().map(|(_, n)| n).sum();
                if probes == 0 {
                    return None;
                }
                let seen = sketches.get(&carrier).map_or(0, Sketch::estimate);
                let own = u64::from(own_carriers.contains(&carrier));
                Some(CarrierBaseline {
                    callers: seen.saturating_sub(own).max(1),
                    carrier,
                    probes,
                    by_outcome,
                })
            })
            .collect();
        Ok(baselines)
    }

    /// Streams every probe that started at or after `since`, oldest first,
    /// without exchanges (`ringwatch export`). Stops at the first error of
    /// `f` and returns it; otherwise returns how many probes were passed.
    ///
    /// The read holds one snapshot for the whole walk: writers are not
    /// blocked (WAL), and the export is consistent.
    pub fn for_each_probe<E, F>(&self, since: DateTime<Utc>, mut f: F) -> Result<u64, E>
    where
        E: From<StoreError>,
        F: FnMut(ProbeRecord) -> Result<(), E>,
    {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, record FROM probes WHERE started_at >= ?1 ORDER BY started_at",
            )
            .map_err(|e| self.ctx.err(e))?;
        let mut rows = stmt.query([ms(since)]).map_err(|e| self.ctx.err(e))?;
        let mut n = 0;
        while let Some(row) = rows.next().map_err(|e| self.ctx.err(e))? {
            let id: String = row.get(0).map_err(|e| self.ctx.err(e))?;
            let json: String = row.get(1).map_err(|e| self.ctx.err(e))?;
            f(decode(&id, &json)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Whether any probe from `caller_id` was ever stored (tells "never
    /// probed" apart from "nothing recent").
    pub fn ever_probed(&self, caller_id: &str) -> Result<bool, StoreError> {
        let Some((first, last)) = self.day_span()? else {
            return Ok(false);
        };
        // Newest day first: a number in use is found in a seek or two.
        self.conn
            .prepare_cached(EVER_PROBED)
            .and_then(|mut s| s.query_row(params![first, last, caller_id], |r| r.get(0)))
            .map_err(|e| self.ctx.err(e))
    }

    /// The first and last UTC day with a probe (`None`: the store is empty).
    fn day_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let span: (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT min(started_at) FROM probes), (SELECT max(started_at) FROM probes)",
            )
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(|e| self.ctx.err(e))?;
        Ok(match span {
            (Some(first), Some(last)) => Some((first / DAY_MS, last / DAY_MS)),
            _ => None,
        })
    }

    /// Probes from `caller_id` that started in `[from, to)` (the daemon's
    /// per-number daily budget).
    pub fn calls_for_number_between(
        &self,
        caller_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let Some((first_day, last_day)) = self.day_span()? else {
            return Ok(0);
        };
        let (from, to) = (ms(from), ms(to));
        if to <= from {
            return Ok(0);
        }
        let n: i64 = self
            .conn
            .prepare_cached(CALLS_BETWEEN)
            .and_then(|mut s| {
                s.query_row(
                    params![
                        (from / DAY_MS).max(first_day),
                        ((to - 1) / DAY_MS).min(last_day),
                        caller_id,
                        from,
                        to
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(|e| self.ctx.err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
