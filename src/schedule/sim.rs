//! A discrete-event simulation of the [`Planner`] on virtual time: the
//! issue 4 acceptance scenario (1,000 numbers × 5 carriers for 30 days)
//! and the figures `examples/bench_schedule.rs` prints.
//!
//! It drives `poll` / `next_wakeup` / `on_finished` exactly as the daemon's
//! runner does, with calls of random length and outcome, 503 + Retry-After
//! bursts and one restart (a new planner built from the recorded history),
//! and checks every start against the rules independently of the planner.
//! Pure: virtual time, seeded randomness, no I/O. CPU time is measured only
//! through the caller's [`Stopwatch`].

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, SeedableRng};

use super::plan::{FastMap, Pair, PairHistory, Planner};
use crate::classify::Outcome;
use crate::config::{CallWindow, E164, ScheduleSettings};

/// Brackets the planner calls of a simulation (for CPU figures).
pub trait Stopwatch {
    /// A planner call starts.
    fn start(&mut self) {}
    /// It returned.
    fn stop(&mut self) {}
}

/// No timing.
impl Stopwatch for () {}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Owned numbers.
    pub numbers: usize,
    /// Carriers, one destination each.
    pub carriers: usize,
    /// The `[schedule]` under test.
    pub settings: ScheduleSettings,
    /// Virtual start (the planner is built here with no history).
    pub start: DateTime<Utc>,
    /// Local days simulated from `start`.
    pub days: u32,
    /// Seed of both the planner's and the simulation's randomness.
    pub seed: u64,
    /// A graceful restart here: calls in flight are finished and recorded,
    /// then after `downtime` a new planner is built from the history.
    pub restart_at: Option<DateTime<Utc>>,
    /// How long the daemon is down at the restart.
    pub downtime: TimeDelta,
    /// Share of pairs that always answer 603+ (`network_blocked`).
    pub blocked_share: f64,
    /// Share of pairs that always answer 608 (`rejected`).
    pub rejected_share: f64,
    /// Starts of trunk overloads: every call started within `burst_len`
    /// after one gets 503 with `Retry-After: retry_after_s`.
    pub bursts: Vec<DateTime<Utc>>,
    /// Length of each burst.
    pub burst_len: TimeDelta,
    /// The bursts' Retry-After, seconds.
    pub retry_after_s: u64,
}

fn local_at(tz: chrono_tz::Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

impl SimConfig {
    /// The issue 4 scenario: 1,000 numbers × 5 carriers, `every = 6h`,
    /// window 09:00-20:00 America/New_York, 8 calls per number per day,
    /// cps 1, 10 concurrent, 2026-10-20 .. 2026-11-19 (DST ends on
    /// 2026-11-01), 3 % of pairs 603+ and 1 % 608, four 10-minute 503 +
    /// Retry-After 120 bursts, and a restart at 12:30 on the DST day.
    #[must_use]
    pub fn issue4() -> Self {
        let tz = chrono_tz::America::New_York;
        let settings = ScheduleSettings {
            cps: 1.0,
            max_concurrent: 10,
            every: std::time::Duration::from_secs(6 * 3600),
            blocked_every: std::time::Duration::from_secs(24 * 3600),
            window: CallWindow {
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
                end: NaiveTime::from_hms_opt(20, 0, 0),
            },
            timezone: tz,
            max_calls_per_number_per_day: 8,
            jitter: 0.1,
        };
        SimConfig {
            numbers: 1000,
            carriers: 5,
            settings,
            start: local_at(tz, 2026, 10, 20, 0, 0),
            days: 30,
            seed: 4,
            restart_at: Some(local_at(tz, 2026, 11, 1, 12, 30)),
            downtime: TimeDelta::minutes(3),
            blocked_share: 0.03,
            rejected_share: 0.01,
            bursts: vec![
                local_at(tz, 2026, 10, 23, 14, 0),
                local_at(tz, 2026, 10, 29, 10, 15),
                local_at(tz, 2026, 11, 5, 16, 40),
                local_at(tz, 2026, 11, 12, 9, 30),
            ],
            burst_len: TimeDelta::minutes(10),
            retry_after_s: 120,
        }
    }
}

/// Distribution summary of a duration sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    /// Median.
    pub p50_ms: i64,
    /// 90th percentile.
    pub p90_ms: i64,
    /// 99th percentile.
    pub p99_ms: i64,
    /// Largest.
    pub max_ms: i64,
}

impl Spread {
    fn of(mut v: Vec<i64>) -> Self {
        v.sort_unstable();
        let at = |q: f64| {
            if v.is_empty() {
                0
            } else {
                let i = ((v.len() - 1) as f64 * q).round() as usize;
                v.get(i).copied().unwrap_or(0)
            }
        };
        Spread {
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: v.last().copied().unwrap_or(0),
        }
    }
}

/// What a simulation saw.
#[derive(Debug, Clone, Default)]
pub struct SimReport {
    /// Pairs simulated.
    pub pairs: usize,
    /// Calls started.
    pub starts: usize,
    /// `poll` calls.
    pub polls: u64,
    /// `next_wakeup` calls.
    pub wakeups: u64,
    /// Every rule violation found (the first 50 described).
    pub violations: Vec<String>,
    /// Total violations.
    pub violation_count: usize,
    /// How late calls started against their `planned_at`.
    pub lateness: Spread,
    /// Same, for calls whose wait did not overlap a trunk pause.
    pub lateness_no_pause: Spread,
    /// Share of (ordinary pair, local day) with at least one start.
    pub coverage: f64,
    /// Ordinary (pair, day)s without a start.
    pub missed_pair_days: usize,
    /// Mean starts per day of an ordinary pair.
    pub ordinary_per_day: f64,
    /// Mean starts per day of an always-blocked pair.
    pub blocked_per_day: f64,
    /// Shortest gap between two starts of a pair after a block, seconds.
    pub min_blocked_gap_s: i64,
    /// Shortest gap between two starts of any pair, seconds.
    pub min_gap_s: i64,
    /// Most starts from one number in one local day.
    pub max_per_number_day: u32,
    /// Most calls in flight at once.
    pub max_in_flight: usize,
    /// Most starts in any 1-second window.
    pub max_starts_per_second: usize,
    /// Trunk pauses the planner imposed.
    pub pauses: usize,
    /// Starts in the 15 minutes after the restart.
    pub restart_next_15min: usize,
    /// Starts in the same 15 minutes one day earlier.
    pub restart_prev_day_15min: usize,
    /// Starts in the hour after the restart.
    pub restart_next_hour: usize,
    /// Starts in the same hour one day earlier.
    pub restart_prev_day_hour: usize,
    /// Largest `Planner::approx_state_bytes` seen.
    pub state_bytes: usize,
    /// Starts on the local day the clocks went back (25 h), if simulated.
    pub dst_day_starts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nature {
    Ordinary,
    Blocked,
    Rejected,
}

#[derive(Debug, Clone, Copy)]
struct Call {
    pair: usize,
    started: DateTime<Utc>,
    finish: DateTime<Utc>,
    outcome: Outcome,
    retry_after_s: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Start {
    at: DateTime<Utc>,
    pair: usize,
    date: NaiveDate,
}

fn e164(s: &str) -> Option<E164> {
    E164::parse(s).ok()
}

/// The simulated pairs: `+1202` numbers × `+1312555` destinations.
fn make_pairs(numbers: usize, carriers: usize) -> Vec<Pair> {
    let mut out = Vec::with_capacity(numbers * carriers);
    for n in 0..numbers {
        let Some(number) = e164(&format!("+1202{:03}{:04}", 200 + n / 10_000, n % 10_000)) else {
            continue;
        };
        for c in 0..carriers {
            let Some(destination) = e164(&format!("+1312555{:04}", c % 10_000)) else {
                continue;
            };
            out.push(Pair {
                number: number.clone(),
                carrier: format!("carrier{c}"),
                destination,
            });
        }
    }
    out
}

fn ordinary_outcome(rng: &mut SmallRng) -> Outcome {
    let x: f64 = rng.r#gen();
    let table = [
        (0.80, Outcome::Ringing),
        (0.84, Outcome::Answered),
        (0.87, Outcome::Busy),
        (0.93, Outcome::NoAnswer),
        (0.94, Outcome::NotFound),
        (0.96, Outcome::Declined),
        (0.97, Outcome::Timeout),
        (0.975, Outcome::Unavailable),
        (0.985, Outcome::Intercepted),
        (1.0, Outcome::Failed),
    ];
    table
        .iter()
        .find(|(p, _)| x < *p)
        .map_or(Outcome::Failed, |(_, o)| *o)
}

struct Checker {
    settings: ScheduleSettings,
    every: TimeDelta,
    blocked_every: TimeDelta,
    per_number_day: Vec<(NaiveDate, u32)>,
    recent: VecDeque<DateTime<Utc>>,
    per_second: usize,
    spacing: TimeDelta,
    truth_pause_until: Option<DateTime<Utc>>,
    last_start: Vec<Option<(DateTime<Utc>, Option<Outcome>)>>,
    report: SimReport,
}

impl Checker {
    fn violation(&mut self, what: String) {
        self.report.violation_count += 1;
        if self.report.violations.len() < 50 {
            self.report.violations.push(what);
        }
    }

    /// Check one start; returns its local date.
    fn on_start(
        &mut self,
        at: DateTime<Utc>,
        pair: usize,
        number: usize,
        in_flight_after: usize,
        planner_paused: bool,
    ) -> NaiveDate {
        let (window, tz, cap) = (
            self.settings.window,
            self.settings.timezone,
            self.settings.max_calls_per_number_per_day,
        );
        let (max_concurrent, cps, jitter) = (
            self.settings.max_concurrent,
            self.settings.cps,
            self.settings.jitter,
        );
        let local = at.with_timezone(&tz);
        let date = local.date_naive();
        if !window.contains(local.time()) {
            self.violation(format!("start outside the window at {local}"));
        }
        let mut count = 1;
        if let Some(slot) = self.per_number_day.get_mut(number) {
            if slot.0 == date {
                slot.1 += 1;
            } else {
                *slot = (date, 1);
            }
            count = slot.1;
        }
        self.report.max_per_number_day = self.report.max_per_number_day.max(count);
        if count > cap {
            self.violation(format!("number {number}: {count} starts on {date}"));
        }
        if in_flight_after > max_concurrent {
            self.violation(format!("{in_flight_after} calls in flight at {at}"));
        }
        if planner_paused || self.truth_pause_until.is_some_and(|p| at < p) {
            self.violation(format!("start at {at} during a trunk pause"));
        }
        if let Some(&last) = self.recent.back()
            && at - last < self.spacing
        {
            self.violation(format!(
                "starts {} ms apart at {at} (cps {cps})",
                (at - last).num_milliseconds()
            ));
        }
        if self.recent.len() >= self.per_second {
            if let Some(&front) = self.recent.front()
                && at - front < TimeDelta::seconds(1)
            {
                self.violation(format!(
                    "more than {} starts in 1 s at {at}",
                    self.per_second
                ));
            }
            self.recent.pop_front();
        }
        self.recent.push_back(at);
        if let Some(Some((prev, outcome))) = self.last_start.get(pair).copied() {
            let gap = at - prev;
            let blocked = matches!(outcome, Some(Outcome::NetworkBlocked | Outcome::Rejected));
            let base = if blocked {
                self.blocked_every
            } else {
                self.every
            };
            let floor_ms = (base.num_milliseconds() as f64 * (1.0 - jitter)) as i64;
            if gap.num_milliseconds() < floor_ms {
                self.violation(format!(
                    "pair {pair} re-probed after {} s (last outcome {outcome:?})",
                    gap.num_seconds()
                ));
            }
            let secs = gap.num_seconds();
            if blocked {
                self.report.min_blocked_gap_s = self.report.min_blocked_gap_s.min(secs);
            }
            self.report.min_gap_s = self.report.min_gap_s.min(secs);
        }
        if let Some(slot) = self.last_start.get_mut(pair) {
            *slot = Some((at, None));
        }
        date
    }

    fn on_finish(&mut self, call: &Call) {
        if let Some(Some((at, outcome))) = self.last_start.get_mut(call.pair)
            && *at == call.started
        {
            *outcome = Some(call.outcome);
        }
        if call.outcome == Outcome::Unavailable
            && let Some(ra) = call.retry_after_s
        {
            let until =
                call.finish + TimeDelta::seconds(i64::try_from(ra.min(86_400)).unwrap_or(86_400));
            self.truth_pause_until = self.truth_pause_until.max(Some(until));
        }
    }
}

/// Run the simulation. Planner calls are bracketed by `watch`.
#[must_use]
pub fn run(cfg: &SimConfig, watch: &mut dyn Stopwatch) -> SimReport {
    let s = &cfg.settings;
    let tz = s.timezone;
    let pairs = make_pairs(cfg.numbers, cfg.carriers);
    let pair_index: FastMap<Pair, usize> = pairs
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, p)| (p, i))
        .collect();
    let mut number_of = Vec::with_capacity(pairs.len());
    let mut numbers: HashMap<E164, usize> = HashMap::new();
    for p in &pairs {
        let next = numbers.len();
        number_of.push(*numbers.entry(p.number.clone()).or_insert(next));
    }
    let mut rng = SmallRng::seed_from_u64(cfg.seed ^ 0x5151_5151);
    let nature: Vec<Nature> = pairs
        .iter()
        .map(|_| {
            let x: f64 = rng.r#gen();
            if x < cfg.blocked_share {
                Nature::Blocked
            } else if x < cfg.blocked_share + cfg.rejected_share {
                Nature::Rejected
            } else {
                Nature::Ordinary
            }
        })
        .collect();
    let first_day = cfg.start.with_timezone(&tz).date_naive();
    let end = first_day
        .checked_add_days(chrono::Days::new(u64::from(cfg.days)))
        .and_then(|d| {
            tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
        })
        .map_or(cfg.start + TimeDelta::days(i64::from(cfg.days)), |t| {
            t.with_timezone(&Utc)
        });

    let mut checker = Checker {
        settings: s.clone(),
        every: TimeDelta::from_std(s.every).unwrap_or(TimeDelta::MAX),
        blocked_every: TimeDelta::from_std(s.blocked_every).unwrap_or(TimeDelta::MAX),
        per_number_day: vec![(NaiveDate::MIN, 0); numbers.len()],
        recent: VecDeque::new(),
        per_second: (s.cps.floor() as usize).max(1),
        spacing: TimeDelta::nanoseconds((1e9 / s.cps.max(1e-9)).floor() as i64),
        truth_pause_until: None,
        last_start: vec![None; pairs.len()],
        report: SimReport {
            pairs: pairs.len(),
            min_blocked_gap_s: i64::MAX,
            min_gap_s: i64::MAX,
            ..SimReport::default()
        },
    };

    watch.start();
    let mut planner = Planner::new(
        s,
        pairs.clone(),
        &[],
        &[],
        cfg.start,
        StdRng::seed_from_u64(cfg.seed),
    );
    watch.stop();

    let mut now = cfg.start;
    // At most `max_concurrent` calls: a small vector beats a heap.
    let mut calls: Vec<Call> = Vec::with_capacity(s.max_concurrent);
    let mut starts: Vec<Start> = Vec::new();
    let mut lateness = Vec::new();
    let mut waits: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut pause_spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut history: Vec<(Option<DateTime<Utc>>, Option<Outcome>)> =
        vec![(None, None); pairs.len()];
    let mut restart = cfg.restart_at;
    let mut last_pause: Option<DateTime<Utc>> = None;
    let mut stuck = 0u32;
    let max_concurrent = s.max_concurrent;

    while now < end {
        // Calls that ended by now.
        while let Some((i, _)) = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.finish <= now)
            .min_by_key(|(_, c)| c.finish)
        {
            let call = calls.swap_remove(i);
            history[call.pair] = (Some(call.started), Some(call.outcome));
            checker.on_finish(&call);
            watch.start();
            planner.on_finished(
                &pairs[call.pair],
                call.started,
                call.finish,
                call.outcome,
                call.retry_after_s,
            );
            watch.stop();
        }
        if planner.trunk_paused_until() != last_pause {
            last_pause = planner.trunk_paused_until();
            if let Some(until) = last_pause {
                pause_spans.push((now, until));
            }
            checker.report.pauses += 1;
        }
        // A graceful restart: finish and record what is in flight, stay down, rebuild.
        if let Some(r) = restart
            && now >= r
        {
            restart = None;
            for call in calls.drain(..) {
                let call = Call {
                    finish: now,
                    ..call
                };
                history[call.pair] = (Some(call.started), Some(call.outcome));
                checker.on_finish(&call);
            }
            now += cfg.downtime;
            let day = now.with_timezone(&tz).date_naive();
            let mut today: HashMap<usize, u32> = HashMap::new();
            for st in &starts {
                if st.date == day {
                    *today.entry(number_of[st.pair]).or_insert(0) += 1;
                }
            }
            let number_names: HashMap<usize, &E164> =
                numbers.iter().map(|(n, i)| (*i, n)).collect();
            let calls_today: Vec<(E164, u32)> = today
                .into_iter()
                .filter_map(|(i, c)| number_names.get(&i).map(|n| ((*n).clone(), c)))
                .collect();
            let hist: Vec<PairHistory> = pairs
                .iter()
                .zip(&history)
                .map(|(p, (ls, lo))| PairHistory {
                    pair: p.clone(),
                    last_started: *ls,
                    last_outcome: *lo,
                })
                .collect();
            watch.start();
            planner = Planner::new(
                s,
                pairs.clone(),
                &hist,
                &calls_today,
                now,
                StdRng::seed_from_u64(cfg.seed ^ 0xdead),
            );
            // The runner restores a Retry-After the store recorded.
            if let Some(p) = checker.truth_pause_until {
                planner.hold_until(p);
            }
            watch.stop();
            last_pause = None;
            continue;
        }
        // Start everything that is due.
        loop {
            // No check of `max_concurrent` here: the planner must refuse.
            let paused = planner.trunk_paused_until().is_some_and(|p| now < p);
            watch.start();
            let planned = planner.poll(now, calls.len());
            watch.stop();
            checker.report.polls += 1;
            let Some(planned) = planned else { break };
            let Some(&pair) = pair_index.get(&planned.pair) else {
                checker.violation(format!("unknown pair planned: {:?}", planned.pair));
                continue;
            };
            let date = checker.on_start(now, pair, number_of[pair], calls.len() + 1, paused);
            let late = (now - planned.planned_at).num_milliseconds();
            lateness.push(late);
            waits.push((planned.planned_at, now));
            starts.push(Start {
                at: now,
                pair,
                date,
            });
            if starts.len().is_multiple_of(4096) {
                checker.report.state_bytes =
                    checker.report.state_bytes.max(planner.approx_state_bytes());
            }
            let in_burst = cfg
                .bursts
                .iter()
                .any(|b| now >= *b && now < *b + cfg.burst_len);
            let (outcome, retry_after_s) = if in_burst {
                (Outcome::Unavailable, Some(cfg.retry_after_s))
            } else {
                match nature[pair] {
                    Nature::Blocked => (Outcome::NetworkBlocked, None),
                    Nature::Rejected => (Outcome::Rejected, None),
                    Nature::Ordinary => (ordinary_outcome(&mut rng), None),
                }
            };
            let finish = now + TimeDelta::milliseconds(rng.gen_range(2_000..=20_000));
            calls.push(Call {
                pair,
                started: now,
                finish,
                outcome,
                retry_after_s,
            });
            checker.report.max_in_flight = checker.report.max_in_flight.max(calls.len());
        }
        // Sleep until the next thing can happen.
        let mut next = end;
        if let Some(finish) = calls.iter().map(|c| c.finish).min() {
            next = next.min(finish);
        }
        if calls.len() < max_concurrent {
            watch.start();
            let wake = planner.next_wakeup(now);
            watch.stop();
            checker.report.wakeups += 1;
            if let Some(w) = wake {
                next = next.min(w);
            }
        }
        if let Some(r) = restart {
            next = next.min(r);
        }
        if next <= now {
            stuck += 1;
            if stuck > 3 {
                checker.violation(format!(
                    "planner asks to wake at {next} but nothing starts (now {now})"
                ));
                next = now + TimeDelta::seconds(1);
            }
        } else {
            stuck = 0;
        }
        now = next;
    }

    let mut report = checker.report;
    report.starts = starts.len();
    report.lateness = Spread::of(lateness);
    // Merge the pauses into disjoint spans; a wait overlaps one iff it
    // overlaps the last span that starts before the wait ends.
    pause_spans.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (a, b) in pause_spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let paused_during = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let i = merged.partition_point(|p| p.0 <= to);
        i > 0 && merged.get(i - 1).is_some_and(|p| p.1 > from)
    };
    report.lateness_no_pause = Spread::of(
        waits
            .iter()
            .filter(|(planned, at)| !paused_during(*planned, *at))
            .map(|(planned, at)| (*at - *planned).num_milliseconds())
            .collect(),
    );
    report.state_bytes = report.state_bytes.max(planner.approx_state_bytes());
    if report.min_blocked_gap_s == i64::MAX {
        report.min_blocked_gap_s = 0;
    }
    if report.min_gap_s == i64::MAX {
        report.min_gap_s = 0;
    }

    // Most starts in any 1 s window.
    let mut lo = 0;
    for hi in 0..starts.len() {
        while starts[hi].at - starts[lo].at >= TimeDelta::seconds(1) {
            lo += 1;
        }
        report.max_starts_per_second = report.max_starts_per_second.max(hi - lo + 1);
    }

    // Coverage per local day.
    let days = cfg.days as usize;
    let mut seen = vec![0u64; pairs.len()];
    let mut per_nature = [0usize; 3];
    for st in &starts {
        let day = (st.date - first_day).num_days();
        if (0..days.min(64) as i64).contains(&day) {
            seen[st.pair] |= 1 << day;
        }
        let k = match nature[st.pair] {
            Nature::Ordinary => 0,
            Nature::Blocked | Nature::Rejected => 1,
        };
        per_nature[k] += 1;
    }
    let full_days = days.min(64);
    let ordinary = nature.iter().filter(|n| **n == Nature::Ordinary).count();
    let blocked = pairs.len() - ordinary;
    let covered: usize = seen
        .iter()
        .zip(&nature)
        .filter(|(_, n)| **n == Nature::Ordinary)
        .map(|(bits, _)| bits.count_ones() as usize)
        .sum();
    let possible = ordinary * full_days;
    report.coverage = if possible == 0 {
        0.0
    } else {
        covered as f64 / possible as f64
    };
    report.missed_pair_days = possible.saturating_sub(covered);
    report.ordinary_per_day = per_nature[0] as f64 / (ordinary.max(1) * days.max(1)) as f64;
    report.blocked_per_day = per_nature[1] as f64 / (blocked.max(1) * days.max(1)) as f64;

    // Restart: the 15 minutes and the hour after it, against the day before.
    if let Some(r) = cfg.restart_at {
        let up = r + cfg.downtime;
        let count = |from: DateTime<Utc>, len: TimeDelta| {
            starts
                .iter()
                .filter(|st| st.at >= from && st.at < from + len)
                .count()
        };
        report.restart_next_15min = count(up, TimeDelta::minutes(15));
        report.restart_prev_day_15min = count(up - TimeDelta::days(1), TimeDelta::minutes(15));
        report.restart_next_hour = count(up, TimeDelta::hours(1));
        report.restart_prev_day_hour = count(up - TimeDelta::days(1), TimeDelta::hours(1));
    }

    // The local day that lasted 25 hours.
    for d in 0..days {
        let Some(date) = first_day.checked_add_days(chrono::Days::new(d as u64)) else {
            continue;
        };
        let (Some(a), Some(b)) = (
            tz.from_local_datetime(&date.and_time(NaiveTime::MIN))
                .earliest(),
            date.succ_opt().and_then(|n| {
                tz.from_local_datetime(&n.and_time(NaiveTime::MIN))
                    .earliest()
            }),
        ) else {
            continue;
        };
        if b - a > TimeDelta::hours(24) {
            report.dst_day_starts = starts.iter().filter(|st| st.date == date).count();
        }
    }
    report
}
