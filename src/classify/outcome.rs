//! The outcome taxonomy of a test call: the stable `outcome` strings of the
//! user-facing contract (ARCHITECTURE.md). Owns `Outcome` and its string
//! forms only; deciding which outcome a call had is `classify`'s job.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a test call did, from the prober's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The far end alerted (180, or 183 with ringback) and we hung up.
    Ringing,
    /// A 2xx arrived (human, voicemail or IVR).
    Answered,
    /// 603 without 603+ markers.
    Declined,
    /// 603+ (ATIS-1000099): analytics-based network block.
    NetworkBlocked,
    /// 608 Rejected (RFC 8688): an intermediary rejected the call.
    Rejected,
    /// 607 Unwanted (RFC 8197): the called party marked the call unwanted.
    Unwanted,
    /// 403 Forbidden.
    Forbidden,
    /// 486 Busy Here or 600 Busy Everywhere.
    Busy,
    /// 404, 410, 484 or 604: the number is not in service or invalid.
    NotFound,
    /// 480, 408, or a 487 not caused by our CANCEL.
    NoAnswer,
    /// Any 5xx.
    Unavailable,
    /// Early media carried a SIT or an announcement.
    Intercepted,
    /// 401/407 that could not be satisfied.
    AuthFailed,
    /// No final response (or we gave up before the far end alerted).
    Timeout,
    /// Anything else (3xx, other 4xx, 488, 606, ...).
    Failed,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 15] = [
        Outcome::Ringing,
        Outcome::Answered,
        Outcome::Declined,
        Outcome::NetworkBlocked,
        Outcome::Rejected,
        Outcome::Unwanted,
        Outcome::Forbidden,
        Outcome::Busy,
        Outcome::NotFound,
        Outcome::NoAnswer,
        Outcome::Unavailable,
        Outcome::Intercepted,
        Outcome::AuthFailed,
        Outcome::Timeout,
        Outcome::Failed,
    ];

    /// The stable snake_case name (the same string serde produces).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ringing => "ringing",
            Outcome::Answered => "answered",
            Outcome::Declined => "declined",
            Outcome::NetworkBlocked => "network_blocked",
            Outcome::Rejected => "rejected",
            Outcome::Unwanted => "unwanted",
            Outcome::Forbidden => "forbidden",
            Outcome::Busy => "busy",
            Outcome::NotFound => "not_found",
            Outcome::NoAnswer => "no_answer",
            Outcome::Unavailable => "unavailable",
            Outcome::Intercepted => "intercepted",
            Outcome::AuthFailed => "auth_failed",
            Outcome::Timeout => "timeout",
            Outcome::Failed => "failed",
        }
    }

    /// True when the call reached the called party: `ringing` or `answered`.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ringing | Outcome::Answered)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the outcome names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome {0:?}")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_round_trip() {
        for o in Outcome::ALL {
            let json = serde_json::to_string(&o).expect("serialize");
            assert_eq!(json, format!("\"{}\"", o.as_str()));
            let back: Outcome = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, o);
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
            assert_eq!(o.to_string(), o.as_str());
        }
        assert_eq!(Outcome::NetworkBlocked.as_str(), "network_blocked");
        assert_eq!(Outcome::AuthFailed.as_str(), "auth_failed");
        assert_eq!(Outcome::NotFound.as_str(), "not_found");
        assert_eq!(Outcome::NoAnswer.as_str(), "no_answer");
        assert_eq!(
            "Busy".parse::<Outcome>(),
            Err(UnknownOutcome("Busy".to_owned()))
        );
    }

    #[test]
    fn only_ringing_and_answered_are_ok() {
        let ok: Vec<Outcome> = Outcome::ALL.into_iter().filter(Outcome::is_ok).collect();
        assert_eq!(ok, vec![Outcome::Ringing, Outcome::Answered]);
    }
}
