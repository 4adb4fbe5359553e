//! Trunk-wide limits of the planner: the calls-per-second pacer and trunk
//! health (Retry-After pauses, exponential backoff after route failures).
//!
//! Owns only these two small state machines; which pair to call is
//! `plan.rs`'s job. Pure: time comes in as arguments.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::calendar::add;
use crate::classify::Outcome;

/// Longest pause a Retry-After can impose (sip-signals.md 4.8: clamp).
pub(crate) const MAX_RETRY_AFTER_S: u64 = 86_400;
/// First backoff pause after repeated route failures.
pub(crate) const BACKOFF_BASE: TimeDelta = TimeDelta::seconds(30);

/// Paces call starts: consecutive starts at least `1/cps` apart, and never
/// more than `max(1, floor(cps))` starts in any 1-second window.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    spacing: TimeDelta,
    per_second: usize,
    recent: VecDeque<DateTime<Utc>>,
}

impl Pacer {
    /// A pacer for `cps` calls per second (non-finite or non-positive
    /// values are treated as 1).
    pub(crate) fn new(cps: f64) -> Self {
        let cps = if cps.is_finite() && cps > 0.0 {
            cps
        } else {
            1.0
        };
        // Round the spacing up so that the pace never exceeds `cps`.
        let spacing_ns = (1e9 / cps).ceil();
        let spacing = TimeDelta::nanoseconds(spacing_ns.min(i64::MAX as f64) as i64);
        let per_second = (cps.floor() as usize).max(1);
        Self {
            spacing,
            per_second,
            recent: VecDeque::with_capacity(per_second),
        }
    }

    /// The same history of starts under a new `cps`.
    pub(crate) fn with_cps(&self, cps: f64) -> Self {
        let mut p = Pacer::new(cps);
        let skip = self.recent.len().saturating_sub(p.per_second);
        p.recent.extend(self.recent.iter().skip(skip).copied());
        p
    }

    /// Earliest instant the next call may start.
    pub(crate) fn next_allowed(&self) -> Option<DateTime<Utc>> {
        let last = self.recent.back().map(|t| add(*t, self.spacing));
        let window = if self.recent.len() >= self.per_second {
            self.recent.front().map(|t| add(*t, TimeDelta::seconds(1)))
        } else {
            None
        };
        last.max(window)
    }

    /// `true` when a call may start at `now`.
    pub(crate) fn allows(&self, now: DateTime<Utc>) -> bool {
        self.next_allowed().is_none_or(|t| now >= t)
    }

    /// Note a start at `now`.
    pub(crate) fn record(&mut self, now: DateTime<Utc>) {
        if self.recent.len() >= self.per_second {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
    }
}

/// What an outcome says about the route to the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteSignal {
    /// A final answer (or alerting) came back through the trunk: the route works.
    Reached,
    /// 5xx or no final response: the route (trunk, next hop) is in trouble.
    Failure,
    /// Our credentials were refused: a misconfigured trunk.
    Auth,
}

/// Classify an outcome for trunk health.
pub(crate) fn route_signal(outcome: Outcome) -> RouteSignal {
    match outcome {
        Outcome::Unavailable | Outcome::Timeout => RouteSignal::Failure,
        Outcome::AuthFailed => RouteSignal::Auth,
        Outcome::Ringing
        | Outcome::Answered
        | Outcome::Declined
        | Outcome::NetworkBlocked
        | Outcome::Rejected
        | Outcome::Unwanted
        | Outcome::Forbidden
        | Outcome::Busy
        | Outcome::NotFound
        | Outcome::NoAnswer
        | Outcome::Intercepted
        | Outcome::Failed => RouteSignal::Reached,
    }
}

/// Trunk-wide pauses.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrunkHealth {
    /// End of the pause a 503 Retry-After asked for.
    retry_after_until: Option<DateTime<Utc>>,
    /// End of the current backoff pause.
    backoff_until: Option<DateTime<Utc>>,
    /// Consecutive route failures (auth failures included).
    failures: u32,
    /// When the backoff level was last raised: calls started before it
    /// belong to the same episode and neither raise nor reset it.
    raised_at: Option<DateTime<Utc>>,
}

impl TrunkHealth {
    /// End of the current (or most recent) pause, if any was ever imposed.
    pub(crate) fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.retry_after_until.max(self.backoff_until)
    }

    /// `true` while no call may start.
    pub(crate) fn is_paused(&self, now: DateTime<Utc>) -> bool {
        self.paused_until().is_some_and(|t| now < t)
    }

    /// Consecutive route failures counted so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Learn from one finished call. `cap` is the longest backoff pause
    /// (`every`).
    pub(crate) fn on_outcome(
        &mut self,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        outcome: Outcome,
        retry_after_s: Option<u64>,
        cap: TimeDelta,
    ) {
        if outcome == Outcome::Unavailable
            && let Some(ra) = retry_after_s
            && ra > 0
        {
            let secs = i64::try_from(ra.min(MAX_RETRY_AFTER_S)).unwrap_or(i64::MAX);
            let until = add(finished, TimeDelta::seconds(secs));
            self.retry_after_until = self.retry_after_until.max(Some(until));
        }
        let fresh = self.raised_at.is_none_or(|r| started >= r);
        let signal = route_signal(outcome);
        if !fresh {
            return;
        }
        match signal {
            RouteSignal::Reached => self.failures = 0,
            RouteSignal::Failure | RouteSignal::Auth => {
                self.failures = self.failures.saturating_add(1);
                // A route failure pauses from the second in a row; an auth
                // failure from the first (credentials do not fix themselves).
                let first_paused = if signal == RouteSignal::Auth { 1 } else { 2 };
                if self.failures >= first_paused {
                    let step = (self.failures - first_paused).min(30);
                    let pause = BACKOFF_BASE
                        .checked_mul(1 << step)
                        .unwrap_or(cap)
                        .min(cap)
                        .max(TimeDelta::zero());
                    let until = add(finished, pause);
                    self.backoff_until = self.backoff_until.max(Some(until));
                    self.raised_at = Some(finished);
                }
            }
        }
    }

    /// Pause until at least `until`, as if the far end had asked for it.
    pub(crate) fn hold_until(&mut self, until: DateTime<Utc>) {
        self.retry_after_until = self.retry_after_until.max(Some(until));
    }

    /// A config reload: forget the backoff (the operator may have fixed the
    /// trunk) but keep the far end's explicit Retry-After.
    pub(crate) fn reset_backoff(&mut self) {
        self.backoff_until = None;
        self.failures = 0;
        self.raised_at = None;
    }
}
