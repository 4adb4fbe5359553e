//! The pure planner: which (number, destination) pair to call at `now`.
//!
//! Owns the per-pair due times (a min-heap), the per-number daily budget,
//! and drives the pacer and trunk health of `trunk.rs` and the window
//! arithmetic of `calendar.rs`. The rules are documented on the module
//! (`schedule/mod.rs`). Pure: no clock reads, no I/O, randomness only from
//! the injected `StdRng`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::size_of;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::Rng;
use rand::rngs::StdRng;

use super::calendar::{Calendar, add};
use super::trunk::{Pacer, TrunkHealth};
use crate::classify::Outcome;
use crate::config::{Config, E164, ScheduleSettings};

/// One probe pair: an owned caller ID calling one destination on one carrier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    /// The owned number we call from.
    pub number: E164,
    /// The carrier the destination is on (`[[carrier]] name`).
    pub carrier: String,
    /// The destination we call.
    pub destination: E164,
}

impl Pair {
    /// Every pair of `config`: each owned number × each destination of each
    /// carrier, in file order (number-major).
    #[must_use]
    pub fn all(config: &Config) -> Vec<Pair> {
        let mut out = Vec::with_capacity(config.calls_per_run());
        for n in &config.numbers {
            for c in &config.carriers {
                for d in &c.destinations {
                    out.push(Pair {
                        number: n.number.clone(),
                        carrier: c.name.clone(),
                        destination: d.clone(),
                    });
                }
            }
        }
        out
    }
}

/// What the store knows about a pair at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairHistory {
    /// The pair.
    pub pair: Pair,
    /// When its most recent call started.
    pub last_started: Option<DateTime<Utc>>,
    /// That call's outcome.
    pub last_outcome: Option<Outcome>,
}

/// A call to start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Who calls whom.
    pub pair: Pair,
    /// When the call was due; `now - planned_at` is the scheduler lag.
    pub planned_at: DateTime<Utc>,
}

/// FxHash: a small, fast hasher for maps keyed by config data (not
/// attacker-controlled, so no need for SipHash's DoS resistance).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(super) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A heap entry: due time, then the original (unmoved) due time so that
/// the most overdue pair goes first, then insertion order. Times are
/// milliseconds since the Unix epoch, rounded up (integer compares keep
/// the heap cheap; rounding up never makes a pair due early).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    due: i64,
    orig: i64,
    seq: u64,
    idx: usize,
}

/// `t` in milliseconds since the epoch, rounded up.
fn ms_ceil(t: DateTime<Utc>) -> i64 {
    let ms = t.timestamp_millis();
    if t.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        ms
    } else {
        ms.saturating_add(1)
    }
}

/// `t` in milliseconds since the epoch, rounded down.
fn ms_floor(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A cached stretch `[from, until)` of open window in a span that opened
/// at `opened` (`None`: the window never closes).
#[derive(Debug, Clone, Copy)]
struct OpenSpan {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    opened: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct PairState {
    pair: Pair,
    number: usize,
    last_started: Option<DateTime<Utc>>,
    last_outcome: Option<Outcome>,
    in_flight: bool,
    due: i64,
    orig: i64,
}

#[derive(Debug, Clone)]
struct NumberState {
    number: E164,
    today: u32,
}

/// Settings turned into the units the planner computes with.
#[derive(Debug, Clone)]
struct Derived {
    every: TimeDelta,
    blocked_every: TimeDelta,
    jitter: f64,
    cal: Calendar,
    /// Longest spread of a batch moved to a window opening (or of an
    /// overdue backlog): half of min(every, window length).
    spread_cap: TimeDelta,
}

impl Derived {
    fn new(s: &ScheduleSettings) -> Self {
        let td = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::days(3650));
        let every = td(s.every).max(TimeDelta::seconds(1));
        let blocked_every = td(s.blocked_every).max(every);
        let jitter = if s.jitter.is_finite() {
            s.jitter.clamp(0.0, 0.5)
        } else {
            0.0
        };
        let cal = Calendar::new(s.window, s.timezone);
        let spread_cap = every.min(cal.window_len()) / 2;
        Self {
            every,
            blocked_every,
            jitter,
            cal,
            spread_cap,
        }
    }
}

/// The schedule: answers "which call should start now" for every pair,
/// within the window, the budgets, the pace and the trunk's health.
///
/// Drive it like the other cores (see `lib.rs`): `poll(now, in_flight)`
/// until `None`, start each [`Planned`] call, report each finished call to
/// [`Planner::on_finished`], and sleep until [`Planner::next_wakeup`] or the
/// next finished call, whichever comes first. `now` must not go backwards.
#[derive(Debug)]
pub struct Planner {
    settings: ScheduleSettings,
    d: Derived,
    pairs: Vec<PairState>,
    index: FastMap<Pair, usize>,
    numbers: Vec<NumberState>,
    day: NaiveDate,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    pacer: Pacer,
    trunk: TrunkHealth,
    rng: StdRng,
    /// Opening of the last open span whose carried-over pairs were respaced.
    last_opening: Option<DateTime<Utc>>,
    /// Cache: the window is open on `[from, until)` and that span opened
    /// at `opened` (`None`: never closes). Only cached when the UTC offset
    /// does not change inside the span.
    span: Option<OpenSpan>,
    /// Start of the local day after `day`.
    day_end: DateTime<Utc>,
}

/// `d × f`, rounded up to the millisecond (so `interval × (1 − jitter)`
/// is never undershot).
fn scale(d: TimeDelta, f: f64) -> TimeDelta {
    TimeDelta::milliseconds((d.num_milliseconds() as f64 * f).ceil() as i64)
}

/// `span * k / m` (0 when `m` is 0).
fn share(span: TimeDelta, k: usize, m: usize) -> TimeDelta {
    if m == 0 {
        return TimeDelta::zero();
    }
    TimeDelta::milliseconds((span.num_milliseconds() as f64 * k as f64 / m as f64) as i64)
}

fn is_blocked(o: Option<Outcome>) -> bool {
    matches!(o, Some(Outcome::NetworkBlocked | Outcome::Rejected))
}

impl Planner {
    /// Build the schedule at `now` from the configured `pairs`, the store's
    /// `history` (last start and outcome per pair) and `calls_today` (calls
    /// per owned number in the current local day).
    ///
    /// Pairs with history continue from their last start; pairs without are
    /// spread evenly over the first interval of open window time; pairs
    /// already overdue are spread over a short backlog period (no probe
    /// storm after a restart).
    #[must_use]
    pub fn new(
        settings: &ScheduleSettings,
        pairs: Vec<Pair>,
        history: &[PairHistory],
        calls_today: &[(E164, u32)],
        now: DateTime<Utc>,
        rng: StdRng,
    ) -> Self {
        let d = Derived::new(settings);
        let day = d.cal.local_date(now);
        let mut planner = Planner {
            settings: settings.clone(),
            pacer: Pacer::new(settings.cps),
            d,
            pairs: Vec::new(),
            index: FastMap::default(),
            numbers: Vec::new(),
            day,
            heap: BinaryHeap::new(),
            seq: 0,
            trunk: TrunkHealth::default(),
            rng,
            last_opening: None,
            span: None,
            day_end: DateTime::<Utc>::MIN_UTC,
        };
        planner.roll_day(now);
        let mut latest: HashMap<&Pair, &PairHistory> = HashMap::new();
        for h in history {
            let newer = latest
                .get(&h.pair)
                .is_none_or(|old| h.last_started > old.last_started);
            if newer {
                latest.insert(&h.pair, h);
            }
        }
        let states = pairs
            .into_iter()
            .map(|pair| {
                let h = latest.get(&pair);
                let last_started = h.and_then(|h| h.last_started).map(|t| t.min(now));
                let last_outcome = h.and_then(|h| h.last_outcome);
                (pair, last_started, last_outcome)
            })
            .collect::<Vec<_>>();
        let counts: HashMap<&E164, u32> = calls_today.iter().map(|(n, c)| (n, *c)).collect();
        planner.install(states, |n| counts.get(n).copied().unwrap_or(0));
        let all: Vec<usize> = (0..planner.pairs.len()).collect();
        planner.schedule_fresh_and_continuing(&all, now);
        planner
    }

    /// Replace `pairs`/`numbers`/`index` with `states`; numbers keep the
    /// count `today_of` gives them.
    fn install(
        &mut self,
        states: Vec<(Pair, Option<DateTime<Utc>>, Option<Outcome>)>,
        today_of: impl Fn(&E164) -> u32,
    ) {
        self.pairs.clear();
        self.index.clear();
        self.numbers.clear();
        self.heap.clear();
        let mut number_index: HashMap<E164, usize> = HashMap::new();
        for (pair, last_started, last_outcome) in states {
            if self.index.contains_key(&pair) {
                continue;
            }
            let number = match number_index.get(&pair.number) {
                Some(&i) => i,
                None => {
                    let i = self.numbers.len();
                    self.numbers.push(NumberState {
                        number: pair.number.clone(),
                        today: today_of(&pair.number),
                    });
                    number_index.insert(pair.number.clone(), i);
                    i
                }
            };
            self.index.insert(pair.clone(), self.pairs.len());
            self.pairs.push(PairState {
                pair,
                number,
                last_started,
                last_outcome,
                in_flight: false,
                due: i64::MIN,
                orig: i64::MIN,
            });
        }
    }

    fn interval(&self, outcome: Option<Outcome>) -> TimeDelta {
        if is_blocked(outcome) {
            self.d.blocked_every
        } else {
            self.d.every
        }
    }

    /// `interval` × (1 ± jitter), uniformly.
    fn jittered(&mut self, interval: TimeDelta) -> TimeDelta {
        let j = self.d.jitter;
        let u = if j > 0.0 {
            self.rng.gen_range(-j..=j)
        } else {
            0.0
        };
        scale(interval, 1.0 + u)
    }

    /// How long to spread `n` calls that are all due at once: twice what
    /// the pace needs to start them, at most `spread_cap`.
    fn batch_spread(&self, n: usize) -> TimeDelta {
        let cps = if self.settings.cps.is_finite() && self.settings.cps > 0.0 {
            self.settings.cps
        } else {
            1.0
        };
        let ms = (2.0 * n as f64 / cps * 1000.0).min(i64::MAX as f64 / 2.0);
        TimeDelta::milliseconds(ms as i64).min(self.d.spread_cap)
    }

    fn push(&mut self, idx: usize, due: DateTime<Utc>, orig: DateTime<Utc>) {
        self.push_ms(idx, ms_ceil(due), ms_ceil(orig));
    }

    fn push_ms(&mut self, idx: usize, due: i64, orig: i64) {
        self.seq += 1;
        if let Some(st) = self.pairs.get_mut(idx) {
            st.due = due;
            st.orig = orig;
        }
        self.heap.push(Reverse(Entry {
            due,
            orig,
            seq: self.seq,
            idx,
        }));
    }

    /// Schedule the not-in-flight pairs `idxs` from scratch: pairs with a
    /// last start continue from it, overdue ones are spread over a backlog
    /// period, pairs never called are spread over the first interval.
    fn schedule_fresh_and_continuing(&mut self, idxs: &[usize], now: DateTime<Utc>) {
        let mut fresh = Vec::new();
        let mut overdue = Vec::new();
        for &i in idxs {
            let Some(st) = self.pairs.get(i) else {
                continue;
            };
            if st.in_flight {
                continue;
            }
            match st.last_started {
                None => fresh.push(i),
                Some(last) => {
                    // The pair was not started before `now`, so its due
                    // time was not before `now` either, unless even the
                    // latest jitter puts it there: draw from what is left.
                    let interval = self.interval(st.last_outcome);
                    let j = self.d.jitter;
                    let lo = add(last, scale(interval, 1.0 - j));
                    let hi = add(last, scale(interval, 1.0 + j));
                    if hi < now {
                        overdue.push((add(last, interval), i));
                    } else {
                        let lo = lo.max(now);
                        let width = (hi - lo).num_milliseconds();
                        let step = if width > 0 {
                            self.rng.gen_range(0..=width)
                        } else {
                            0
                        };
                        let due = add(lo, TimeDelta::milliseconds(step));
                        self.push(i, due, due);
                    }
                }
            }
        }
        // Overdue: keep their order, spread them over a short backlog period.
        overdue.sort();
        let span = self.batch_spread(overdue.len());
        let m = overdue.len();
        for (k, (orig, i)) in overdue.into_iter().enumerate() {
            let offset = share(span, k, m);
            let due = self.d.cal.add_open_time(now, offset);
            self.push(i, due, orig);
        }
        // Never called: round-robin over numbers (a number's pairs are far
        // apart), evenly over min(every, window length) of open time.
        let mut rank: HashMap<usize, u32> = HashMap::new();
        let mut keyed: Vec<(u32, usize, usize)> = fresh
            .into_iter()
            .map(|i| {
                let number = self.pairs.get(i).map_or(0, |s| s.number);
                let r = rank.entry(number).or_insert(0);
                *r += 1;
                (*r, number, i)
            })
            .collect();
        keyed.sort_unstable();
        let span = self.d.every.min(self.d.cal.window_len());
        let m = keyed.len();
        for (k, (_, _, i)) in keyed.into_iter().enumerate() {
            let offset = share(span, k, m);
            let due = self.d.cal.add_open_time(now, offset);
            self.push(i, due, due);
        }
    }

    fn roll_day(&mut self, now: DateTime<Utc>) {
        if now < self.day_end {
            return;
        }
        let today = self.d.cal.local_date(now);
        self.day_end = self.d.cal.next_midnight(now);
        if today != self.day {
            self.day = today;
            for n in &mut self.numbers {
                n.today = 0;
            }
        }
    }

    /// `None` when the window is closed at `now`, otherwise the opening of
    /// the open span (`Some(None)` for a window that never closes).
    fn open_span(&mut self, now: DateTime<Utc>) -> Option<Option<DateTime<Utc>>> {
        if let Some(sp) = self.span
            && now >= sp.from
            && now < sp.until
        {
            return Some(sp.opened);
        }
        let cal = &self.d.cal;
        if !cal.is_open(now) {
            return None;
        }
        let opened = cal.span_start(now);
        let until = match cal.next_close(now) {
            None => DateTime::<Utc>::MAX_UTC,
            Some(close) if cal.same_offset(opened.unwrap_or(now), close) => close,
            Some(_) => now, // a DST change inside the span: check every time
        };
        self.span = Some(OpenSpan {
            from: opened.unwrap_or(now),
            until,
            opened,
        });
        Some(opened)
    }

    /// The next call to start at `now`, or `None`. Call repeatedly until
    /// `None`; `in_flight` is the number of calls in progress.
    ///
    /// Returns `None` while the trunk is paused, `in_flight` has reached
    /// `max_concurrent`, the pace forbids another start, the window is
    /// closed, or nothing is due. A due pair whose number has used its
    /// daily budget is moved to the next local day and skipped.
    #[must_use]
    pub fn poll(&mut self, now: DateTime<Utc>, in_flight: usize) -> Option<Planned> {
        let opened = self.open_span(now)?;
        self.rebase_at_opening(opened);
        if self.trunk.is_paused(now)
            || in_flight >= self.settings.max_concurrent
            || !self.pacer.allows(now)
        {
            return None;
        }
        self.roll_day(now);
        let cap = self.settings.max_calls_per_number_per_day;
        let now_ms = ms_floor(now);
        loop {
            let Reverse(top) = *self.heap.peek()?;
            if top.due > now_ms {
                return None;
            }
            self.heap.pop();
            let Some(st) = self.pairs.get(top.idx) else {
                continue;
            };
            let number = st.number;
            let used = self.numbers.get(number).map_or(0, |n| n.today);
            if used >= cap {
                let due = ms_ceil(self.tomorrow(now));
                self.push_ms(top.idx, due, top.orig);
                continue;
            }
            if let Some(n) = self.numbers.get_mut(number) {
                n.today += 1;
            }
            self.pacer.record(now);
            let st = self.pairs.get_mut(top.idx)?;
            st.in_flight = true;
            st.last_started = Some(now);
            return Some(Planned {
                pair: st.pair.clone(),
                planned_at: from_ms(top.due),
            });
        }
    }

    /// Where a pair whose number used today's budget goes: the next local
    /// midnight, plus a share of `spread_cap` proportional to the time of
    /// day now (keeps deferrals in order and apart when the window is open
    /// at midnight; otherwise the opening rebase spreads them).
    fn tomorrow(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let midnight = self.day_end;
        let since = (86_400 - (midnight - now).num_seconds()).clamp(0, 86_400);
        add(midnight, share(self.d.spread_cap, since as usize, 86_400))
    }

    /// On the first poll of an open span: every pair that became due before
    /// the window opened (while it was closed, or left over at the last
    /// close) is respaced evenly from the opening, most overdue first, over
    /// twice what the pace needs (at most `spread_cap`). Nothing bursts at
    /// the opening, and nothing is moved earlier.
    fn rebase_at_opening(&mut self, opened: Option<DateTime<Utc>>) {
        let Some(open) = opened else { return };
        if self.last_opening == Some(open) {
            return;
        }
        self.last_opening = Some(open);
        let mut carried = Vec::new();
        let open_ms = ms_ceil(open);
        while let Some(Reverse(top)) = self.heap.peek().copied() {
            if top.due >= open_ms {
                break;
            }
            self.heap.pop();
            carried.push(top);
        }
        carried.sort_by_key(|e| (e.orig, e.seq));
        let span = self.batch_spread(carried.len());
        let m = carried.len();
        for (k, e) in carried.into_iter().enumerate() {
            let due = ms_ceil(add(open, share(span, k, m)));
            self.push_ms(e.idx, due, e.orig);
        }
    }

    /// When [`Planner::poll`] could next return a call, ignoring
    /// `in_flight` (also wake when a call finishes). Never earlier than
    /// `now`; `None` when no pair is waiting (all in flight, or none).
    #[must_use]
    pub fn next_wakeup(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let Reverse(top) = self.heap.peek()?;
        let t = from_ms(top.due)
            .max(now)
            .max(self.trunk.paused_until().unwrap_or(now))
            .max(self.pacer.next_allowed().unwrap_or(now));
        if let Some(sp) = self.span
            && t >= sp.from
            && t < sp.until
        {
            return Some(t);
        }
        Some(self.d.cal.next_opening(t))
    }

    /// Report a finished call. Every [`Planned`] call must be reported
    /// exactly once, whatever happened to it (a call that could not be
    /// placed at all is `Outcome::Timeout`: a route failure). `started` is
    /// when the INVITE went out, `retry_after_s` the Retry-After of a 5xx in
    /// seconds. A second report for the same call is ignored.
    pub fn on_finished(
        &mut self,
        pair: &Pair,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        outcome: Outcome,
        retry_after_s: Option<u64>,
    ) {
        let idx = self.index.get(pair).copied();
        if let Some(i) = idx
            && !self.pairs.get(i).is_some_and(|s| s.in_flight)
        {
            return; // reported twice, or never planned
        }
        self.trunk
            .on_outcome(started, finished, outcome, retry_after_s, self.d.every);
        let Some(i) = idx else { return };
        let interval = self.interval(Some(outcome));
        let step = self.jittered(interval);
        let due = add(started, step).max(finished);
        if let Some(st) = self.pairs.get_mut(i) {
            st.in_flight = false;
            st.last_started = Some(started);
            st.last_outcome = Some(outcome);
        }
        self.push(i, due, due);
    }

    /// Apply a reloaded config (SIGHUP) at `now`. Pairs that still exist
    /// keep their state (last start and outcome, in-flight call, due time
    /// when the timing settings did not change, today's budget use); new
    /// pairs are spread over the first interval; removed pairs are dropped
    /// (their in-flight calls still count for trunk health when reported).
    /// The backoff is cleared (the operator may have fixed the trunk); a
    /// Retry-After pause is kept.
    pub fn reconfigure(
        &mut self,
        settings: &ScheduleSettings,
        pairs: Vec<Pair>,
        now: DateTime<Utc>,
    ) {
        let timing_changed = settings.every != self.settings.every
            || settings.blocked_every != self.settings.blocked_every
            || settings.jitter != self.settings.jitter
            || settings.window != self.settings.window
            || settings.timezone != self.settings.timezone;
        self.roll_day(now);
        let old_pairs = std::mem::take(&mut self.pairs);
        let old_numbers = std::mem::take(&mut self.numbers);
        let counts: HashMap<E164, u32> = old_numbers
            .into_iter()
            .map(|n| (n.number, n.today))
            .collect();
        let mut old: HashMap<Pair, PairState> =
            old_pairs.into_iter().map(|s| (s.pair.clone(), s)).collect();
        let states = pairs
            .into_iter()
            .map(|p| {
                let (ls, lo) = old
                    .get(&p)
                    .map_or((None, None), |s| (s.last_started, s.last_outcome));
                (p, ls, lo)
            })
            .collect::<Vec<_>>();
        self.settings = settings.clone();
        self.d = Derived::new(settings);
        self.pacer = self.pacer.with_cps(settings.cps);
        self.trunk.reset_backoff();
        self.install(states, |n| counts.get(n).copied().unwrap_or(0));
        self.day = self.d.cal.local_date(now);
        self.day_end = self.d.cal.next_midnight(now);
        self.span = None;
        let mut reschedule = Vec::new();
        for i in 0..self.pairs.len() {
            let Some(st) = self.pairs.get(i) else {
                continue;
            };
            match old.remove(&st.pair) {
                Some(prev) if prev.in_flight => {
                    if let Some(s) = self.pairs.get_mut(i) {
                        s.in_flight = true;
                    }
                }
                Some(prev) if !timing_changed => self.push_ms(i, prev.due, prev.orig),
                _ => reschedule.push(i),
            }
        }
        self.schedule_fresh_and_continuing(&reschedule, now);
    }

    /// Pause every call until `until` (never shortens a pause): for a
    /// Retry-After the store recorded before a restart, or an operator hold.
    pub fn hold_until(&mut self, until: DateTime<Utc>) {
        self.trunk.hold_until(until);
    }

    /// End of the current or most recent trunk pause (Retry-After or
    /// backoff); `None` when no pause was ever imposed. The trunk is paused
    /// while this is later than `now`.
    #[must_use]
    pub fn trunk_paused_until(&self) -> Option<DateTime<Utc>> {
        self.trunk.paused_until()
    }

    /// Consecutive route failures (5xx, timeouts, auth failures) counted by
    /// the backoff; 0 once a call reached the far end.
    #[must_use]
    pub fn route_failures(&self) -> u32 {
        self.trunk.failures()
    }

    /// Number of pairs scheduled (in flight or waiting).
    #[must_use]
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }

    /// Calls started today (local day of the last `poll`) from `number`.
    #[must_use]
    pub fn calls_today(&self, number: &E164) -> u32 {
        self.numbers
            .iter()
            .find(|n| &n.number == number)
            .map_or(0, |n| n.today)
    }

    /// Approximate bytes of planner state (structs, heap, indexes and the
    /// strings they own; allocator overhead not included).
    #[must_use]
    pub fn approx_state_bytes(&self) -> usize {
        let strings = |p: &Pair| {
            p.number.as_str().len() + p.carrier.capacity() + p.destination.as_str().len()
        };
        let pair_bytes: usize = self.pairs.iter().map(|s| strings(&s.pair)).sum();
        let index_bytes: usize = self.index.keys().map(strings).sum::<usize>()
            + self.index.capacity() * (size_of::<Pair>() + size_of::<usize>() + 1);
        let number_bytes: usize = self
            .numbers
            .iter()
            .map(|n| n.number.as_str().len())
            .sum::<usize>()
            + self.numbers.capacity() * size_of::<NumberState>();
        size_of::<Self>()
            + self.pairs.capacity() * size_of::<PairState>()
            + pair_bytes
            + index_bytes
            + number_bytes
            + self.heap.capacity() * size_of::<Reverse<Entry>>()
    }
}
