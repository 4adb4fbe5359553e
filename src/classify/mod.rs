//! Classification of a finished test call: the outcome table of
//! ARCHITECTURE.md and domain/sip-signals.md §0 made executable.
//!
//! Owns `classify` (pure: call facts plus the final response in, an
//! [`Outcome`] with the parsed Reason, analytics, Retry-After and Warning
//! data out), the outcome taxonomy ([`outcome`]) and the analytics object
//! ([`analytics`]). It never reads the clock, never does I/O, never follows a
//! redress URL and never panics. Odd but survivable inputs become
//! `anomalies` strings, not errors (a 486 is a value, not an `Err`).
//!
//! | final response | outcome |
//! |---|---|
//! | none | `ringing` if we cancelled after a 180, else `timeout` |
//! | 2xx | `answered` |
//! | 603 + Reason text `v=analytics…` (any phrase, SIP or Q.850) | `network_blocked`, ATIS-1000099 |
//! | 603 phrase `Network Blocked`, no ATIS Reason | `network_blocked`, phrase-only |
//! | other 603 | `declined` |
//! | 608 | `rejected` (analytics RFC8688 when a jwscard Call-Info is present) |
//! | 607 | `unwanted` |
//! | 403 | `forbidden` |
//! | 486, 600 | `busy` |
//! | 404, 410, 484, 604 | `not_found` |
//! | 480, 408 | `no_answer` |
//! | 487 after our CANCEL | `ringing` if it rang, else `timeout` |
//! | 487 not caused by us | `no_answer` |
//! | 5xx | `unavailable` |
//! | 401, 407 | `auth_failed` |
//! | anything else (1xx as final, 3xx, other 4xx, 488, 606, …) | `failed` |
//!
//! An ATIS Reason on a non-603 response does not make a 603+: the code
//! decides and an anomaly is recorded.

pub mod analytics;
pub mod outcome;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use analytics::{Analytics, Standard};
pub use outcome::{Outcome, UnknownOutcome};

use crate::sip::call_info::jwscard_contacts;
use crate::sip::message::Message;
use crate::sip::reason::{ReasonValue, parse_reason};
use crate::sip::retry_after::parse_retry_after;
use crate::sip::warning::{Warning, parse_warnings};

/// What the call did, as seen by the UAC; [`classify`] turns it into an
/// [`Outcome`].
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    /// Final response of the last INVITE transaction (`None`: no final).
    pub final_response: Option<&'a Message>,
    /// A 180 (or 183 with ringback) arrived before the end.
    pub rang: bool,
    /// We sent CANCEL (ring time elapsed or we gave up).
    pub cancelled_by_us: bool,
    /// A 401/407 could not be satisfied (no credentials, or challenged again).
    pub auth_exhausted: bool,
    /// The early media held a Special Information Tone or an announcement
    /// (an intercept) before the end.
    pub intercepted: bool,
}

/// The verdict on one call plus the signalling data it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The outcome.
    pub outcome: Outcome,
    /// Status code of the final response.
    pub status: Option<u16>,
    /// Reason phrase of the final response, exactly as sent.
    pub reason_phrase: Option<String>,
    /// Redress data of a network block (603+, phrase-only 603, 608 jwscard).
    pub analytics: Option<Analytics>,
    /// Every Reason value of the final response, in order.
    pub reasons: Vec<ReasonValue>,
    /// Retry-After of the final response in seconds, clamped to one day.
    pub retry_after_s: Option<u64>,
    /// Every Warning value of the final response.
    pub warnings: Vec<Warning>,
    /// The cause of the first Q.850 Reason value.
    pub q850_cause: Option<u32>,
    /// Odd but survivable things seen while classifying (`key: detail`).
    pub anomalies: Vec<String>,
}

/// Classifies a finished call. Pure and total: every input gives an outcome.
///
/// An intercept heard in early media (SIT or announcement) gives
/// `intercepted`, unless a more specific final answer wins: a 2xx
/// (`answered`), 603+ (`network_blocked`), 608 (`rejected`) or 607
/// (`unwanted`). A 404 after "the number you have dialed is not in service"
/// stays `intercepted`: the SIT code says more than the code.
#[must_use]
pub fn classify(facts: &CallFacts<'_>) -> Classification {
    let mut c = classify_signalling(facts);
    let more_specific = matches!(
        c.outcome,
        Outcome::Answered | Outcome::NetworkBlocked | Outcome::Rejected | Outcome::Unwanted
    );
    if facts.intercepted && !more_specific {
        c.outcome = Outcome::Intercepted;
    }
    c
}

/// The classification from signalling alone.
fn classify_signalling(facts: &CallFacts<'_>) -> Classification {
    let Some(msg) = facts.final_response else {
        let outcome = if facts.cancelled_by_us && facts.rang {
            Outcome::Ringing
        } else {
            Outcome::Timeout
        };
        return Classification {
            outcome,
            status: None,
            reason_phrase: None,
            analytics: None,
            reasons: Vec::new(),
            retry_after_s: None,
            warnings: Vec::new(),
            q850_cause: None,
            anomalies: Vec::new(),
        };
    };

    let mut anomalies = Vec::new();
    let status = msg.status();
    let phrase = msg.reason_phrase().unwrap_or("");
    let reasons: Vec<ReasonValue> = msg
        .header_all("Reason")
        .into_iter()
        .flat_map(parse_reason)
        .collect();
    let warnings: Vec<Warning> = msg
        .header_all("Warning")
        .into_iter()
        .flat_map(parse_warnings)
        .collect();
    let q850_cause = reasons
        .iter()
        .find(|r| r.is_protocol("Q.850"))
        .and_then(|r| r.cause);
    let retry_after_s = msg.header("Retry-After").and_then(|raw| {
        let parsed = parse_retry_after(raw);
        match &parsed {
            None => anomalies.push(format!("retry_after_unparseable: {raw}")),
            Some(r) if r.clamped => anomalies.push(format!("retry_after_clamped: {raw}")),
            Some(_) => {}
        }
        parsed.map(|r| r.seconds)
    });
    if reasons.iter().any(|r| r.unterminated) {
        anomalies.push("reason_unterminated_quote".to_owned());
    }
    let atis = reasons
        .iter()
        .find_map(|r| r.analytics().map(|text| (r, text)));
    let non_603 = status.filter(|&code| code != 603);
    if let Some((code, (reason, _))) = non_603.zip(atis.as_ref()) {
        anomalies.push(format!("atis_reason_on_non_603: {code} {}", reason.raw));
    }

    let mut analytics = None;
    let outcome = match status {
        None => {
            anomalies.push("final_is_not_a_response".to_owned());
            Outcome::Failed
        }
        Some(code @ 100..=199) => {
            anomalies.push(format!("final_is_provisional: {code}"));
            Outcome::Failed
        }
        Some(200..=299) => Outcome::Answered,
        Some(603) => match atis {
            Some((reason, text)) => {
                if !is_network_blocked_phrase(phrase) {
                    anomalies.push(format!("atis_phrase_rewritten: {phrase}"));
                }
                analytics = Some(Analytics::atis(reason, text, phrase, &mut anomalies));
                Outcome::NetworkBlocked
            }
            None if is_network_blocked_phrase(phrase) => {
                analytics = Some(Analytics::phrase_only(phrase));
                Outcome::NetworkBlocked
            }
            None => Outcome::Declined,
        },
        Some(608) => {
            analytics = jwscard_contacts(&msg.header_all("Call-Info"))
                .map(|contacts| Analytics::rfc8688(contacts, phrase));
            Outcome::Rejected
        }
        Some(607) => Outcome::Unwanted,
        Some(403) => Outcome::Forbidden,
        Some(486 | 600) => Outcome::Busy,
        Some(404 | 410 | 484 | 604) => Outcome::NotFound,
        Some(480 | 408) => Outcome::NoAnswer,
        Some(487) => match (facts.cancelled_by_us, facts.rang) {
            (true, true) => Outcome::Ringing,
            (true, false) => Outcome::Timeout,
            (false, _) => Outcome::NoAnswer,
        },
        Some(500..=599) => Outcome::Unavailable,
        Some(code @ (401 | 407)) => {
            if !facts.auth_exhausted {
                anomalies.push(format!("auth_challenge_not_exhausted: {code}"));
            }
            Outcome::AuthFailed
        }
        Some(_) => Outcome::Failed,
    };
    Classification {
        outcome,
        status,
        reason_phrase: msg.reason_phrase().map(str::to_owned),
        analytics,
        reasons,
        retry_after_s,
        warnings,
        q850_cause,
        anomalies,
    }
}

/// `Network Blocked`, trimmed, case-insensitive, inner whitespace collapsed.
fn is_network_blocked_phrase(phrase: &str) -> bool {
    let mut words = phrase.split_whitespace();
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("network"))
        && words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("blocked"))
        && words.next().is_none()
}
