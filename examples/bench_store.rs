//! Benchmark of the history store at scale (issue 3, point 8): fills a
//! database with synthetic probes and measures batched insert throughput,
//! the file size, and the latency of the reads `check` and `history` make
//! for one number.
//!
//! Run:
//! `cargo run --release --example bench_store -- [--numbers 10000] [--carriers 8]
//!  [--days 365] [--probes 10000000] [--batch 10000] [--exchange-every 10]
//!  [--samples 200] [--db PATH] [--reuse]`
//!
//! The records are built directly (no SIP): a seeded RNG gives each number a
//! profile (most ring, some are blocked at one to four carriers from a day
//! on, with ATIS-1000099 analytics from a real classified 603+), probes are
//! spread evenly over `--days` for every (number, carrier) pair and inserted
//! in time order, as the daemon would write them. One probe in
//! `--exchange-every` carries a two-datagram exchange (INVITE and final
//! response, about 1 KB). `--reuse` skips the fill when `--db` exists, to
//! time the reads again in a fresh process. Last, 500 single-probe
//! transactions (the daemon's write path) are timed, appended after the
//! history so they do not disturb the reads.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use ringwatch::classify::{CallFacts, Classification, Outcome, classify};
use ringwatch::clock;
use ringwatch::probe::{Direction, ExchangeEntry, ProbeRecord};
use ringwatch::sip::message::Message;
use ringwatch::store::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;

const INVITE: &str = "INVITE sip:+13125550178@carrier.example;user=phone SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.5:5062;branch=z9hG4bK7c2a91f0;rport\r\nMax-Forwards: 70\r\nFrom: <sip:+12025550143@192.0.2.5;user=phone>;tag=4f1c0a\r\nTo: <sip:+13125550178@carrier.example;user=phone>\r\nCall-ID: 9b3f2c1d7e6a4b58@ringwatch\r\nCSeq: 1 INVITE\r\nContact: <sip:+12025550143@192.0.2.5:5062>\r\nProxy-Authorization: <redacted>\r\nUser-Agent: ringwatch/0.1\r\nContent-Type: application/sdp\r\nContent-Length: 180\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
const NB_603: &str = "SIP/2.0 603 Network Blocked\r\nVia: SIP/2.0/UDP 192.0.2.5:5062;branch=z9hG4bK7c2a91f0;rport=5062\r\nFrom: <sip:+12025550143@192.0.2.5;user=phone>;tag=4f1c0a\r\nTo: <sip:+13125550178@carrier.example;user=phone>;tag=as81\r\nCall-ID: 9b3f2c1d7e6a4b58@ringwatch\r\nCSeq: 1 INVITE\r\nReason: SIP;cause=603;text=\"v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031\";location=RLN\r\nContent-Length: 0\r\n\r\n";
const T487: &str = "SIP/2.0 487 Request Terminated\r\nVia: SIP/2.0/UDP 192.0.2.5:5062;branch=z9hG4bK7c2a91f0;rport=5062\r\nFrom: <sip:+12025550143@192.0.2.5;user=phone>;tag=4f1c0a\r\nTo: <sip:+13125550178@carrier.example;user=phone>;tag=as81\r\nCall-ID: 9b3f2c1d7e6a4b58@ringwatch\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

/// Outcome mix of a number that is not blocked at a carrier (per mille).
const CLEAN_MIX: &[(Outcome, u32)] = &[
    (Outcome::Ringing, 720),
    (Outcome::Answered, 90),
    (Outcome::NoAnswer, 60),
    (Outcome::Busy, 50),
    (Outcome::Unavailable, 30),
    (Outcome::Timeout, 20),
    (Outcome::Declined, 15),
    (Outcome::NetworkBlocked, 5),
    (Outcome::NotFound, 5),
    (Outcome::Failed, 5),
];

struct Args {
    numbers: u64,
    carriers: u64,
    days: i64,
    probes: u64,
    batch: usize,
    exchange_every: u64,
    samples: usize,
    db: PathBuf,
    reuse: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        numbers: 10_000,
        carriers: 8,
        days: 365,
        probes: 10_000_000,
        batch: 10_000,
        exchange_every: 10,
        samples: 200,
        db: std::env::temp_dir().join("ringwatch-bench-store.db"),
        reuse: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--reuse" {
            a.reuse = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--numbers" => a.numbers = num()?.max(1),
            "--carriers" => a.carriers = num()?.max(1),
            "--days" => a.days = i64::try_from(num()?.max(1)).map_err(|e| e.to_string())?,
            "--probes" => a.probes = num()?,
            "--batch" => a.batch = usize::try_from(num()?.max(1)).map_err(|e| e.to_string())?,
            "--exchange-every" => a.exchange_every = num()?,
            "--samples" => a.samples = usize::try_from(num()?.max(1)).map_err(|e| e.to_string())?,
            "--db" => a.db = PathBuf::from(&value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

fn number(i: u64) -> String {
    format!("+1202{i:07}")
}

fn carrier(i: u64) -> String {
    format!("carrier-{i}")
}

/// Per number: for each carrier, the day from which it blocks the number.
fn block_plan(args: &Args, rng: &mut SmallRng) -> Vec<Vec<Option<i64>>> {
    (0..args.numbers)
        .map(|_| {
            let mut plan = vec![None; usize::try_from(args.carriers).unwrap_or(0)];
            if rng.gen_ratio(1, 10) {
                let from = rng.gen_range(0..args.days);
                for _ in 0..rng.gen_range(1..=4) {
                    let c = rng.gen_range(0..plan.len());
                    plan[c] = Some(from);
                }
            }
            plan
        })
        .collect()
}

fn pick(mix: &[(Outcome, u32)], rng: &mut SmallRng) -> Outcome {
    let mut x = rng.gen_range(0..1000);
    for &(o, w) in mix {
        if x < w {
            return o;
        }
        x -= w;
    }
    Outcome::Ringing
}

struct Templates {
    blocked: Classification,
}

#[allow(clippy::too_many_arguments)] // a flat generator of a flat record
fn make_record(
    t: &Templates,
    rng: &mut SmallRng,
    caller: &str,
    carrier: &str,
    at_ms: i64,
    outcome: Outcome,
    with_exchange: bool,
) -> ProbeRecord {
    let at: DateTime<Utc> = Utc.timestamp_millis_opt(at_ms).single().unwrap_or_default();
    let (status, phrase) = match outcome {
        Outcome::Ringing => (Some(487), "Request Terminated"),
        Outcome::Answered => (Some(200), "OK"),
        Outcome::NoAnswer => (Some(480), "Temporarily Unavailable"),
        Outcome::Busy => (Some(486), "Busy Here"),
        Outcome::Unavailable => (Some(503), "Service Unavailable"),
        Outcome::Declined => (Some(603), "Decline"),
        Outcome::NetworkBlocked => (Some(603), "Network Blocked"),
        Outcome::NotFound => (Some(404), "Not Found"),
        Outcome::Timeout => (None, ""),
        _ => (Some(488), "Not Acceptable Here"),
    };
    let rang = outcome == Outcome::Ringing;
    let blocked = outcome == Outcome::NetworkBlocked;
    let trunk = "203.0.113.10:5060"
        .parse()
        .unwrap_or(([0, 0, 0, 0], 0).into());
    let exchange = if with_exchange {
        let last = if blocked { NB_603 } else { T487 };
        vec![
            ExchangeEntry {
                offset_us: 0,
                direction: Direction::Sent,
                remote: trunk,
                data: INVITE.as_bytes().to_vec(),
                proto: Default::default(),
            },
            ExchangeEntry {
                offset_us: rng.gen_range(50_000..8_000_000),
                direction: Direction::Received,
                remote: trunk,
                data: last.as_bytes().to_vec(),
                proto: Default::default(),
            },
        ]
    } else {
        Vec::new()
    };
    ProbeRecord {
        id: clock::probe_id(at, rng),
        caller_id: caller.to_owned(),
        carrier: carrier.to_owned(),
        destination: "+13125550178".to_owned(),
        started_at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        call_id: format!("{:016x}@ringwatch", rng.r#gen::<u64>()),
        outcome,
        rang,
        status,
        reason_phrase: status.map(|_| phrase.to_owned()),
        pdd_ms: rang.then(|| rng.gen_range(300..6000)),
        duration_ms: rng.gen_range(100..30_000),
        analytics: if blocked {
            t.blocked.analytics.clone()
        } else {
            None
        },
        reasons: if blocked {
            t.blocked.reasons.clone()
        } else {
            Vec::new()
        },
        retry_after_s: None,
        q850_cause: None,
        warnings: Vec::new(),
        anomalies: Vec::new(),
        provisionals: if rang { vec![100, 180] } else { vec![100] },
        cancelled_by_us: rang,
        answered_dialogs: usize::from(outcome == Outcome::Answered),
        strays: 0,
        trunk,
        local: "192.0.2.5:5062".parse().unwrap_or(([0, 0, 0, 0], 0).into()),
        media: None,
        media_local: None,
        exchange,
    }
}

fn templates() -> Result<Templates, String> {
    let msg = Message::parse(NB_603.as_bytes()).map_err(|e| format!("template: {e:?}"))?;
    Ok(Templates {
        blocked: classify(&CallFacts {
            final_response: Some(&msg),
            rang: false,
            cancelled_by_us: false,
            auth_exhausted: false,
            intercepted: false,
        }),
    })
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn fill(args: &Args, start_ms: i64) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(&args.db)?;
    let t = templates()?;
    let mut rng = SmallRng::seed_from_u64(42);
    let plan = block_plan(args, &mut rng);
    let numbers: Vec<String> = (0..args.numbers).map(number).collect();
    let carriers: Vec<String> = (0..args.carriers).map(carrier).collect();
    let pairs = args.numbers * args.carriers;
    let rounds = args.probes.div_ceil(pairs).max(1);
    let span_ms = args.days * DAY_MS;
    let interval = span_ms / i64::try_from(rounds).unwrap_or(1);

    let mut stored = 0u64;
    let mut blocked = 0u64;
    let mut in_store = Duration::ZERO;
    let wall = clock::now();
    let mut batch = Vec::with_capacity(args.batch);
    for round in 0..rounds {
        // Every pair once per round, at a random moment of the round.
        let left = args.probes.saturating_sub(round * pairs).min(pairs);
        let mut slots: Vec<(i64, u64)> = (0..left)
            .map(|p| {
                let at = start_ms
                    + i64::try_from(round).unwrap_or(0) * interval
                    + rng.gen_range(0..interval.max(1));
                (at, p)
            })
            .collect();
        slots.sort_unstable();
        for (at, p) in slots {
            let (n, c) = (p / args.carriers, p % args.carriers);
            let day = (at - start_ms) / DAY_MS;
            let n_i = usize::try_from(n).unwrap_or(0);
            let c_i = usize::try_from(c).unwrap_or(0);
            let blocks = plan[n_i][c_i].is_some_and(|from| day >= from);
            let outcome = if blocks && rng.gen_ratio(17, 20) {
                Outcome::NetworkBlocked
            } else {
                pick(CLEAN_MIX, &mut rng)
            };
            blocked += u64::from(outcome == Outcome::NetworkBlocked);
            let with_exchange =
                args.exchange_every > 0 && rng.gen_range(0..args.exchange_every) == 0;
            batch.push(make_record(
                &t,
                &mut rng,
                &numbers[n_i],
                &carriers[c_i],
                at,
                outcome,
                with_exchange,
            ));
            if batch.len() == args.batch {
                let t0 = clock::now();
                store.insert_probes(&batch)?;
                in_store += clock::now() - t0;
                stored += batch.len() as u64;
                batch.clear();
                if stored.is_multiple_of(1_000_000) {
                    eprintln!(
                        "  {stored} probes, {:.0} probes/s in the store, {:.0} s elapsed",
                        stored as f64 / secs(in_store),
                        secs(clock::now() - wall)
                    );
                }
            }
        }
    }
    if !batch.is_empty() {
        let t0 = clock::now();
        store.insert_probes(&batch)?;
        in_store += clock::now() - t0;
        stored += batch.len() as u64;
    }
    let total = clock::now() - wall;
    println!(
        "fill: {stored} probes ({:.2} % network_blocked, 1 in {} with a 2-datagram exchange), batches of {}",
        100.0 * blocked as f64 / stored.max(1) as f64,
        args.exchange_every,
        args.batch
    );
    println!(
        "insert throughput: {:.0} probes/s inside insert_probes ({:.1} s); {:.0} probes/s end to end with generation ({:.1} s)",
        stored as f64 / secs(in_store),
        secs(in_store),
        stored as f64 / secs(total),
        secs(total)
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    secs(sorted[i.min(sorted.len() - 1)]) * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>, rows: u64) {
    samples.sort_unstable();
    let rows = if rows > 0 {
        format!(
            "   ({:.0} rows/number avg)",
            rows as f64 / samples.len().max(1) as f64
        )
    } else {
        String::new()
    };
    println!(
        "  {name:<44} median {:>7.2} ms   p99 {:>7.2} ms{rows}",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
    );
}

fn reads(args: &Args, now_ms: i64) -> Result<(), StoreError> {
    let store = Store::open(&args.db)?;
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_default();
    let d7 = now - chrono::Duration::days(7);
    let d30 = now - chrono::Duration::days(30);
    let mut rng = SmallRng::seed_from_u64(7);
    let picks: Vec<String> = (0..args.samples)
        .map(|_| number(rng.gen_range(0..args.numbers)))
        .collect();
    // Warm-up: the first query of a process pays for opening the schema.
    store.probes_for_number(&picks[0], d7, None)?;

    let (mut h7, mut h30, mut b7, mut b30, mut check) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut r7, mut r30, mut rb) = (0u64, 0u64, 0u64);
    for n in &picks {
        let t = clock::now();
        let p7 = store.probes_for_number(n, d7, None)?;
        let mid = clock::now();
        let b = store.carrier_baselines(d7, n)?;
        let end = clock::now();
        h7.push(mid - t);
        b7.push(end - mid);
        check.push(end - t);
        r7 += p7.len() as u64;
        rb += b.len() as u64;

        let t = clock::now();
        let p30 = store.probes_for_number(n, d30, None)?;
        h30.push(clock::now() - t);
        r30 += p30.len() as u64;
        let t = clock::now();
        store.carrier_baselines(d30, n)?;
        b30.push(clock::now() - t);
    }
    println!(
        "reads over {} random numbers (now = end of the history):",
        args.samples
    );
    report("probes_for_number(number, now-7d)", h7, r7);
    report("probes_for_number(number, now-30d)  [history]", h30, r30);
    report("carrier_baselines(now-7d, number)", b7, rb);
    report("carrier_baselines(now-30d, number)", b30, rb);
    report("check = probes 7d + baselines 7d", check, r7);
    Ok(())
}

/// The daemon's write path: one probe per transaction, appended at `now`.
fn single_writes(args: &Args, now_ms: i64) -> Result<(), Box<dyn std::error::Error>> {
    const N: i64 = 500;
    let mut store = Store::open(&args.db)?;
    let t = templates()?;
    // Fresh ids on every run, so `--reuse` can append again.
    let mut rng = SmallRng::from_rng(clock::rng())?;
    let mut samples = Vec::new();
    for i in 0..N {
        let n = number(rng.gen_range(0..args.numbers));
        let c = carrier(rng.gen_range(0..args.carriers));
        let outcome = pick(CLEAN_MIX, &mut rng);
        let rec = make_record(&t, &mut rng, &n, &c, now_ms + i * 1000, outcome, true);
        let t0 = clock::now();
        store.insert_probe(&rec)?;
        samples.push(clock::now() - t0);
    }
    let total: Duration = samples.iter().sum();
    println!(
        "single inserts (one transaction each, with a 2-datagram exchange): {:.0} probes/s",
        N as f64 / secs(total)
    );
    report("insert_probe", samples, 0);
    Ok(())
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let start_ms = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis());
    let now_ms = start_ms + args.days * DAY_MS;
    println!(
        "store bench: {} numbers x {} carriers, {} days, {} probes, db {}",
        args.numbers,
        args.carriers,
        args.days,
        args.probes,
        args.db.display()
    );
    if !(args.reuse && args.db.exists()) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = args.db.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        fill(&args, start_ms)?;
    }
    let wal = {
        let mut p = args.db.clone().into_os_string();
        p.push("-wal");
        file_size(&PathBuf::from(p))
    };
    let db = file_size(&args.db);
    println!(
        "db size: {:.1} MiB (+ {:.1} MiB WAL), {:.0} bytes/probe",
        db as f64 / 1_048_576.0,
        wal as f64 / 1_048_576.0,
        db as f64 / args.probes.max(1) as f64
    );
    reads(&args, now_ms)?;
    single_writes(&args, now_ms)?;
    Ok(())
}
