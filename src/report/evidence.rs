//! `ringwatch evidence`: a ticket-ready text for one probe (what a carrier's
//! support desk asks for) and its exchange as a pcap.

use std::fmt::Write as _;
use std::io;

use chrono::{DateTime, Utc};

use super::pcap::{Frame, PcapWriter};
use crate::media::g711;
use crate::probe::{Direction, ProbeRecord, Proto};
use crate::sdp::Codec;

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
    let final_response = rec.final_response();
    let final_line = final_response
        .as_ref()
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
    if let Some(m) = &final_response {
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
    if let Some(m) = &rec.media {
        let _ = writeln!(out);
        let tone = m
            .tone
            .map_or_else(|| "-".to_string(), |t| format!("{t:?}").to_lowercase());
        let sit = m
            .sit_code
            .map(|c| format!(", SIT {c:?}"))
            .unwrap_or_default();
        let region = m
            .ringback_region
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Early media:    {} packets {}, first after {} ms, {} lost, jitter {:.1} ms; heard {tone}{region}{sit}, speech {} ms",
            m.packets,
            m.codec.as_deref().unwrap_or("?"),
            m.first_packet_ms
                .map_or_else(|| "-".to_string(), |v| v.to_string()),
            m.lost,
            m.jitter_ms,
            m.speech_ms
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "SIP ladder (seconds after the first INVITE):");
    for e in rec.exchange.iter().filter(|e| e.proto == Proto::Sip) {
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
    for e in rec.exchange.iter().filter(|e| e.proto == Proto::Sip) {
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
        let local = match e.proto {
            Proto::Sip => rec.local,
            Proto::Rtp => rec.media_local.unwrap_or(rec.local),
        };
        let (src, dst) = match e.direction {
            Direction::Sent => (local, e.remote),
            Direction::Received => (e.remote, local),
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

/// The early media we received, decoded to 8 kHz mono PCM (G.711 µ-law or
/// A-law by payload type; telephone-events and other payloads skipped;
/// packets in arrival order).
pub fn decoded_audio(rec: &ProbeRecord) -> Vec<i16> {
    let mut pcm = Vec::new();
    for e in rec
        .exchange
        .iter()
        .filter(|e| e.proto == Proto::Rtp && e.direction == Direction::Received)
    {
        let Ok(packet) = rtp_rs::RtpReader::new(&e.data) else {
            continue;
        };
        let codec = match packet.payload_type() {
            0 => Codec::Pcmu,
            8 => Codec::Pcma,
            _ => continue,
        };
        g711::decode_into(codec, packet.payload(), &mut pcm);
    }
    pcm
}

/// Write 8 kHz mono 16-bit PCM as a WAV file (RIFF/WAVE, format 1).
pub fn write_wav<W: io::Write>(pcm: &[i16], mut out: W) -> io::Result<W> {
    let data_len = u32::try_from(pcm.len() * 2)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "audio too long for WAV"))?;
    out.write_all(b"RIFF")?;
    out.write_all(&(36 + data_len).to_le_bytes())?;
    out.write_all(b"WAVEfmt ")?;
    out.write_all(&16u32.to_le_bytes())?; // fmt chunk size
    out.write_all(&1u16.to_le_bytes())?; // PCM
    out.write_all(&1u16.to_le_bytes())?; // mono
    out.write_all(&8000u32.to_le_bytes())?; // sample rate
    out.write_all(&16_000u32.to_le_bytes())?; // byte rate
    out.write_all(&2u16.to_le_bytes())?; // block align
    out.write_all(&16u16.to_le_bytes())?; // bits per sample
    out.write_all(b"data")?;
    out.write_all(&data_len.to_le_bytes())?;
    for s in pcm {
        out.write_all(&s.to_le_bytes())?;
    }
    out.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header_is_well_formed() {
        let out = write_wav(&[0, 1, -1, i16::MAX], Vec::new()).expect("wav");
        assert_eq!(&out[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().expect("4")), 36 + 8);
        assert_eq!(&out[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(out[24..28].try_into().expect("4")), 8000);
        assert_eq!(&out[36..40], b"data");
        assert_eq!(out.len(), 44 + 8);
        assert_eq!(i16::from_le_bytes([out[50], out[51]]), i16::MAX);
    }
}
