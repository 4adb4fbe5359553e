//! Calling-window and local-day arithmetic in the schedule's timezone.
//!
//! Owns the mapping between UTC instants and the local wall clock of
//! `[schedule] timezone` (DST-correct through chrono-tz): "is the window
//! open at `t`", "when did it open / when does it next open or close",
//! "when does the next local day start", and spending open window time.
//! Pure: no clock reads, no I/O. Every method is
//! total (no panics): impossible corners fall back to a later instant.

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

use crate::config::CallWindow;

const DAY_SECS: i64 = 86_400;

/// `t + d`, saturating instead of panicking on overflow.
pub(crate) fn add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The window of one schedule in its timezone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Calendar {
    window: CallWindow,
    tz: Tz,
}

impl Calendar {
    /// A calendar for `window` in `tz`.
    pub(crate) fn new(window: CallWindow, tz: Tz) -> Self {
        Self { window, tz }
    }

    fn all_day(&self) -> bool {
        self.window == CallWindow::ALL_DAY
    }

    /// Local wall-clock time of `t`.
    pub(crate) fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.tz).naive_local()
    }

    /// The local calendar date of `t` (the budget's "day").
    pub(crate) fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date()
    }

    /// `true` when a call may start at `t`.
    pub(crate) fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.all_day() || self.window.contains(self.local(t).time())
    }

    /// Nominal length of the window in a 24-hour day (DST days ignored).
    pub(crate) fn window_len(&self) -> TimeDelta {
        let secs = |t: NaiveTime| i64::from(t.num_seconds_from_midnight());
        let start = secs(self.window.start);
        let end = self.window.end.map_or(DAY_SECS, secs);
        let len = (end - start).rem_euclid(DAY_SECS);
        TimeDelta::seconds(if len == 0 { DAY_SECS } else { len })
    }

    /// The first instant at or after local `ndt` that exists: `ndt` itself,
    /// the earlier of two in a repeated (fall-back) hour, or the end of a
    /// spring-forward gap.
    pub(crate) fn resolve(&self, ndt: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = ndt;
        // Gaps are at most a few hours and always end on a whole minute.
        for _ in 0..=(26 * 60) {
            match self.tz.from_local_datetime(&probe) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
                LocalResult::None => {
                    probe = probe
                        .checked_add_signed(TimeDelta::minutes(1))
                        .unwrap_or(NaiveDateTime::MAX);
                    probe = probe.with_second(0).unwrap_or(probe);
                }
            }
        }
        ndt.and_utc()
    }

    fn at(&self, date: NaiveDate, plus_days: u64, time: NaiveTime) -> Option<DateTime<Utc>> {
        let d = date.checked_add_days(Days::new(plus_days))?;
        Some(self.resolve(d.and_time(time)))
    }

    /// Start of the local day after the one containing `t`.
    pub(crate) fn next_midnight(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.at(self.local_date(t), 1, NaiveTime::MIN)
            .filter(|m| *m > t)
            .unwrap_or_else(|| add(t, TimeDelta::days(1)))
    }

    /// `t` when the window is open at `t`, otherwise the next opening.
    pub(crate) fn next_opening(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        if self.is_open(t) {
            return t;
        }
        let date = self.local_date(t);
        for k in 0..=3 {
            if let Some(c) = self.at(date, k, self.window.start)
                && c > t
                && self.is_open(c)
            {
                return c;
            }
        }
        add(t, TimeDelta::days(1))
    }

    /// For `t` inside the window: the instant the window closes (`None` for
    /// a window that never closes).
    pub(crate) fn next_close(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.all_day() {
            return None;
        }
        let date = self.local_date(t);
        let (end, first) = match self.window.end {
            Some(end) => (end, 0),
            None => (NaiveTime::MIN, 1),
        };
        for k in first..=3 {
            if let Some(c) = self.at(date, k, end)
                && c > t
            {
                return Some(c);
            }
        }
        Some(add(t, TimeDelta::days(1)))
    }

    /// The instant reached by spending `d` of open window time from `t`
    /// (starting at the next opening when `t` is outside the window).
    pub(crate) fn add_open_time(&self, t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
        let mut t = self.next_opening(t);
        let mut left = d.max(TimeDelta::zero());
        // Each turn consumes one whole open span; bounded for safety.
        for _ in 0..(2 * 3660) {
            match self.next_close(t) {
                None => return add(t, left),
                Some(close) => {
                    let end = add(t, left);
                    if end < close {
                        return end;
                    }
                    left -= close - t;
                    t = self.next_opening(close);
                }
            }
        }
        t
    }

    /// `true` when `a` and `b` have the same UTC offset (no DST change
    /// between them, assuming at most one change in that time).
    pub(crate) fn same_offset(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        let off = |t: DateTime<Utc>| self.tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        off(a) == off(b)
    }

    /// For `t` inside the window: the instant the open span containing `t`
    /// began (`None` for a window that never closes).
    pub(crate) fn span_start(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.all_day() || !self.is_open(t) {
            return None;
        }
        let date = self.local_date(t);
        let mut best = None;
        for back in 0..=2u64 {
            let Some(d) = date.checked_sub_days(Days::new(back)) else {
                continue;
            };
            let o = self.resolve(d.and_time(self.window.start));
            if o <= t && self.is_open(o) && best.is_none_or(|b| o > b) {
                best = Some(o);
            }
        }
        best
    }
}
