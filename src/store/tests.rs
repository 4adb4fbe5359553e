//! Store tests: round trips, lookups, aggregates against brute force, the
//! upgrade path from schema 1, refusal of newer, corrupt and locked files,
//! concurrent writers and reclassification.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::classify::{Analytics, CallFacts, Outcome, Standard, classify};
use crate::probe::{Direction, ExchangeEntry, ProbeRecord};
use crate::sip::message::Message;

/// A temp database path removed (with its WAL files) before and after use.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("ringwatch-store-{name}-{}.db", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A plain record with no exchange.
fn record(
    id: &str,
    caller: &str,
    carrier: &str,
    at: DateTime<Utc>,
    outcome: Outcome,
) -> ProbeRecord {
    let (status, phrase) = match outcome {
        Outcome::Ringing => (Some(487), Some("Request Terminated".to_owned())),
        Outcome::Answered => (Some(200), Some("OK".to_owned())),
        Outcome::NetworkBlocked => (Some(603), Some("Network Blocked".to_owned())),
        Outcome::Declined => (Some(603), Some("Decline".to_owned())),
        Outcome::Busy => (Some(486), Some("Busy Here".to_owned())),
        Outcome::Timeout => (None, None),
        _ => (Some(500), Some("Server Internal Error".to_owned())),
    };
    ProbeRecord {
        id: id.to_owned(),
        caller_id: caller.to_owned(),
        carrier: carrier.to_owned(),
        destination: "+13125550178".to_owned(),
        started_at: rfc3339(at),
        call_id: format!("{id}@ringwatch"),
        outcome,
        rang: outcome == Outcome::Ringing,
        status,
        reason_phrase: phrase,
        pdd_ms: Some(1200),
        duration_ms: 6000,
        analytics: None,
        reasons: Vec::new(),
        retry_after_s: None,
        q850_cause: None,
        warnings: Vec::new(),
        anomalies: Vec::new(),
        provisionals: vec![100, 180],
        cancelled_by_us: outcome == Outcome::Ringing,
        answered_dialogs: 0,
        strays: 0,
        trunk: "203.0.113.10:5060".parse().expect("addr"),
        local: "192.0.2.5:5062".parse().expect("addr"),
        media: None,
        media_local: None,
        exchange: Vec::new(),
    }
}

const NB_603: &str = "SIP/2.0 603 Network Blocked\r\nVia: SIP/2.0/UDP 192.0.2.5:5062;branch=z9hG4bK1\r\nFrom: <sip:+12025550143@192.0.2.5>;tag=a\r\nTo: <sip:+13125550178@carrier.example>;tag=b\r\nCall-ID: c1@ringwatch\r\nCSeq: 1 INVITE\r\nReason: SIP;cause=603;text=\"v=analytics1;url=https://redress.example/b;tel=+18005550199;email=r@redress.example;id=blk-1\";location=RLN\r\nContent-Length: 0\r\n\r\n";

/// A 603+ record with analytics and a three-datagram exchange.
fn full_record(id: &str, at: DateTime<Utc>) -> ProbeRecord {
    let mut rec = record(id, "+12025550143", "alpha", at, Outcome::NetworkBlocked);
    let msg = Message::parse(NB_603.as_bytes()).expect("603 parses");
    let c = classify(&CallFacts {
        final_response: Some(&msg),
        rang: false,
        cancelled_by_us: false,
        auth_exhausted: false,
        intercepted: false,
    });
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    rec.analytics = c.analytics;
    rec.reasons = c.reasons;
    rec.q850_cause = c.q850_cause;
    rec.warnings = c.warnings;
    rec.anomalies = vec!["odd: kept".to_owned()];
    rec.provisionals = vec![100];
    rec.rang = false;
    rec.cancelled_by_us = false;
    let remote = rec.trunk;
    rec.exchange = vec![
        ExchangeEntry {
            offset_us: 0,
            direction: Direction::Sent,
            remote,
            data: b"INVITE sip:+13125550178@carrier.example SIP/2.0\r\nProxy-Authorization: <redacted>\r\n\r\n".to_vec(),
            proto: Default::default(),
        },
        ExchangeEntry {
            offset_us: 12_000,
            direction: Direction::Received,
            remote,
            // Not UTF-8: the store keeps bytes, not text.
            data: b"SIP/2.0 100 Trying\r\nServer: \xff\xfe\r\n\r\n".to_vec(),
            proto: Default::default(),
        },
        ExchangeEntry {
            offset_us: 13_000,
            direction: Direction::Received,
            remote: "127.0.0.1:40000".parse().expect("addr"),
            // An RTP packet: PT 0, seq 1, ts 160, 4 bytes of µ-law payload.
            data: vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xff, 0x7f, 0xff, 0x7f],
            proto: crate::probe::Proto::Rtp,
        },
        ExchangeEntry {
            offset_us: u64::MAX,
            direction: Direction::Received,
            remote,
            data: NB_603.as_bytes().to_vec(),
            proto: Default::default(),
        },
    ];
    rec
}

fn json(rec: &ProbeRecord) -> serde_json::Value {
    serde_json::to_value(rec).expect("record serializes")
}

fn assert_same(a: &ProbeRecord, b: &ProbeRecord) {
    assert_eq!(json(a), json(b));
    assert_eq!(a.exchange.len(), b.exchange.len());
    for (x, y) in a.exchange.iter().zip(&b.exchange) {
        let off = |o: u64| o.min(i64::MAX as u64);
        assert_eq!(off(x.offset_us), y.offset_us);
        assert_eq!(x.direction, y.direction);
        assert_eq!(x.remote, y.remote);
        assert_eq!(x.data, y.data);
    }
}

#[test]
fn full_record_round_trips_with_its_exchange() {
    let mut store = Store::open_in_memory().expect("open");
    let rec = full_record("0195a1b2-0000-7000-8000-000000000001", t0());
    store.insert_probe(&rec).expect("insert");
    let back = store.probe(&rec.id).expect("read").expect("found");
    assert_same(&rec, &back);
    let analytics: &Analytics = back.analytics.as_ref().expect("analytics kept");
    assert_eq!(analytics.standard, Standard::Atis1000099);
    assert_eq!(analytics.tel.as_deref(), Some("+18005550199"));
    // Listing reads never carry the exchange.
    let listed = store
        .probes_for_number("+12025550143", t0(), None)
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].exchange.is_empty());
    assert_eq!(json(&listed[0]), json(&rec));
}

#[test]
fn probe_by_prefix_unique_ambiguous_short_and_unknown() {
    let mut store = Store::open_in_memory().expect("open");
    let ids = [
        "0195a1b2-1111-7000-8000-000000000001",
        "0195a1b2-1111-7000-8000-000000000002",
        "0195a1b2-2222-7000-8000-000000000003",
    ];
    let recs: Vec<ProbeRecord> = ids
        .iter()
        .map(|id| record(id, "+12025550143", "alpha", t0(), Outcome::Ringing))
        .collect();
    store.insert_probes(&recs).expect("insert");

    let found = store
        .probe("0195a1b2-2222")
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, ids[2]);
    let found = store
        .probe("0195A1B2-2222")
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, ids[2], "uppercase prefix accepted");

    match store.probe("0195a1b2-1111") {
        Err(StoreError::AmbiguousId { matches, .. }) => {
            assert_eq!(matches, vec![ids[0].to_owned(), ids[1].to_owned()]);
        }
        other => panic!("expected AmbiguousId, got {other:?}"),
    }
    let err = store.probe("0195a1b2").expect_err("ambiguous");
    assert!(err.to_string().contains(ids[2]), "{err}");

    assert!(matches!(
        store.probe("0195a1"),
        Err(StoreError::PrefixTooShort { .. })
    ));
    assert!(store.probe("ffffffff-0000").expect("lookup").is_none());
    assert!(
        store
            .probe("0195a1b2-9999-7000-8000-000000000009")
            .expect("lookup")
            .is_none()
    );
}

#[test]
fn number_queries_order_filter_and_count() {
    let mut store = Store::open_in_memory().expect("open");
    let h = chrono::Duration::hours(1);
    let recs = vec![
        record("p3", "+1A", "beta", t0() + h * 3, Outcome::Busy),
        record("p1", "+1A", "alpha", t0() + h, Outcome::Ringing),
        record("p2", "+1A", "alpha", t0() + h * 2, Outcome::Answered),
        record("q1", "+1B", "alpha", t0() + h * 2, Outcome::Ringing),
    ];
    store.insert_probes(&recs).expect("insert");

    let all = store.probes_for_number("+1A", t0(), None).expect("list");
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["p1", "p2", "p3"]);
    let alpha = store
        .probes_for_number("+1A", t0() + h * 2, Some("alpha"))
        .expect("list");
    assert_eq!(alpha.len(), 1);
    assert_eq!(alpha[0].id, "p2");
    assert!(
        store
            .probes_for_number("+1C", t0(), None)
            .expect("list")
            .is_empty()
    );

    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let far = t0() + chrono::Duration::days(4000);
    assert_eq!(
        store
            .probes_for_number("+1A", epoch, None)
            .expect("list")
            .len(),
        3
    );
    assert_eq!(
        store
            .calls_for_number_between("+1A", epoch, far)
            .expect("count"),
        3
    );
    assert_eq!(
        store
            .calls_for_number_between("+1A", far, epoch)
            .expect("count"),
        0
    );
    assert!(store.ever_probed("+1A").expect("ever"));
    assert!(!store.ever_probed("+1C").expect("ever"));
    assert_eq!(
        store
            .calls_for_number_between("+1A", t0() + h, t0() + h * 3)
            .expect("count"),
        2,
        "half-open [from, to)"
    );

    let mut seen = Vec::new();
    let n = store
        .for_each_probe(t0() + h * 2, |r| {
            seen.push(r.id);
            Ok::<(), StoreError>(())
        })
        .expect("export");
    assert_eq!(n, 3);
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2], "p3");
    // The callback's error stops the walk and comes back unchanged.
    let stopped: Result<u64, String> = store.for_each_probe(t0(), |_| Err("stop".to_owned()));
    assert_eq!(stopped, Err("stop".to_owned()));
}

impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.to_string()
    }
}

/// Brute-force baseline over the documented window.
fn brute_baselines(
    recs: &[ProbeRecord],
    since: DateTime<Utc>,
    excluding: &str,
) -> BTreeMap<String, (u64, BTreeMap<&'static str, u64>, u64)> {
    let hour = since.timestamp_millis() / 3_600_000 * 3_600_000;
    let day = since.timestamp_millis() / 86_400_000 * 86_400_000;
    let mut out: BTreeMap<String, (u64, BTreeMap<&'static str, u64>, u64)> = BTreeMap::new();
    let mut callers: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for r in recs {
        let ms = DateTime::parse_from_rfc3339(&r.started_at)
            .expect("time")
            .timestamp_millis();
        if r.caller_id == excluding {
            continue;
        }
        if ms >= day {
            callers
                .entry(r.carrier.clone())
                .or_default()
                .insert(&r.caller_id);
        }
        if ms >= hour {
            let e = out.entry(r.carrier.clone()).or_default();
            e.0 += 1;
            *e.1.entry(r.outcome.as_str()).or_insert(0) += 1;
        }
    }
    for (carrier, e) in &mut out {
        e.2 = callers.get(carrier).map_or(0, |c| c.len() as u64);
    }
    out
}

fn random_history(rng: &mut StdRng, n: usize) -> Vec<ProbeRecord> {
    let carriers = ["alpha", "beta", "gamma", "delta"];
    let outcomes = [
        Outcome::Ringing,
        Outcome::Ringing,
        Outcome::Ringing,
        Outcome::Answered,
        Outcome::Busy,
        Outcome::NetworkBlocked,
        Outcome::Declined,
        Outcome::Timeout,
        Outcome::Unavailable,
    ];
    (0..n)
        .map(|i| {
            let at = t0() + chrono::Duration::milliseconds(rng.gen_range(0..10 * 86_400_000));
            let caller = format!("+1202555{:04}", rng.gen_range(0..30));
            let carrier = carriers[rng.gen_range(0..carriers.len())];
            let outcome = outcomes[rng.gen_range(0..outcomes.len())];
            record(&format!("r{i:06}"), &caller, carrier, at, outcome)
        })
        .collect()
}

fn check_baselines(store: &Store, recs: &[ProbeRecord], since: DateTime<Utc>, excluding: &str) {
    let got = store
        .carrier_baselines(since, excluding)
        .expect("baselines");
    let want = brute_baselines(recs, since, excluding);
    let got_carriers: Vec<&str> = got.iter().map(|b| b.carrier.as_str()).collect();
    let want_carriers: Vec<&str> = want.keys().map(String::as_str).collect();
    assert_eq!(got_carriers, want_carriers, "since {since}");
    for b in &got {
        let (probes, by_outcome, callers) = &want[&b.carrier];
        assert_eq!(b.probes, *probes, "{} since {since}", b.carrier);
        assert_eq!(
            &b.by_outcome_name(),
            by_outcome,
            "{} since {since}",
            b.carrier
        );
        assert!(
            b.callers.abs_diff(*callers) <= 1,
            "{}: callers {} vs exact {callers}",
            b.carrier,
            b.callers
        );
    }
}

#[test]
fn aggregates_equal_a_brute_force_count() {
    let mut rng = StdRng::seed_from_u64(3);
    let recs = random_history(&mut rng, 3000);
    let mut store = Store::open_in_memory().expect("open");
    for chunk in recs.chunks(700) {
        store.insert_probes(chunk).expect("insert");
    }
    for (since_min, excluding) in [
        (0, "+12025550007"),
        (90, "+12025550000"),       // mid-hour: widened to 01:00
        (3 * 1440 + 17, "+1none"),  // mid-day
        (7 * 1440, "+12025550029"), // day aligned
        (9 * 1440 + 1439, "+12025550001"),
        (20 * 1440, "+12025550001"), // after everything
    ] {
        let since = t0() + chrono::Duration::minutes(since_min);
        check_baselines(&store, &recs, since, excluding);
    }
}

#[test]
fn an_older_database_upgrades_in_place_from_schema_1() {
    let db = TempDb::new("upgrade");
    let rec = full_record("0195a1b2-0000-7000-8000-0000000000aa", t0());
    {
        // Build a schema-1 database by hand and store a probe the v1 way.
        let conn = rusqlite::Connection::open(db.path()).expect("raw open");
        conn.execute_batch(MIGRATIONS[0]).expect("schema 1");
        conn.pragma_update(None, "user_version", 1)
            .expect("version");
        conn.execute(
            "INSERT INTO probes (id, caller_id, carrier, destination, started_at, outcome, status, rang, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                rec.id,
                rec.caller_id,
                rec.carrier,
                rec.destination,
                t0().timestamp_millis(),
                "network_blocked",
                603,
                false,
                serde_json::to_string(&rec).expect("json"),
            ],
        )
        .expect("v1 insert");
        for (seq, e) in rec.exchange.iter().enumerate() {
            conn.execute(
                "INSERT INTO exchange (probe_id, seq, offset_us, direction, remote, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    rec.id,
                    seq as i64,
                    e.offset_us.min(i64::MAX as u64) as i64,
                    if e.direction == Direction::Sent {
                        "sent"
                    } else {
                        "received"
                    },
                    e.remote.to_string(),
                    e.data,
                ],
            )
            .expect("v1 exchange");
        }
    }
    let mut store = Store::open(db.path()).expect("upgrade on open");
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let back = store.probe(&rec.id).expect("read").expect("found");
    assert_same(&rec, &back);
    // The aggregates were backfilled from the old rows.
    let other = record("n1", "+19995550000", "alpha", t0(), Outcome::Ringing);
    store.insert_probe(&other).expect("insert after upgrade");
    let b = store
        .carrier_baselines(t0(), "+19995550000")
        .expect("baselines");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].probes, 1);
    assert_eq!(b[0].count(Outcome::NetworkBlocked), 1);
    assert_eq!(b[0].callers, 1);
    drop(store);
    // Reopening an up-to-date database changes nothing.
    let store = Store::open(db.path()).expect("reopen");
    assert_eq!(
        store
            .probes_for_number(&rec.caller_id, t0(), None)
            .expect("list")
            .len(),
        1
    );
}

#[test]
fn a_database_from_a_newer_ringwatch_is_refused() {
    let db = TempDb::new("toonew");
    drop(Store::open(db.path()).expect("create"));
    {
        let conn = rusqlite::Connection::open(db.path()).expect("raw open");
        conn.pragma_update(None, "user_version", 999)
            .expect("version");
    }
    let err = Store::open(db.path()).expect_err("too new");
    assert!(
        matches!(err, StoreError::TooNew { found: 999, supported, .. } if supported == SCHEMA_VERSION),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("schema 999") && msg.contains("upgrade ringwatch"),
        "{msg}"
    );
    assert!(msg.contains(&db.path().display().to_string()), "{msg}");
}

#[test]
fn a_file_that_is_not_a_database_gives_a_clear_error() {
    let db = TempDb::new("garbage");
    let mut rng = StdRng::seed_from_u64(7);
    let bytes: Vec<u8> = (0..8192).map(|_| rng.r#gen::<u8>()).collect();
    std::fs::write(db.path(), bytes).expect("write garbage");
    let err = Store::open(db.path()).expect_err("not a database");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&db.path().display().to_string()), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn a_damaged_database_errors_instead_of_panicking_or_answering_empty() {
    let db = TempDb::new("damaged");
    {
        let mut store = Store::open(db.path()).expect("create");
        let mut rng = StdRng::seed_from_u64(5);
        store
            .insert_probes(&random_history(&mut rng, 500))
            .expect("insert");
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
    }
    // Overwrite everything after the first page (the schema) with noise.
    let mut bytes = std::fs::read(db.path()).expect("read");
    let mut rng = StdRng::seed_from_u64(6);
    for b in bytes.iter_mut().skip(4096) {
        *b = rng.r#gen();
    }
    std::fs::write(db.path(), bytes).expect("damage");
    let result = Store::open(db.path()).and_then(|s| {
        s.probes_for_number("+12025550001", t0(), None)?;
        s.carrier_baselines(t0(), "+12025550001")
    });
    let err = result.expect_err("damage is detected");
    assert!(
        matches!(
            err,
            StoreError::Corrupt { .. } | StoreError::Migration { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn a_missing_directory_gives_an_open_error() {
    let path = std::env::temp_dir().join("ringwatch-no-such-dir-7f3a/history.db");
    let err = Store::open(&path).expect_err("no directory");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(
        err.to_string().contains("ringwatch-no-such-dir-7f3a"),
        "{err}"
    );
}

#[test]
fn a_locked_database_times_out_with_a_clear_error() {
    let db = TempDb::new("locked");
    drop(Store::open(db.path()).expect("create"));
    let holder = rusqlite::Connection::open(db.path()).expect("raw open");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");

    // Reads still work (WAL); writes wait, then fail clearly.
    let mut store =
        Store::open_with_busy_timeout(db.path(), Duration::from_millis(100)).expect("open");
    assert!(!store.ever_probed("+1A").expect("read while locked"));
    let err = store
        .insert_probe(&record("x1", "+1A", "alpha", t0(), Outcome::Ringing))
        .expect_err("locked");
    assert!(
        matches!(err, StoreError::Locked { waited_ms: 100, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("locked"), "{err}");
    holder.execute_batch("ROLLBACK").expect("release");
    store
        .insert_probe(&record("x1", "+1A", "alpha", t0(), Outcome::Ringing))
        .expect("insert after release");

    // A fresh file whose first writer holds the lock: opening times out too.
    let fresh = TempDb::new("locked-fresh");
    let holder = rusqlite::Connection::open(fresh.path()).expect("raw open");
    holder
        .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
        .expect("lock");
    let err = Store::open_with_busy_timeout(fresh.path(), Duration::from_millis(100))
        .expect_err("locked on open");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
}

#[test]
fn two_writers_on_one_file_lose_nothing() {
    let db = TempDb::new("concurrent");
    drop(Store::open(db.path()).expect("create"));
    let handles: Vec<_> = (0..2)
        .map(|w| {
            let path = db.path().to_owned();
            std::thread::spawn(move || -> Result<(), StoreError> {
                let mut store = Store::open(&path)?;
                for i in 0..500 {
                    let at = t0() + chrono::Duration::seconds(i);
                    let rec = record(
                        &format!("w{w}-{i:04}"),
                        &format!("+1{w}"),
                        "alpha",
                        at,
                        Outcome::Ringing,
                    );
                    store.insert_probe(&rec)?;
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread").expect("writer succeeded");
    }
    let store = Store::open(db.path()).expect("reopen");
    let n: i64 = store
        .conn
        .query_row("SELECT count(*) FROM probes", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1000);
    let b = store
        .carrier_baselines(t0(), "+1nobody")
        .expect("baselines");
    assert_eq!(b[0].probes, 1000);
    assert_eq!(b[0].callers, 2);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let mut store = Store::open_in_memory().expect("open");
    store
        .insert_probe(&record("a", "+1A", "alpha", t0(), Outcome::Ringing))
        .expect("insert");
    let err = store
        .insert_probe(&record("a", "+1A", "alpha", t0(), Outcome::Ringing))
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Duplicate { ref id } if id == "a"),
        "{err:?}"
    );

    let mut bad_time = record("c", "+1A", "alpha", t0(), Outcome::Ringing);
    bad_time.started_at = "yesterday".to_owned();
    for batch in [
        vec![
            record("b", "+1A", "alpha", t0(), Outcome::Busy),
            record("a", "+1A", "alpha", t0(), Outcome::Ringing),
        ],
        vec![record("b", "+1A", "alpha", t0(), Outcome::Busy), bad_time],
    ] {
        assert!(store.insert_probes(&batch).is_err());
        assert!(
            store
                .probe("b")
                .expect_err("short id")
                .to_string()
                .contains("too short")
        );
        let b = store.carrier_baselines(t0(), "+1X").expect("baselines");
        assert_eq!(b[0].probes, 1, "aggregates untouched by the failed batch");
    }
    let err = store.insert_probe(&{
        let mut r = record("d", "+1A", "alpha", t0(), Outcome::Ringing);
        r.started_at = "1969-12-31T23:59:59.000Z".to_owned();
        r
    });
    assert!(matches!(err, Err(StoreError::BadRecord { .. })), "{err:?}");
}

/// What `ringwatch reclassify` does: classify the last final response of the
/// stored exchange again and return the record if the outcome moved.
fn reclassify_from_exchange(rec: &ProbeRecord) -> Option<ProbeRecord> {
    let final_response = rec
        .exchange
        .iter()
        .rev()
        .filter(|e| e.direction == Direction::Received)
        .filter_map(|e| Message::parse(&e.data).ok())
        .find(|m| m.status().is_some_and(|s| s >= 200))?;
    let c = classify(&CallFacts {
        final_response: Some(&final_response),
        rang: rec.rang,
        cancelled_by_us: rec.cancelled_by_us,
        auth_exhausted: false,
        intercepted: false,
    });
    if c.outcome == rec.outcome {
        return None;
    }
    let mut new = rec.clone();
    new.outcome = c.outcome;
    new.analytics = c.analytics;
    new.reasons = c.reasons;
    Some(new)
}

#[test]
fn reclassify_rewrites_outcomes_and_keeps_aggregates_right() {
    let mut store = Store::open_in_memory().expect("open");
    let mut rng = StdRng::seed_from_u64(11);
    let mut recs = random_history(&mut rng, 1200);
    // An old classifier called this 603+ a plain decline.
    let mut old = full_record("r999999", t0() + chrono::Duration::hours(5));
    old.outcome = Outcome::Declined;
    old.analytics = None;
    recs.push(old.clone());
    store.insert_probes(&recs).expect("insert");

    let mut moved = Vec::new();
    let stats = store
        .reclassify(|rec| {
            let new = reclassify_from_exchange(rec)?;
            moved.push((rec.id.clone(), rec.outcome, new.outcome));
            Some(new)
        })
        .expect("reclassify");
    assert_eq!(stats.examined, 1201);
    assert_eq!(stats.changed, 1);
    assert_eq!(
        moved,
        vec![(old.id.clone(), Outcome::Declined, Outcome::NetworkBlocked)]
    );
    let back = store.probe(&old.id).expect("read").expect("found");
    assert_eq!(back.outcome, Outcome::NetworkBlocked);
    assert!(back.analytics.is_some());
    assert_eq!(back.exchange.len(), 4, "the evidence is untouched");

    let last = recs.len() - 1;
    recs[last] = back;
    for since_min in [0, 61, 3 * 1440] {
        check_baselines(
            &store,
            &recs,
            t0() + chrono::Duration::minutes(since_min),
            "+1X",
        );
    }
    // A second run finds nothing to do.
    let again = store.reclassify(reclassify_from_exchange).expect("again");
    assert_eq!(again.changed, 0);
}

#[test]
fn update_refuses_unknown_probes_and_identity_changes() {
    let mut store = Store::open_in_memory().expect("open");
    let rec = record("u1", "+1A", "alpha", t0(), Outcome::Busy);
    store.insert_probe(&rec).expect("insert");
    assert!(!store.update_classification(&rec).expect("no change"));

    let mut moved = rec.clone();
    moved.carrier = "beta".to_owned();
    let err = store.update_classification(&moved).expect_err("identity");
    assert!(
        matches!(
            err,
            StoreError::IdentityChanged {
                field: "carrier",
                ..
            }
        ),
        "{err:?}"
    );
    let mut other = rec.clone();
    other.id = "nope".to_owned();
    assert!(matches!(
        store.update_classification(&other),
        Err(StoreError::UnknownProbe { .. })
    ));

    let mut declined = rec.clone();
    declined.outcome = Outcome::Declined;
    assert!(store.update_classification(&declined).expect("update"));
    let b = store.carrier_baselines(t0(), "+1X").expect("baselines");
    assert_eq!(b[0].by_outcome, vec![(Outcome::Declined, 1)]);
}

/// The plan of `sql`, one detail string per step.
fn plan(store: &Store, sql: &str, n_params: usize) -> Vec<String> {
    let mut stmt = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let params: Vec<rusqlite::types::Value> = (0..n_params)
        .map(|_| rusqlite::types::Value::Integer(1))
        .collect();
    stmt.query_map(rusqlite::params_from_iter(params), |r| {
        r.get::<_, String>(3)
    })
    .and_then(Iterator::collect)
    .expect("plan rows")
}

#[test]
fn number_queries_seek_the_day_partitioned_index_instead_of_scanning() {
    let store = Store::open_in_memory().expect("open");
    for (sql, n) in [
        (read::PROBES_FOR_NUMBER, 5),
        (read::OWN_COUNTS, 4),
        (read::EVER_PROBED, 3),
        (read::CALLS_BETWEEN, 5),
    ] {
        let steps = plan(&store, sql, n);
        assert!(
            steps.iter().any(|s| s.contains("probes_by_day_caller")),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN p")),
            "full scan of probes: {steps:?}"
        );
    }
    // Baselines read the aggregate tables by bucket range.
    for table in ["carrier_hour", "carrier_day"] {
        let steps = plan(
            &store,
            &format!(
                "SELECT carrier, outcome, sum(n) FROM {table} WHERE {} >= ?1 AND {} < ?2 GROUP BY carrier, outcome",
                if table == "carrier_hour" {
                    "hour"
                } else {
                    "day"
                },
                if table == "carrier_hour" {
                    "hour"
                } else {
                    "day"
                }
            ),
            2,
        );
        assert!(steps.iter().any(|s| s.contains("SEARCH")), "{steps:?}");
    }
}
