//! Terminal renderings of a [`NumberReport`]: `history` ([`history_text`], a
//! compact table with a timeline per carrier, redress contacts, incidents and
//! the reasons) and `check` ([`check_text`], the pre-campaign answer). Pure
//! string building for 100-column terminals; no I/O, no clock, no colour.
//! The JSON forms are `serde_json` of the report itself.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::model::{CarrierReport, NumberReport, Rates, State, Verdict};

/// The default `probe` suggestion for [`check_text`]: `{number}` and
/// `{carrier}` are replaced (shell-quoted when needed).
pub const DEFAULT_PROBE_HINT: &str = "ringwatch probe --from {number} --carrier {carrier}";

const WIDTH: usize = 100;

fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `2025-11-20 10:00` (UTC).
fn long_time(s: Option<&str>) -> String {
    match s {
        None => "-".to_owned(),
        Some(s) => {
            parse(s).map_or_else(|| s.to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
        }
    }
}

/// `11-20 10:00` (UTC).
fn short_time(s: Option<&str>) -> String {
    match s {
        None => "-".to_owned(),
        Some(s) => parse(s).map_or_else(|| s.to_owned(), |t| t.format("%m-%d %H:%M").to_string()),
    }
}

fn percent(r: Option<f64>) -> String {
    match r {
        // A ratio in [0, 1] times 100 fits any integer type; rounding is the intent.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // see above
        Some(x) if x.is_finite() => format!("{}%", (x * 100.0).round().clamp(0.0, 100.0) as u8),
        _ => "-".to_owned(),
    }
}

fn rates_cells(r: &Rates) -> String {
    format!(
        "{:>4} {:>4} {:>4}",
        percent(r.asr),
        percent(r.ner),
        percent(r.alert)
    )
}

/// Greedy word wrap: the first line starts with `first`, the others with
/// `indent` spaces; no line exceeds [`WIDTH`] unless a single word does.
fn wrap(out: &mut String, first: &str, indent: usize, text: &str) {
    let pad = " ".repeat(indent);
    let mut line = first.to_owned();
    let mut empty = first.trim().is_empty();
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = pad.clone();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn counts_summary(c: &CarrierReport) -> String {
    let parts: Vec<String> = c.counts.iter().map(|(o, n)| format!("{o} {n}")).collect();
    if parts.is_empty() {
        "0 probes".to_owned()
    } else {
        let noun = if c.probes == 1 { "probe" } else { "probes" };
        format!("{} {noun}: {}", c.probes, parts.join(", "))
    }
}

fn last_cell(c: &CarrierReport) -> String {
    match c.last_outcome {
        None => "-".to_owned(),
        Some(o) => {
            let code = c
                .last_status
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            format!("{o} {code} {}", short_time(c.last_at.as_deref()))
        }
    }
}

fn attribution_cell(c: &CarrierReport) -> &'static str {
    c.attribution.map_or("-", |a| a.as_str())
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Ready => "READY",
        Verdict::NotReady => "NOT READY",
        Verdict::Unknown => "UNKNOWN",
    }
}

fn redress_lines(out: &mut String, c: &CarrierReport, indent: usize) {
    let pad = " ".repeat(indent);
    for u in &c.redress.url {
        let _ = writeln!(out, "{pad}url       {u}");
    }
    for t in &c.redress.tel {
        let _ = writeln!(out, "{pad}tel       {t}");
    }
    for e in &c.redress.email {
        let _ = writeln!(out, "{pad}email     {e}");
    }
    if !c.locations.is_empty() {
        let _ = writeln!(out, "{pad}location  {}", c.locations.join(", "));
    }
}

/// The `history` table: a header line, one row per carrier (carrier, state,
/// since, last outcome with code and time, ASR/NER/alert rates, attribution)
/// followed by its counts and timeline lines, a legend, then the redress
/// contacts and locations, the incidents and the reasons. Times are UTC.
#[must_use]
pub fn history_text(report: &NumberReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  window {} .. {} UTC",
        report.number,
        verdict_label(report.verdict),
        long_time(Some(&report.window_start)),
        long_time(Some(&report.generated_at)),
    );
    if report.carriers.is_empty() {
        out.push_str("no carrier configured and no probe in the window\n");
        return out;
    }
    let w = report
        .carriers
        .iter()
        .map(|c| c.carrier.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(7, 16);
    let pad = " ".repeat(w + 2);
    out.push('\n');
    let _ = writeln!(
        out,
        "{:<w$}  {:<7}  {:<11}  {:<31}  {:>4} {:>4} {:>4}  ATTRIBUTION",
        "CARRIER", "STATE", "SINCE", "LAST", "ASR", "NER", "ALRT"
    );
    for c in &report.carriers {
        if c.carrier.chars().count() > w {
            let _ = writeln!(out, "{}", c.carrier);
        }
        let name = if c.carrier.chars().count() > w {
            ""
        } else {
            c.carrier.as_str()
        };
        let _ = writeln!(
            out,
            "{name:<w$}  {:<7}  {:<11}  {:<31}  {}  {}",
            c.state.as_str(),
            short_time(c.since.as_deref()),
            last_cell(c),
            rates_cells(&c.rates),
            attribution_cell(c),
        );
        wrap(&mut out, &pad, w + 2, &counts_summary(c));
        if !c.timeline.is_empty() {
            let _ = writeln!(out, "{pad}{}", c.timeline);
        }
    }
    out.push_str(
        "\ntimeline, oldest first: R rang  B 603+/608  d 603 after ringing  s 603/607/403  b busy\n  n no answer  t timeout  . route failure (401/407, 5xx, 404, intercept, other)\n",
    );

    let with_redress: Vec<&CarrierReport> = report
        .carriers
        .iter()
        .filter(|c| !c.redress.is_empty() || !c.locations.is_empty())
        .collect();
    if with_redress.is_empty() {
        out.push_str("\nRedress contacts: none seen\n");
    } else {
        out.push_str("\nRedress contacts (from 603+/608 responses)\n");
        for c in with_redress {
            let _ = writeln!(out, "  {}", c.carrier);
            redress_lines(&mut out, c, 4);
        }
    }

    let incidents: usize = report.carriers.iter().map(|c| c.incidents.len()).sum();
    if incidents == 0 {
        out.push_str("\nIncidents: none\n");
    } else {
        out.push_str("\nIncidents\n");
        for c in &report.carriers {
            for i in &c.incidents {
                let cleared = i
                    .cleared_at
                    .as_deref()
                    .map_or_else(|| "open".to_owned(), |t| long_time(Some(t)));
                let _ = writeln!(
                    out,
                    "  {:<w$}  {:<7}  {} -> {:<16}  first {}, {} probes",
                    c.carrier,
                    i.state.as_str(),
                    long_time(Some(&i.started_at)),
                    cleared,
                    i.first_outcome,
                    i.probes,
                );
            }
        }
    }

    out.push_str("\nWhy\n");
    for c in &report.carriers {
        wrap(&mut out, &format!("  {}:", c.carrier), 4, &c.reason);
    }
    if report.skipped_records > 0 {
        let _ = writeln!(
            out,
            "\n{} stored records were skipped: their start time is not RFC 3339",
            report.skipped_records
        );
    }
    out
}

/// Quote `s` for a POSIX shell when it holds anything but `[A-Za-z0-9+_.,:@/=-]`.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+_.,:@/=-".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn probe_command(template: &str, number: &str, carrier: &str) -> String {
    template
        .replace("{number}", &shell_quote(number))
        .replace("{carrier}", &shell_quote(carrier))
}

/// The `check` answer. The first line is `READY`, `NOT READY` or `UNKNOWN`
/// with the number. Then, for each carrier that is not clean: its state and
/// since, the attribution, the reason, the evidence counts and the redress
/// contacts and locations that carrier gave; for each carrier without fresh
/// evidence (unknown, or clean but stale) the `probe` command that would fill
/// the gap, built from `probe_cmd_hint` by replacing `{number}` and
/// `{carrier}` (see [`DEFAULT_PROBE_HINT`]); clean, fresh carriers get one line.
#[must_use]
pub fn check_text(report: &NumberReport, probe_cmd_hint: &str) -> String {
    let mut out = String::new();
    let bad: Vec<&str> = report
        .carriers
        .iter()
        .filter(|c| matches!(c.state, State::Blocked | State::Suspect))
        .map(|c| c.carrier.as_str())
        .collect();
    let stale: Vec<&str> = report
        .carriers
        .iter()
        .filter(|c| !c.fresh || c.state == State::Unknown)
        .map(|c| c.carrier.as_str())
        .collect();
    let head = match report.verdict {
        Verdict::Ready => format!(
            "clean with fresh evidence on {}",
            report
                .carriers
                .iter()
                .map(|c| c.carrier.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::NotReady => format!("blocked or suspect at {}", bad.join(", ")),
        Verdict::Unknown if report.carriers.is_empty() => {
            "no carrier configured and no probe in the window".to_owned()
        }
        Verdict::Unknown => format!("no fresh evidence at {}", stale.join(", ")),
    };
    wrap(
        &mut out,
        &format!("{} {}:", verdict_label(report.verdict), report.number),
        4,
        &head,
    );
    for c in &report.carriers {
        match c.state {
            State::Clean if c.fresh => {
                let _ = writeln!(
                    out,
                    "  {}: clean since {} UTC, last alerting evidence {} UTC",
                    c.carrier,
                    long_time(c.since.as_deref()),
                    long_time(c.last_evidence_at.as_deref()),
                );
            }
            State::Clean | State::Unknown => {
                let what = if c.state == State::Clean {
                    format!(
                        "clean, but the newest evidence ({} UTC) is older than {} UTC",
                        long_time(c.last_evidence_at.as_deref()),
                        long_time(Some(&report.fresh_after)),
                    )
                } else {
                    "unknown: no number-relevant probe in the window".to_owned()
                };
                let _ = writeln!(out, "  {}: {what}", c.carrier);
                if c.state == State::Unknown && c.probes > 0 {
                    wrap(&mut out, "    why:", 8, &c.reason);
                }
                if let Some(a) = c.attribution {
                    let _ = writeln!(out, "    attribution: {}", a.as_str());
                }
                let _ = writeln!(
                    out,
                    "    run: {}",
                    probe_command(probe_cmd_hint, &report.number, &c.carrier)
                );
            }
            State::Blocked | State::Suspect => {
                let _ = writeln!(
                    out,
                    "  {}: {} since {} UTC, attribution {}",
                    c.carrier,
                    c.state.as_str(),
                    long_time(c.since.as_deref()),
                    attribution_cell(c),
                );
                wrap(&mut out, "    why:", 8, &c.reason);
                let e = &c.evidence;
                wrap(
                    &mut out,
                    "    evidence:",
                    8,
                    &format!(
                        "this number {} failing / {} alerting here; other caller IDs {} probes, {} alerting, {} failing the same way; trunk-class failures on all carriers {}",
                        e.own_failures,
                        e.own_alerting,
                        e.others_probes,
                        e.others_alerting,
                        e.others_failing,
                        e.trunk_failures
                    ),
                );
                if c.redress.is_empty() && c.locations.is_empty() {
                    out.push_str("    redress: none given\n");
                } else {
                    out.push_str("    redress:\n");
                    redress_lines(&mut out, c, 6);
                }
                if let Some(id) = &c.last_probe_id {
                    let _ = writeln!(out, "    last probe: {id} (ringwatch evidence {id})");
                }
            }
        }
    }
    out
}
