//! The retry policy of webhook delivery, as pure functions: what one attempt's
//! result means ([`Backoff::step`]) and how long to wait before the next one
//! ([`Backoff::delay`]). No clock, no sockets, no randomness: the shell passes
//! the attempt number and a jitter draw, and tests run whole schedules on
//! virtual time.

use std::time::Duration;

/// Exponential backoff with jitter, a cap, honoured `Retry-After` and an
/// attempt limit.
///
/// The nominal delay after failed attempt `n` (1-based) is
/// `base × 2^(n-1)`, capped at `cap`; jitter scales it by 0.8 to 1.2 (and the
/// result is capped again). With the defaults: about 1 s, 2 s, 4 s, … 64 s,
/// and the change is given up after the 8th failed attempt (about 2 min of
/// trying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failed attempt (default 1 s).
    pub base: Duration,
    /// Longest delay between two attempts (default 5 min).
    pub cap: Duration,
    /// Attempts per change, the first included (default 8; 0 acts as 1).
    pub max_attempts: u32,
    /// Longest `Retry-After` honoured on a 429 or 503 (default 5 min); a
    /// larger value is clamped to this.
    pub retry_after_cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_attempts: 8,
            retry_after_cap: Duration::from_secs(300),
        }
    }
}

/// What one delivery attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this status.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The `Retry-After` delay, when the response had one in seconds.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, DNS, TLS, timeout, garbage.
    Transport,
    /// The request cannot be made at all (for example an unparsable URL):
    /// retrying would not help.
    Unsendable,
}

/// Why a change was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// A final status that retrying will not change (4xx other than 429, 3xx,
    /// 1xx).
    Rejected(u16),
    /// The last allowed attempt failed in a retryable way.
    Exhausted,
    /// The request could not be made at all.
    Unsendable,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A 2xx: done.
    Delivered,
    /// Try again after this delay.
    Retry(Duration),
    /// Stop trying this change.
    GiveUp(GiveUp),
}

/// Jitter draws range over `0..=JITTER_MAX` (0 = ×0.8, 500 = ×1.0, 1000 = ×1.2).
pub const JITTER_MAX: u16 = 1000;

impl Backoff {
    /// The delay after failed attempt `failed` (1-based), before jitter
    /// and `Retry-After`: `base × 2^(failed-1)`, at most `cap`.
    #[must_use]
    pub fn nominal(&self, failed: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failed.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay after failed attempt `failed` (1-based), with a jitter draw
    /// `jitter` in `0..=JITTER_MAX` (larger values count as `JITTER_MAX`):
    /// the nominal delay scaled by 0.8 to 1.2, at most `cap`.
    #[must_use]
    pub fn delay(&self, failed: u32, jitter: u16) -> Duration {
        let nominal = self.nominal(failed).as_micros();
        let permille = 800 + u128::from(jitter.min(JITTER_MAX)) * 400 / u128::from(JITTER_MAX);
        let micros = nominal.saturating_mul(permille) / 1000;
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX)).min(self.cap)
    }

    /// Decide what follows attempt number `attempt` (1-based) that got
    /// `result`, with a jitter draw for the delay.
    ///
    /// Success is any 2xx. Network errors, 5xx and 429 are retried until
    /// `max_attempts`; a `Retry-After` on a 429 or 503 is honoured (the
    /// delay is at least that, clamped to `retry_after_cap`). Anything else
    /// is given up at once.
    #[must_use]
    pub fn step(&self, attempt: u32, result: Attempt, jitter: u16) -> Step {
        let retry_after = match result {
            Attempt::Status {
                code: 200..=299, ..
            } => return Step::Delivered,
            Attempt::Status {
                code: 429 | 503,
                retry_after,
            } => retry_after,
            Attempt::Status {
                code: 500..=599, ..
            }
            | Attempt::Transport => None,
            Attempt::Status { code, .. } => return Step::GiveUp(GiveUp::Rejected(code)),
            Attempt::Unsendable => return Step::GiveUp(GiveUp::Unsendable),
        };
        if attempt >= self.max_attempts.max(1) {
            return Step::GiveUp(GiveUp::Exhausted);
        }
        let mut wait = self.delay(attempt, jitter);
        if let Some(asked) = retry_after {
            wait = wait.max(asked.min(self.retry_after_cap));
        }
        Step::Retry(wait)
    }
}

/// Parse a `Retry-After` header value in delay-seconds form (`"120"`).
/// The HTTP-date form and anything else give `None` (plain backoff applies).
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Twenty digits may overflow u64: saturate (the caller clamps anyway).
    Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn status(code: u16) -> Attempt {
        Attempt::Status {
            code,
            retry_after: None,
        }
    }

    /// Drive one change against a scripted receiver on virtual time; returns
    /// the virtual start time of every attempt and the final step.
    fn simulate(
        b: &Backoff,
        mut answer: impl FnMut(u32) -> Attempt,
        jitter: u16,
    ) -> (Vec<Duration>, Step) {
        let mut now = Duration::ZERO;
        let mut starts = Vec::new();
        for attempt in 1..=1000 {
            starts.push(now);
            match b.step(attempt, answer(attempt), jitter) {
                Step::Retry(d) => now += d,
                done => return (starts, done),
            }
        }
        (starts, Step::GiveUp(GiveUp::Exhausted))
    }

    #[test]
    fn schedule_doubles_and_gives_up_after_eight_attempts() {
        let b = Backoff::default();
        let (starts, end) = simulate(&b, |_| status(500), JITTER_MAX / 2);
        let secs: Vec<u64> = starts.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [0, 1, 3, 7, 15, 31, 63, 127]);
        assert_eq!(end, Step::GiveUp(GiveUp::Exhausted));
    }

    #[test]
    fn network_errors_retry_then_success_ends() {
        let b = Backoff::default();
        let (starts, end) = simulate(
            &b,
            |n| {
                if n < 3 {
                    Attempt::Transport
                } else {
                    status(204)
                }
            },
            500,
        );
        assert_eq!(starts, [Duration::ZERO, S, 3 * S]);
        assert_eq!(end, Step::Delivered);
    }

    #[test]
    fn delay_is_capped_even_with_many_attempts() {
        let b = Backoff {
            max_attempts: 100,
            ..Backoff::default()
        };
        assert_eq!(b.delay(9, 500), Duration::from_secs(256));
        assert_eq!(b.delay(10, 500), Duration::from_secs(300));
        assert_eq!(b.delay(64, JITTER_MAX), Duration::from_secs(300));
        assert_eq!(b.delay(u32::MAX, u16::MAX), Duration::from_secs(300));
        assert_eq!(b.nominal(0), S);
        assert_eq!(
            b.step(99, Attempt::Transport, 500),
            Step::Retry(Duration::from_secs(300))
        );
        assert_eq!(
            b.step(99, Attempt::Transport, 0),
            Step::Retry(Duration::from_secs(240))
        );
        assert_eq!(
            b.step(100, Attempt::Transport, 0),
            Step::GiveUp(GiveUp::Exhausted)
        );
    }

    #[test]
    fn jitter_spreads_within_twenty_percent() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, 0), Duration::from_millis(3200));
        assert_eq!(b.delay(3, 500), Duration::from_millis(4000));
        assert_eq!(b.delay(3, JITTER_MAX), Duration::from_millis(4800));
        let fast = Backoff {
            base: Duration::from_millis(10),
            ..Backoff::default()
        };
        assert_eq!(fast.delay(1, 0), Duration::from_millis(8));
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_and_clamped() {
        let b = Backoff::default();
        let ra = |code, secs| Attempt::Status {
            code,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            b.step(1, ra(429, 30), 500),
            Step::Retry(Duration::from_secs(30))
        );
        assert_eq!(
            b.step(1, ra(503, 30), 500),
            Step::Retry(Duration::from_secs(30))
        );
        // Shorter than the backoff: the backoff wins.
        assert_eq!(
            b.step(5, ra(429, 1), 500),
            Step::Retry(Duration::from_secs(16))
        );
        // Absurd values are clamped.
        assert_eq!(
            b.step(1, ra(429, 86_400), 500),
            Step::Retry(Duration::from_secs(300))
        );
        // Other 5xx: Retry-After ignored.
        assert_eq!(b.step(1, ra(500, 30), 500), Step::Retry(S));
        // A 429 on the last attempt still ends it.
        assert_eq!(b.step(8, ra(429, 1), 500), Step::GiveUp(GiveUp::Exhausted));
    }

    #[test]
    fn client_errors_are_not_retried() {
        let b = Backoff::default();
        for code in [400, 401, 403, 404, 410, 413, 301, 302, 100] {
            assert_eq!(
                b.step(1, status(code), 500),
                Step::GiveUp(GiveUp::Rejected(code)),
                "{code}"
            );
        }
        assert_eq!(b.step(1, status(429), 500), Step::Retry(S));
        assert_eq!(b.step(1, status(502), 500), Step::Retry(S));
        assert_eq!(
            b.step(1, Attempt::Unsendable, 500),
            Step::GiveUp(GiveUp::Unsendable)
        );
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(b.step(1, status(code), 500), Step::Delivered);
        }
    }

    #[test]
    fn zero_attempts_means_one() {
        let b = Backoff {
            max_attempts: 0,
            ..Backoff::default()
        };
        assert_eq!(
            b.step(1, Attempt::Transport, 0),
            Step::GiveUp(GiveUp::Exhausted)
        );
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("123456789012345678901"), None);
    }
}
