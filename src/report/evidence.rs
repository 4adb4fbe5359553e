//! `ringwatch evidence`: a ticket-ready text for one probe (what a carrier's
//! support desk asks for) and its exchange as a pcap.

use std::fmt::Write as _;
use std::io;

use chrono::{DateTime, Utc};

use super::pcap::{Frame, PcapWriter};
use crate::probe::{Direction, ProbeRecord};

/// Headers of the final response worth quoting in a ticket.
const QUOTED_HEADERS: &[&str] = &["Reason", "Call-Info", "Warning", "Retry-After"];

fn started(rec: &ProbeRecord) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&rec.started_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn first_line(data: &[u8]) -> String {
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line).trim_end().to_string()
}

/// The ticket text.
pub fn text(rec: &ProbeRecord) -> String {
    let mut out = String::new();
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(out, "ringwatch test-call evidence, probe {}", rec.id);
    let _ = writeln!(out);
    let _ = writeln!(out, "Time (UTC):     {}", rec.started_at);
    let _ = writeln!(
        out,
        "Caller ID:      {} (From and P-Asserted-Identity)",
        rec.caller_id
    );
    let _ = writeln!(out, "Destination:    {}", rec.destination);
    let _ = writeln!(out, "Carrier:        {}", rec.carrier);
    let _ = writeln!(out, "Call-ID:        {}", rec.call_id);
    let _ = writeln!(
        out,
        "Trunk:          {} (our side {})",
        rec.trunk, rec.local
    );
    let final_line = rec
        .final_response()
        .map(|m| first_line(m.raw()))
        .or_else(|| {
            rec.status
                .map(|s| format!("SIP/2.0 {s} {}", rec.reason_phrase.as_deref().unwrap_or("")))
        })
        .unwrap_or_else(|| "none (no final response)".to_string());
    let _ = writeln!(out, "Final response: {final_line}");
    let pdd = rec
        .pdd_ms
        .map_or_else(|| "-".to_string(), |ms| format!("{ms} ms"));
    let _ = writeln!(
        out,
        "Outcome:        {} (rang: {}, post-dial delay: {pdd}, duration: {} ms, we cancelled: {})",
        rec.outcome.as_str(),
        yes_no(rec.rang),
        rec.duration_ms,
        yes_no(rec.cancelled_by_us)
    );
    if let Some(m) = rec.final_response() {
        for name in QUOTED_HEADERS {
            for value in m.header_all(name) {
                let _ = writeln!(out, "{:<15} {value}", format!("{name}:"));
            }
        }
    }
    if let Some(a) = &rec.analytics {
        let _ = writeln!(out);
        let _ = writeln!(out, "Blocking notice ({}):", a.standard.as_str());
        for (k, v) in [
            ("url", &a.url),
            ("tel", &a.tel),
            ("email", &a.email),
            ("id", &a.id),
            ("location", &a.location),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "  {k:<9} {v}");
            }
        }
        if let Some(c) = &a.contacts {
            for (k, vs) in [("tel", &c.tel), ("email", &c.email), ("url", &c.url)] {
                for v in vs {
                    let _ = writeln!(out, "  {k:<9} {v} (jCard)");
                }
            }
        }
        let _ = writeln!(
            out,
            "  (redress contacts are the network's own text; ringwatch never fetches them)"
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "SIP ladder (seconds after the first INVITE):");
    for e in &rec.exchange {
        let arrow = match e.direction {
            Direction::Sent => "-->",
            Direction::Received => "<--",
        };
        let _ = writeln!(
            out,
            "  {:>9.3}  {} {arrow} {}  {}",
            e.offset_us as f64 / 1e6,
            rec.local,
            e.remote,
            first_line(&e.data)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Messages (credentials redacted):");
    for e in &rec.exchange {
        let what = match e.direction {
            Direction::Sent => "sent to",
            Direction::Received => "received from",
        };
        let _ = writeln!(
            out,
            "--- {:.3} s, {what} {} ---",
            e.offset_us as f64 / 1e6,
            e.remote
        );
        let _ = writeln!(out, "{}", String::from_utf8_lossy(&e.data).trim_end());
    }
    out
}

/// Write the exchange as a pcap with the recorded addresses and times.
pub fn write_pcap<W: io::Write>(rec: &ProbeRecord, out: W) -> io::Result<W> {
    let start = started(rec);
    let mut w = PcapWriter::new(out)?;
    for e in &rec.exchange {
        let at =
            start + chrono::Duration::microseconds(i64::try_from(e.offset_us).unwrap_or(i64::MAX));
        let (src, dst) = match e.direction {
            Direction::Sent => (rec.local, e.remote),
            Direction::Received => (e.remote, rec.local),
        };
        w.write(&Frame {
            at,
            src,
            dst,
            payload: &e.data,
        })?;
    }
    w.finish()
}
