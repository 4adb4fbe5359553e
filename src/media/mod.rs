//! Early media (issue 5): a sans-IO RTP receiver with tone classification,
//! one [`MediaSession`] per test call.
//!
//! The probe shell drives it like the UAC: it owns the RTP socket (bound
//! before the INVITE, port in the SDP offer), hands every datagram to
//! [`MediaSession::handle_packet`], every answer SDP (from a 183, 180 or
//! 200) to [`MediaSession::handle_answer`], sends what
//! [`MediaSession::poll_transmit`] yields, and wakes at
//! [`MediaSession::poll_timeout`]. No clock, no socket, no randomness in
//! here: `now` and the SSRC seed come in.
//!
//! ```text
//! datagram ─> source check (answered address, or latch to the first
//!             source when the answer's address is unusable) ─> rtp-rs
//!             header ─> RFC 3550 sequence extension, loss, jitter
//!          ─> G.711 payload (RFC 4733 events skipped) ─> PCM (gaps
//!             concealed by timestamp) ─> Detector: ringback / busy /
//!             reorder / SIT / speech / music / silence
//! ```
//!
//! What the shell reads during the call: [`MediaSession::heard_ringback`]
//! (a 183 with ringback counts as alerting) and [`MediaSession::intercept`]
//! (SIT or announcement); at the end: [`MediaSession::report`] for the
//! record's `media` field, [`MediaSession::pcm`] for `--wav` and
//! [`MediaSession::packets`] for the evidence pcap.

mod analysis;
mod cadence;
mod detector;
pub mod g711;
pub mod rtp;
mod sit;
mod speech;
pub mod synth;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_rs::RtpReader;
use serde::{Deserialize, Serialize};

pub use cadence::RingbackProfile;
pub use detector::{Detector, Intercept, Tone};
use rtp::{ReceiveStats, SeqVerdict, Ssrc};
pub use sit::{
    SIT_F1_HIGH, SIT_F1_LOW, SIT_F2_HIGH, SIT_F2_LOW, SIT_F3, SIT_LONG_MS, SIT_SHORT_MS, SitCode,
};

use crate::sdp::{AnswerSdp, Codec};

/// RTP clock rate of G.711 and telephone-event.
const CLOCK_RATE: u64 = 8000;
/// Samples in one 20 ms packet.
const FRAME: usize = 160;
/// A timestamp gap up to this is concealed by continuing the waveform.
const PLC_MAX: u32 = 800;
/// Played samples kept for concealment (50 ms).
const HISTORY: usize = 400;
/// Samples matched when searching the concealment period.
const PLC_MATCH: usize = 80;
/// A timestamp gap up to this is filled with silence; beyond, the detector
/// restarts its windows (a discontinuity).
const FILL_MAX: u32 = 16_000;
/// Largest payload decoded from one packet (200 ms).
const MAX_PAYLOAD: usize = 1600;
/// Datagrams held while no answer SDP has arrived yet.
const PENDING_MAX: usize = 64;

/// Tunables of a media session; `Default` is what the probe uses.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Ringback regions to recognise.
    pub ringback: Vec<RingbackProfile>,
    /// Decoded audio kept for `--wav`, in samples (default 60 s).
    pub pcm_cap: usize,
    /// RTP packets kept for the evidence pcap, both directions.
    pub packet_cap: usize,
    /// Packets of silence sent when early media starts (0 = none).
    pub silence_packets: u32,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            ringback: RingbackProfile::defaults(),
            pcm_cap: 60 * 8000,
            packet_cap: 6000,
            silence_packets: 5,
        }
    }
}

/// One RTP datagram of the call, received or sent, for the evidence pcap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRtp {
    /// Microseconds since the session was created.
    pub offset_us: u64,
    /// UDP source.
    pub from: SocketAddr,
    /// UDP destination.
    pub to: SocketAddr,
    /// The datagram.
    pub data: Vec<u8>,
}

/// The `media` field of a probe record. Put `None` in the record when
/// `packets == 0` (no media arrived).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaReport {
    /// `"PCMU"` or `"PCMA"`: the codec of the audio received (else of the
    /// answer).
    pub codec: Option<String>,
    /// RTP packets accepted from the far end.
    pub packets: u64,
    /// Packets lost (RFC 3550: expected − received).
    pub lost: u64,
    /// Interarrival jitter in ms (RFC 3550 A.8).
    pub jitter_ms: f64,
    /// Time from session creation (the INVITE) to the first accepted packet.
    pub first_packet_ms: Option<u64>,
    /// What the early media was (most significant class heard).
    pub tone: Option<Tone>,
    /// The SIT code when `tone` is `sit`.
    pub sit_code: Option<SitCode>,
    /// Milliseconds of speech-like audio.
    pub speech_ms: u64,
    /// The ringback region recognised (`us`, `uk`, `cept`, …).
    pub ringback_region: Option<String>,
    /// Datagrams ignored: from another source than the answered one, or not
    /// RTP.
    #[serde(default)]
    pub strays: u64,
}

impl MediaReport {
    /// The early media was an intercept: a Special Information Tone, or an
    /// announcement (speech) with no ringback. What a stored record says;
    /// the live session also has [`MediaSession::intercept`].
    pub fn is_intercept(&self) -> bool {
        self.sit_code.is_some()
            || (self.tone == Some(Tone::Speech) && self.ringback_region.is_none())
    }
}

/// Where RTP is accepted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// No answer yet: hold datagrams.
    Unknown,
    /// The answer named an unusable address: take the first RTP source.
    Latch,
    /// Only from this address.
    Fixed(SocketAddr),
}

/// The silence burst that opens SBC latching.
#[derive(Debug, Clone)]
struct Burst {
    dest: Option<SocketAddr>,
    remaining: u32,
    next_at: Instant,
    seq: u16,
    ts: u32,
    ssrc: u32,
    codec: Codec,
    marker: bool,
}

/// The media half of one test call. See the module docs.
#[derive(Debug)]
pub struct MediaSession {
    start: Instant,
    local: SocketAddr,
    config: MediaConfig,
    answer: Option<AnswerSdp>,
    source: Source,
    pending: Vec<(Instant, SocketAddr, Vec<u8>)>,
    stats: ReceiveStats,
    accepted: u64,
    strays: u64,
    first_packet: Option<Instant>,
    codec_seen: Option<Codec>,
    next_ts: Option<(Ssrc, u32)>,
    last_arrival: Option<Instant>,
    last_frame: Vec<i16>,
    history: Vec<i16>,
    scratch: Vec<i16>,
    detector: Detector,
    pcm: Vec<i16>,
    captured: Vec<CapturedRtp>,
    burst: Burst,
}

impl MediaSession {
    /// A session for our RTP socket `local`, created when the INVITE goes
    /// out; `ssrc_seed` (random, from the shell) gives our SSRC and the
    /// first sequence number and timestamp of the silence we send.
    pub fn new(now: Instant, local: SocketAddr, ssrc_seed: u32) -> Self {
        MediaSession::with_config(now, local, ssrc_seed, MediaConfig::default())
    }

    /// Like [`MediaSession::new`] with explicit tunables (ringback regions,
    /// capture caps, silence burst length).
    pub fn with_config(
        now: Instant,
        local: SocketAddr,
        ssrc_seed: u32,
        config: MediaConfig,
    ) -> Self {
        let detector = Detector::new(&config.ringback);
        MediaSession {
            start: now,
            local,
            answer: None,
            source: Source::Unknown,
            pending: Vec::new(),
            stats: ReceiveStats::default(),
            accepted: 0,
            strays: 0,
            first_packet: None,
            codec_seen: None,
            next_ts: None,
            last_arrival: None,
            last_frame: Vec::new(),
            history: Vec::with_capacity(2 * HISTORY),
            scratch: Vec::with_capacity(MAX_PAYLOAD),
            detector,
            pcm: Vec::new(),
            captured: Vec::new(),
            burst: Burst {
                dest: None,
                remaining: 0,
                next_at: now,
                seq: (ssrc_seed.rotate_left(16) as u16) & 0x7fff,
                ts: ssrc_seed.rotate_left(7) & 0x7fff_ffff,
                ssrc: ssrc_seed,
                codec: Codec::Pcmu,
                marker: true,
            },
            config,
        }
    }

    /// An answer SDP arrived (183, 180 or 200 body, parsed with
    /// [`crate::sdp::parse_answer`]). May be called more than once: a new
    /// usable address replaces the old one and gets its own silence burst.
    pub fn handle_answer(&mut self, now: Instant, sdp: &AnswerSdp) {
        match sdp.rtp_addr() {
            Some(addr) => {
                if self.source != Source::Fixed(addr) {
                    self.source = Source::Fixed(addr);
                    self.burst.dest = Some(addr);
                    self.burst.remaining = self.config.silence_packets;
                    self.burst.next_at = now;
                }
            }
            None => {
                if self.source == Source::Unknown {
                    self.source = Source::Latch;
                }
            }
        }
        if let Some((_, codec)) = sdp.codec {
            self.burst.codec = codec;
        }
        self.answer = Some(sdp.clone());
        for (at, from, data) in std::mem::take(&mut self.pending) {
            self.handle_packet(at, from, &data);
        }
    }

    /// Every datagram that arrives on the RTP socket. Never panics, whatever
    /// the bytes.
    pub fn handle_packet(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        match self.source {
            Source::Unknown => {
                if self.pending.len() < PENDING_MAX {
                    self.pending.push((now, from, data.to_vec()));
                    return;
                }
                // Media flowing with no answer at all: treat it as an
                // answer with an unusable address.
                self.source = Source::Latch;
                for (at, f, d) in std::mem::take(&mut self.pending) {
                    self.handle_packet(at, f, &d);
                }
                return self.handle_packet(now, from, data);
            }
            Source::Latch => {}
            Source::Fixed(addr) if addr == from => {}
            Source::Fixed(_) => {
                self.strays += 1;
                return;
            }
        }
        let Ok(rtp) = RtpReader::new(data) else {
            self.strays += 1;
            return;
        };
        let pt = rtp.payload_type();
        let codec = self.codec_of(pt);
        let event = self.is_event(pt);
        if self.source == Source::Latch {
            if codec.is_none() && !event {
                self.strays += 1;
                return;
            }
            self.source = Source::Fixed(from);
        }
        self.accepted += 1;
        self.first_packet.get_or_insert(now);
        let ssrc = Ssrc(rtp.ssrc());
        let seq = u16::from(rtp.sequence_number());
        let ts = rtp.timestamp();
        let arrival = (self.elapsed_us(now) as u128 * u128::from(CLOCK_RATE) / 1_000_000) as u32;
        let verdict = self.stats.update(ssrc, seq, ts, arrival, !event);
        self.capture(now, from, self.local, data);
        if let Some(codec) = codec
            && !event
        {
            self.codec_seen = Some(codec);
            self.audio(now, ssrc, verdict, ts, codec, rtp.payload());
        }
        self.last_arrival = Some(now);
    }

    /// The next datagram to send from our RTP socket, when one is due: a
    /// few packets of G.711 silence, 20 ms apart, to the answered address,
    /// so SBCs that latch on the first packet start sending.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        let dest = self.burst.dest?;
        if self.burst.remaining == 0 || now < self.burst.next_at {
            return None;
        }
        let b = &mut self.burst;
        let mut pkt = Vec::with_capacity(12 + FRAME);
        pkt.push(0x80);
        pkt.push(b.codec.static_pt() | if b.marker { 0x80 } else { 0 });
        pkt.extend_from_slice(&b.seq.to_be_bytes());
        pkt.extend_from_slice(&b.ts.to_be_bytes());
        pkt.extend_from_slice(&b.ssrc.to_be_bytes());
        pkt.resize(12 + FRAME, g711::silence(b.codec));
        b.marker = false;
        b.seq = b.seq.wrapping_add(1);
        b.ts = b.ts.wrapping_add(FRAME as u32);
        b.remaining -= 1;
        b.next_at = now + Duration::from_millis(20);
        self.capture(now, self.local, dest, &pkt);
        Some((dest, pkt))
    }

    /// When [`MediaSession::poll_transmit`] next has something to send.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.burst.dest.is_some() && self.burst.remaining > 0).then_some(self.burst.next_at)
    }

    /// The figures for the record's `media` field.
    pub fn report(&self) -> MediaReport {
        let sit_code = self.detector.sit_code();
        MediaReport {
            codec: self
                .codec_seen
                .or_else(|| self.answer.as_ref().and_then(|a| a.codec.map(|(_, c)| c)))
                .map(|c| c.name().to_owned()),
            packets: self.accepted,
            lost: self.stats.lost(),
            jitter_ms: (self.stats.jitter() * 1000.0 / CLOCK_RATE as f64 * 1000.0).round() / 1000.0,
            first_packet_ms: self
                .first_packet
                .map(|t| t.saturating_duration_since(self.start).as_millis() as u64),
            tone: self.detector.tone(),
            sit_code,
            speech_ms: self.detector.speech_ms(),
            ringback_region: self.detector.ringback_region().map(str::to_owned),
            strays: self.strays,
        }
    }

    /// Decoded 8 kHz audio so far (gaps concealed), capped at
    /// [`MediaConfig::pcm_cap`] samples, for `--wav`.
    pub fn pcm(&self) -> &[i16] {
        &self.pcm
    }

    /// RTP received (accepted) and sent, capped at
    /// [`MediaConfig::packet_cap`], for the evidence pcap.
    pub fn packets(&self) -> &[CapturedRtp] {
        &self.captured
    }

    /// Whether a ringback cadence was recognised (so far).
    pub fn heard_ringback(&self) -> bool {
        self.detector.heard_ringback()
    }

    /// An intercept (SIT or announcement) as soon as it is certain.
    pub fn intercept(&self) -> Option<Intercept> {
        self.detector.intercept()
    }

    /// The classifier, for finer questions (timeline, music).
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    fn elapsed_us(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX)
    }

    fn codec_of(&self, pt: u8) -> Option<Codec> {
        match &self.answer {
            Some(a) => a.codec_of(pt),
            None => Codec::from_static_pt(pt),
        }
    }

    fn is_event(&self, pt: u8) -> bool {
        let te = self.answer.as_ref().and_then(|a| a.telephone_event_pt);
        te == Some(pt) || (te.is_none() && pt == crate::sdp::TELEPHONE_EVENT_PT)
    }

    fn capture(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if self.captured.len() < self.config.packet_cap {
            let offset_us = self.elapsed_us(now);
            self.captured.push(CapturedRtp {
                offset_us,
                from,
                to,
                data: data.to_vec(),
            });
        }
    }

    /// Decode one packet's payload into the detector and the PCM capture,
    /// concealing timestamp gaps: ≤ 100 ms repeats the last frame, ≤ 2 s is
    /// silence, more (or a new source after a long pause) restarts the
    /// detector windows. Late and duplicate packets are not played.
    fn audio(
        &mut self,
        now: Instant,
        ssrc: Ssrc,
        verdict: SeqVerdict,
        ts: u32,
        codec: Codec,
        payload: &[u8],
    ) {
        if matches!(verdict, SeqVerdict::Late | SeqVerdict::Probation) {
            return;
        }
        let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
        match self.next_ts {
            Some((prev, expect)) if prev == ssrc => {
                let delta = ts.wrapping_sub(expect) as i32;
                if delta < 0 {
                    if delta.unsigned_abs() > FILL_MAX {
                        self.detector.discontinuity();
                    } else {
                        return; // overlaps what was played
                    }
                } else if delta == 0 {
                    // In order, no gap: the common case.
                } else if delta as u32 <= PLC_MAX {
                    self.conceal(delta as u32, true);
                } else if delta as u32 <= FILL_MAX {
                    self.conceal(delta as u32, false);
                } else {
                    self.detector.discontinuity();
                }
            }
            Some(_) => {
                // A new source (e.g. an announcement server after the
                // ringback): bridge the pause by arrival time.
                let pause = self.last_arrival.map(|t| now.saturating_duration_since(t));
                match pause {
                    Some(p) if p <= Duration::from_secs(2) => {
                        let samples = (p.as_micros() as u64 * CLOCK_RATE / 1_000_000) as u32;
                        self.conceal(samples.saturating_sub(self.last_frame.len() as u32), false);
                    }
                    _ => self.detector.discontinuity(),
                }
            }
            None => {}
        }
        self.scratch.clear();
        g711::decode_into(codec, payload, &mut self.scratch);
        self.play_scratch();
        self.last_frame.clear();
        self.last_frame.extend_from_slice(&self.scratch);
        self.next_ts = Some((ssrc, ts.wrapping_add(payload.len() as u32)));
    }

    /// Feed `samples` of concealment: the waveform continued with its own
    /// period (in the spirit of G.711 Appendix I, without the fade), or
    /// zeros. A continued tone stays phase-continuous, so a lost packet
    /// does not break a ringback cadence.
    fn conceal(&mut self, samples: u32, continue_waveform: bool) {
        if samples == 0 {
            return;
        }
        let period = if continue_waveform {
            self.period()
        } else {
            None
        };
        let mut left = samples as usize;
        while left > 0 {
            self.scratch.clear();
            let n = left.min(FRAME);
            match period {
                Some(p) => {
                    let start = self.history.len() - p;
                    for i in 0..n {
                        let v = self.history[start + i % p];
                        self.scratch.push(v);
                    }
                }
                None => self.scratch.resize(n, 0),
            }
            self.play_scratch();
            left -= n;
        }
    }

    /// The lag (40–320 samples) at which the last 10 ms best repeats in the
    /// history: the waveform's period, or a multiple of it.
    fn period(&self) -> Option<usize> {
        let h = &self.history;
        if h.len() < PLC_MATCH + 40 {
            return None;
        }
        let tail = &h[h.len() - PLC_MATCH..];
        let energy = |x: &[i16]| x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>();
        let tail_e = energy(tail);
        if tail_e <= 0.0 {
            return None;
        }
        let mut best = (0.0f64, None);
        for p in 40..=(h.len() - PLC_MATCH).min(320) {
            let past = &h[h.len() - PLC_MATCH - p..h.len() - p];
            let num: f64 = tail
                .iter()
                .zip(past)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum();
            let corr = num / (tail_e * energy(past)).sqrt().max(1.0);
            if corr > best.0 {
                best = (corr, Some(p));
            }
        }
        best.1
    }

    fn play_scratch(&mut self) {
        self.detector.push(&self.scratch);
        self.history.extend_from_slice(&self.scratch);
        if self.history.len() > HISTORY {
            self.history.drain(..self.history.len() - HISTORY);
        }
        let room = self.config.pcm_cap.saturating_sub(self.pcm.len());
        self.pcm
            .extend_from_slice(&self.scratch[..self.scratch.len().min(room)]);
    }
}

#[cfg(test)]
mod detector_tests;
#[cfg(test)]
mod session_tests;
