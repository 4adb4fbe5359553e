//! Generate the early-media test audio for the SIPp scenarios
//! (`tests/scenarios/media_*.xml`, `play_pcap_audio`): tone synthesis →
//! G.711 µ-law → 20 ms RTP packets (PT 0) → Ethernet/IPv4/UDP pcap.
//!
//! ```text
//! cargo run --example gen_media [OUT_DIR]        # default tests/scenarios/media
//! cargo run --example gen_media -- --check CAPTURE.pcap
//! ```
//!
//! Everything is synthetic and seeded (`ringwatch::media::synth`), so the
//! files are reproducible; nothing is downloaded or recorded. Each file is
//! also fed back through `MediaSession` and the program fails when the
//! classification is not the expected one.
//!
//! `--check` instead reads a capture (Ethernet or Linux cooked, IPv4/UDP),
//! feeds every UDP payload to a `MediaSession` at its capture time (the
//! first source is latched) and prints the media report as JSON: a quick
//! way to see what ringwatch makes of the early media of any pcap.

use std::fs::{self, File};
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use ringwatch::media::synth::{Synth, comp, packetize};
use ringwatch::media::{MediaSession, SIT_F3, SIT_LONG_MS, SitCode, Tone};
use ringwatch::report::pcap::{Frame, PcapWriter};
use ringwatch::sdp::{Codec, parse_answer};

/// Per-tone level of ringback (dBm0).
const RINGBACK: f64 = -19.0;
/// SIT level (dBm0).
const SIT: f64 = -24.0;
/// Announcement level (dBm0).
const SPEECH: f64 = -20.0;

/// One file to write, with what the detector must say about it.
struct Spec {
    file: &'static str,
    pcm: Vec<i16>,
    tone: Tone,
    sit: Option<SitCode>,
}

fn us_ringback() -> Vec<i16> {
    let mut s = Synth::new(1);
    s.silence(100).cadence(
        &[comp(440.0, RINGBACK), comp(480.0, RINGBACK)],
        &[2000, 4000],
        7400,
    );
    s.pcm()
}

fn uk_ringback() -> Vec<i16> {
    let mut s = Synth::new(2);
    s.silence(100).cadence(
        &[comp(400.0, RINGBACK), comp(450.0, RINGBACK)],
        &[400, 200, 400, 2000],
        4900,
    );
    s.pcm()
}

/// A coded SIT, a short pause, then ~2 s of a speech-like announcement.
fn sit_then_announcement(code: SitCode, seed: u64) -> Vec<i16> {
    let [(f1, d1), (f2, d2)] = code.segments().unwrap_or([(913.8, 274), (1370.6, 274)]);
    let mut s = Synth::new(seed);
    s.silence(100)
        .tones(&[comp(f1, SIT)], d1)
        .tones(&[comp(f2, SIT)], d2)
        .tones(&[comp(SIT_F3, SIT)], SIT_LONG_MS)
        .silence(250)
        .speech_like(SPEECH, 2200)
        .silence(200);
    s.pcm()
}

fn specs() -> Vec<Spec> {
    let mut out = vec![
        Spec {
            file: "us_ringback.pcap",
            pcm: us_ringback(),
            tone: Tone::Ringback,
            sit: None,
        },
        Spec {
            file: "uk_ringback.pcap",
            pcm: uk_ringback(),
            tone: Tone::Ringback,
            sit: None,
        },
    ];
    let sits = [
        ("sit_ic.pcap", SitCode::Ic),
        ("sit_vc.pcap", SitCode::Vc),
        ("sit_nc.pcap", SitCode::Nc),
        ("sit_nc_prime.pcap", SitCode::NcPrime),
        ("sit_ro.pcap", SitCode::Ro),
        ("sit_ro_prime.pcap", SitCode::RoPrime),
    ];
    for (i, (file, code)) in sits.into_iter().enumerate() {
        out.push(Spec {
            file,
            pcm: sit_then_announcement(code, 10 + i as u64),
            tone: Tone::Sit,
            sit: Some(code),
        });
    }
    out.push(Spec {
        file: "silence.pcap",
        pcm: vec![0; 8000 * 4],
        tone: Tone::Silence,
        sit: None,
    });
    out
}

/// Write the packets as a pcap, 20 ms apart, from a fixed epoch.
fn write_pcap(path: &Path, packets: &[Vec<u8>]) -> std::io::Result<u64> {
    let src: SocketAddr = "10.0.0.1:6000".parse().map_err(std::io::Error::other)?;
    let dst: SocketAddr = "10.0.0.2:6002".parse().map_err(std::io::Error::other)?;
    let epoch =
        DateTime::from_timestamp(1_767_225_600, 0).ok_or_else(|| std::io::Error::other("epoch"))?;
    let mut w = PcapWriter::new(BufWriter::new(File::create(path)?))?;
    for (i, payload) in packets.iter().enumerate() {
        let at = epoch + TimeDelta::milliseconds(20 * i as i64);
        w.write(&Frame {
            at,
            src,
            dst,
            payload,
        })?;
    }
    w.finish()?;
    Ok(fs::metadata(path)?.len())
}

/// Feed the packets through a media session, 20 ms apart.
fn classify(packets: &[Vec<u8>]) -> (Option<Tone>, Option<SitCode>, String) {
    let t0 = ringwatch::clock::now();
    let local: SocketAddr = "10.0.0.2:6002"
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([10, 0, 0, 2], 6002)));
    let far = SocketAddr::from(([10, 0, 0, 1], 6000));
    let mut s = MediaSession::new(t0, local, 1);
    if let Ok(sdp) = parse_answer(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n") {
        s.handle_answer(t0, &sdp);
    }
    for (i, p) in packets.iter().enumerate() {
        s.handle_packet(t0 + Duration::from_millis(20 * i as u64), far, p);
    }
    let r = s.report();
    let summary = format!(
        "tone={:?} sit={:?} region={:?} speech_ms={}",
        r.tone, r.sit_code, r.ringback_region, r.speech_ms
    );
    (r.tone, r.sit_code, summary)
}

/// UDP datagrams (time, source, payload) of a classic pcap: Ethernet
/// (linktype 1) or Linux cooked (113) frames carrying IPv4/UDP.
fn read_udp(bytes: &[u8]) -> Result<Vec<(Duration, SocketAddr, Vec<u8>)>, String> {
    let u32_at = |b: &[u8], at: usize, le: bool| -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        })
    };
    let le = match u32_at(bytes, 0, true) {
        Some(0xa1b2_c3d4) => true,
        Some(0xd4c3_b2a1) => false,
        _ => return Err("not a classic microsecond pcap".into()),
    };
    let link = u32_at(bytes, 20, le).ok_or("short header")?;
    let l2 = match link {
        1 => 14,
        113 => 16,
        other => return Err(format!("unsupported link type {other}")),
    };
    let mut out = Vec::new();
    let mut at = 24;
    let mut first = None;
    while let (Some(sec), Some(usec), Some(len)) = (
        u32_at(bytes, at, le),
        u32_at(bytes, at + 4, le),
        u32_at(bytes, at + 8, le),
    ) {
        let frame = bytes
            .get(at + 16..at + 16 + len as usize)
            .ok_or("truncated frame")?;
        at += 16 + len as usize;
        let t = Duration::from_secs(u64::from(sec)) + Duration::from_micros(u64::from(usec));
        let t0 = *first.get_or_insert(t);
        let Some(ip) = frame.get(l2..) else { continue };
        if ip.first().map(|b| b >> 4) != Some(4) || ip.get(9) != Some(&17) {
            continue;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let Some(udp) = ip.get(ihl..) else { continue };
        if udp.len() < 8 {
            continue;
        }
        let src = SocketAddr::from((
            [ip[12], ip[13], ip[14], ip[15]],
            u16::from_be_bytes([udp[0], udp[1]]),
        ));
        out.push((t.saturating_sub(t0), src, udp[8..].to_vec()));
    }
    Ok(out)
}

fn check(path: &Path) -> ExitCode {
    let datagrams = match fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| read_udp(&b))
    {
        Ok(d) => d,
        Err(err) => {
            eprintln!("gen_media: {}: {err}", path.display());
            return ExitCode::from(2);
        }
    };
    let t0 = ringwatch::clock::now();
    let mut s = MediaSession::new(t0, SocketAddr::from(([127, 0, 0, 1], 0)), 1);
    if let Ok(sdp) = parse_answer(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 9 RTP/AVP 0 8\r\n") {
        s.handle_answer(t0, &sdp);
    }
    for (t, from, data) in &datagrams {
        s.handle_packet(t0 + *t, *from, data);
    }
    match serde_json::to_string(&s.report()) {
        Ok(json) => println!("{json}"),
        Err(err) => eprintln!("gen_media: {err}"),
    }
    println!(
        "intercept {:?}, heard_ringback {}, timeline {:?}",
        s.intercept(),
        s.heard_ringback(),
        s.detector().timeline()
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--check") {
        return match args.next() {
            Some(file) => check(Path::new(&file)),
            None => {
                eprintln!("usage: gen_media --check CAPTURE.pcap");
                ExitCode::from(2)
            }
        };
    }
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/scenarios/media"));
    if let Err(err) = fs::create_dir_all(&dir) {
        eprintln!("gen_media: {}: {err}", dir.display());
        return ExitCode::from(2);
    }
    let mut total = 0;
    let mut ok = true;
    for (i, spec) in specs().into_iter().enumerate() {
        let packets = packetize(
            &spec.pcm,
            Codec::Pcmu,
            0,
            0x5157_0000 + i as u32,
            1000 * i as u16,
            160_000 * i as u32,
        );
        let path = dir.join(spec.file);
        let size = match write_pcap(&path, &packets) {
            Ok(size) => size,
            Err(err) => {
                eprintln!("gen_media: {}: {err}", path.display());
                return ExitCode::from(2);
            }
        };
        total += size;
        let (tone, sit, summary) = classify(&packets);
        let good = tone == Some(spec.tone) && sit == spec.sit;
        ok &= good;
        println!(
            "{} {:>7} B {:>4} packets {:.1} s  {summary}{}",
            path.display(),
            size,
            packets.len(),
            packets.len() as f64 / 50.0,
            if good { "" } else { "  <-- UNEXPECTED" }
        );
    }
    println!("total {total} B");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
