//! The probe record: one finished test call, as reported (`--json`) and, in
//! the history issue, stored. Field names are the user-facing contract of
//! ARCHITECTURE.md; extend, never rename.

use std::net::SocketAddr;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::ProbeTarget;
use crate::classify::{self, Analytics, CallFacts, Classification, Outcome};
use crate::media::MediaReport;
use crate::sip::message::Message;
use crate::sip::reason::ReasonValue;
use crate::sip::warning::Warning;
use crate::uac::Summary;

/// Direction of a recorded datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// Which protocol a recorded datagram belongs to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// SIP signalling on the call's SIP socket.
    #[default]
    Sip,
    /// Early-media RTP on the call's media socket.
    Rtp,
}

/// One datagram of the exchange (SIP, credentials redacted; or RTP).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExchangeEntry {
    /// Microseconds since the first INVITE.
    pub offset_us: u64,
    /// Direction.
    pub direction: Direction,
    /// The trunk address (destination when sent, source when received).
    pub remote: SocketAddr,
    /// The bytes, with `Authorization` / `Proxy-Authorization` values redacted.
    #[serde(serialize_with = "lossy", deserialize_with = "bytes_from_str")]
    pub data: Vec<u8>,
    /// SIP or RTP (older records: SIP).
    #[serde(default)]
    pub proto: Proto,
}

fn bytes_from_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    String::deserialize(d).map(String::into_bytes)
}

fn lossy<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(data))
}

/// Replace the value of every credentials header line with `<redacted>`: a
/// digest response is a hash an attacker can brute-force offline.
pub fn redact_credentials(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let lower = line.to_ascii_lowercase();
        let is_cred =
            lower.starts_with(b"authorization") || lower.starts_with(b"proxy-authorization");
        match (is_cred, line.iter().position(|&b| b == b':')) {
            (true, Some(colon)) => {
                out.extend_from_slice(&line[..=colon]);
                out.extend_from_slice(b" <redacted>");
                if line.ends_with(b"\r\n") {
                    out.extend_from_slice(b"\r\n");
                } else if line.ends_with(b"\n") {
                    out.push(b'\n');
                }
            }
            _ => out.extend_from_slice(line),
        }
    }
    out
}

impl ExchangeEntry {
    /// Record a datagram seen at `now` on a call that started at `start`.
    pub fn new(
        start: Instant,
        now: Instant,
        direction: Direction,
        remote: SocketAddr,
        data: &[u8],
    ) -> Self {
        Self {
            offset_us: u64::try_from(now.saturating_duration_since(start).as_micros())
                .unwrap_or(u64::MAX),
            direction,
            remote,
            data: redact_credentials(data),
            proto: Proto::Sip,
        }
    }
}

/// One finished test call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// Unique, time-ordered probe id (UUID v7).
    pub id: String,
    /// The caller ID the call came from.
    pub caller_id: String,
    /// Carrier name from the configuration.
    pub carrier: String,
    /// Destination number.
    pub destination: String,
    /// When the first INVITE went out (RFC 3339, UTC, milliseconds).
    pub started_at: String,
    /// SIP Call-ID: carriers' redress desks ask for it.
    pub call_id: String,
    /// The classified outcome.
    pub outcome: Outcome,
    /// A 180 (later: or 183 with ringback) arrived before the end.
    pub rang: bool,
    /// Final status code, if any.
    pub status: Option<u16>,
    /// The real reason phrase of the final response.
    pub reason_phrase: Option<String>,
    /// Post-dial delay: first INVITE to first 180/183.
    pub pdd_ms: Option<u64>,
    /// First INVITE to the moment the outcome was known.
    pub duration_ms: u64,
    /// 603+ / 608 metadata.
    pub analytics: Option<Analytics>,
    /// Every Reason value of the final response.
    pub reasons: Vec<ReasonValue>,
    /// Retry-After of the final response, clamped.
    pub retry_after_s: Option<u64>,
    /// First Q.850 cause, if any.
    pub q850_cause: Option<u32>,
    /// Warning headers of the final response.
    pub warnings: Vec<Warning>,
    /// Oddities noticed while classifying (e.g. an ATIS Reason on a non-603).
    pub anomalies: Vec<String>,
    /// Provisional codes in arrival order.
    pub provisionals: Vec<u16>,
    /// We ended the call with CANCEL.
    pub cancelled_by_us: bool,
    /// 2xx dialogs (more than one when forked).
    pub answered_dialogs: usize,
    /// Datagrams ignored as not belonging to this call.
    pub strays: u32,
    /// Where the INVITE went.
    pub trunk: SocketAddr,
    /// Our address for this call.
    pub local: SocketAddr,
    /// Early media, `null` when no RTP arrived.
    #[serde(default)]
    pub media: Option<MediaReport>,
    /// Our RTP address for this call (for the evidence pcap).
    #[serde(default)]
    pub media_local: Option<SocketAddr>,
    /// The whole SIP exchange and captured RTP (kept for the store and
    /// evidence; not in `--json`).
    #[serde(skip)]
    pub exchange: Vec<ExchangeEntry>,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl ProbeRecord {
    /// Assemble a record from the UAC's summary and its classification.
    #[allow(clippy::too_many_arguments)] // a constructor of a flat record; grouping would only add types
    pub fn new(
        id: String,
        target: &ProbeTarget,
        started_at: DateTime<Utc>,
        call_id: String,
        trunk: SocketAddr,
        local: SocketAddr,
        summary: &Summary,
        c: Classification,
        exchange: Vec<ExchangeEntry>,
    ) -> Self {
        let end = summary.ended.unwrap_or(summary.started);
        let mut rec = Self {
            id,
            caller_id: target.caller_id.to_string(),
            carrier: target.carrier.clone(),
            destination: target.destination.to_string(),
            started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            call_id,
            outcome: c.outcome,
            rang: summary.rang(),
            status: None,
            reason_phrase: None,
            pdd_ms: summary.first_progress.map(|t| ms(t - summary.started)),
            duration_ms: ms(end.saturating_duration_since(summary.started)),
            analytics: None,
            reasons: Vec::new(),
            retry_after_s: None,
            q850_cause: None,
            warnings: Vec::new(),
            anomalies: Vec::new(),
            provisionals: summary.provisionals.clone(),
            cancelled_by_us: summary.cancelled_by_us,
            answered_dialogs: summary.answered_dialogs,
            strays: summary.strays,
            trunk,
            local,
            media: None,
            media_local: None,
            exchange,
        };
        rec.apply(c);
        rec
    }

    /// Overwrite the classified fields with `c`.
    pub fn apply(&mut self, c: Classification) {
        self.outcome = c.outcome;
        self.status = c.status;
        self.reason_phrase = c.reason_phrase;
        self.analytics = c.analytics;
        self.reasons = c.reasons;
        self.retry_after_s = c.retry_after_s;
        self.q850_cause = c.q850_cause;
        self.warnings = c.warnings;
        self.anomalies = c.anomalies;
    }

    /// The final response to the INVITE as received: the last received
    /// message with a final status and CSeq method INVITE. `None` without
    /// an exchange or when no final arrived.
    pub fn final_response(&self) -> Option<Message> {
        self.exchange
            .iter()
            .rev()
            .filter(|e| e.direction == Direction::Received && e.proto == Proto::Sip)
            .filter_map(|e| Message::parse(&e.data).ok())
            .find(|m| {
                m.status().is_some_and(|c| c >= 200)
                    && m.cseq()
                        .is_some_and(|c| c.method.eq_ignore_ascii_case("INVITE"))
            })
    }

    /// Classify again from the stored raw exchange (after the classifier
    /// improved). The facts the UAC knew but did not keep are re-derived: a
    /// 401/407 final only reaches classification when auth was exhausted.
    pub fn reclassify(&self) -> Classification {
        let fin = self.final_response();
        let auth_exhausted = fin
            .as_ref()
            .and_then(Message::status)
            .is_some_and(|c| c == 401 || c == 407);
        classify::classify(&CallFacts {
            final_response: fin.as_ref(),
            rang: self.rang,
            cancelled_by_us: self.cancelled_by_us,
            auth_exhausted,
            intercepted: self.media.as_ref().is_some_and(MediaReport::is_intercept),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_and_nothing_else_changes() {
        let msg = b"INVITE sip:x SIP/2.0\r\nProxy-Authorization: Digest username=\"u\", response=\"abc\"\r\nauthorization: Digest x\nCSeq: 2 INVITE\r\n\r\nbody";
        let out = String::from_utf8(redact_credentials(msg)).expect("utf8");
        assert_eq!(
            out,
            "INVITE sip:x SIP/2.0\r\nProxy-Authorization: <redacted>\r\nauthorization: <redacted>\nCSeq: 2 INVITE\r\n\r\nbody"
        );
    }
}
