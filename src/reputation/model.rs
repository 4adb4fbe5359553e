//! The value types of the reputation module: inputs ([`Baseline`],
//! [`Params`]) and the report ([`NumberReport`] and its per-carrier
//! [`CarrierReport`]). The JSON form of `NumberReport` is what
//! `history --json` and `check --json` print; the per-carrier keys `carrier`,
//! `state`, `attribution`, `since`, `last_outcome` and `redress` are part of
//! the user-facing contract. Data only: no logic beyond defaults and names.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::counts::OutcomeCounts;
use crate::classify::Outcome;

/// The reputation of one number at one carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The number alerts there (and any earlier incident has cleared).
    Clean,
    /// Plain 603 without ringing, 607, 403, or an answer-mix drift.
    Suspect,
    /// 603+ or 608: a definitive analytics decision.
    Blocked,
    /// No number-relevant evidence in the window.
    Unknown,
}

impl State {
    /// The stable name (the same string serde produces).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Clean => "clean",
            State::Suspect => "suspect",
            State::Blocked => "blocked",
            State::Unknown => "unknown",
        }
    }
}

/// Whom a failure is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// This caller ID fails at a carrier where other caller IDs ring.
    Number,
    /// Other caller IDs fail the same way at that carrier (the carrier or the
    /// route to it).
    Carrier,
    /// This number fails the same route-class way on every carrier it was
    /// probed at: suspect our trunk.
    Trunk,
    /// Not enough comparison data (no other caller ID probed that carrier).
    Inconclusive,
}

impl Attribution {
    /// The stable name (the same string serde produces).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Attribution::Number => "number",
            Attribution::Carrier => "carrier",
            Attribution::Trunk => "trunk",
            Attribution::Inconclusive => "inconclusive",
        }
    }
}

/// The `check` answer for a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Clean with fresh evidence on every required carrier (exit 0).
    Ready,
    /// Blocked or suspect on at least one carrier (exit 1).
    NotReady,
    /// Otherwise: some required carrier lacks fresh clean evidence (exit 3).
    Unknown,
}

impl Verdict {
    /// The stable name (the same string serde produces).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::NotReady => "not_ready",
            Verdict::Unknown => "unknown",
        }
    }

    /// The documented `check` exit code: 0 ready, 1 not ready, 3 unknown.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Ready => 0,
            Verdict::NotReady => 1,
            Verdict::Unknown => 3,
        }
    }
}

/// What OTHER caller IDs got at one carrier in the same window: the
/// comparison data for attribution and answer-mix drift. Built by the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Carrier name from the configuration.
    pub carrier: String,
    /// Probes by other caller IDs at this carrier in the window.
    pub probes: u64,
    /// Those probes per outcome.
    pub by_outcome: OutcomeCounts,
    /// How many distinct other caller IDs were probed there.
    pub callers: u64,
}

/// Tuning of [`assess`](super::assess).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// How far back from `now` probes are considered (the `--since` value).
    pub window: TimeDelta,
    /// Consecutive alerting probes needed to return to `clean` from
    /// `blocked` or `suspect` (default 2).
    pub clean_after: u32,
    /// Evidence newer than this counts as fresh for the `check` verdict
    /// (default: the window).
    pub fresh: TimeDelta,
}

impl Params {
    /// Defaults for a window: `clean_after` 2, `fresh` = `window`.
    #[must_use]
    pub fn new(window: TimeDelta) -> Self {
        Self {
            window,
            clean_after: 2,
            fresh: window,
        }
    }
}

impl Default for Params {
    /// A 30-day window (the `history` default), `clean_after` 2.
    fn default() -> Self {
        Self::new(TimeDelta::try_days(30).unwrap_or(TimeDelta::MAX))
    }
}

/// The reputation of one number across carriers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberReport {
    /// The caller ID, as given.
    pub number: String,
    /// `now` (RFC 3339 UTC, milliseconds).
    pub generated_at: String,
    /// `now - window` (RFC 3339 UTC, milliseconds).
    pub window_start: String,
    /// Freshness horizon for the verdict: `now - fresh` (RFC 3339 UTC).
    pub fresh_after: String,
    /// One entry per carrier: the configured carriers in their order, then
    /// carriers seen only in the records, by name.
    pub carriers: Vec<CarrierReport>,
    /// The `check` answer.
    pub verdict: Verdict,
    /// Records ignored because `started_at` did not parse as RFC 3339.
    pub skipped_records: u64,
}

/// The reputation of one number at one carrier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarrierReport {
    /// Carrier name (from the configuration, or as recorded).
    pub carrier: String,
    /// Whether the carrier is in the configuration (else: seen in records only).
    pub configured: bool,
    /// The current state.
    pub state: State,
    /// Whom the trouble is attributed to; `null` when clean, and for an
    /// unknown pair without route failures.
    pub attribution: Option<Attribution>,
    /// When the current state began (RFC 3339); `null` when unknown.
    pub since: Option<String>,
    /// Outcome of the newest probe (any kind).
    pub last_outcome: Option<Outcome>,
    /// Final status code of the newest probe.
    pub last_status: Option<u16>,
    /// When the newest probe started (RFC 3339).
    pub last_at: Option<String>,
    /// Id of the newest probe (for `ringwatch evidence`).
    pub last_probe_id: Option<String>,
    /// When the newest number-relevant probe (alerting, block, suspect)
    /// started; freshness is judged on this.
    pub last_evidence_at: Option<String>,
    /// `last_evidence_at` is at or after the report's `fresh_after`.
    pub fresh: bool,
    /// Probes per outcome in the window.
    pub counts: OutcomeCounts,
    /// Probes in the window.
    pub probes: u64,
    /// ASR, NER and alert rate over the window.
    pub rates: Rates,
    /// Every distinct redress contact of a 603+/608 seen in the window.
    pub redress: Redress,
    /// Every distinct 603+ `location` token (RFC 8606) seen in the window.
    pub locations: Vec<String>,
    /// Periods away from clean, oldest first.
    pub incidents: Vec<Incident>,
    /// One character per probe, oldest first, the last 60 (legend in
    /// [`timeline_char`](super::timeline_char)).
    pub timeline: String,
    /// The counts behind the attribution.
    pub evidence: AttributionEvidence,
    /// One sentence: why this state and attribution.
    pub reason: String,
}

/// Call-completion rates over the window; `null` when there were no probes.
/// `attempts` is every probe of the number at the carrier in the window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// Answer-seizure ratio (ITU-T E.425): `answered / attempts`. Test calls
    /// are mostly not answered by design, so ASR is informational.
    pub asr: Option<f64>,
    /// Network effectiveness ratio (ITU-T E.425): calls the network delivered
    /// to the called party, whatever the user then did, over `attempts`. A
    /// probe is effective when it rang, or ended `answered`, `ringing`,
    /// `busy`, `no_answer`, `declined` (603 without 603+ markers) or
    /// `unwanted` (607). Network blocks (603+, 608), 403, not found,
    /// intercepts, 5xx, auth failures, timeouts and other failures are not.
    pub ner: Option<f64>,
    /// Alert rate: probes that alerted (`rang`, or ended `ringing` or
    /// `answered`) over `attempts`.
    pub alert: Option<f64>,
}

/// Redress contacts a carrier's block carried (ATIS `url`/`tel`/`email` of a
/// 603+, and the RFC 8688 jCard contacts of a 608), distinct, first seen first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Redress {
    /// Redress web addresses.
    pub url: Vec<String>,
    /// Redress telephone numbers.
    pub tel: Vec<String>,
    /// Redress e-mail addresses.
    pub email: Vec<String>,
}

impl Redress {
    /// True when no contact was seen.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.url.is_empty() && self.tel.is_empty() && self.email.is_empty()
    }
}

/// One period away from `clean`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// The probe that left clean (or the first, non-clean, evidence).
    pub started_at: String,
    /// The probe that completed the recovery; `null` while open.
    pub cleared_at: Option<String>,
    /// The worst state reached (`blocked` over `suspect`).
    pub state: State,
    /// Outcome of the probe that opened the incident.
    pub first_outcome: Outcome,
    /// Probes at this carrier from the opening probe up to, not including,
    /// the probe that cleared it.
    pub probes: u64,
}

/// The counts an attribution rests on. "Failure class": for a `blocked` pair
/// 603+ and 608 (`network_blocked`, `rejected`); for a `suspect` pair the
/// outcomes that raised suspicion in the current incident (`declined`,
/// `unwanted`, `forbidden`, and `busy`/`no_answer` for a drift); for an
/// `unknown` pair the route-class outcomes it got; for a `clean` pair the
/// block and suspect codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AttributionEvidence {
    /// This number's probes at this carrier in the window that count as
    /// failures: negative signals (block, suspect code, drift) for a
    /// non-unknown pair, route-class failures for an unknown pair.
    pub own_failures: u64,
    /// This number's alerting probes at this carrier in the window.
    pub own_alerting: u64,
    /// Other caller IDs' probes at this carrier (the baseline).
    pub others_probes: u64,
    /// Other caller IDs' `ringing` + `answered` probes there.
    pub others_alerting: u64,
    /// Other caller IDs' probes there in the same failure class.
    pub others_failing: u64,
    /// This number's trunk-class failures (the route class `auth_failed`,
    /// `unavailable`, `timeout`, `failed`, `not_found`, `intercepted`, plus
    /// `forbidden`; probes that rang excluded) on all carriers in the window.
    pub trunk_failures: u64,
}
