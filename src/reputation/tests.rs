//! Unit tests of `assess` and the renderers on hand-built probe records and a
//! fixed `now`.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::*;
use crate::classify::Outcome;
use crate::probe::ProbeRecord;
use crate::testkit::{self, Redress, hour, params, report, with_redress};

const NUM: &str = "+12025550143";

fn status_of(o: Outcome) -> Option<u16> {
    match o {
        Outcome::Ringing => Some(487),
        Outcome::Answered => Some(200),
        Outcome::Declined | Outcome::NetworkBlocked => Some(603),
        Outcome::Rejected => Some(608),
        Outcome::Unwanted => Some(607),
        Outcome::Forbidden => Some(403),
        Outcome::Busy => Some(486),
        Outcome::NotFound => Some(404),
        Outcome::NoAnswer => Some(480),
        Outcome::Unavailable => Some(503),
        Outcome::AuthFailed => Some(407),
        Outcome::Failed => Some(488),
        Outcome::Intercepted | Outcome::Timeout => None,
    }
}

/// A record at `carrier`, `h` hours after the base, with `outcome`; it rang
/// only when the outcome is ringing/answered.
fn rec(carrier: &str, h: i64, outcome: Outcome) -> ProbeRecord {
    let mut r = testkit::rec(NUM, carrier, h, outcome, status_of(outcome));
    r.id = format!("p-{carrier}-{h:03}");
    r
}

fn ring(carrier: &str, h: i64) -> ProbeRecord {
    rec(carrier, h, Outcome::Ringing)
}

/// A 603+ with ATIS redress data.
fn block(carrier: &str, h: i64, url: &str, tel: &str) -> ProbeRecord {
    with_redress(
        rec(carrier, h, Outcome::NetworkBlocked),
        Redress {
            url,
            tel,
            email: None,
            id: "abc",
        },
    )
}

fn declined_after_ring(carrier: &str, h: i64) -> ProbeRecord {
    let mut r = rec(carrier, h, Outcome::Declined);
    r.rang = true;
    r
}

fn run(carriers: &[&str], own: &[ProbeRecord], baselines: &[Baseline]) -> NumberReport {
    run_with(carriers, own, baselines, &params())
}

fn run_with(
    carriers: &[&str],
    own: &[ProbeRecord],
    baselines: &[Baseline],
    p: &Params,
) -> NumberReport {
    report(NUM, carriers, own, baselines, p)
}

fn pair<'a>(r: &'a NumberReport, carrier: &str) -> &'a CarrierReport {
    r.carriers
        .iter()
        .find(|c| c.carrier == carrier)
        .unwrap_or_else(|| panic!("carrier {carrier} missing"))
}

fn baseline(carrier: &str, counts: &[(Outcome, u64)]) -> Baseline {
    let by_outcome: OutcomeCounts = counts.iter().copied().collect();
    Baseline {
        carrier: carrier.to_owned(),
        probes: by_outcome.total(),
        by_outcome,
        callers: 3,
    }
}

#[test]
fn one_603_plus_blocks_at_once() {
    let own = [
        ring("tmobile", 1),
        ring("tmobile", 2),
        block("tmobile", 3, "https://r.example/tm", "+18005550100"),
    ];
    let r = run(&["tmobile"], &own, &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.state, State::Blocked);
    assert_eq!(c.since.as_deref(), Some(hour(3).as_str()));
    assert_eq!(c.last_outcome, Some(Outcome::NetworkBlocked));
    assert_eq!(c.last_status, Some(603));
    assert_eq!(c.last_probe_id.as_deref(), Some("p-tmobile-003"));
    assert_eq!(c.timeline, "RRB");
    assert_eq!(c.probes, 3);
    assert_eq!(c.counts.get(Outcome::Ringing), 2);
    assert_eq!(r.verdict, Verdict::NotReady);
    assert!(
        c.reason.contains("603+ network block (ATIS-1000099)"),
        "{}",
        c.reason
    );
}

#[test]
fn recovery_needs_clean_after_consecutive_alerting_probes() {
    let b = |h| block("tmobile", h, "https://r.example", "+18005550100");
    // One alerting probe after the block is not enough.
    let r = run(&["tmobile"], &[b(1), ring("tmobile", 2)], &[]);
    assert_eq!(pair(&r, "tmobile").state, State::Blocked);
    assert!(
        pair(&r, "tmobile")
            .reason
            .contains("1 of 2 consecutive alerting")
    );
    // Two are.
    let r = run(
        &["tmobile"],
        &[b(1), ring("tmobile", 2), ring("tmobile", 3)],
        &[],
    );
    let c = pair(&r, "tmobile");
    assert_eq!(c.state, State::Clean);
    assert_eq!(c.since.as_deref(), Some(hour(3).as_str()));
    assert_eq!(c.attribution, None);
    // A block in between resets the count.
    let r = run(
        &["tmobile"],
        &[b(1), ring("tmobile", 2), b(3), ring("tmobile", 4)],
        &[],
    );
    assert_eq!(pair(&r, "tmobile").state, State::Blocked);
    assert_eq!(pair(&r, "tmobile").since.as_deref(), Some(hour(1).as_str()));
    // Route failures between alerting probes neither count nor reset.
    let r = run(
        &["tmobile"],
        &[
            b(1),
            ring("tmobile", 2),
            rec("tmobile", 3, Outcome::Unavailable),
            ring("tmobile", 4),
        ],
        &[],
    );
    assert_eq!(pair(&r, "tmobile").state, State::Clean);
    // clean_after is a parameter.
    let mut p = params();
    p.clean_after = 3;
    let r = run_with(
        &["tmobile"],
        &[b(1), ring("tmobile", 2), ring("tmobile", 3)],
        &[],
        &p,
    );
    assert_eq!(pair(&r, "tmobile").state, State::Blocked);
}

#[test]
fn plain_603_after_ringing_is_a_user_decline_without_ringing_suspect() {
    let r = run(&["att"], &[declined_after_ring("att", 1)], &[]);
    let c = pair(&r, "att");
    assert_eq!(c.state, State::Clean);
    assert_eq!(c.timeline, "d");
    assert_eq!(c.evidence.own_alerting, 1);

    let r = run(
        &["att"],
        &[ring("att", 1), rec("att", 2, Outcome::Declined)],
        &[],
    );
    let c = pair(&r, "att");
    assert_eq!(c.state, State::Suspect);
    assert_eq!(c.since.as_deref(), Some(hour(2).as_str()));
    assert_eq!(c.timeline, "Rs");
    assert_eq!(c.attribution, Some(Attribution::Inconclusive));

    for o in [Outcome::Unwanted, Outcome::Forbidden] {
        let r = run(&["att"], &[rec("att", 1, o)], &[]);
        assert_eq!(pair(&r, "att").state, State::Suspect, "{o}");
    }
}

#[test]
fn busy_flood_against_a_low_busy_baseline_is_suspect() {
    let own = [
        ring("vz", 1),
        rec("vz", 2, Outcome::Busy),
        rec("vz", 3, Outcome::Busy),
        rec("vz", 4, Outcome::Busy),
        rec("vz", 5, Outcome::Busy),
    ];
    let low = baseline("vz", &[(Outcome::Ringing, 18), (Outcome::Busy, 2)]);
    // Three busy out of four delivered (75 %) is below the 80 % line.
    let r = run(&["vz"], &own[..4], std::slice::from_ref(&low));
    assert_eq!(pair(&r, "vz").state, State::Clean);
    // The fourth busy makes 4 of 5 (80 %): drift.
    let r = run(&["vz"], &own, std::slice::from_ref(&low));
    let c = pair(&r, "vz");
    assert_eq!(c.state, State::Suspect);
    assert_eq!(c.since.as_deref(), Some(hour(5).as_str()));
    assert_eq!(c.attribution, Some(Attribution::Number));
    assert_eq!(c.evidence.own_failures, 1);
    assert_eq!(c.evidence.others_failing, 2);
    assert_eq!(c.evidence.others_alerting, 18);
    assert!(c.reason.contains("answer-mix drift"), "{}", c.reason);
    assert!(c.reason.contains("10%"), "{}", c.reason);
    // The same flood where other caller IDs are busy half the time is no drift.
    let high = baseline("vz", &[(Outcome::Ringing, 10), (Outcome::Busy, 10)]);
    let r = run(&["vz"], &own, &[high]);
    assert_eq!(pair(&r, "vz").state, State::Clean);
    // Without a baseline there is nothing to drift from.
    let r = run(&["vz"], &own, &[]);
    assert_eq!(pair(&r, "vz").state, State::Clean);
}

#[test]
fn route_failures_do_not_change_the_state() {
    let route = [
        Outcome::Unavailable,
        Outcome::Timeout,
        Outcome::AuthFailed,
        Outcome::Failed,
        Outcome::NotFound,
        Outcome::Intercepted,
    ];
    let mut own = vec![ring("tmobile", 1)];
    own.extend(
        route
            .iter()
            .enumerate()
            .map(|(i, o)| rec("tmobile", 2 + i64::try_from(i).unwrap_or(0), *o)),
    );
    let r = run(&["tmobile"], &own, &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.state, State::Clean);
    assert_eq!(c.since.as_deref(), Some(hour(1).as_str()));
    assert_eq!(c.timeline, "R.t....");
    assert_eq!(c.last_outcome, Some(Outcome::Intercepted));
    assert_eq!(c.last_evidence_at.as_deref(), Some(hour(1).as_str()));

    // Only route failures: unknown, and a blocked pair stays blocked.
    let r = run(&["tmobile"], &own[1..], &[]);
    assert_eq!(pair(&r, "tmobile").state, State::Unknown);
    assert_eq!(pair(&r, "tmobile").since, None);
    let mut blocked = vec![block("tmobile", 0, "u", "t")];
    blocked.extend_from_slice(&own[1..]);
    let r = run(&["tmobile"], &blocked, &[]);
    assert_eq!(pair(&r, "tmobile").state, State::Blocked);
}

#[test]
fn timeline_legend() {
    let own = [
        ring("a", 1),
        rec("a", 2, Outcome::Answered),
        block("a", 3, "u", "t"),
        rec("a", 4, Outcome::Rejected),
        declined_after_ring("a", 5),
        rec("a", 6, Outcome::Declined),
        rec("a", 7, Outcome::Busy),
        rec("a", 8, Outcome::NoAnswer),
        rec("a", 9, Outcome::Timeout),
        rec("a", 10, Outcome::Unavailable),
    ];
    let r = run(&["a"], &own, &[]);
    assert_eq!(pair(&r, "a").timeline, "RRBBdsbnt.");
    // Only the newest TIMELINE_LEN probes are kept.
    let many: Vec<ProbeRecord> = (-70..0).map(|h| ring("a", h)).collect();
    let mut many = many;
    many.push(block("a", 0, "u", "t"));
    let r = run(&["a"], &many, &[]);
    let t = &pair(&r, "a").timeline;
    assert_eq!(t.len(), TIMELINE_LEN);
    assert!(t.ends_with("RB"));
}

#[test]
fn attribution_number_carrier_inconclusive_with_evidence() {
    let own = [
        block("tmobile", 1, "https://r.example", "+18005550100"),
        block("tmobile", 2, "https://r.example", "+18005550100"),
    ];
    // Other caller IDs ring there: the number.
    let b = baseline("tmobile", &[(Outcome::Ringing, 38), (Outcome::Busy, 2)]);
    let r = run(&["tmobile"], &own, &[b]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.attribution, Some(Attribution::Number));
    assert_eq!(
        c.evidence,
        AttributionEvidence {
            own_failures: 2,
            own_alerting: 0,
            others_probes: 40,
            others_alerting: 38,
            others_failing: 0,
            trunk_failures: 0,
        }
    );
    assert!(
        c.reason.contains("other caller IDs rang 38 of 40"),
        "{}",
        c.reason
    );
    // Other caller IDs are blocked there too and rarely ring: the carrier.
    let b = baseline(
        "tmobile",
        &[
            (Outcome::NetworkBlocked, 15),
            (Outcome::Rejected, 3),
            (Outcome::Ringing, 2),
        ],
    );
    let r = run(&["tmobile"], &own, &[b]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.attribution, Some(Attribution::Carrier));
    assert_eq!(c.evidence.others_failing, 18);
    assert_eq!(c.evidence.others_alerting, 2);
    assert_eq!(c.evidence.others_probes, 20);
    // Nobody else probed there: inconclusive.
    let r = run(
        &["tmobile"],
        &own,
        &[baseline("att", &[(Outcome::Ringing, 5)])],
    );
    let c = pair(&r, "tmobile");
    assert_eq!(c.attribution, Some(Attribution::Inconclusive));
    assert_eq!(c.evidence.others_probes, 0);
    // Others neither ring nor fail the same way: inconclusive as well.
    let r = run(
        &["tmobile"],
        &own,
        &[baseline("tmobile", &[(Outcome::Timeout, 5)])],
    );
    assert_eq!(
        pair(&r, "tmobile").attribution,
        Some(Attribution::Inconclusive)
    );
}

#[test]
fn attribution_trunk_when_every_carrier_fails_the_same_way() {
    // 403 on both carriers: suspect (per the issue), but the trunk is to blame.
    let own = [
        rec("tmobile", 1, Outcome::Forbidden),
        rec("tmobile", 2, Outcome::Forbidden),
        rec("att", 3, Outcome::Forbidden),
        rec("att", 4, Outcome::Unavailable),
    ];
    let ringing = [
        baseline("tmobile", &[(Outcome::Ringing, 10)]),
        baseline("att", &[(Outcome::Ringing, 10)]),
    ];
    let r = run(&["tmobile", "att"], &own, &ringing);
    for c in ["tmobile", "att"] {
        let c = pair(&r, c);
        assert_eq!(c.state, State::Suspect);
        assert_eq!(c.attribution, Some(Attribution::Trunk), "{}", c.carrier);
        assert_eq!(c.evidence.trunk_failures, 4);
    }
    // The same 403 at one carrier while the other rings: the number.
    let own2 = [
        rec("tmobile", 1, Outcome::Forbidden),
        rec("tmobile", 2, Outcome::Forbidden),
        ring("att", 3),
    ];
    let r = run(&["tmobile", "att"], &own2, &ringing);
    assert_eq!(pair(&r, "tmobile").attribution, Some(Attribution::Number));

    // Only 503s and timeouts everywhere: unknown, attributed to the trunk.
    let own3 = [
        rec("tmobile", 1, Outcome::Unavailable),
        rec("att", 2, Outcome::Timeout),
        rec("att", 3, Outcome::AuthFailed),
    ];
    let r = run(&["tmobile", "att"], &own3, &[]);
    for c in ["tmobile", "att"] {
        let c = pair(&r, c);
        assert_eq!(c.state, State::Unknown);
        assert_eq!(c.attribution, Some(Attribution::Trunk));
    }
    assert_eq!(pair(&r, "att").evidence.own_failures, 2);
    assert_eq!(r.verdict, Verdict::Unknown);
    // 503s at one carrier while the other rings: the carrier (route), state unknown.
    let own4 = [rec("tmobile", 1, Outcome::Unavailable), ring("att", 2)];
    let r = run(&["tmobile", "att"], &own4, &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.state, State::Unknown);
    assert_eq!(c.attribution, Some(Attribution::Carrier));
    assert_eq!(c.evidence.own_failures, 1);
    // A blocked pair is never put on the trunk.
    let own5 = [
        block("tmobile", 1, "u", "t"),
        rec("tmobile", 2, Outcome::Unavailable),
        rec("tmobile", 3, Outcome::Unavailable),
        rec("tmobile", 4, Outcome::Unavailable),
        rec("tmobile", 5, Outcome::Unavailable),
        rec("att", 6, Outcome::Unavailable),
    ];
    let r = run(&["tmobile", "att"], &own5, &[]);
    assert_eq!(
        pair(&r, "tmobile").attribution,
        Some(Attribution::Inconclusive)
    );
    // One carrier cannot tell the trunk from the carrier: 503s there are the
    // route's, a 403 there is compared with the other caller IDs.
    let r = run(
        &["tmobile"],
        &[rec("tmobile", 1, Outcome::Unavailable)],
        &[],
    );
    assert_eq!(pair(&r, "tmobile").attribution, Some(Attribution::Carrier));
    let r = run(
        &["tmobile"],
        &[rec("tmobile", 1, Outcome::Forbidden)],
        &ringing,
    );
    assert_eq!(pair(&r, "tmobile").attribution, Some(Attribution::Number));
    // Unknown without any probe: no attribution.
    let r = run(&["tmobile"], &[], &[]);
    assert_eq!(pair(&r, "tmobile").attribution, None);
}

#[test]
fn verdict_ready_not_ready_unknown_and_staleness() {
    let both = [ring("tmobile", 1), ring("att", 2)];
    let r = run(&["tmobile", "att"], &both, &[]);
    assert_eq!(r.verdict, Verdict::Ready);
    assert_eq!(r.verdict.exit_code(), 0);
    // A configured carrier without probes: unknown.
    let r = run(&["tmobile", "att", "verizon"], &both, &[]);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.verdict.exit_code(), 3);
    assert_eq!(pair(&r, "verizon").state, State::Unknown);
    // Blocked anywhere wins over missing data.
    let r = run(
        &["tmobile", "att", "verizon"],
        &[ring("tmobile", 1), block("att", 2, "u", "t")],
        &[],
    );
    assert_eq!(r.verdict, Verdict::NotReady);
    assert_eq!(r.verdict.exit_code(), 1);
    // Evidence older than `fresh` is stale: now is 2025-11-21T12:00, the
    // probes are from 2025-11-20 01:00/02:00.
    let mut p = params();
    p.fresh = TimeDelta::hours(12);
    let r = run_with(&["tmobile", "att"], &both, &[], &p);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(!pair(&r, "att").fresh);
    assert_eq!(pair(&r, "att").state, State::Clean);
    p.fresh = TimeDelta::hours(40);
    let r = run_with(&["tmobile", "att"], &both, &[], &p);
    assert_eq!(r.verdict, Verdict::Ready);
    // Route failures after the ringing do not refresh the evidence.
    p.fresh = TimeDelta::hours(12);
    let r = run_with(
        &["tmobile", "att"],
        &[
            ring("tmobile", 1),
            ring("att", 2),
            rec("att", 30, Outcome::Unavailable),
            ring("tmobile", 30),
        ],
        &[],
        &p,
    );
    assert!(pair(&r, "tmobile").fresh);
    assert!(!pair(&r, "att").fresh);
    assert_eq!(r.verdict, Verdict::Unknown);
    // Never probed, nothing configured.
    let r = run(&[], &[], &[]);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.carriers.is_empty());
    // Carriers seen only in records are appended by name and count when none is configured.
    let r = run(&[], &[ring("zeta", 1), ring("alpha", 2)], &[]);
    let names: Vec<&str> = r.carriers.iter().map(|c| c.carrier.as_str()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert!(r.carriers.iter().all(|c| !c.configured));
    assert_eq!(r.verdict, Verdict::Ready);
}

#[test]
fn incidents_open_escalate_and_close() {
    let own = [
        ring("tmobile", 1),
        rec("tmobile", 2, Outcome::Declined),
        block("tmobile", 3, "u", "t"),
        rec("tmobile", 4, Outcome::Unavailable),
        ring("tmobile", 5),
        ring("tmobile", 6),
        ring("tmobile", 7),
        rec("tmobile", 8, Outcome::Rejected),
    ];
    let r = run(&["tmobile"], &own, &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.incidents.len(), 2);
    let first = &c.incidents[0];
    assert_eq!(first.started_at, hour(2));
    assert_eq!(first.cleared_at.as_deref(), Some(hour(6).as_str()));
    assert_eq!(first.state, State::Blocked);
    assert_eq!(first.first_outcome, Outcome::Declined);
    assert_eq!(first.probes, 4);
    let second = &c.incidents[1];
    assert_eq!(second.started_at, hour(8));
    assert_eq!(second.cleared_at, None);
    assert_eq!(second.first_outcome, Outcome::Rejected);
    assert_eq!(second.probes, 1);
    assert_eq!(c.state, State::Blocked);
    // Born blocked: the incident opens with the first probe.
    let r = run(&["tmobile"], &[block("tmobile", 1, "u", "t")], &[]);
    assert_eq!(pair(&r, "tmobile").incidents.len(), 1);
    // Clean throughout: none.
    let r = run(&["tmobile"], &[ring("tmobile", 1)], &[]);
    assert!(pair(&r, "tmobile").incidents.is_empty());
}

fn rejected_608(carrier: &str, h: i64) -> ProbeRecord {
    let mut r = rec(carrier, h, Outcome::Rejected);
    r.analytics = Some(
        serde_json::from_value(json!({
            "standard": "RFC8688",
            "url": "https://r.example/tm",
            "tel": "+18005550199",
            "email": "redress@carrier.example",
            "id": null,
            "location": null,
            "phrase": "Rejected",
            "version": null,
            "extra": [],
            "contacts": {
                "source": "data",
                "uri": "data:x",
                "fn": null,
                "org": null,
                "tel": ["+18005550199", "+18005550100"],
                "email": ["redress@carrier.example"],
                "url": ["https://r.example/tm", "https://r.example/form"],
                "verified": false
            },
            "truncated": false
        }))
        .expect("analytics"),
    );
    r
}

#[test]
fn redress_contacts_and_locations_are_distinct_in_first_seen_order() {
    let own = [
        block("tmobile", 1, "https://r.example/tm", "+18005550100"),
        block("tmobile", 2, "https://r.example/tm", "+18005550100"),
        rejected_608("tmobile", 3),
        block("att", 4, "https://att.example", "+18005550111"),
    ];
    let r = run(&["tmobile", "att"], &own, &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(
        c.redress.url,
        ["https://r.example/tm", "https://r.example/form"]
    );
    assert_eq!(c.redress.tel, ["+18005550100", "+18005550199"]);
    assert_eq!(c.redress.email, ["redress@carrier.example"]);
    assert_eq!(c.locations, ["RLN"]);
    // Per carrier: att's contacts stay with att.
    assert_eq!(pair(&r, "att").redress.url, ["https://att.example"]);
}

#[test]
fn records_outside_the_window_or_unparseable_are_ignored_and_order_does_not_matter() {
    let mut old = block("tmobile", 0, "u", "t");
    old.started_at = "2025-09-01T00:00:00.000Z".to_owned();
    let mut bad = block("tmobile", 0, "u", "t");
    bad.started_at = "yesterday".to_owned();
    let mut future = block("tmobile", 0, "u", "t");
    future.started_at = "2025-11-22T00:00:00.000Z".to_owned();
    let r = run(&["tmobile"], &[old, bad, future, ring("tmobile", 1)], &[]);
    let c = pair(&r, "tmobile");
    assert_eq!(c.state, State::Clean);
    assert_eq!(c.probes, 1);
    assert_eq!(r.skipped_records, 1);
    assert_eq!(r.window_start, "2025-10-22T12:00:00.000Z");
    assert_eq!(r.generated_at, "2025-11-21T12:00:00.000Z");

    let fwd = [
        block("tmobile", 1, "u", "t"),
        ring("tmobile", 2),
        ring("tmobile", 3),
    ];
    let rev = [
        ring("tmobile", 3),
        ring("tmobile", 2),
        block("tmobile", 1, "u", "t"),
    ];
    assert_eq!(run(&["tmobile"], &fwd, &[]), run(&["tmobile"], &rev, &[]));
    assert_eq!(
        pair(&run(&["tmobile"], &rev, &[]), "tmobile").state,
        State::Clean
    );
}

#[test]
fn rates_follow_their_definitions() {
    let own = [
        rec("a", 1, Outcome::Answered),
        ring("a", 2),
        rec("a", 3, Outcome::Busy),
        block("a", 4, "u", "t"),
        rec("a", 5, Outcome::Unavailable),
    ];
    let r = run(&["a"], &own, &[]);
    let rates = pair(&r, "a").rates;
    assert_eq!(rates.asr, Some(0.2));
    assert_eq!(rates.ner, Some(0.6));
    assert_eq!(rates.alert, Some(0.4));
    let r = run(&["b"], &[], &[]);
    assert_eq!(pair(&r, "b").rates.asr, None);
}

fn sample_report() -> NumberReport {
    let own = [
        ring("tmobile", 1),
        block(
            "tmobile",
            2,
            "https://redress.tmobile.example",
            "+18005550100",
        ),
        block(
            "tmobile",
            3,
            "https://redress.tmobile.example",
            "+18005550100",
        ),
        ring("att", 4),
        ring("att", 5),
    ];
    let b = [
        baseline("tmobile", &[(Outcome::Ringing, 38), (Outcome::Busy, 2)]),
        baseline("att", &[(Outcome::Ringing, 12)]),
    ];
    run(&["tmobile", "att", "verizon"], &own, &b)
}

#[test]
fn json_has_the_contract_keys_with_their_values() {
    let r = sample_report();
    let v: Value = serde_json::to_value(&r).expect("json");
    assert_eq!(v["number"], NUM);
    assert_eq!(v["verdict"], "not_ready");
    let tm = &v["carriers"][0];
    assert_eq!(tm["carrier"], "tmobile");
    assert_eq!(tm["state"], "blocked");
    assert_eq!(tm["attribution"], "number");
    assert_eq!(tm["since"], hour(2).as_str());
    assert_eq!(tm["last_outcome"], "network_blocked");
    assert_eq!(
        tm["redress"]["url"],
        json!(["https://redress.tmobile.example"])
    );
    assert_eq!(tm["redress"]["tel"], json!(["+18005550100"]));
    assert_eq!(tm["redress"]["email"], json!([]));
    assert_eq!(tm["counts"], json!({"ringing": 1, "network_blocked": 2}));
    assert_eq!(tm["incidents"][0]["cleared_at"], Value::Null);
    let att = &v["carriers"][1];
    assert_eq!(att["state"], "clean");
    assert!(att.get("attribution").is_some_and(Value::is_null));
    let vz = &v["carriers"][2];
    assert_eq!(vz["state"], "unknown");
    assert!(vz["since"].is_null());
    assert!(vz["last_outcome"].is_null());
}

#[test]
fn history_text_shows_carriers_states_redress_and_incidents_in_100_columns() {
    let r = sample_report();
    let text = history_text(&r);
    for needle in [
        NUM,
        "NOT READY",
        "tmobile",
        "att",
        "verizon",
        "blocked",
        "clean",
        "unknown",
        "network_blocked 603",
        "RBB",
        "https://redress.tmobile.example",
        "+18005550100",
        "RLN",
        "-> open",
        "number",
        "33%",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
}

#[test]
fn check_text_names_the_blocking_carrier_its_redress_and_the_missing_probes() {
    let r = sample_report();
    let text = check_text(&r, DEFAULT_PROBE_HINT);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("NOT READY +12025550143"), "{first}");
    assert!(first.contains("tmobile"), "{first}");
    for needle in [
        "tmobile: blocked since",
        "attribution number",
        "https://redress.tmobile.example",
        "+18005550100",
        "other caller IDs 40 probes, 38 alerting",
        "verizon: unknown",
        "run: ringwatch probe --from +12025550143 --carrier verizon",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(!text.contains("--carrier att"), "{text}");

    let ready = run(&["att"], &[ring("att", 30)], &[]);
    let text = check_text(&ready, DEFAULT_PROBE_HINT);
    assert!(text.starts_with("READY +12025550143"), "{text}");

    let unknown = run(&["att", "big carrier"], &[ring("att", 30)], &[]);
    let text = check_text(&unknown, "probe {number} -c {carrier}");
    assert!(
        text.starts_with("UNKNOWN +12025550143: no fresh evidence at big carrier"),
        "{text}"
    );
    assert!(
        text.contains("run: probe +12025550143 -c 'big carrier'"),
        "{text}"
    );
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
}
