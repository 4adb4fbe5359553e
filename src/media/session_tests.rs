//! `MediaSession` tests on virtual time: source checks and latching, RTP
//! statistics, telephone-event, the silence burst, hostile datagrams, and
//! whole calls of encoded ringback and SIT.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::synth::{Rng, Synth, comp, packetize};
use super::*;
use crate::sdp::{Codec, parse_answer};

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

const LOCAL: &str = "192.0.2.1:40000";
const FAR: &str = "203.0.113.10:31456";

fn answer(c: &str, port: u16, formats: &str, extra: &str) -> AnswerSdp {
    let body = format!("v=0\r\nc=IN IP4 {c}\r\nm=audio {port} RTP/AVP {formats}\r\n{extra}");
    parse_answer(body.as_bytes()).expect("sdp")
}

fn session(t0: Instant) -> MediaSession {
    MediaSession::new(t0, addr(LOCAL), 0x1234_5678)
}

/// Deliver packets 20 ms apart from `from`, starting `start_ms` after t0.
fn deliver(
    s: &mut MediaSession,
    t0: Instant,
    start_ms: u64,
    from: SocketAddr,
    packets: &[Vec<u8>],
) {
    for (i, p) in packets.iter().enumerate() {
        s.handle_packet(
            t0 + Duration::from_millis(start_ms + 20 * i as u64),
            from,
            p,
        );
    }
}

fn tone_packets(ms: u32, codec: Codec, pt: u8, ssrc: u32, seq0: u16) -> Vec<Vec<u8>> {
    let mut synth = Synth::new(u64::from(ssrc));
    synth.tones(&[comp(1000.0, -20.0)], ms);
    packetize(&synth.pcm(), codec, pt, ssrc, seq0, 1000)
}

#[test]
fn accepts_only_the_answered_address_and_counts_strays() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    s.handle_answer(
        t0,
        &answer(
            "203.0.113.10",
            31456,
            "0 101",
            "a=rtpmap:101 telephone-event/8000\r\n",
        ),
    );
    let pkts = tone_packets(1000, Codec::Pcmu, 0, 7, 100);
    deliver(&mut s, t0, 500, addr(FAR), &pkts);
    deliver(&mut s, t0, 500, addr("203.0.113.10:31458"), &pkts[..10]);
    deliver(&mut s, t0, 500, addr("198.51.100.9:31456"), &pkts[..5]);
    let r = s.report();
    assert_eq!(r.packets, 50);
    assert_eq!(r.strays, 15);
    assert_eq!(r.lost, 0);
    assert_eq!(r.codec.as_deref(), Some("PCMU"));
    assert_eq!(r.first_packet_ms, Some(500));
    assert_eq!(s.pcm().len(), 8000);
    assert_eq!(
        s.packets().iter().filter(|p| p.to == addr(LOCAL)).count(),
        50
    );
}

#[test]
fn latches_to_the_first_source_when_the_answer_address_is_unusable() {
    for c in ["0.0.0.0", "media.example.net"] {
        let t0 = crate::clock::now();
        let mut s = session(t0);
        s.handle_answer(t0, &answer(c, 7000, "8", ""));
        assert_eq!(s.poll_timeout(), None, "nowhere to send silence to");
        // Garbage and a non-G.711 payload type do not latch.
        s.handle_packet(t0, addr("198.51.100.1:9"), b"\x00\x01junk");
        let mut odd = tone_packets(20, Codec::Pcma, 8, 1, 1).remove(0);
        odd[1] = 18; // G.729
        s.handle_packet(t0, addr("198.51.100.1:9"), &odd);
        let first = addr("198.51.100.2:5004");
        deliver(
            &mut s,
            t0,
            100,
            first,
            &tone_packets(400, Codec::Pcma, 8, 2, 1),
        );
        deliver(
            &mut s,
            t0,
            100,
            addr("198.51.100.3:5004"),
            &tone_packets(400, Codec::Pcma, 8, 3, 1),
        );
        let r = s.report();
        assert_eq!(r.packets, 20, "{c}");
        assert_eq!(r.strays, 2 + 20, "{c}");
        assert_eq!(r.codec.as_deref(), Some("PCMA"));
    }
}

#[test]
fn packets_before_the_answer_are_held_then_played() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    deliver(
        &mut s,
        t0,
        0,
        addr(FAR),
        &tone_packets(200, Codec::Pcmu, 0, 4, 10),
    );
    assert_eq!(s.report().packets, 0);
    s.handle_answer(
        t0 + Duration::from_millis(300),
        &answer("203.0.113.10", 31456, "0", ""),
    );
    assert_eq!(s.report().packets, 10);
    assert_eq!(s.report().first_packet_ms, Some(0));
    assert_eq!(s.pcm().len(), 1600);
}

#[test]
fn media_without_any_answer_latches_after_a_while() {
    let t0 = crate::clock::now();
    let pkts = tone_packets(3000, Codec::Pcmu, 0, 4, 10);
    let mut s = session(t0);
    deliver(&mut s, t0, 0, addr(FAR), &pkts);
    assert_eq!(s.report().packets, 150);
    // The latched source holds: the packet that tipped the latch included.
    let mut s = session(t0);
    deliver(&mut s, t0, 0, addr(FAR), &pkts[..64]);
    deliver(&mut s, t0, 2000, addr("198.51.100.7:4000"), &pkts[64..70]);
    assert_eq!((s.report().packets, s.report().strays), (64, 6));
}

#[test]
fn loss_jitter_and_wraparound_through_the_session() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    s.handle_answer(t0, &answer("203.0.113.10", 31456, "0", ""));
    let pkts = tone_packets(2000, Codec::Pcmu, 0, 9, 65_500); // seq wraps at packet 36
    for (i, p) in pkts.iter().enumerate() {
        if [10, 40, 41].contains(&i) {
            continue; // lost
        }
        // Arrivals alternate 0 / 4 ms late: |D| = 32 units each time.
        let late = if i % 2 == 1 { 4 } else { 0 };
        s.handle_packet(
            t0 + Duration::from_millis(20 * i as u64 + late),
            addr(FAR),
            p,
        );
    }
    let r = s.report();
    assert_eq!(r.packets, 97);
    assert_eq!(r.lost, 3);
    assert!(r.jitter_ms > 3.0 && r.jitter_ms < 4.0, "{}", r.jitter_ms);
    // Concealment keeps the audio time line: 100 frames.
    assert_eq!(s.pcm().len(), 16_000);
}

#[test]
fn telephone_events_count_but_are_not_audio() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    s.handle_answer(
        t0,
        &answer(
            "203.0.113.10",
            31456,
            "0 96",
            "a=rtpmap:96 telephone-event/8000\r\n",
        ),
    );
    deliver(
        &mut s,
        t0,
        0,
        addr(FAR),
        &tone_packets(200, Codec::Pcmu, 0, 5, 1),
    );
    // RFC 4733 event "5", repeated with one timestamp.
    let mut ev = vec![0x80, 96, 0, 11, 0, 0, 0x10, 0, 0, 0, 0, 5, 5, 0x0a, 0, 160];
    for i in 0..5u8 {
        ev[3] = 11 + i;
        s.handle_packet(
            t0 + Duration::from_millis(200 + 20 * u64::from(i)),
            addr(FAR),
            &ev,
        );
    }
    let r = s.report();
    assert_eq!(r.packets, 15);
    assert_eq!(s.pcm().len(), 1600, "events are not decoded");
}

#[test]
fn silence_burst_opens_the_latch() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    assert_eq!(s.poll_timeout(), None);
    assert!(s.poll_transmit(t0).is_none());
    s.handle_answer(t0, &answer("203.0.113.10", 31456, "8", ""));
    let mut sent = Vec::new();
    let mut now = t0;
    while let Some(at) = s.poll_timeout() {
        now = now.max(at);
        while let Some(out) = s.poll_transmit(now) {
            sent.push((now, out));
        }
        if sent.len() > 10 {
            break;
        }
    }
    assert_eq!(sent.len(), 5);
    for (i, (at, (dest, pkt))) in sent.iter().enumerate() {
        assert_eq!(*dest, addr(FAR));
        assert_eq!(*at, t0 + Duration::from_millis(20 * i as u64));
        let rtp = rtp_rs::RtpReader::new(pkt).expect("rtp");
        assert_eq!(rtp.payload_type(), 8);
        assert_eq!(rtp.mark(), i == 0);
        assert_eq!(rtp.ssrc(), 0x1234_5678);
        assert_eq!(rtp.payload(), &[0xd5; 160][..]);
        if i > 0 {
            let prev = rtp_rs::RtpReader::new(&sent[i - 1].1.1).expect("rtp");
            assert_eq!(
                u16::from(rtp.sequence_number()),
                u16::from(prev.sequence_number()).wrapping_add(1)
            );
            assert_eq!(rtp.timestamp(), prev.timestamp().wrapping_add(160));
        }
    }
    assert_eq!(s.packets().len(), 5, "sent packets are captured");
    // The same answer again (a 200 after the 183) does not resend.
    s.handle_answer(now, &answer("203.0.113.10", 31456, "8", ""));
    assert_eq!(s.poll_timeout(), None);
    // A different address does.
    s.handle_answer(now, &answer("203.0.113.11", 31456, "8", ""));
    assert_eq!(s.poll_timeout(), Some(now));
}

#[test]
fn hostile_datagrams_never_panic() {
    let t0 = crate::clock::now();
    let mut rng = Rng::new(5);
    for latch in [true, false] {
        let mut s = session(t0);
        let c = if latch { "0.0.0.0" } else { "203.0.113.10" };
        s.handle_answer(
            t0,
            &answer(c, 31456, "0 8 101", "a=rtpmap:101 telephone-event/8000\r\n"),
        );
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            vec![0x80; 11],
            vec![0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], // 15 CSRCs, none present
            vec![
                0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff,
            ], // huge extension
            vec![0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff], // padding longer than packet
            vec![0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x00], // padding 0
            vec![0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2], // version 1
            vec![0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1], // empty payload
            vec![0x80, 8, 0, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0x55],
            vec![0x80, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2],
        ];
        cases.push(
            [
                vec![0x80, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1],
                vec![0xff; 60_000],
            ]
            .concat(),
        );
        for _ in 0..3000 {
            let len = (rng.next_u64() % 300) as usize;
            let mut p: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if let Some(b) = p.first_mut() {
                *b = (*b & 0x3f) | 0x80; // mostly version 2
            }
            cases.push(p);
        }
        for (i, p) in cases.iter().enumerate() {
            s.handle_packet(t0 + Duration::from_millis(i as u64), addr(FAR), p);
        }
        let _ = (s.report(), s.pcm().len(), s.heard_ringback(), s.intercept());
        let json = serde_json::to_string(&s.report()).expect("json");
        assert!(json.contains("\"packets\""));
    }
}

/// A whole early-media call: PCM → RTP → session.
fn call(pcm: &[i16], codec: Codec, loss_every: Option<usize>) -> MediaSession {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    let pt = codec.static_pt();
    s.handle_answer(
        t0 + Duration::from_millis(150),
        &answer("203.0.113.10", 31456, &pt.to_string(), ""),
    );
    let pkts = packetize(pcm, codec, pt, 0xabc, 40_000, 1 << 31);
    for (i, p) in pkts.iter().enumerate() {
        if loss_every.is_some_and(|n| i % n == n - 1) {
            continue;
        }
        s.handle_packet(
            t0 + Duration::from_millis(200 + 20 * i as u64),
            addr(FAR),
            p,
        );
    }
    s
}

#[test]
fn ringback_over_rtp_with_loss_is_heard() {
    let mut synth = Synth::new(21);
    synth
        .silence(200)
        .cadence(
            &[comp(440.0, -19.0), comp(480.0, -19.0)],
            &[2000, 4000],
            7000,
        )
        .add_noise(-19.0, 25.0);
    for (codec, loss) in [
        (Codec::Pcmu, None),
        (Codec::Pcma, Some(50)),
        (Codec::Pcmu, Some(17)),
    ] {
        let s = call(&synth.pcm(), codec, loss);
        assert!(
            s.heard_ringback(),
            "{codec} loss {loss:?}: {:?}",
            s.detector()
        );
        let r = s.report();
        assert_eq!(r.tone, Some(Tone::Ringback));
        assert_eq!(r.ringback_region.as_deref(), Some("us"));
        assert_eq!(r.codec.as_deref(), Some(codec.name()));
        assert_eq!(s.intercept(), None);
    }
}

#[test]
fn sit_then_announcement_over_rtp_is_an_intercept() {
    let [(f1, d1), (f2, d2)] = SitCode::NcPrime.segments().expect("coded");
    let mut synth = Synth::new(22);
    synth
        .silence(100)
        .tones(&[comp(f1, -24.0)], d1)
        .tones(&[comp(f2, -24.0)], d2)
        .tones(&[comp(SIT_F3, -24.0)], SIT_LONG_MS)
        .silence(200)
        .speech_like(-20.0, 2500);
    let s = call(&synth.pcm(), Codec::Pcma, None);
    assert_eq!(s.intercept(), Some(Intercept::Sit(SitCode::NcPrime)));
    let r = s.report();
    assert_eq!(r.tone, Some(Tone::Sit));
    assert_eq!(r.sit_code, Some(SitCode::NcPrime));
    assert!(!s.heard_ringback());
}

#[test]
fn silence_over_rtp() {
    let s = call(&vec![0i16; 8000 * 4], Codec::Pcmu, None);
    let r = s.report();
    assert_eq!(r.tone, Some(Tone::Silence));
    assert_eq!(r.packets, 200);
    assert_eq!(s.intercept(), None);
    assert!(!s.heard_ringback());
}

#[test]
fn ssrc_change_bridges_ringback_to_announcement() {
    let t0 = crate::clock::now();
    let mut s = session(t0);
    s.handle_answer(t0, &answer("203.0.113.10", 31456, "0", ""));
    let mut a = Synth::new(1);
    a.silence(100).cadence(
        &[comp(440.0, -19.0), comp(480.0, -19.0)],
        &[2000, 4000],
        6500,
    );
    let first = packetize(&a.pcm(), Codec::Pcmu, 0, 1, 0, 0);
    deliver(&mut s, t0, 0, addr(FAR), &first);
    let mut b = Synth::new(2);
    b.speech_like(-20.0, 3000);
    let second = packetize(&b.pcm(), Codec::Pcmu, 0, 2, 9000, 777);
    deliver(
        &mut s,
        t0,
        20 * first.len() as u64 + 100,
        addr(FAR),
        &second,
    );
    assert!(s.heard_ringback());
    let r = s.report();
    assert_eq!(r.packets, (first.len() + second.len()) as u64);
    assert_eq!(r.lost, 0);
    assert!(r.speech_ms > 0);
    assert_eq!(s.intercept(), None, "ringback came first");
}

#[test]
fn captures_are_capped() {
    let t0 = crate::clock::now();
    let config = MediaConfig {
        pcm_cap: 800,
        packet_cap: 3,
        ..MediaConfig::default()
    };
    let mut s = MediaSession::with_config(t0, addr(LOCAL), 1, config);
    s.handle_answer(t0, &answer("203.0.113.10", 31456, "0", ""));
    deliver(
        &mut s,
        t0,
        0,
        addr(FAR),
        &tone_packets(1000, Codec::Pcmu, 0, 1, 1),
    );
    assert_eq!(s.pcm().len(), 800);
    assert_eq!(s.packets().len(), 3);
    assert_eq!(s.report().packets, 50);
}

#[test]
fn report_json_shape() {
    let s = call(&vec![0i16; 8000], Codec::Pcmu, None);
    let v = serde_json::to_value(s.report()).expect("json");
    for key in [
        "codec",
        "packets",
        "lost",
        "jitter_ms",
        "first_packet_ms",
        "tone",
        "sit_code",
        "speech_ms",
        "ringback_region",
    ] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    assert_eq!(v["tone"], "silence");
    assert_eq!(v["sit_code"], serde_json::Value::Null);
    let back: MediaReport = serde_json::from_value(v).expect("round trip");
    assert_eq!(back, s.report());
    let r = MediaReport {
        tone: Some(Tone::Sit),
        sit_code: Some(SitCode::RoPrime),
        ..s.report()
    };
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["tone"], "sit");
    assert_eq!(v["sit_code"], "RO'");
}
