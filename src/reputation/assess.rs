//! `assess`: a number's probe records plus the other caller IDs' baselines in,
//! a [`NumberReport`] out. Pure: `now` is a parameter, no I/O, no SQL, no
//! panics. The rules are documented on the module (`reputation`) and on the
//! helpers below; thresholds are the `pub const`s of this file.

use chrono::{DateTime, SecondsFormat, Utc};

use super::counts::OutcomeCounts;
use super::model::{
    Attribution, AttributionEvidence, Baseline, CarrierReport, Incident, NumberReport, Params,
    Rates, Redress, State, Verdict,
};
use crate::classify::{Outcome, Standard};
use crate::probe::ProbeRecord;

/// Answer-mix drift: how many of the newest delivered probes form the sample.
pub const DRIFT_SAMPLE: usize = 5;
/// Answer-mix drift: the sample needs at least this many delivered probes.
pub const DRIFT_MIN_PROBES: usize = 3;
/// Answer-mix drift: the baseline needs at least this many delivered probes.
pub const DRIFT_MIN_BASELINE: u64 = 3;
/// Answer-mix drift: own share of the outcome at or above 4/5 (0.8) ...
pub const DRIFT_OWN_SHARE: (u64, u64) = (4, 5);
/// ... while the other caller IDs' share there is at most 3/10 (0.3).
pub const DRIFT_BASELINE_SHARE: (u64, u64) = (3, 10);
/// Attribution: other caller IDs "rarely ring" below 1/5 (20 %) alerting.
pub const LOW_ALERT_SHARE: (u64, u64) = (1, 5);
/// Trunk: trunk-class failures make up at least 4/5 of the number's probes
/// on every carrier it was probed at (at least two carriers, none alerting).
pub const TRUNK_SHARE: (u64, u64) = (4, 5);
/// Timeline length (newest probes kept).
pub const TIMELINE_LEN: usize = 60;

/// Outcomes that say nothing about the number: they count against the route.
pub const ROUTE_CLASS: [Outcome; 6] = [
    Outcome::AuthFailed,
    Outcome::Unavailable,
    Outcome::Timeout,
    Outcome::Failed,
    Outcome::NotFound,
    Outcome::Intercepted,
];

/// The ways "every call fails the same way" at a trunk: the route class plus 403.
pub const TRUNK_CLASS: [Outcome; 7] = [
    Outcome::AuthFailed,
    Outcome::Unavailable,
    Outcome::Timeout,
    Outcome::Failed,
    Outcome::NotFound,
    Outcome::Intercepted,
    Outcome::Forbidden,
];

/// The definitive analytics decisions: 603+ and 608.
pub const BLOCK_CLASS: [Outcome; 2] = [Outcome::NetworkBlocked, Outcome::Rejected];

/// Outcomes the network delivered to the called party (the NER numerator,
/// besides any probe that rang).
pub const DELIVERED: [Outcome; 6] = [
    Outcome::Answered,
    Outcome::Ringing,
    Outcome::Busy,
    Outcome::NoAnswer,
    Outcome::Declined,
    Outcome::Unwanted,
];

/// What one probe says about the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// 603+ / 608.
    Block,
    /// Plain 603 without ringing, 607, 403.
    Suspect,
    /// A busy/no-answer that completes an answer-mix drift.
    Drift,
    /// Rang, ringing or answered (a 603 after ringing is a user decline).
    Alerting,
    /// Busy or no answer without drift.
    Neutral,
    /// Route class: says nothing about the number.
    Route,
}

impl Signal {
    fn is_evidence(self) -> bool {
        matches!(
            self,
            Signal::Block | Signal::Suspect | Signal::Drift | Signal::Alerting
        )
    }

    fn is_negative(self) -> bool {
        matches!(self, Signal::Block | Signal::Suspect | Signal::Drift)
    }
}

/// The timeline character of a probe, checked in this order:
/// `B` 603+/608 (blocked), `d` 603 after ringing (user decline),
/// `s` suspect code (603 without ringing, 607, 403), `R` rang/ringing/answered,
/// `b` busy, `n` no answer, `t` timeout, `.` other route failures
/// (401/407, 5xx, 404-class, intercept, anything else).
#[must_use]
pub fn timeline_char(p: &ProbeRecord) -> char {
    match p.outcome {
        Outcome::NetworkBlocked | Outcome::Rejected => 'B',
        Outcome::Declined if p.rang => 'd',
        Outcome::Declined | Outcome::Unwanted | Outcome::Forbidden => 's',
        _ if p.rang || p.outcome.is_ok() => 'R',
        Outcome::Busy => 'b',
        Outcome::NoAnswer => 'n',
        Outcome::Timeout => 't',
        _ => '.',
    }
}

/// The probe alerted: it rang, or ended `ringing` or `answered`.
fn alerted(p: &ProbeRecord) -> bool {
    p.rang || p.outcome.is_ok()
}

/// The network delivered the call (E.425 effective): see [`DELIVERED`].
fn delivered(p: &ProbeRecord) -> bool {
    p.rang || DELIVERED.contains(&p.outcome)
}

fn base_signal(p: &ProbeRecord) -> Signal {
    match p.outcome {
        Outcome::NetworkBlocked | Outcome::Rejected => Signal::Block,
        Outcome::Unwanted | Outcome::Forbidden => Signal::Suspect,
        Outcome::Declined if !p.rang => Signal::Suspect,
        _ if alerted(p) => Signal::Alerting,
        Outcome::Busy | Outcome::NoAnswer => Signal::Neutral,
        _ => Signal::Route,
    }
}

fn trunk_class(p: &ProbeRecord) -> bool {
    !p.rang && TRUNK_CLASS.contains(&p.outcome)
}

fn route_class(p: &ProbeRecord) -> bool {
    !p.rang && ROUTE_CLASS.contains(&p.outcome)
}

fn share_at_least(part: u64, whole: u64, (num, den): (u64, u64)) -> bool {
    part.saturating_mul(den) >= whole.saturating_mul(num)
}

fn share_at_most(part: u64, whole: u64, (num, den): (u64, u64)) -> bool {
    part.saturating_mul(den) <= whole.saturating_mul(num)
}

fn share_below(part: u64, whole: u64, (num, den): (u64, u64)) -> bool {
    part.saturating_mul(den) < whole.saturating_mul(num)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    // Counts of probes stay far below 2^52, so the conversion is exact.
    #[allow(clippy::cast_precision_loss)] // see above
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The drift figures of the probe that completed it.
#[derive(Debug, Clone, Copy)]
struct DriftFigures {
    same: u64,
    sample: u64,
    base_same: u64,
    base_delivered: u64,
}

/// Answer-mix drift test for a busy/no-answer probe at `i` (not rang): among
/// the newest [`DRIFT_SAMPLE`] delivered probes up to and including it (at
/// least [`DRIFT_MIN_PROBES`]), the share with the same outcome is at least
/// [`DRIFT_OWN_SHARE`], while the baseline has at least
/// [`DRIFT_MIN_BASELINE`] delivered probes of which at most
/// [`DRIFT_BASELINE_SHARE`] had that outcome. No baseline, no drift.
fn drift(
    probes: &[(DateTime<Utc>, &ProbeRecord)],
    i: usize,
    base: &Baseline,
) -> Option<DriftFigures> {
    let outcome = probes.get(i)?.1.outcome;
    let sample: Vec<&ProbeRecord> = probes
        .get(..=i)?
        .iter()
        .rev()
        .map(|(_, p)| *p)
        .filter(|p| delivered(p))
        .take(DRIFT_SAMPLE)
        .collect();
    let n = count(sample.len());
    let same = count(
        sample
            .iter()
            .filter(|p| p.outcome == outcome && !p.rang)
            .count(),
    );
    let base_delivered = base.by_outcome.sum_of(&DELIVERED);
    let base_same = base.by_outcome.get(outcome);
    let hit = sample.len() >= DRIFT_MIN_PROBES
        && share_at_least(same, n, DRIFT_OWN_SHARE)
        && base_delivered >= DRIFT_MIN_BASELINE
        && share_at_most(base_same, base_delivered, DRIFT_BASELINE_SHARE);
    hit.then_some(DriftFigures {
        same,
        sample: n,
        base_same,
        base_delivered,
    })
}

/// The probe that put the pair in its current non-clean state.
#[derive(Debug, Clone)]
struct Cause {
    outcome: Outcome,
    status: Option<u16>,
    standard: Option<Standard>,
    drift: Option<DriftFigures>,
}

/// The hysteresis walk over one pair's probes, oldest first.
#[derive(Debug)]
struct Walk {
    state: State,
    since: Option<DateTime<Utc>>,
    pending: u32,
    incidents: Vec<Incident>,
    open: Option<usize>,
    /// Outcomes of the negative signals of the current incident.
    triggers: OutcomeCounts,
    cause: Option<Cause>,
    last_evidence: Option<DateTime<Utc>>,
    negative: u64,
    alerting: u64,
}

impl Walk {
    fn new() -> Self {
        Self {
            state: State::Unknown,
            since: None,
            pending: 0,
            incidents: Vec::new(),
            open: None,
            triggers: OutcomeCounts::new(),
            cause: None,
            last_evidence: None,
            negative: 0,
            alerting: 0,
        }
    }

    fn enter(
        &mut self,
        state: State,
        t: DateTime<Utc>,
        p: &ProbeRecord,
        drift: Option<DriftFigures>,
    ) {
        match self.open.and_then(|i| self.incidents.get_mut(i)) {
            Some(inc) => {
                if state == State::Blocked {
                    inc.state = State::Blocked;
                }
            }
            None => {
                self.incidents.push(Incident {
                    started_at: ts(t),
                    cleared_at: None,
                    state,
                    first_outcome: p.outcome,
                    probes: 0,
                });
                self.open = Some(self.incidents.len().saturating_sub(1));
                self.triggers = OutcomeCounts::new();
            }
        }
        self.state = state;
        self.since = Some(t);
        self.cause = Some(Cause {
            outcome: p.outcome,
            status: p.status,
            standard: p.analytics.as_ref().map(|a| a.standard),
            drift,
        });
    }

    fn step(
        &mut self,
        t: DateTime<Utc>,
        p: &ProbeRecord,
        sig: Signal,
        drift: Option<DriftFigures>,
        clean_after: u32,
    ) {
        let mut cleared = false;
        match sig {
            Signal::Block => {
                if self.state != State::Blocked {
                    self.enter(State::Blocked, t, p, None);
                }
            }
            Signal::Suspect | Signal::Drift => {
                if matches!(self.state, State::Clean | State::Unknown) {
                    self.enter(State::Suspect, t, p, drift);
                }
            }
            Signal::Alerting => match self.state {
                State::Unknown => {
                    self.state = State::Clean;
                    self.since = Some(t);
                }
                State::Clean => {}
                State::Blocked | State::Suspect => {
                    self.pending = self.pending.saturating_add(1);
                    if self.pending >= clean_after.max(1) {
                        self.state = State::Clean;
                        self.since = Some(t);
                        self.pending = 0;
                        if let Some(inc) = self.open.take().and_then(|i| self.incidents.get_mut(i))
                        {
                            inc.cleared_at = Some(ts(t));
                        }
                        cleared = true;
                    }
                }
            },
            Signal::Neutral | Signal::Route => {}
        }
        if sig.is_negative() {
            self.pending = 0;
            self.negative = self.negative.saturating_add(1);
            self.triggers.add(p.outcome, 1);
        }
        if sig == Signal::Alerting {
            self.alerting = self.alerting.saturating_add(1);
        }
        if sig.is_evidence() {
            self.last_evidence = Some(t);
        }
        if !cleared && let Some(inc) = self.open.and_then(|i| self.incidents.get_mut(i)) {
            inc.probes = inc.probes.saturating_add(1);
        }
    }
}

fn push_distinct(v: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn redress_of(probes: &[(DateTime<Utc>, &ProbeRecord)]) -> (Redress, Vec<String>) {
    let mut r = Redress::default();
    let mut locations = Vec::new();
    for (_, p) in probes {
        let Some(a) = &p.analytics else { continue };
        for u in a
            .url
            .iter()
            .chain(a.contacts.iter().flat_map(|c| c.url.iter()))
        {
            push_distinct(&mut r.url, u);
        }
        for t in a
            .tel
            .iter()
            .chain(a.contacts.iter().flat_map(|c| c.tel.iter()))
        {
            push_distinct(&mut r.tel, t);
        }
        for e in a
            .email
            .iter()
            .chain(a.contacts.iter().flat_map(|c| c.email.iter()))
        {
            push_distinct(&mut r.email, e);
        }
        if let Some(l) = &a.location {
            push_distinct(&mut locations, l);
        }
    }
    (r, locations)
}

/// Per-carrier facts gathered before attribution (which needs all carriers).
struct Pair<'a> {
    carrier: String,
    configured: bool,
    probes: Vec<(DateTime<Utc>, &'a ProbeRecord)>,
    walk: Walk,
    baseline: Baseline,
}

impl Pair<'_> {
    fn trunk_dominated(&self) -> bool {
        let n = count(self.probes.len());
        let tc = count(self.probes.iter().filter(|(_, p)| trunk_class(p)).count());
        n > 0 && self.walk.alerting == 0 && share_at_least(tc, n, TRUNK_SHARE)
    }

    fn route_failures(&self) -> u64 {
        count(self.probes.iter().filter(|(_, p)| route_class(p)).count())
    }
}

/// The comparison against other caller IDs at the same carrier.
fn compare(e: &AttributionEvidence) -> Attribution {
    if e.others_probes == 0 {
        Attribution::Inconclusive
    } else if e.others_failing > 0
        && share_below(e.others_alerting, e.others_probes, LOW_ALERT_SHARE)
    {
        Attribution::Carrier
    } else if e.others_alerting > 0 {
        Attribution::Number
    } else {
        Attribution::Inconclusive
    }
}

/// Assess one number. `carriers` are the configured carriers in order;
/// carriers seen only in `own` are appended by name. `own` holds this
/// number's records in any order; records outside `[now - window, now]` are
/// ignored and records whose `started_at` does not parse are counted in
/// `skipped_records`. `baselines` are the other caller IDs' counts per carrier
/// (entries for the same carrier are summed). See the module docs for the rules.
#[must_use]
pub fn assess(
    number: &str,
    carriers: &[String],
    own: &[ProbeRecord],
    baselines: &[Baseline],
    now: DateTime<Utc>,
    params: &Params,
) -> NumberReport {
    let window_start = now
        .checked_sub_signed(params.window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let fresh_after = now
        .checked_sub_signed(params.fresh)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);

    let mut skipped = 0u64;
    let mut timed: Vec<(DateTime<Utc>, &ProbeRecord)> = Vec::with_capacity(own.len());
    for p in own {
        match DateTime::parse_from_rfc3339(p.started_at.trim()) {
            Ok(t) => {
                let t = t.with_timezone(&Utc);
                if t >= window_start && t <= now {
                    timed.push((t, p));
                }
            }
            Err(_) => skipped = skipped.saturating_add(1),
        }
    }
    timed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));

    let mut names: Vec<(String, bool)> = Vec::new();
    for c in carriers {
        if !names.iter().any(|(n, _)| n == c) {
            names.push((c.clone(), true));
        }
    }
    let mut seen: Vec<String> = timed
        .iter()
        .map(|(_, p)| p.carrier.clone())
        .filter(|c| !names.iter().any(|(n, _)| n == c))
        .collect();
    seen.sort();
    seen.dedup();
    names.extend(seen.into_iter().map(|c| (c, false)));

    let clean_after = params.clean_after.max(1);
    let mut pairs: Vec<Pair<'_>> = names
        .into_iter()
        .map(|(carrier, configured)| {
            let probes: Vec<(DateTime<Utc>, &ProbeRecord)> = timed
                .iter()
                .filter(|(_, p)| p.carrier == carrier)
                .copied()
                .collect();
            let mut baseline = Baseline {
                carrier: carrier.clone(),
                ..Baseline::default()
            };
            for b in baselines.iter().filter(|b| b.carrier == carrier) {
                baseline.probes = baseline.probes.saturating_add(b.probes);
                baseline.callers = baseline.callers.saturating_add(b.callers);
                baseline.by_outcome.extend(b.by_outcome.iter());
            }
            let mut walk = Walk::new();
            for (i, (t, p)) in probes.iter().enumerate() {
                let mut sig = base_signal(p);
                let mut figures = None;
                if sig == Signal::Neutral {
                    figures = drift(&probes, i, &baseline);
                    if figures.is_some() {
                        sig = Signal::Drift;
                    }
                }
                walk.step(*t, p, sig, figures, clean_after);
            }
            Pair {
                carrier,
                configured,
                probes,
                walk,
                baseline,
            }
        })
        .collect();

    let probed: Vec<&Pair<'_>> = pairs.iter().filter(|p| !p.probes.is_empty()).collect();
    let trunk_wide = probed.len() >= 2 && probed.iter().all(|p| p.trunk_dominated());
    let trunk_failures = count(timed.iter().filter(|(_, p)| trunk_class(p)).count());

    let reports: Vec<CarrierReport> = pairs
        .iter_mut()
        .map(|pair| carrier_report(pair, trunk_wide, trunk_failures, fresh_after, clean_after))
        .collect();

    let verdict = verdict_of(&reports);
    NumberReport {
        number: number.to_owned(),
        generated_at: ts(now),
        window_start: ts(window_start),
        fresh_after: ts(fresh_after),
        carriers: reports,
        verdict,
        skipped_records: skipped,
    }
}

/// Ready: every required carrier (the configured ones; all of them when none
/// is configured; at least one) clean with fresh evidence. NotReady: blocked
/// or suspect anywhere. Unknown: otherwise.
fn verdict_of(reports: &[CarrierReport]) -> Verdict {
    if reports
        .iter()
        .any(|c| matches!(c.state, State::Blocked | State::Suspect))
    {
        return Verdict::NotReady;
    }
    let any_configured = reports.iter().any(|c| c.configured);
    let mut required = reports
        .iter()
        .filter(|c| c.configured || !any_configured)
        .peekable();
    if required.peek().is_none() {
        return Verdict::Unknown;
    }
    if required.all(|c| c.state == State::Clean && c.fresh) {
        Verdict::Ready
    } else {
        Verdict::Unknown
    }
}

fn carrier_report(
    pair: &mut Pair<'_>,
    trunk_wide: bool,
    trunk_failures: u64,
    fresh_after: DateTime<Utc>,
    clean_after: u32,
) -> CarrierReport {
    let walk = &pair.walk;
    let probes = &pair.probes;
    let base = &pair.baseline;
    let n = count(probes.len());

    let mut counts = OutcomeCounts::new();
    for (_, p) in probes {
        counts.add(p.outcome, 1);
    }
    let answered = counts.get(Outcome::Answered);
    let effective = count(probes.iter().filter(|(_, p)| delivered(p)).count());
    let rates = Rates {
        asr: ratio(answered, n),
        ner: ratio(effective, n),
        alert: ratio(walk.alerting, n),
    };

    let route_failures = pair.route_failures();
    let failure_class: Vec<Outcome> = match walk.state {
        State::Blocked => BLOCK_CLASS.to_vec(),
        State::Suspect => walk.triggers.iter().map(|(o, _)| o).collect(),
        State::Unknown => ROUTE_CLASS.to_vec(),
        State::Clean => [
            Outcome::NetworkBlocked,
            Outcome::Rejected,
            Outcome::Declined,
            Outcome::Unwanted,
            Outcome::Forbidden,
        ]
        .to_vec(),
    };
    let evidence = AttributionEvidence {
        own_failures: if walk.state == State::Unknown {
            route_failures
        } else {
            walk.negative
        },
        own_alerting: walk.alerting,
        others_probes: base.probes,
        others_alerting: base
            .by_outcome
            .sum_of(&[Outcome::Ringing, Outcome::Answered]),
        others_failing: base.by_outcome.sum_of(&failure_class),
        trunk_failures,
    };

    let attribution = match walk.state {
        State::Clean => None,
        State::Unknown if route_failures == 0 => None,
        State::Unknown | State::Suspect if trunk_wide => Some(Attribution::Trunk),
        State::Unknown => Some(Attribution::Carrier),
        State::Suspect | State::Blocked => Some(compare(&evidence)),
    };

    let (redress, locations) = redress_of(probes);
    let skip = probes.len().saturating_sub(TIMELINE_LEN);
    let timeline: String = probes
        .iter()
        .skip(skip)
        .map(|(_, p)| timeline_char(p))
        .collect();
    let last = probes.last();
    let fresh = walk.last_evidence.is_some_and(|t| t >= fresh_after);

    let reason = reason(pair, attribution, &evidence, route_failures, clean_after);
    let walk = &pair.walk;
    CarrierReport {
        carrier: pair.carrier.clone(),
        configured: pair.configured,
        state: walk.state,
        attribution,
        since: walk.since.map(ts),
        last_outcome: last.map(|(_, p)| p.outcome),
        last_status: last.and_then(|(_, p)| p.status),
        last_at: last.map(|(t, _)| ts(*t)),
        last_probe_id: last.map(|(_, p)| p.id.clone()),
        last_evidence_at: walk.last_evidence.map(ts),
        fresh,
        counts,
        probes: n,
        rates,
        redress,
        locations,
        incidents: walk.incidents.clone(),
        timeline,
        evidence,
        reason,
    }
}

fn outcome_label(o: Outcome, status: Option<u16>) -> String {
    match o {
        Outcome::NetworkBlocked => "603+ network block".to_owned(),
        Outcome::Rejected => "608 Rejected".to_owned(),
        Outcome::Declined => "603 Decline without ringing".to_owned(),
        Outcome::Unwanted => "607 Unwanted".to_owned(),
        Outcome::Forbidden => "403 Forbidden".to_owned(),
        other => match status {
            Some(s) => format!("{other} ({s})"),
            None => other.to_string(),
        },
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn pct(part: u64, whole: u64) -> u64 {
    part.saturating_mul(100).checked_div(whole).unwrap_or(0)
}

fn reason(
    pair: &Pair<'_>,
    attribution: Option<Attribution>,
    e: &AttributionEvidence,
    route_failures: u64,
    clean_after: u32,
) -> String {
    let walk = &pair.walk;
    let n = count(pair.probes.len());
    let since = walk.since.map(ts).unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    match walk.state {
        State::Blocked | State::Suspect => {
            let what = match &walk.cause {
                Some(Cause {
                    drift: Some(d),
                    outcome,
                    ..
                }) => format!(
                    "{outcome} on {} of the last {} delivered probes against {}% for other caller IDs here (answer-mix drift)",
                    d.same,
                    d.sample,
                    pct(d.base_same, d.base_delivered)
                ),
                Some(c) => {
                    let mut s = outcome_label(c.outcome, c.status);
                    if let Some(std) = c.standard {
                        s.push_str(&format!(" ({})", std.as_str()));
                    }
                    s
                }
                None => "a negative signal".to_owned(),
            };
            parts.push(format!(
                "{} since {since}: {what}; {} of {n} probes in the window were blocks or suspect codes",
                walk.state.as_str(),
                walk.negative
            ));
            if walk.pending > 0 {
                parts.push(format!(
                    "{} of {clean_after} consecutive alerting probes needed to clear",
                    walk.pending
                ));
            }
        }
        State::Clean => {
            let recovered = walk
                .incidents
                .last()
                .and_then(|i| i.cleared_at.as_ref().map(|_| i.state));
            match recovered {
                Some(prev) => parts.push(format!(
                    "clean since {since}: {clean_after} consecutive alerting probes cleared the {} incident, alerting on {} of {n} probes",
                    prev.as_str(),
                    walk.alerting
                )),
                None => parts.push(format!(
                    "clean since {since}: alerting on {} of {n} probes",
                    walk.alerting
                )),
            }
        }
        State::Unknown if n == 0 => {
            parts.push("no probe from this number here in the window".to_owned())
        }
        State::Unknown => {
            let neutral = n.saturating_sub(route_failures);
            let what = match (route_failures, neutral) {
                (r, 0) => format!("{r} route {}", plural(r, "failure", "failures")),
                (0, b) => format!("{b} busy/no-answer"),
                (r, b) => format!(
                    "{r} route {} and {b} busy/no-answer",
                    plural(r, "failure", "failures")
                ),
            };
            parts.push(format!(
                "no number-relevant probe in the window: {what} of {n} {} say nothing about the number",
                plural(n, "probe", "probes")
            ));
        }
    }
    match attribution {
        Some(Attribution::Number) => parts.push(format!(
            "other caller IDs rang {} of {} times here, so it is this number",
            e.others_alerting, e.others_probes
        )),
        Some(Attribution::Carrier) if walk.state == State::Unknown => parts.push(
            "the route to this carrier fails while this number's other carriers do not, so it is the carrier or the route"
                .to_owned(),
        ),
        Some(Attribution::Carrier) => parts.push(format!(
            "other caller IDs fail the same way here ({} of {}, {} alerting), so it is the carrier or the route",
            e.others_failing, e.others_probes, e.others_alerting
        )),
        Some(Attribution::Trunk) => parts.push(format!(
            "this number fails the same route-class way on every carrier it was probed at ({} failures), so suspect the trunk",
            e.trunk_failures
        )),
        Some(Attribution::Inconclusive) if e.others_probes == 0 => {
            parts.push("no other caller ID was probed here in the window to compare".to_owned());
        }
        Some(Attribution::Inconclusive) => parts.push(format!(
            "other caller IDs neither ring nor fail the same way here ({} probes), so inconclusive",
            e.others_probes
        )),
        None => {}
    }
    let mut s = parts.join("; ");
    s.push('.');
    s
}
