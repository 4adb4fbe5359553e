//! Issue 5's "Done when", against SIPp far ends that answer `183 Session
//! Progress` with SDP and play prepared RTP (`play_pcap_audio` of
//! tests/scenarios/media/*.pcap): ringback is `ringing` with `rang: true`,
//! each coded SIT is `intercepted` with its `sit_code`, silence does not
//! ring, a 603+ after ringback stays `network_blocked`; and the evidence of
//! a recorded probe carries the RTP (tshark decodes the stream) and the
//! decoded audio as a WAV file.
//!
//! SIPp is started with `-mi 127.0.0.1 -mp <port>` (a media port of its
//! own per test) and sends the RTP from that port through a raw socket, so
//! these tests need root, as CI has. Each probe is recorded into the
//! test's own database (no `--no-record`), so `evidence` can read it back.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    DESTINATION, Expect, ExpectAnalytics, FROM, MediaSipp, ProbeCase, RingwatchRun, Sipp, TempDir,
    tshark,
};

/// The keys every non-null `media` object carries.
const MEDIA_KEYS: [&str; 10] = [
    "codec",
    "packets",
    "lost",
    "jitter_ms",
    "first_packet_ms",
    "tone",
    "sit_code",
    "speech_ms",
    "ringback_region",
    "strays",
];

/// Samples (= G.711 bytes) of one 20 ms packet (`a=ptime:20` at 8 kHz).
const SAMPLES_PER_PACKET: u64 = 160;

/// The `[call]` timers of a media probe.
#[derive(Clone, Copy)]
struct Call {
    /// `ring_seconds`: how long ringwatch lets it ring once it alerts.
    ring_seconds: u32,
    /// `alert_timeout_seconds`: how long it waits for alerting at all.
    alert_timeout_seconds: u32,
}

/// Ring 1 s after alerting; wait up to 30 s (the default) for it.
const SHORT_RING: Call = Call {
    ring_seconds: 1,
    alert_timeout_seconds: 30,
};

/// The trunk at `port`, the history database at `db`, one number and
/// carrier `lab`, short SIP timers.
fn media_config(port: u16, db: &Path, call: Call) -> String {
    let db = db.to_str().expect("utf-8 temp path");
    assert!(!db.contains('\''), "temp path {db} needs TOML escaping");
    let Call {
        ring_seconds,
        alert_timeout_seconds,
    } = call;
    format!(
        r#"[trunk]
proxy = "127.0.0.1:{port}"
transport = "udp"

[call]
ring_seconds = {ring_seconds}
alert_timeout_seconds = {alert_timeout_seconds}
t1_ms = 100
linger_ms = 200

[store]
path = '{db}'

[[numbers]]
number = "{FROM}"

[[carriers]]
name = "lab"
destinations = ["{DESTINATION}"]
"#
    )
}

/// One recorded probe against one media scenario.
struct MediaCase {
    /// Both sides of the call (the shared checks of every probe test).
    case: ProbeCase,
    /// The scenario played.
    scenario: &'static str,
    /// SIPp's media port: the source of the RTP.
    media_port: u16,
    /// The config the probe ran with (it names the database).
    cfg: PathBuf,
}

impl MediaCase {
    /// Start SIPp with `scenario` and its own media port, and run
    /// `probe --carrier lab --json` (recorded) through it.
    fn run(name: &str, scenario: &'static str, call: Call) -> MediaCase {
        let dir = TempDir::new(name);
        let db = dir.join("history.db");
        let MediaSipp { sipp, media_port } = Sipp::start_media(&dir, scenario, &[]);
        let cfg = dir.write("probes.toml", &media_config(sipp.port, &db, call));
        let ringwatch = RingwatchRun::probe(&dir, &cfg, &["--carrier", "lab", "--json"], &[]);
        let sipp = sipp.finish();
        let lines = ringwatch
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
            .collect();
        MediaCase {
            case: ProbeCase {
                dir,
                sipp,
                ringwatch,
                lines,
            },
            scenario,
            media_port,
            cfg,
        }
    }

    /// The one record (the shared checks report it when there is none).
    fn record(&self) -> Option<&Value> {
        match self.case.lines.as_slice() {
            [Ok(record)] => Some(record),
            _ => None,
        }
    }

    /// The record's `media.packets`, or a failure.
    fn packets(&self) -> u64 {
        self.record()
            .and_then(|r| r["media"]["packets"].as_u64())
            .unwrap_or_else(|| self.fail("the record has no media.packets"))
    }

    fn id(&self) -> &str {
        self.record()
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| self.fail("the record has no id"))
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- SIPp media port: {}\n{}",
            self.media_port,
            self.case.diagnostics()
        )
    }

    /// The shared checks of the record (`want`), and then `media`: every
    /// key; PCMU; some packets, no more than the scenario's pcap holds and
    /// none lost or stray on loopback; a first-packet time; the `tone`,
    /// `sit_code` and `ringback_region` the audio is. The probe was
    /// recorded.
    fn assert(&self, want: &Expect, media: &WantMedia) {
        let mut problems = self.case.check(want);
        if self.case.ringwatch.stderr.contains("NOT recorded") {
            problems.push("the probe was not recorded".to_owned());
        }
        if let Some(rec) = self.record() {
            check_media(rec, media, pcap_packets(self.scenario), &mut problems);
        }
        self.case.fail_if(&problems);
    }

    /// `ringwatch evidence ID --pcap FILE --wav FILE`, and check both files:
    /// tshark decodes the RTP stream SIPp sent (g711U, from its media port,
    /// every packet the record counted) and the SIP exchange (the INVITE
    /// first, the 183 with its SDP, each of `statuses`); the WAV is 8 kHz
    /// mono 16-bit PCM, one sample per G.711 byte received (160 per 20 ms
    /// packet; the SIT pcaps end with a shorter packet).
    fn assert_evidence(&self, statuses: &[&str]) {
        let dir = &self.case.dir;
        let pcap = dir.join("evidence.pcap");
        let wav = dir.join("evidence.wav");
        let cfg = self.cfg.to_str().expect("utf-8 temp path");
        let run = RingwatchRun::run(
            dir,
            &[
                "--config",
                cfg,
                "evidence",
                self.id(),
                "--pcap",
                pcap.to_str().expect("utf-8 temp path"),
                "--wav",
                wav.to_str().expect("utf-8 temp path"),
            ],
            &[],
        );
        let ctx = |extra: &str| {
            format!(
                "--- SIPp media port: {}\n--- evidence run:\n{}\n{extra}\n{}",
                self.media_port,
                run.diagnostics(),
                self.case.diagnostics()
            )
        };
        assert!(
            run.code == Some(0) && !run.stderr.contains("panicked"),
            "evidence failed\n{}",
            ctx("")
        );
        assert!(
            run.stdout.contains(self.id()) && run.stdout.contains("SIP/2.0 183 Session Progress"),
            "the evidence text lacks the id or the 183\n{}",
            ctx("")
        );
        let packets = self.packets();

        // The RTP stream, as tshark sees it (set up from the SDP in the SIP).
        let streams = tshark(&pcap, &["-q", "-z", "rtp,streams"]);
        let ctx_streams = ctx(&format!("--- tshark -z rtp,streams:\n{streams}"));
        let rows = rtp_streams(&streams);
        let received: Vec<&RtpStream> = rows
            .iter()
            .filter(|s| s.src_port == self.media_port)
            .collect();
        let [stream] = received.as_slice() else {
            panic!(
                "want one RTP stream from SIPp's media port {}, got {}\n{ctx_streams}",
                self.media_port,
                received.len()
            );
        };
        assert_eq!(stream.src_addr, "127.0.0.1", "{ctx_streams}");
        assert_eq!(stream.payload, "g711U", "{ctx_streams}");
        assert!(stream.packets > 100, "{ctx_streams}");
        assert_eq!(
            stream.packets, packets,
            "tshark's stream holds every packet media.packets counts\n{ctx_streams}"
        );
        assert_eq!(stream.lost, 0, "{ctx_streams}");

        // The SIP exchange: the INVITE first, then the 183 and the rest.
        let fields = tshark(
            &pcap,
            &[
                "-Y",
                "sip",
                "-T",
                "fields",
                "-e",
                "sip.Method",
                "-e",
                "sip.Status-Code",
                "-e",
                "sdp.media.port",
            ],
        );
        let ctx_sip = ctx(&format!("--- tshark -Y sip fields:\n{fields}"));
        let sip: Vec<Vec<&str>> = fields
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(
            sip.first().and_then(|r| r.first()),
            Some(&"INVITE"),
            "{ctx_sip}"
        );
        let media_port = self.media_port.to_string();
        assert!(
            sip.iter()
                .any(|r| r.get(1) == Some(&"183") && r.get(2) == Some(&media_port.as_str())),
            "tshark finds the 183 with the SDP of SIPp's media port\n{ctx_sip}"
        );
        for status in statuses {
            assert!(
                sip.iter().any(|r| r.get(1) == Some(status)),
                "tshark finds the {status}\n{ctx_sip}"
            );
        }

        // The packets' payloads, as tshark decodes them: G.711 (type 0),
        // 160 bytes (20 ms) each; the last may be shorter (the pcaps of the
        // SIT scenarios end with a partial frame).
        let filter = format!("rtp && udp.srcport == {}", self.media_port);
        let payloads = tshark(
            &pcap,
            &[
                "-Y",
                &filter,
                "-T",
                "fields",
                "-e",
                "rtp.p_type",
                "-e",
                "udp.length",
            ],
        );
        let ctx_payloads = ctx(&format!("--- tshark RTP payloads:\n{payloads}"));
        let sizes: Vec<u64> = payloads
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once('\t') {
                // UDP length − UDP header − RTP header (no CSRC, no extension).
                Some(("0", len)) => len.parse::<u64>().ok().and_then(|n| n.checked_sub(8 + 12)),
                _ => None,
            })
            .collect::<Option<_>>()
            .unwrap_or_else(|| panic!("an RTP packet that is not PCMU\n{ctx_payloads}"));
        assert_eq!(sizes.len() as u64, packets, "{ctx_payloads}");
        let (last, full) = sizes.split_last().expect("packets > 100");
        assert!(
            full.iter().all(|&n| n == SAMPLES_PER_PACKET)
                && (1..=SAMPLES_PER_PACKET).contains(last),
            "payloads of 160 bytes (the last up to 160)\n{ctx_payloads}"
        );
        let samples: u64 = sizes.iter().sum();

        // The decoded audio: one 16-bit sample per G.711 byte received.
        let bytes =
            fs::read(&wav).unwrap_or_else(|e| panic!("{}: {e}\n{}", wav.display(), ctx("")));
        if let Err(why) = check_wav(&bytes, samples) {
            panic!(
                "{}: {why} ({packets} packets)\n{ctx_payloads}",
                wav.display()
            );
        }
    }
}

/// What `media` must say.
struct WantMedia {
    tone: &'static str,
    sit_code: Option<&'static str>,
    ringback_region: Option<&'static str>,
}

fn check_media(rec: &Value, want: &WantMedia, pcap_packets: u64, problems: &mut Vec<String>) {
    let media = &rec["media"];
    if !media.is_object() {
        problems.push(format!("media: got {media}, want an object"));
        return;
    }
    for key in MEDIA_KEYS {
        if media.get(key).is_none() {
            problems.push(format!("media has no `{key}`"));
        }
    }
    let mut field = |key: &str, want: Value| {
        if media[key] != want {
            problems.push(format!("media.{key}: got {}, want {want}", media[key]));
        }
    };
    field("codec", Value::from("PCMU"));
    field("tone", Value::from(want.tone));
    field("sit_code", want.sit_code.map_or(Value::Null, Value::from));
    field(
        "ringback_region",
        want.ringback_region.map_or(Value::Null, Value::from),
    );
    field("lost", Value::from(0));
    field("strays", Value::from(0));
    match media["packets"].as_u64() {
        Some(n) if n > 0 && n <= pcap_packets => {}
        _ => problems.push(format!(
            "media.packets: got {}, want 1..={pcap_packets} (the scenario's pcap)",
            media["packets"]
        )),
    }
    if !media["first_packet_ms"].is_u64() {
        problems.push(format!(
            "media.first_packet_ms: got {}, want ms",
            media["first_packet_ms"]
        ));
    }
    if !media["jitter_ms"].is_number() {
        problems.push(format!(
            "media.jitter_ms: got {}, want a number",
            media["jitter_ms"]
        ));
    }
}

/// The RTP packets in the pcap `scenario` plays (`play_pcap_audio`): a
/// bound on what ringwatch can have received.
fn pcap_packets(scenario: &str) -> u64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let xml = fs::read_to_string(dir.join(format!("{scenario}.xml"))).expect("scenario");
    let name = xml
        .split("play_pcap_audio=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{scenario} plays no pcap"));
    let path = dir.join(name);
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let le = match bytes.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => panic!("{} is not a classic pcap", path.display()),
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let (mut at, mut n) = (24, 0);
    while at + 16 <= bytes.len() {
        at += 16 + usize::try_from(u32_at(at + 8)).expect("usize");
        n += 1;
    }
    n
}

/// One row of tshark's `-z rtp,streams`.
#[derive(Debug)]
struct RtpStream {
    src_addr: String,
    src_port: u16,
    payload: String,
    packets: u64,
    lost: i64,
}

/// The rows of `tshark -q -z rtp,streams` (tshark 4.x): `start end src_ip
/// src_port dst_ip dst_port ssrc payload pkts lost (pct) ...`, between the
/// `====` rules, after the column header.
fn rtp_streams(text: &str) -> Vec<RtpStream> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !f[6].starts_with("0x") {
                return None;
            }
            Some(RtpStream {
                src_addr: f[2].to_owned(),
                src_port: f[3].parse().ok()?,
                payload: f[7].to_owned(),
                packets: f[8].parse().ok()?,
                lost: f[9].parse().ok()?,
            })
        })
        .collect()
}

/// A canonical 44-byte-header WAV: RIFF/WAVE, PCM, mono, 8 kHz, 16-bit,
/// `samples` samples of data.
fn check_wav(bytes: &[u8], samples: u64) -> Result<(), String> {
    if bytes.len() < 44 {
        return Err(format!("{} bytes: shorter than a WAV header", bytes.len()));
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let want_data = samples * 2;
    let checks: [(&str, u64, u64); 8] = [
        ("format (1 = PCM)", u16_at(20).into(), 1),
        ("channels", u16_at(22).into(), 1),
        ("sample rate", u32_at(24).into(), 8000),
        ("byte rate", u32_at(28).into(), 16_000),
        ("block align", u16_at(32).into(), 2),
        ("bits per sample", u16_at(34).into(), 16),
        ("data length", u32_at(40).into(), want_data),
        ("RIFF length", u32_at(4).into(), 36 + want_data),
    ];
    let mut problems = Vec::new();
    for (tag, at) in [("RIFF", 0), ("WAVE", 8), ("fmt ", 12), ("data", 36)] {
        if &bytes[at..at + 4] != tag.as_bytes() {
            problems.push(format!("no {tag:?} at byte {at}"));
        }
    }
    if u32_at(16) != 16 {
        problems.push(format!("fmt chunk of {} bytes, want 16", u32_at(16)));
    }
    for (what, got, want) in checks {
        if got != want {
            problems.push(format!("{what}: {got}, want {want}"));
        }
    }
    if bytes.len() as u64 != 44 + want_data {
        problems.push(format!(
            "file of {} bytes, want 44 + {want_data} ({samples} samples)",
            bytes.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// We hung up a call that alerted by early media: CANCEL, 487.
fn ringing() -> Expect {
    Expect {
        outcome: "ringing",
        rang: true,
        status: Some(487),
        reason_phrase: Some("Request Terminated"),
        analytics: None,
        retry_after_s: None,
        exit: 0,
    }
}

/// A SIT and announcement, then the far end's final response.
fn intercepted(status: u16, phrase: &'static str) -> Expect {
    Expect {
        outcome: "intercepted",
        rang: false,
        status: Some(status),
        reason_phrase: Some(phrase),
        analytics: None,
        retry_after_s: None,
        exit: 1,
    }
}

fn ringback(region: &'static str) -> WantMedia {
    WantMedia {
        tone: "ringback",
        sit_code: None,
        ringback_region: Some(region),
    }
}

fn sit(code: &'static str) -> WantMedia {
    WantMedia {
        tone: "sit",
        sit_code: Some(code),
        ringback_region: None,
    }
}

#[test]
fn media_us_ringback_in_183_is_ringing_and_its_evidence_decodes() {
    let m = MediaCase::run("media_us_ringback", "media_us_ringback", SHORT_RING);
    m.assert(&ringing(), &ringback("us"));
    m.assert_evidence(&["100", "487"]);
}

#[test]
fn media_uk_ringback_in_183_is_ringing_with_region_uk() {
    let m = MediaCase::run("media_uk_ringback", "media_uk_ringback", SHORT_RING);
    m.assert(&ringing(), &ringback("uk"));
}

#[test]
fn media_silence_in_183_does_not_ring_and_times_out() {
    let m = MediaCase::run(
        "media_silence",
        "media_silence",
        Call {
            ring_seconds: 1,
            alert_timeout_seconds: 6,
        },
    );
    m.assert(
        &Expect {
            outcome: "timeout",
            rang: false,
            status: Some(487),
            reason_phrase: Some("Request Terminated"),
            analytics: None,
            retry_after_s: None,
            exit: 1,
        },
        &WantMedia {
            tone: "silence",
            sit_code: None,
            ringback_region: None,
        },
    );
}

#[test]
fn media_sit_ic_then_404_is_intercepted_ic_and_its_evidence_decodes() {
    let m = MediaCase::run("media_sit_ic", "media_sit_ic", SHORT_RING);
    m.assert(&intercepted(404, "Not Found"), &sit("IC"));
    m.assert_evidence(&["100", "404"]);
}

#[test]
fn media_sit_vc_then_404_is_intercepted_vc() {
    let m = MediaCase::run("media_sit_vc", "media_sit_vc", SHORT_RING);
    m.assert(&intercepted(404, "Not Found"), &sit("VC"));
}

#[test]
fn media_sit_nc_then_503_is_intercepted_nc() {
    let m = MediaCase::run("media_sit_nc", "media_sit_nc", SHORT_RING);
    m.assert(&intercepted(503, "Service Unavailable"), &sit("NC"));
}

#[test]
fn media_sit_nc_prime_then_503_is_intercepted_nc_prime() {
    let m = MediaCase::run("media_sit_nc_prime", "media_sit_nc_prime", SHORT_RING);
    m.assert(&intercepted(503, "Service Unavailable"), &sit("NC'"));
}

#[test]
fn media_sit_ro_then_500_is_intercepted_ro() {
    let m = MediaCase::run("media_sit_ro", "media_sit_ro", SHORT_RING);
    m.assert(&intercepted(500, "Server Internal Error"), &sit("RO"));
}

#[test]
fn media_sit_ro_prime_then_500_is_intercepted_ro_prime() {
    let m = MediaCase::run("media_sit_ro_prime", "media_sit_ro_prime", SHORT_RING);
    m.assert(&intercepted(500, "Server Internal Error"), &sit("RO'"));
}

#[test]
fn media_183_ringback_then_603_plus_is_network_blocked_and_rang() {
    // ring_seconds beyond the 7.5 s of audio: the 603+ comes before our CANCEL.
    let m = MediaCase::run(
        "media_183_then_603plus",
        "media_183_then_603plus",
        Call {
            ring_seconds: 20,
            alert_timeout_seconds: 30,
        },
    );
    m.assert(
        &Expect {
            outcome: "network_blocked",
            rang: true,
            status: Some(603),
            reason_phrase: Some("Network Blocked"),
            analytics: Some(ExpectAnalytics {
                standard: "ATIS-1000099",
                url: Some("https://redress.carrier.example/blocked"),
                tel: Some("+18005550199"),
                email: Some("redress@carrier.example"),
                id: Some("blk-7Q2M-0031"),
                location: Some("RLN"),
            }),
            retry_after_s: None,
            exit: 1,
        },
        &ringback("us"),
    );
    m.assert_evidence(&["100", "603"]);
}
