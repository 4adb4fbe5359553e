//! `/metrics`: a [`Snapshot`] in the Prometheus text exposition format
//! 0.0.4. Pure string building: no I/O, no clock, no panics.
//!
//! Phone numbers never appear as label values unless the operator opted in
//! (`[http] number_labels = true`): only then is the per-pair gauge
//! `ringwatch_number_carrier_state` emitted. Every label value is escaped
//! as the format requires (`\\`, `\"`, `\n`).

use std::fmt::{self, Write as _};

use crate::daemon::snapshot::{PDD_BUCKETS, PddHistogram, Snapshot};
use crate::reputation::State;

/// The `Content-Type` of the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The four reputation states, in the order they are exported.
const STATES: [State; 4] = [State::Clean, State::Suspect, State::Blocked, State::Unknown];

/// Render every metric of `s`. `number_labels` adds the per-(number,
/// carrier) state gauge, whose `number` label is a phone number.
///
/// `ringwatch_number_state` is derived from `s.numbers` (every carrier entry
/// of every report, exactly the cells of the dashboard and the pairs of
/// `/api/numbers`), so `/metrics` and `/api` cannot disagree; all four
/// states are always present.
#[must_use]
pub fn render_metrics(s: &Snapshot, number_labels: bool) -> String {
    let mut out = String::with_capacity(2048);
    // Writing into a String cannot fail.
    let _ = write_metrics(&mut out, s, number_labels);
    out
}

fn write_metrics(out: &mut String, s: &Snapshot, number_labels: bool) -> fmt::Result {
    let m = &s.metrics;

    family(
        out,
        "ringwatch_probes_total",
        "counter",
        "Test calls finished since the daemon started, by carrier and outcome.",
    )?;
    for (carrier, by_outcome) in &m.probes_total {
        for (outcome, n) in by_outcome {
            sample(
                out,
                "ringwatch_probes_total",
                &[("carrier", carrier), ("outcome", outcome)],
                n,
            )?;
        }
    }

    family(
        out,
        "ringwatch_pdd_seconds",
        "histogram",
        "Post-dial delay (INVITE to the first 180/183) per carrier.",
    )?;
    let empty = PddHistogram::default();
    let mut carriers: Vec<&str> = s.carriers.iter().map(String::as_str).collect();
    for name in m.pdd_seconds.keys() {
        if !carriers.contains(&name.as_str()) {
            carriers.push(name);
        }
    }
    for carrier in carriers {
        let h = m.pdd_seconds.get(carrier).unwrap_or(&empty);
        histogram(out, carrier, h)?;
    }

    family(
        out,
        "ringwatch_number_state",
        "gauge",
        "(number, carrier) pairs per reputation state.",
    )?;
    let mut per_state = [0u64; STATES.len()];
    for view in &s.numbers {
        for c in &view.report.carriers {
            if let Some(i) = STATES.iter().position(|st| *st == c.state)
                && let Some(slot) = per_state.get_mut(i)
            {
                *slot = slot.saturating_add(1);
            }
        }
    }
    for (st, n) in STATES.iter().zip(per_state) {
        sample(out, "ringwatch_number_state", &[("state", st.as_str())], n)?;
    }

    if number_labels {
        family(
            out,
            "ringwatch_number_carrier_state",
            "gauge",
            "1 for the current reputation state of a (number, carrier) pair, 0 for the others.",
        )?;
        for view in &s.numbers {
            for c in &view.report.carriers {
                for st in STATES {
                    let labels = [
                        ("number", view.number.as_str()),
                        ("carrier", c.carrier.as_str()),
                        ("state", st.as_str()),
                    ];
                    sample(
                        out,
                        "ringwatch_number_carrier_state",
                        &labels,
                        u8::from(c.state == st),
                    )?;
                }
            }
        }
    }

    family(
        out,
        "ringwatch_scheduler_lag_seconds",
        "gauge",
        "How late the last call started against its planned time.",
    )?;
    sample(
        out,
        "ringwatch_scheduler_lag_seconds",
        &[],
        F64(m.scheduler_lag_seconds),
    )?;
    family(
        out,
        "ringwatch_trunk_paused",
        "gauge",
        "1 while the trunk is paused (503 Retry-After or backoff).",
    )?;
    sample(out, "ringwatch_trunk_paused", &[], u8::from(m.trunk_paused))?;
    family(
        out,
        "ringwatch_calls_in_flight",
        "gauge",
        "Test calls in progress.",
    )?;
    sample(out, "ringwatch_calls_in_flight", &[], m.calls_in_flight)?;
    family(
        out,
        "ringwatch_alerts_queued",
        "gauge",
        "Alerts waiting for delivery.",
    )?;
    sample(out, "ringwatch_alerts_queued", &[], m.alerts_queued)?;
    family(
        out,
        "ringwatch_alerts_dropped_total",
        "counter",
        "Alerts dropped because a queue was full.",
    )?;
    sample(out, "ringwatch_alerts_dropped_total", &[], m.alerts_dropped)?;
    Ok(())
}

/// The `_bucket` (cumulative, ending in `+Inf`), `_sum` and `_count` lines
/// of one carrier's histogram. A malformed histogram (bucket vector of the
/// wrong length, counts not cumulative) is repaired on output so the
/// exposition stays valid: buckets never decrease and never exceed `count`.
fn histogram(out: &mut String, carrier: &str, h: &PddHistogram) -> fmt::Result {
    let name = "ringwatch_pdd_seconds_bucket";
    let mut running = 0u64;
    for (i, le) in PDD_BUCKETS.iter().enumerate() {
        let b = h.buckets.get(i).copied().unwrap_or(running);
        running = running.max(b).min(h.count);
        let le = F64(*le).to_string();
        sample(out, name, &[("carrier", carrier), ("le", &le)], running)?;
    }
    sample(out, name, &[("carrier", carrier), ("le", "+Inf")], h.count)?;
    sample(
        out,
        "ringwatch_pdd_seconds_sum",
        &[("carrier", carrier)],
        F64(h.sum),
    )?;
    sample(
        out,
        "ringwatch_pdd_seconds_count",
        &[("carrier", carrier)],
        h.count,
    )
}

/// `# HELP` and `# TYPE` of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) -> fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")
}

/// One sample line: `name{k="v",...} value`.
fn sample(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    value: impl fmt::Display,
) -> fmt::Result {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_label_value(out, v);
            out.push('"');
        }
        out.push('}');
    }
    writeln!(out, " {value}")
}

/// Append `v` escaped as a label value: backslash, double quote and line
/// feed become `\\`, `\"` and `\n`.
fn escape_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A float as the format spells it: `+Inf`, `-Inf`, `NaN`, else the
/// shortest decimal that round-trips (`0.25`, `1`, `13`).
struct F64(f64);

impl fmt::Display for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v == f64::INFINITY {
            f.write_str("+Inf")
        } else if v == f64::NEG_INFINITY {
            f.write_str("-Inf")
        } else {
            write!(f, "{v}")
        }
    }
}
