//! The UAC's timers as an enum-indexed table (quinn's `TimerTable`).
//!
//! Values are absolute instants supplied by the caller; nothing here reads a
//! clock.

use std::time::Instant;

/// Every timer the INVITE client runs (besides per-dialog BYE timers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// RFC 3261 Timer A: INVITE retransmission (UDP), starts at T1, doubles.
    A,
    /// RFC 3261 Timer B: 64·T1 without any response in Calling.
    B,
    /// Our TU timer: no 180 and no final this long after the INVITE → give up (CANCEL).
    Alert,
    /// `ring_seconds` after the first 180 → CANCEL.
    Ring,
    /// RFC 3261 Timer E for our CANCEL: T1 doubling, capped at T2.
    CancelRetransmit,
    /// RFC 3261 §9.1: no final response 64·T1 after CANCEL → consider it cancelled.
    CancelGiveUp,
    /// How long we keep absorbing retransmitted finals / forked 2xx once the
    /// outcome is known (our shortened Timer D / Timer M).
    Linger,
}

impl Timer {
    pub(crate) const ALL: [Timer; 7] = [
        Timer::A,
        Timer::B,
        Timer::Alert,
        Timer::Ring,
        Timer::CancelRetransmit,
        Timer::CancelGiveUp,
        Timer::Linger,
    ];
}

/// Deadlines indexed by [`Timer`].
#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable {
    data: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.data[timer as usize] = Some(at);
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.data[timer as usize]
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.data[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.data = Default::default();
    }

    /// `true` when `timer` is set and due at `now`.
    pub(crate) fn is_expired(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }
}
