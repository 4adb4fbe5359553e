//! Unit tests of the planner on virtual time: the issue 4 acceptance
//! simulation and one targeted test per rule.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::sim::{self, SimConfig};
use super::*;
use crate::classify::Outcome;
use crate::config::{CallWindow, E164, ScheduleSettings};

fn e(s: &str) -> E164 {
    E164::parse(s).expect("valid E.164")
}

fn pair(n: u32, c: u32) -> Pair {
    Pair {
        number: e(&format!("+1202555{n:04}")),
        carrier: format!("c{c}"),
        destination: e(&format!("+1312555{c:04}")),
    }
}

fn pairs(numbers: u32, carriers: u32) -> Vec<Pair> {
    (0..numbers)
        .flat_map(|n| (0..carriers).map(move |c| pair(n, c)))
        .collect()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time")
}

fn settings() -> ScheduleSettings {
    ScheduleSettings {
        cps: 1.0,
        max_concurrent: 10,
        every: Duration::from_secs(6 * 3600),
        blocked_every: Duration::from_secs(24 * 3600),
        window: CallWindow::ALL_DAY,
        timezone: chrono_tz::UTC,
        max_calls_per_number_per_day: 100,
        jitter: 0.0,
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("utc")
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A call in progress: (ends, pair, started, outcome, retry_after_s).
type Flying = (DateTime<Utc>, Pair, DateTime<Utc>, Outcome, Option<u64>);

/// Drive `p` from `from` to `to` with calls lasting `call` and the outcome
/// `outcome(pair, start)`; returns every (start, pair, planned_at).
fn drive(
    p: &mut Planner,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    call: TimeDelta,
    mut outcome: impl FnMut(&Pair, DateTime<Utc>) -> (Outcome, Option<u64>),
) -> Vec<(DateTime<Utc>, Pair, DateTime<Utc>)> {
    let mut now = from;
    let mut flying: Vec<Flying> = Vec::new();
    let mut out = Vec::new();
    while now < to {
        flying.sort_by_key(|f| f.0);
        while flying.first().is_some_and(|f| f.0 <= now) {
            let (end, pr, start, o, ra) = flying.remove(0);
            p.on_finished(&pr, start, end, o, ra);
        }
        while let Some(planned) = p.poll(now, flying.len()) {
            let (o, ra) = outcome(&planned.pair, now);
            out.push((now, planned.pair.clone(), planned.planned_at));
            flying.push((now + call, planned.pair, now, o, ra));
        }
        let mut next = to;
        if let Some(f) = flying.iter().map(|f| f.0).min() {
            next = next.min(f);
        }
        if let Some(w) = p.next_wakeup(now) {
            next = next.min(w);
        }
        assert!(next > now || flying.len() >= 10, "no progress at {now}");
        now = next.max(now + TimeDelta::milliseconds(1));
    }
    out
}

fn ringing(_: &Pair, _: DateTime<Utc>) -> (Outcome, Option<u64>) {
    (Outcome::Ringing, None)
}

#[test]
fn issue4_thirty_days_zero_violations() {
    let cfg = SimConfig::issue4();
    let r = sim::run(&cfg, &mut ());
    eprintln!("{r:#?}");
    assert_eq!(r.violation_count, 0, "violations: {:#?}", r.violations);
    assert_eq!(r.pairs, 5000);
    assert!(r.max_per_number_day <= 8);
    assert!(r.max_in_flight <= 10);
    assert_eq!(r.max_starts_per_second, 1);
    assert!(
        r.min_blocked_gap_s as f64 >= 24.0 * 3600.0 * 0.9,
        "{}",
        r.min_blocked_gap_s
    );
    assert!(r.min_gap_s as f64 >= 6.0 * 3600.0 * 0.9, "{}", r.min_gap_s);
    // Useful throughput: every ordinary pair is probed on (nearly) every
    // day; blocked pairs about once a day.
    assert!(r.coverage >= 0.99, "coverage {}", r.coverage);
    assert!(
        r.ordinary_per_day >= 1.4,
        "ordinary/day {}",
        r.ordinary_per_day
    );
    assert!(
        (0.75..=1.0).contains(&r.blocked_per_day),
        "blocked/day {}",
        r.blocked_per_day
    );
    // No probe storm after the restart: like the same slot a day earlier.
    assert!(
        r.restart_next_15min <= 2 * r.restart_prev_day_15min + 20,
        "{} vs {}",
        r.restart_next_15min,
        r.restart_prev_day_15min
    );
    assert!(r.restart_next_hour <= 2 * r.restart_prev_day_hour + 60);
    assert!(r.pauses >= 4, "the 503 bursts paused the trunk");
    assert!(r.dst_day_starts > 0);
}

fn ny() -> chrono_tz::Tz {
    chrono_tz::America::New_York
}

fn local(tz: chrono_tz::Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("local time")
        .with_timezone(&Utc)
}

fn window(a: NaiveTime, b: NaiveTime) -> CallWindow {
    CallWindow {
        start: a,
        end: Some(b),
    }
}

// ---- calendar -------------------------------------------------------------

#[test]
fn calendar_resolves_dst_gaps_and_repeats() {
    use super::calendar::Calendar;
    let cal = Calendar::new(window(hm(9, 0), hm(20, 0)), ny());
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    // 2026-03-08 02:30 does not exist in New York: the gap ends at 03:00 EDT.
    let gap = cal.resolve(day(2026, 3, 8).and_time(hm(2, 30)));
    assert_eq!(gap, utc(2026, 3, 8, 7, 0));
    // 2026-11-01 01:30 happens twice: the first (EDT) one.
    let twice = cal.resolve(day(2026, 11, 1).and_time(hm(1, 30)));
    assert_eq!(twice, utc(2026, 11, 1, 5, 30));
    // The 09:00 opening moves by an hour in UTC across the fall-back.
    assert_eq!(
        cal.next_opening(utc(2026, 10, 31, 1, 0)),
        utc(2026, 10, 31, 13, 0)
    );
    assert_eq!(
        cal.next_opening(utc(2026, 11, 1, 1, 0)),
        utc(2026, 11, 1, 14, 0)
    );
    assert_eq!(
        cal.next_close(utc(2026, 11, 1, 15, 0)),
        Some(utc(2026, 11, 2, 1, 0))
    );
    // The local day of the fall-back lasts 25 hours.
    let start = local(ny(), 2026, 11, 1, 0, 0);
    assert_eq!(cal.next_midnight(start) - start, TimeDelta::hours(25));
    // Open time: 2 h from 19:00 = 1 h today + 1 h after tomorrow's opening.
    let t = local(ny(), 2026, 10, 20, 19, 0);
    assert_eq!(
        cal.add_open_time(t, TimeDelta::hours(2)),
        local(ny(), 2026, 10, 21, 10, 0)
    );
    assert_eq!(
        cal.span_start(local(ny(), 2026, 10, 20, 12, 0)),
        Some(local(ny(), 2026, 10, 20, 9, 0))
    );
    assert_eq!(cal.span_start(local(ny(), 2026, 10, 20, 21, 0)), None);
}

#[test]
fn calendar_wrapping_window() {
    use super::calendar::Calendar;
    let cal = Calendar::new(window(hm(20, 0), hm(8, 0)), ny());
    let t = local(ny(), 2026, 10, 20, 23, 0);
    assert!(cal.is_open(t));
    assert_eq!(cal.span_start(t), Some(local(ny(), 2026, 10, 20, 20, 0)));
    assert_eq!(cal.next_close(t), Some(local(ny(), 2026, 10, 21, 8, 0)));
    let noon = local(ny(), 2026, 10, 21, 12, 0);
    assert!(!cal.is_open(noon));
    assert_eq!(cal.next_opening(noon), local(ny(), 2026, 10, 21, 20, 0));
    let early = local(ny(), 2026, 10, 21, 3, 0);
    assert_eq!(
        cal.span_start(early),
        Some(local(ny(), 2026, 10, 20, 20, 0))
    );
}

// ---- rules ----------------------------------------------------------------

#[test]
fn window_wrapping_past_midnight_is_respected() {
    let s = ScheduleSettings {
        window: window(hm(20, 0), hm(8, 0)),
        timezone: ny(),
        every: Duration::from_secs(3600),
        jitter: 0.1,
        ..settings()
    };
    let from = local(ny(), 2026, 10, 20, 12, 0);
    let to = from + TimeDelta::days(3);
    let mut p = Planner::new(&s, pairs(20, 1), &[], &[], from, rng());
    let starts = drive(&mut p, from, to, TimeDelta::seconds(10), ringing);
    assert!(!starts.is_empty());
    let (mut before, mut after) = (0, 0);
    for (t, _, _) in &starts {
        let lt = t.with_timezone(&ny()).time();
        assert!(s.window.contains(lt), "start at {lt}");
        if lt >= hm(20, 0) {
            before += 1
        } else {
            after += 1
        }
    }
    assert!(before > 0 && after > 0, "calls on both sides of midnight");
    // 12 open hours a night, every ~1 h: about 12 calls per pair per night.
    let per_pair_night = starts.len() as f64 / 20.0 / 3.0;
    assert!((10.0..=13.0).contains(&per_pair_night), "{per_pair_night}");
}

#[test]
fn dst_days_never_leave_the_window() {
    // 01:30-03:30 is the hardest window in New York: on 2026-03-08 local
    // 02:00-03:00 does not exist; on 2026-11-01 local 01:00-02:00 happens
    // twice (the second 01:00-01:30 is outside the window).
    let s = ScheduleSettings {
        window: window(hm(1, 30), hm(3, 30)),
        timezone: ny(),
        every: Duration::from_secs(600),
        blocked_every: Duration::from_secs(600),
        ..settings()
    };
    for (from, days) in [
        (local(ny(), 2026, 3, 7, 0, 0), 3),
        (local(ny(), 2026, 10, 31, 0, 0), 3),
    ] {
        let mut p = Planner::new(&s, pairs(5, 2), &[], &[], from, rng());
        let starts = drive(
            &mut p,
            from,
            from + TimeDelta::days(days),
            TimeDelta::seconds(5),
            ringing,
        );
        assert!(starts.len() > 100);
        for (t, _, _) in &starts {
            let lt = t.with_timezone(&ny());
            assert!(s.window.contains(lt.time()), "start at {lt}");
        }
        // Every local day of the range had calls, the DST day included.
        let days_with_calls: std::collections::BTreeSet<_> = starts
            .iter()
            .map(|(t, _, _)| t.with_timezone(&ny()).date_naive())
            .collect();
        assert_eq!(days_with_calls.len(), days as usize, "{days_with_calls:?}");
    }
    // 09:00-20:00 on the fall-back day: 11 open hours, opening at 14:00 UTC.
    let s = ScheduleSettings {
        window: window(hm(9, 0), hm(20, 0)),
        timezone: ny(),
        every: Duration::from_secs(3600),
        ..settings()
    };
    let from = local(ny(), 2026, 11, 1, 0, 0);
    let mut p = Planner::new(&s, pairs(3, 1), &[], &[], from, rng());
    let starts = drive(
        &mut p,
        from,
        from + TimeDelta::hours(25),
        TimeDelta::seconds(5),
        ringing,
    );
    assert_eq!(starts.first().map(|s| s.0), Some(utc(2026, 11, 1, 14, 0)));
    assert!(
        starts
            .iter()
            .all(|(t, _, _)| *t >= utc(2026, 11, 1, 14, 0) && *t < utc(2026, 11, 2, 1, 0))
    );
    assert_eq!(starts.len(), 3 * 11);
}

#[test]
fn budget_holds_across_a_restart() {
    let s = ScheduleSettings {
        every: Duration::from_secs(3600),
        max_calls_per_number_per_day: 3,
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let all = pairs(2, 5);
    let mut p = Planner::new(&s, all.clone(), &[], &[], from, rng());
    let restart = from + TimeDelta::hours(2);
    let first = drive(&mut p, from, restart, TimeDelta::seconds(10), ringing);
    let count = |v: &[(DateTime<Utc>, Pair, DateTime<Utc>)], n: &E164| {
        v.iter().filter(|s| &s.1.number == n).count()
    };
    let n0 = all[0].number.clone();
    let n1 = all[5].number.clone();
    assert_eq!(count(&first, &n0), 3);
    assert_eq!(p.calls_today(&n0), 3);
    // The store's view: last start per pair and calls today per number.
    let history: Vec<PairHistory> = all
        .iter()
        .map(|pr| PairHistory {
            pair: pr.clone(),
            last_started: first.iter().filter(|s| &s.1 == pr).map(|s| s.0).max(),
            last_outcome: Some(Outcome::Ringing),
        })
        .collect();
    let today = vec![
        (n0.clone(), count(&first, &n0) as u32),
        (n1.clone(), count(&first, &n1) as u32),
    ];
    let mut p = Planner::new(&s, all.clone(), &history, &today, restart, rng());
    let end_of_day = utc(2026, 10, 21, 0, 0);
    let second = drive(
        &mut p,
        restart,
        end_of_day + TimeDelta::hours(6),
        TimeDelta::seconds(10),
        ringing,
    );
    let same_day: Vec<_> = second
        .iter()
        .filter(|s| s.0 < end_of_day)
        .cloned()
        .collect();
    assert_eq!(
        count(&same_day, &n0),
        0,
        "budget used before the restart still counts"
    );
    assert_eq!(count(&same_day, &n1), 0);
    let next_day: Vec<_> = second
        .iter()
        .filter(|s| s.0 >= end_of_day)
        .cloned()
        .collect();
    assert_eq!(count(&next_day, &n0), 3, "a new local day, a new budget");
    // The pairs that waited go first: five pairs, three calls, none repeated.
    let firsts: std::collections::BTreeSet<_> = next_day
        .iter()
        .filter(|s| s.1.number == n0)
        .map(|s| s.1.clone())
        .collect();
    assert_eq!(firsts.len(), 3);
}

#[test]
fn cps_below_one_spaces_starts() {
    let s = ScheduleSettings {
        cps: 0.2,
        every: Duration::from_secs(60),
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let mut p = Planner::new(&s, pairs(10, 5), &[], &[], from, rng());
    let starts = drive(
        &mut p,
        from,
        from + TimeDelta::minutes(30),
        TimeDelta::seconds(2),
        ringing,
    );
    for w in starts.windows(2) {
        assert!(
            w[1].0 - w[0].0 >= TimeDelta::seconds(5),
            "{} -> {}",
            w[0].0,
            w[1].0
        );
    }
    // Saturated: the pace, not the interval, limits it (30 min / 5 s).
    assert!((355..=361).contains(&starts.len()), "{}", starts.len());
}

#[test]
fn fractional_cps_never_exceeds_floor_in_one_second() {
    let s = ScheduleSettings {
        cps: 2.5,
        every: Duration::from_secs(20),
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let mut p = Planner::new(&s, pairs(20, 5), &[], &[], from, rng());
    let starts = drive(
        &mut p,
        from,
        from + TimeDelta::minutes(5),
        TimeDelta::seconds(2),
        ringing,
    );
    for w in starts.windows(3) {
        assert!(
            w[2].0 - w[0].0 >= TimeDelta::seconds(1),
            "3 starts within 1 s at {}",
            w[0].0
        );
        assert!(w[1].0 - w[0].0 >= TimeDelta::milliseconds(400));
    }
    assert!(starts.len() >= 590, "{}", starts.len());
}

#[test]
fn max_concurrent_and_one_call_per_pair() {
    let s = ScheduleSettings {
        cps: 100.0,
        max_concurrent: 3,
        every: Duration::from_secs(10),
        ..settings()
    };
    let now = utc(2026, 10, 20, 0, 0);
    let mut p = Planner::new(&s, pairs(1, 2), &[], &[], now, rng());
    let later = now + TimeDelta::seconds(60);
    let a = p.poll(later, 0).expect("due");
    let b = p.poll(later + TimeDelta::seconds(1), 1).expect("due");
    assert_ne!(a.pair, b.pair);
    // Both pairs are in flight: nothing more, however late it gets.
    assert_eq!(p.poll(later + TimeDelta::hours(1), 2), None);
    assert_eq!(p.next_wakeup(later), None);
    p.on_finished(
        &a.pair,
        later,
        later + TimeDelta::seconds(5),
        Outcome::Ringing,
        None,
    );
    // A duplicate report changes nothing.
    p.on_finished(
        &a.pair,
        later,
        later + TimeDelta::seconds(5),
        Outcome::Timeout,
        None,
    );
    assert_eq!(p.route_failures(), 0);
    assert_eq!(
        p.poll(later + TimeDelta::seconds(6), 3),
        None,
        "max_concurrent reached"
    );
    let again = p
        .poll(later + TimeDelta::seconds(15), 1)
        .expect("due again");
    assert_eq!(again.pair, a.pair);
}

#[test]
fn retry_after_pauses_every_call() {
    let s = ScheduleSettings {
        every: Duration::from_secs(60),
        ..settings()
    };
    let t0 = utc(2026, 10, 20, 0, 0);
    let mut p = Planner::new(&s, pairs(10, 1), &[], &[], t0, rng());
    let first = p.poll(t0, 0).expect("first pair due at start");
    let done = t0 + TimeDelta::seconds(4);
    p.on_finished(&first.pair, t0, done, Outcome::Unavailable, Some(120));
    assert_eq!(p.trunk_paused_until(), Some(done + TimeDelta::seconds(120)));
    for s in [10, 60, 123] {
        assert_eq!(
            p.poll(t0 + TimeDelta::seconds(s), 0),
            None,
            "paused at +{s}s"
        );
    }
    assert_eq!(
        p.next_wakeup(t0 + TimeDelta::seconds(10)),
        Some(done + TimeDelta::seconds(120))
    );
    assert!(
        p.poll(done + TimeDelta::seconds(120), 0).is_some(),
        "resumes when the pause ends"
    );
    // An absurd Retry-After is clamped to one day (RFC 4475 scalarlg).
    let q = p.poll(done + TimeDelta::seconds(130), 0).expect("due");
    let done2 = done + TimeDelta::seconds(135);
    p.on_finished(
        &q.pair,
        done + TimeDelta::seconds(130),
        done2,
        Outcome::Unavailable,
        Some(u64::MAX),
    );
    assert_eq!(p.trunk_paused_until(), Some(done2 + TimeDelta::days(1)));
    // Retry-After on anything but a 5xx concerns the callee, not the trunk.
    let mut p = Planner::new(&s, pairs(10, 1), &[], &[], t0, rng());
    let first = p.poll(t0, 0).expect("due");
    p.on_finished(&first.pair, t0, done, Outcome::Busy, Some(600));
    assert_eq!(p.trunk_paused_until(), None);
}

#[test]
fn route_failures_back_off_exponentially_and_reset() {
    use super::trunk::TrunkHealth;
    let cap = TimeDelta::minutes(5);
    let mut t = TrunkHealth::default();
    let mut now = utc(2026, 10, 20, 0, 0);
    let mut pauses = Vec::new();
    for _ in 0..7 {
        let started = t.paused_until().map_or(now, |p| p.max(now));
        let finished = started + TimeDelta::seconds(32);
        t.on_outcome(started, finished, Outcome::Timeout, None, cap);
        pauses.push(
            t.paused_until()
                .map(|p| (p - finished).num_seconds())
                .filter(|s| *s > 0),
        );
        now = finished;
    }
    assert_eq!(
        pauses,
        [
            None,
            Some(30),
            Some(60),
            Some(120),
            Some(240),
            Some(300),
            Some(300)
        ]
    );
    // A call that reached the far end resets the ladder.
    let started = t.paused_until().expect("paused");
    t.on_outcome(
        started,
        started + TimeDelta::seconds(8),
        Outcome::Ringing,
        None,
        cap,
    );
    assert_eq!(t.failures(), 0);
    let s2 = started + TimeDelta::seconds(10);
    t.on_outcome(
        s2,
        s2 + TimeDelta::seconds(32),
        Outcome::Unavailable,
        None,
        cap,
    );
    assert_eq!(t.failures(), 1);
    assert!(
        !t.is_paused(s2 + TimeDelta::seconds(33)),
        "a single failure does not pause"
    );

    // Ten calls in flight dying together are one episode, not ten failures.
    let mut t = TrunkHealth::default();
    let t0 = utc(2026, 10, 20, 0, 0);
    for i in 0..10 {
        let started = t0 + TimeDelta::seconds(i);
        t.on_outcome(
            started,
            t0 + TimeDelta::seconds(40 + i),
            Outcome::Timeout,
            None,
            cap,
        );
    }
    assert_eq!(t.failures(), 2);
    assert_eq!(t.paused_until(), Some(t0 + TimeDelta::seconds(41 + 30)));
}

#[test]
fn auth_failure_pauses_at_once_and_reload_clears_it() {
    let s = ScheduleSettings {
        every: Duration::from_secs(600),
        ..settings()
    };
    let t0 = utc(2026, 10, 20, 0, 0);
    let all = pairs(10, 1);
    let mut p = Planner::new(&s, all.clone(), &[], &[], t0, rng());
    let a = p.poll(t0, 0).expect("due");
    p.on_finished(
        &a.pair,
        t0,
        t0 + TimeDelta::seconds(1),
        Outcome::AuthFailed,
        None,
    );
    assert_eq!(p.trunk_paused_until(), Some(t0 + TimeDelta::seconds(31)));
    assert_eq!(p.poll(t0 + TimeDelta::seconds(20), 0), None);
    // SIGHUP (maybe with fixed credentials): the backoff is lifted.
    p.reconfigure(&s, all, t0 + TimeDelta::seconds(20));
    assert_eq!(p.trunk_paused_until(), None);
}

#[test]
fn blocked_pairs_use_the_slow_cadence() {
    let s = ScheduleSettings {
        every: Duration::from_secs(3600),
        blocked_every: Duration::from_secs(6 * 3600),
        jitter: 0.2,
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let all = pairs(4, 1);
    let (blocked, rejected, declined) = (all[0].clone(), all[1].clone(), all[2].clone());
    let mut p = Planner::new(&s, all, &[], &[], from, rng());
    let starts = drive(
        &mut p,
        from,
        from + TimeDelta::days(3),
        TimeDelta::seconds(10),
        |pr, _| {
            if *pr == blocked {
                (Outcome::NetworkBlocked, None)
            } else if *pr == rejected {
                (Outcome::Rejected, None)
            } else if *pr == declined {
                (Outcome::Declined, None)
            } else {
                (Outcome::Ringing, None)
            }
        },
    );
    let gaps = |pr: &Pair| -> Vec<i64> {
        let t: Vec<_> = starts.iter().filter(|s| &s.1 == pr).map(|s| s.0).collect();
        t.windows(2).map(|w| (w[1] - w[0]).num_seconds()).collect()
    };
    for pr in [&blocked, &rejected] {
        let g = gaps(pr);
        assert!(g.iter().all(|s| *s >= (6 * 3600) * 8 / 10), "{g:?}");
        assert!((10..=16).contains(&g.len()), "{}", g.len());
    }
    let g = gaps(&declined);
    assert!(g.iter().all(|s| (2880..=4320).contains(s)), "{g:?}");
}

#[test]
fn fresh_start_is_spread_round_robin_over_numbers() {
    let s = ScheduleSettings {
        cps: 10.0,
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let all = pairs(200, 5);
    let mut p = Planner::new(&s, all, &[], &[], from, rng());
    let starts = drive(
        &mut p,
        from,
        from + TimeDelta::hours(6),
        TimeDelta::seconds(10),
        ringing,
    );
    assert_eq!(starts.len(), 1000, "every pair once in the first interval");
    let first_hour = starts
        .iter()
        .filter(|s| s.0 < from + TimeDelta::hours(1))
        .count();
    assert!(
        (160..=175).contains(&first_hour),
        "{first_hour}, not a burst"
    );
    // One number's five pairs are about every/5 apart.
    let n = &starts[0].1.number;
    let t: Vec<_> = starts
        .iter()
        .filter(|s| &s.1.number == n)
        .map(|s| s.0)
        .collect();
    assert_eq!(t.len(), 5);
    assert!(
        t.windows(2).all(|w| w[1] - w[0] >= TimeDelta::minutes(70)),
        "{t:?}"
    );
}

#[test]
fn restart_after_a_long_outage_spreads_the_backlog() {
    let s = ScheduleSettings {
        every: Duration::from_secs(3600),
        ..settings()
    };
    let now = utc(2026, 10, 20, 12, 0);
    let all = pairs(100, 3);
    let history: Vec<PairHistory> = all
        .iter()
        .enumerate()
        .map(|(i, pr)| PairHistory {
            pair: pr.clone(),
            last_started: Some(now - TimeDelta::days(2) + TimeDelta::seconds(i as i64)),
            last_outcome: Some(Outcome::Ringing),
        })
        .collect();
    let mut p = Planner::new(&s, all, &history, &[], now, rng());
    let starts = drive(
        &mut p,
        now,
        now + TimeDelta::minutes(30),
        TimeDelta::seconds(5),
        ringing,
    );
    // 300 overdue pairs, cps 1: spread over 600 s (twice what the pace
    // needs), most overdue first, never faster than one per 2 s.
    assert_eq!(starts.len(), 300);
    assert!(
        starts
            .last()
            .is_some_and(|s| s.0 - now >= TimeDelta::seconds(590))
    );
    for w in starts.windows(2) {
        assert!(w[1].0 - w[0].0 >= TimeDelta::seconds(1));
        assert!(w[0].2 <= w[1].2, "planned in order");
    }
    let in_first_minute = starts
        .iter()
        .filter(|s| s.0 < now + TimeDelta::minutes(1))
        .count();
    assert!(in_first_minute <= 31, "{in_first_minute}");
}

#[test]
fn window_opening_takes_the_most_overdue_first_and_spreads() {
    let s = ScheduleSettings {
        every: Duration::from_secs(16 * 3600),
        window: window(hm(9, 0), hm(17, 0)),
        ..settings()
    };
    let now = utc(2026, 10, 20, 16, 0);
    let all = pairs(3, 1);
    // Last started 04:00, 11:00 and 16:00: due (jitter 0) at 20:00, 03:00
    // and 08:00, all while the window is closed.
    let history: Vec<PairHistory> = all
        .iter()
        .zip([4, 11, 16])
        .map(|(pr, h)| PairHistory {
            pair: pr.clone(),
            last_started: Some(utc(2026, 10, 20, h, 0)),
            last_outcome: Some(Outcome::Ringing),
        })
        .collect();
    let mut p = Planner::new(&s, all.clone(), &history, &[], now, rng());
    assert_eq!(p.next_wakeup(now), Some(utc(2026, 10, 21, 9, 0)));
    let starts = drive(
        &mut p,
        now,
        utc(2026, 10, 21, 10, 0),
        TimeDelta::seconds(5),
        ringing,
    );
    let order: Vec<_> = starts.iter().map(|s| s.1.clone()).collect();
    assert_eq!(order, all, "most overdue first");
    assert_eq!(starts[0].0, utc(2026, 10, 21, 9, 0));
    assert!(
        starts[1].0 > starts[0].0 + TimeDelta::seconds(1),
        "spread, not at the opening instant"
    );
}

#[test]
fn reconfigure_keeps_state_adds_and_drops_pairs() {
    let s = ScheduleSettings {
        every: Duration::from_secs(3600),
        max_calls_per_number_per_day: 50,
        ..settings()
    };
    let from = utc(2026, 10, 20, 0, 0);
    let all = pairs(4, 2);
    let mut p = Planner::new(&s, all.clone(), &[], &[], from, rng());
    let reload = from + TimeDelta::minutes(150);
    let before = drive(&mut p, from, reload, TimeDelta::seconds(10), ringing);
    let used = p.calls_today(&all[0].number);
    assert!(used >= 4);
    // One call is in flight across the reload.
    let flying = p.poll(reload + TimeDelta::minutes(40), 0);
    let removed = all[7].clone();
    let added = vec![pair(10, 0), pair(11, 0)];
    let mut next: Vec<Pair> = all.iter().filter(|pr| **pr != removed).cloned().collect();
    next.extend(added.clone());
    let at = reload + TimeDelta::minutes(40);
    p.reconfigure(&s, next.clone(), at);
    assert_eq!(p.pair_count(), 9);
    assert_eq!(
        p.calls_today(&all[0].number),
        used + u32::from(
            flying
                .as_ref()
                .is_some_and(|f| f.pair.number == all[0].number)
        )
    );
    if let Some(f) = &flying {
        p.on_finished(
            &f.pair,
            at,
            at + TimeDelta::seconds(10),
            Outcome::Ringing,
            None,
        );
    }
    let after = drive(
        &mut p,
        at + TimeDelta::seconds(10),
        at + TimeDelta::hours(3),
        TimeDelta::seconds(10),
        ringing,
    );
    assert!(
        after.iter().all(|s| s.1 != removed),
        "removed pair never called again"
    );
    for pr in &added {
        let first = after
            .iter()
            .find(|s| &s.1 == pr)
            .map(|s| s.0)
            .expect("new pair called");
        assert!(
            first - at <= TimeDelta::hours(1),
            "new pairs spread over the first interval"
        );
    }
    // Kept pairs continue their cadence: no early call after the reload.
    for pr in next.iter().filter(|pr| !added.contains(pr)) {
        let last_before = before.iter().filter(|s| &s.1 == pr).map(|s| s.0).max();
        let last = match &flying {
            Some(f) if &f.pair == pr => Some(at),
            _ => last_before,
        }
        .expect("called before");
        let first_after = after
            .iter()
            .find(|s| &s.1 == pr)
            .map(|s| s.0)
            .expect("called after");
        assert!(
            first_after - last >= TimeDelta::hours(1),
            "{pr:?}: {last} -> {first_after}"
        );
    }
}
