//! The probe schedule: a pure planner that answers "what is due at `now`"
//! for every (owned number, destination) pair, from config and stored
//! history (issue 4, point 1).
//!
//! This module never reads the clock, never sleeps, never touches a socket
//! or the store, and draws randomness only from the `StdRng` it is given.
//! The async runner that owns tokio, the store and the calls drives it:
//!
//! ```text
//! loop {
//!     while let Some(p) = planner.poll(now, in_flight) { start p.pair; in_flight += 1 }
//!     sleep until planner.next_wakeup(now) or a call finishes
//!     for each finished call: planner.on_finished(&pair, started, finished, outcome, retry_after_s)
//! }
//! ```
//!
//! # Rules
//!
//! 1. **Cadence.** A pair is due `every` after its last start; after a
//!    `network_blocked` (603+) or `rejected` (608) outcome, `blocked_every`
//!    after it (no aggressive retries of a block). Each interval is
//!    multiplied by `1 + u`, `u` uniform in ±`jitter`. Every other outcome,
//!    route failures included, keeps the normal cadence: the trunk pause
//!    (rule 6) is what protects the route, and a failed pair is not retried
//!    early. Every change to a due time only ever moves it later, so a pair
//!    is never called sooner than `interval × (1 − jitter)` after its
//!    previous start, across restarts too.
//! 2. **Spread, no probe storm.** At start-up (and for pairs added by a
//!    reload) pairs never called are spread evenly over `min(every, window
//!    length)` of *open window time*, round-robin over numbers so one
//!    number's pairs are far apart. Pairs with history continue from their
//!    last start: a pair not yet called by `now` draws its due time from the
//!    part of its jitter range that is still ahead (the plan continues; it is
//!    not re-rolled into a burst). Pairs already overdue (the daemon was down) keep their
//!    order and are spread over a backlog period of twice what the pace
//!    needs to start them, at most half of `min(every, window length)`.
//! 3. **Window.** No call starts while the local time in `timezone` is
//!    outside `window` (checked at every `poll`, DST-correct through
//!    chrono-tz; the window may wrap midnight). Due times are not moved when
//!    they fall outside; instead, on the first `poll` of each open span,
//!    every pair that became due before the opening (while the window was
//!    closed, or left over at the last close) is respaced *evenly* from the
//!    opening, in order of its original due time (most overdue first), over
//!    twice the time the pace needs to start them all, at most half of
//!    `min(every, window length)`. So nothing bursts at the opening and the
//!    planned times are ones the pace can keep. A local time that does not
//!    exist (spring-forward gap) resolves to the end of the gap, a repeated
//!    one (fall-back) to its first occurrence.
//! 4. **Daily budget.** At most `max_calls_per_number_per_day` starts per
//!    owned number per local calendar day in `timezone`, seeded from the
//!    store's count for the current day (`calls_today`), so restarts cannot
//!    exceed it. A due pair whose number is exhausted moves to the next
//!    local midnight (plus a share of the spread proportional to the time of
//!    day, so deferrals stay in order and apart), keeping its original due
//!    time for rule 7; with a window closed at midnight, rule 3 respaces it
//!    at the opening ahead of pairs that became due later.
//! 5. **Pace and concurrency.** Consecutive starts are at least `1/cps`
//!    apart (rounded up to the nanosecond), and no 1-second window holds
//!    more than `max(1, floor(cps))` starts: never more than `cps` starts in
//!    any 1 s window, and one per `1/cps` s when `cps < 1`. `poll` returns
//!    nothing while the caller's `in_flight` is at `max_concurrent`. A pair
//!    is never started twice at once: it leaves the heap when started and
//!    returns when its call is reported finished.
//! 6. **Trunk health.** An `unavailable` (5xx) outcome with Retry-After
//!    pauses *all* calls until `finished + retry_after` (clamped to 1 day,
//!    sip-signals.md 4.8). Route failures (`unavailable`, `timeout`) back
//!    off exponentially: the 2nd in a row pauses 30 s, then 60 s, 120 s, …
//!    capped at `every`. Calls that were already in flight when a pause was
//!    imposed belong to the same episode and neither raise nor reset the
//!    level (ten concurrent calls dying together give one 30 s pause, not
//!    eight doublings). Any later call that got a final answer or alerted (`ringing`,
//!    `answered`, every 4xx/6xx outcome, `intercepted`, `failed`) resets it.
//!    `auth_failed` counts as a route failure that pauses from the *first*
//!    occurrence: bad credentials do not fix themselves, and hammering a
//!    trunk with them can lock the account. A config reload clears the
//!    backoff (the operator may have fixed the trunk) but keeps a
//!    Retry-After pause (the far end asked for it).
//! 7. **Fairness.** The heap is ordered by due time, then by the original
//!    (unmoved) due time: when the budget, the pace, a pause or the window
//!    hold calls back, the most overdue pair goes first.
//!
//! Cost: `poll` is O(log n) per started call (plus O(log n) once per day for
//! each pair the budget defers, and once per opening for each pair carried
//! over), `on_finished` O(log n), `next_wakeup` O(1); the window's open span
//! is cached so most calls do no timezone lookup at all. State is about
//! 430 bytes per pair (2 MiB at 1,000 numbers × 5 carriers). Figures:
//! `docs/PERFORMANCE.md`, "Scheduler (issue 4)"; the 30-day acceptance
//! simulation is [`sim`].
//!
//! # Contract with the runner
//!
//! - `now` never goes backwards; the runner passes the wall clock
//!   (`clock::wall()`) and a `StdRng` from `clock::rng()`.
//! - Every [`Planned`] call is reported to [`Planner::on_finished`] exactly
//!   once, with the time the INVITE went out and the outcome. A call that
//!   could not be placed at all (DNS failure, socket error) is reported as
//!   `Outcome::Timeout`: it is a route failure and backs off.
//! - At start-up the runner passes the store's last start and outcome per
//!   pair and the calls per number since local midnight in `timezone`; if
//!   the store holds a 503 whose Retry-After has not run out, it restores
//!   it with [`Planner::hold_until`].
//! - After a `poll` that returned `None`, sleep until `next_wakeup` (which
//!   ignores `in_flight`: when at `max_concurrent`, wait for a call to end)
//!   or until a call finishes. `now - planned_at` is the scheduler lag.

mod calendar;
mod plan;
pub mod sim;
mod trunk;

#[cfg(test)]
mod tests;

pub use plan::{Pair, PairHistory, Planned, Planner};
