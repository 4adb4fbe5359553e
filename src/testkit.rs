//! Test support, not API: fixture builders shared by the unit tests of
//! `reputation` and `http` and by the integration test `tests/dashboard.rs`.
//! Hidden from the docs and free to change at any time.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::classify::Outcome;
use crate::daemon::snapshot::{Metrics, NumberView, Snapshot};
use crate::probe::ProbeRecord;
use crate::reputation::{Baseline, NumberReport, Params, assess};

/// The fixed "now" of the fixtures: `2025-11-21T12:00:00Z`.
pub fn now() -> DateTime<Utc> {
    "2025-11-21T12:00:00Z".parse().expect("now")
}

/// `2025-11-20T00:00:00Z` plus `h` hours (all before `now`), as RFC 3339
/// with milliseconds.
pub fn hour(h: i64) -> String {
    let base: DateTime<Utc> = "2025-11-20T00:00:00Z".parse().expect("base");
    (base + TimeDelta::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A minimal record with id `p-{number}-{carrier}-{h:03}` from `number` to
/// `carrier`, `h` hours after the base, with `outcome` and final `status`;
/// it rang only when the outcome is ringing/answered.
pub fn rec(
    number: &str,
    carrier: &str,
    h: i64,
    outcome: Outcome,
    status: Option<u16>,
) -> ProbeRecord {
    let v = json!({
        "id": format!("p-{number}-{carrier}-{h:03}"),
        "caller_id": number,
        "carrier": carrier,
        "destination": "+13125550100",
        "started_at": hour(h),
        "call_id": format!("c-{carrier}-{h}"),
        "outcome": outcome,
        "rang": outcome.is_ok(),
        "status": status,
        "duration_ms": 1000,
        "reasons": [],
        "warnings": [],
        "anomalies": [],
        "provisionals": [],
        "cancelled_by_us": outcome == Outcome::Ringing,
        "answered_dialogs": 0,
        "strays": 0,
        "trunk": "192.0.2.1:5060",
        "local": "192.0.2.2:5060"
    });
    serde_json::from_value(v).expect("minimal ProbeRecord")
}

/// The ATIS-1000099 redress contacts of a 603+.
#[derive(Debug, Clone, Copy)]
pub struct Redress<'a> {
    /// The redress URL.
    pub url: &'a str,
    /// The redress phone number.
    pub tel: &'a str,
    /// The redress e-mail address, if any.
    pub email: Option<&'a str>,
    /// The analytics entity's identifier.
    pub id: &'a str,
}

/// `r` as a 603+ "Network Blocked" carrying `redress`.
pub fn with_redress(mut r: ProbeRecord, redress: Redress<'_>) -> ProbeRecord {
    r.reason_phrase = Some("Network Blocked".to_owned());
    r.analytics = Some(
        serde_json::from_value(json!({
            "standard": "ATIS-1000099",
            "url": redress.url,
            "tel": redress.tel,
            "email": redress.email,
            "id": redress.id,
            "location": "RLN",
            "phrase": "Network Blocked",
            "version": "analytics1",
            "extra": [],
            "contacts": null,
            "truncated": false
        }))
        .expect("analytics"),
    );
    r
}

/// `assess` of `number` over `carriers` at the fixed `now`.
pub fn report(
    number: &str,
    carriers: &[&str],
    own: &[ProbeRecord],
    baselines: &[Baseline],
    params: &Params,
) -> NumberReport {
    let carriers: Vec<String> = carriers.iter().map(|s| (*s).to_owned()).collect();
    assess(number, &carriers, own, baselines, now(), params)
}

/// The default parameters of the fixtures: a 30-day window.
pub fn params() -> Params {
    Params::new(TimeDelta::days(30))
}

/// A snapshot generated at `now`, started at `started_at`, of `carriers`
/// and `numbers` (number, label, report).
pub fn snapshot(
    started_at: &str,
    carriers: &[&str],
    numbers: Vec<(&str, Option<&str>, NumberReport)>,
    metrics: Metrics,
) -> Snapshot {
    Snapshot {
        generated_at: "2025-11-21T12:00:00.000Z".to_owned(),
        started_at: started_at.to_owned(),
        carriers: carriers.iter().map(|c| (*c).to_owned()).collect(),
        numbers: numbers
            .into_iter()
            .map(|(number, label, report)| NumberView {
                number: number.to_owned(),
                label: label.map(str::to_owned),
                report,
            })
            .collect(),
        metrics,
    }
}

/// The state of `number` at `carrier` in `s`, or `"missing"`.
pub fn state_of(s: &Snapshot, number: &str, carrier: &str) -> &'static str {
    s.number(number)
        .and_then(|v| v.report.carriers.iter().find(|c| c.carrier == carrier))
        .map_or("missing", |c| c.state.as_str())
}
