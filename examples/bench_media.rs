//! Cost of the early-media path on one core: RTP parse (rtp-rs) + source
//! check + RFC 3550 accounting + G.711 decode + all detectors, in packets
//! per second.
//!
//! ```text
//! cargo run --release --example bench_media [SECONDS [full]]   # default 3 s per stage
//! ```
//!
//! The audio is 20 s of a mix (US ringback, a coded SIT and announcement,
//! speech, music, silence), µ-law in 20 ms packets, replayed through fresh
//! `MediaSession`s on virtual time (one session per 20 s "call"). The
//! figure to compare with the issue's target is `full path`: 500 000
//! packets/s per core is over 6 000 concurrent calls of early media.
//! Rates are per second of this thread's CPU time (Linux), so other load
//! on the machine does not halve them; `full` runs only the first stage.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ringwatch::media::synth::{Synth, comp, packetize};
use ringwatch::media::{Detector, MediaSession, SIT_F3, SitCode};
use ringwatch::sdp::{Codec, parse_answer};

fn mixed_audio() -> Vec<i16> {
    let [(f1, d1), (f2, d2)] = SitCode::Ic
        .segments()
        .unwrap_or([(913.8, 274), (1370.6, 274)]);
    let mut s = Synth::new(42);
    s.cadence(
        &[comp(440.0, -19.0), comp(480.0, -19.0)],
        &[2000, 4000],
        8000,
    )
    .tones(&[comp(f1, -24.0)], d1)
    .tones(&[comp(f2, -24.0)], d2)
    .tones(&[comp(SIT_F3, -24.0)], 380)
    .speech_like(-20.0, 6000)
    .music_like(-20.0, 4000)
    .silence(3000)
    .add_noise(-20.0, 35.0);
    s.pcm()
}

/// CPU time of this thread (Linux `/proc/thread-self/schedstat`), so a
/// busy machine does not distort the figure; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Run `f` repeatedly for about `secs` of wall time; returns items per
/// second of CPU time (wall time when CPU time is unavailable), where one
/// call of `f` handles `items` items.
fn rate(secs: f64, items: usize, mut f: impl FnMut()) -> f64 {
    let budget = Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(3));
    f(); // warm up
    let start = ringwatch::clock::now();
    let cpu_start = cpu_time();
    let mut rounds = 0u64;
    while ringwatch::clock::now().duration_since(start) < budget {
        f();
        rounds += 1;
    }
    let wall = ringwatch::clock::now().duration_since(start);
    let spent = match (cpu_start, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    (rounds as f64 * items as f64) / spent.as_secs_f64().max(1e-9)
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let full_only = std::env::args().nth(2).as_deref() == Some("full");
    let pcm = mixed_audio();
    let packets = packetize(&pcm, Codec::Pcmu, 0, 0xbeef, 1, 0);
    let n = packets.len();
    let Ok(answer) = parse_answer(b"v=0\r\nc=IN IP4 203.0.113.10\r\nm=audio 31456 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
    else {
        eprintln!("bench_media: bad SDP");
        return;
    };
    let far: SocketAddr = SocketAddr::from(([203, 0, 113, 10], 31456));
    let local: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 40000));
    let t0: Instant = ringwatch::clock::now();
    let times: Vec<Instant> = (0..n)
        .map(|i| t0 + Duration::from_millis(20 * i as u64))
        .collect();

    println!("audio: {} s, {n} packets of 20 ms (PCMU)", pcm.len() / 8000);

    let mut check = None;
    let full = rate(secs, n, || {
        let mut s = MediaSession::new(t0, local, 7);
        s.handle_answer(t0, &answer);
        for (p, &at) in packets.iter().zip(&times) {
            s.handle_packet(at, far, p);
        }
        check = Some((s.report().packets, s.heard_ringback(), s.report().sit_code));
    });
    println!(
        "full path (parse + accounting + decode + detectors): {:>12.0} packets/s",
        full
    );
    if let Some((got, rang, sit)) = check {
        println!("  per call: {got} packets, heard_ringback {rang}, sit {sit:?}");
    }
    if full_only {
        return;
    }

    let parse = rate(secs, n, || {
        let mut sum = 0u64;
        for p in &packets {
            if let Ok(r) = rtp_rs::RtpReader::new(p) {
                sum = sum
                    .wrapping_add(u64::from(r.timestamp()))
                    .wrapping_add(r.payload().len() as u64);
            }
        }
        std::hint::black_box(sum);
    });
    println!(
        "  rtp-rs header parse only:                           {:>12.0} packets/s",
        parse
    );

    let mut out = Vec::with_capacity(pcm.len());
    let decode = rate(secs, n, || {
        out.clear();
        for p in &packets {
            ringwatch::media::g711::decode_into(Codec::Pcmu, &p[12..], &mut out);
        }
        std::hint::black_box(&out);
    });
    println!(
        "  G.711 decode only:                                  {:>12.0} packets/s",
        decode
    );

    let detect = rate(secs, n, || {
        let mut d = Detector::default();
        for frame in pcm.chunks(160) {
            d.push(frame);
        }
        std::hint::black_box(d.tone());
    });
    println!(
        "  detectors only (PCM in 160-sample frames):          {:>12.0} packets/s",
        detect
    );
}
