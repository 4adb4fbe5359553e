//! SDP (RFC 4566 / RFC 3264) for the audio of a test call: the offer our
//! INVITE carries, and the tolerant parsing of the answer that arrives in a
//! 183, 180 or 200 (early media, issue 5).
//!
//! Pure: bytes in, values out. The answer parser never panics and accepts
//! what real trunks send: LF-only lines, stray whitespace, unknown lines,
//! IPv6, multicast TTL suffixes, `port/count`, an FQDN or `0.0.0.0` in `c=`
//! (reported as unusable so the media receiver latches to the first source).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// RTP payload type we offer for RFC 4733 telephone-event.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// The audio offer: G.711 µ-law and A-law (trivial to decode for tone
/// analysis) plus telephone-event, on `port` at `ip`.
pub fn offer(ip: IpAddr, port: u16, session_id: u64) -> Vec<u8> {
    let family = match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    };
    format!(
        "v=0\r\n\
         o=ringwatch {session_id} {session_id} IN {family} {ip}\r\n\
         s=ringwatch\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 {TELEPHONE_EVENT_PT}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{TELEPHONE_EVENT_PT} telephone-event/8000\r\n\
         a=fmtp:{TELEPHONE_EVENT_PT} 0-15\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    )
    .into_bytes()
}

/// An audio codec ringwatch can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law (static payload type 0).
    Pcmu,
    /// G.711 A-law (static payload type 8).
    Pcma,
}

impl Codec {
    /// The rtpmap encoding name: `"PCMU"` or `"PCMA"`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The static payload type (RFC 3551).
    pub fn static_pt(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec of a static payload type, if it is G.711.
    pub fn from_static_pt(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The media direction attribute (RFC 3264 §5.1), from the answerer's
/// point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaDirection {
    /// `a=sendrecv`, also the default when no attribute is present.
    #[default]
    SendRecv,
    /// `a=sendonly`: the far end sends, we should not.
    SendOnly,
    /// `a=recvonly`: the far end will not send.
    RecvOnly,
    /// `a=inactive`: nobody sends.
    Inactive,
}

impl MediaDirection {
    fn parse(attr: &str) -> Option<MediaDirection> {
        match attr {
            "sendrecv" => Some(MediaDirection::SendRecv),
            "sendonly" => Some(MediaDirection::SendOnly),
            "recvonly" => Some(MediaDirection::RecvOnly),
            "inactive" => Some(MediaDirection::Inactive),
            _ => None,
        }
    }
}

/// The audio part of an SDP answer, as far as the early-media receiver
/// needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerSdp {
    /// The connection address of the audio stream: the media-level `c=`
    /// when present, else the session-level one. `None` when absent or not
    /// an IP literal (an FQDN); `Some(0.0.0.0)` is kept as given. Use
    /// [`AnswerSdp::rtp_addr`] for "where do I expect RTP from".
    pub connection: Option<IpAddr>,
    /// The audio port of the first `m=audio` line with a non-zero port.
    pub port: u16,
    /// The transport protocol of that line, e.g. `RTP/AVP`.
    pub proto: String,
    /// Every payload type on the `m=audio` line, in the answerer's order.
    pub formats: Vec<u8>,
    /// The chosen payload type and codec: the first G.711 format in the
    /// answerer's order (static 0/8, or dynamic via `a=rtpmap`). `None` when
    /// the answer holds no G.711 format.
    pub codec: Option<(u8, Codec)>,
    /// Every payload type of the line that decodes as G.711, with its codec.
    pub g711: Vec<(u8, Codec)>,
    /// The RFC 4733 telephone-event payload type, if the answer has one.
    pub telephone_event_pt: Option<u8>,
    /// The direction attribute (media level over session level).
    pub direction: MediaDirection,
}

impl AnswerSdp {
    /// The address RTP is expected from: `Some` only when the connection
    /// address is a usable unicast IP (not unspecified `0.0.0.0`/`::`, not
    /// multicast) and the port is non-zero. `None` tells the media receiver
    /// to latch to the first source, as SBCs do.
    pub fn rtp_addr(&self) -> Option<SocketAddr> {
        let ip = self.connection?;
        if ip.is_unspecified() || ip.is_multicast() || self.port == 0 {
            return None;
        }
        Some(SocketAddr::new(ip, self.port))
    }

    /// The codec of payload type `pt` in this answer (static or rtpmap).
    pub fn codec_of(&self, pt: u8) -> Option<Codec> {
        self.g711
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|&(_, c)| c)
            .or_else(|| Codec::from_static_pt(pt))
    }
}

/// Why an SDP answer was not usable for audio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body does not start like SDP (no `v=` line).
    #[error("not an SDP body (no v= line)")]
    NotSdp,
    /// There is no `m=audio` line at all.
    #[error("no m=audio line")]
    NoAudio,
    /// Every `m=audio` line has port 0: the answerer rejected audio.
    #[error("audio stream rejected (m=audio port 0)")]
    AudioRejected,
    /// An `m=audio` line could not be read.
    #[error("malformed m= line: {0}")]
    BadMediaLine(String),
}

/// What one `m=audio` section said, while parsing.
#[derive(Default)]
struct Section {
    port: u16,
    proto: String,
    formats: Vec<u8>,
    connection: Option<Option<IpAddr>>,
    rtpmaps: Vec<(u8, String)>,
    direction: Option<MediaDirection>,
}

/// Parse the answer SDP of a 183/180/200 body. Tolerant of extra lines,
/// LF-only line ends, whitespace around values and non-UTF-8 bytes in lines
/// it does not need.
pub fn parse_answer(body: &[u8]) -> Result<AnswerSdp, SdpError> {
    let text = String::from_utf8_lossy(body);
    let mut saw_version = false;
    let mut session_conn: Option<Option<IpAddr>> = None;
    let mut session_dir: Option<MediaDirection> = None;
    let mut sections: Vec<(bool, Section)> = Vec::new(); // (is_audio, section)
    let mut bad_line = None;

    for raw in text.split('\n') {
        let line = raw.trim();
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match kind.trim() {
            "v" => saw_version = true,
            "m" => {
                let mut parts = value.split_ascii_whitespace();
                let media = parts.next().unwrap_or("");
                let is_audio = media.eq_ignore_ascii_case("audio");
                let mut section = Section::default();
                if is_audio {
                    let port = parts.next().and_then(|p| p.split('/').next());
                    match port.and_then(|p| p.parse::<u16>().ok()) {
                        Some(port) => section.port = port,
                        None => {
                            bad_line.get_or_insert_with(|| line.to_owned());
                            continue;
                        }
                    }
                    section.proto = parts.next().unwrap_or("").to_owned();
                    section.formats = parts.filter_map(|f| f.parse::<u8>().ok()).collect();
                }
                sections.push((is_audio, section));
            }
            "c" => {
                let conn = parse_connection(value);
                match sections.last_mut() {
                    Some((_, section)) => section.connection = Some(conn),
                    None => session_conn = Some(conn),
                }
            }
            "a" => {
                let (name, arg) = match value.split_once(':') {
                    Some((n, a)) => (n.trim(), Some(a.trim())),
                    None => (value, None),
                };
                if let Some(dir) = MediaDirection::parse(name) {
                    match sections.last_mut() {
                        Some((_, section)) => section.direction = Some(dir),
                        None => session_dir = Some(dir),
                    }
                } else if name.eq_ignore_ascii_case("rtpmap")
                    && let (Some(arg), Some((_, section))) = (arg, sections.last_mut())
                    && let Some((pt, encoding)) = arg.split_once(char::is_whitespace)
                    && let Ok(pt) = pt.trim().parse::<u8>()
                {
                    section.rtpmaps.push((pt, encoding.trim().to_owned()));
                }
            }
            _ => {}
        }
    }

    if !saw_version {
        return Err(SdpError::NotSdp);
    }
    let mut audio = sections
        .into_iter()
        .filter(|(is_audio, _)| *is_audio)
        .map(|(_, s)| s);
    let Some(first) = audio.next() else {
        return Err(match bad_line {
            Some(line) => SdpError::BadMediaLine(line),
            None => SdpError::NoAudio,
        });
    };
    let section = if first.port != 0 {
        first
    } else {
        match audio.find(|s| s.port != 0) {
            Some(s) => s,
            None => return Err(SdpError::AudioRejected),
        }
    };

    let mut g711 = Vec::new();
    let mut telephone_event_pt = None;
    for &pt in &section.formats {
        let mapped = section
            .rtpmaps
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, e)| e.as_str());
        let codec = match mapped {
            Some(encoding) => codec_of_encoding(encoding),
            None => Codec::from_static_pt(pt),
        };
        if let Some(codec) = codec {
            g711.push((pt, codec));
        } else if mapped.is_some_and(|e| {
            e.split('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("telephone-event"))
        }) {
            telephone_event_pt.get_or_insert(pt);
        }
    }
    Ok(AnswerSdp {
        connection: section.connection.or(session_conn).flatten(),
        port: section.port,
        proto: section.proto,
        codec: g711.first().copied(),
        g711,
        formats: section.formats,
        telephone_event_pt,
        direction: section.direction.or(session_dir).unwrap_or_default(),
    })
}

/// `IN IP4 192.0.2.1`, `IN IP6 2001:db8::1`, `IN IP4 224.2.1.1/127`:
/// the address, or `None` when it is not an IP literal.
fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut parts = value.split_ascii_whitespace();
    let _net = parts.next()?;
    let _family = parts.next()?;
    let addr = parts.next()?.split('/').next()?;
    addr.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// `PCMU/8000` → µ-law; only 8 kHz mono G.711 counts.
fn codec_of_encoding(encoding: &str) -> Option<Codec> {
    let mut parts = encoding.split('/');
    let name = parts.next()?.trim();
    let rate = parts.next().map(str::trim);
    if rate.is_some_and(|r| r != "8000") {
        return None;
    }
    if name.eq_ignore_ascii_case("PCMU") {
        Some(Codec::Pcmu)
    } else if name.eq_ignore_ascii_case("PCMA") {
        Some(Codec::Pcma)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_lists_g711_and_telephone_event() {
        let sdp =
            String::from_utf8(offer("192.0.2.1".parse().expect("ip"), 40000, 42)).expect("utf8");
        assert!(sdp.starts_with("v=0\r\no=ringwatch 42 42 IN IP4 192.0.2.1\r\n"));
        assert!(sdp.contains("c=IN IP4 192.0.2.1\r\n"));
        assert!(sdp.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"));
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        let v6 = String::from_utf8(offer("::1".parse().expect("ip"), 40002, 1)).expect("utf8");
        assert!(v6.contains("c=IN IP6 ::1\r\n"));
    }

    #[test]
    fn offer_parses_as_an_answer() {
        let a = parse_answer(&offer("192.0.2.1".parse().expect("ip"), 40000, 42)).expect("ok");
        assert_eq!(a.rtp_addr(), Some("192.0.2.1:40000".parse().expect("addr")));
        assert_eq!(a.codec, Some((0, Codec::Pcmu)));
        assert_eq!(a.g711, vec![(0, Codec::Pcmu), (8, Codec::Pcma)]);
        assert_eq!(a.telephone_event_pt, Some(101));
        assert_eq!(a.direction, MediaDirection::SendRecv);
    }

    #[test]
    fn typical_sbc_answer_pcma_with_session_connection() {
        let body = b"v=0\r\n\
            o=- 3923 3923 IN IP4 203.0.113.9\r\n\
            s=SBC\r\n\
            c=IN IP4 203.0.113.10\r\n\
            t=0 0\r\n\
            m=audio 31456 RTP/AVP 8 101\r\n\
            a=rtpmap:8 PCMA/8000\r\n\
            a=rtpmap:101 telephone-event/8000\r\n\
            a=fmtp:101 0-16\r\n\
            a=ptime:20\r\n\
            a=sendonly\r\n";
        let a = parse_answer(body).expect("ok");
        assert_eq!(
            a.rtp_addr(),
            Some("203.0.113.10:31456".parse().expect("addr"))
        );
        assert_eq!(a.codec, Some((8, Codec::Pcma)));
        assert_eq!(a.telephone_event_pt, Some(101));
        assert_eq!(a.direction, MediaDirection::SendOnly);
        assert_eq!(a.proto, "RTP/AVP");
    }

    #[test]
    fn media_level_connection_wins_and_ipv6() {
        let body = b"v=0\nc=IN IP4 198.51.100.1\nm=video 5000 RTP/AVP 96\nc=IN IP4 198.51.100.3\n\
            m=audio 6000 RTP/AVP 0\nc=IN IP6 2001:db8::7\na=inactive\n";
        let a = parse_answer(body).expect("ok");
        assert_eq!(a.connection, Some("2001:db8::7".parse().expect("ip")));
        assert_eq!(
            a.rtp_addr(),
            Some("[2001:db8::7]:6000".parse().expect("addr"))
        );
        assert_eq!(a.direction, MediaDirection::Inactive);
    }

    #[test]
    fn unusable_connection_means_latch() {
        let zero =
            parse_answer(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 7000 RTP/AVP 0\r\n").expect("ok");
        assert_eq!(zero.connection, Some("0.0.0.0".parse().expect("ip")));
        assert_eq!(zero.rtp_addr(), None);
        let fqdn = parse_answer(b"v=0\r\nc=IN IP4 media.example.net\r\nm=audio 7000 RTP/AVP 0\r\n")
            .expect("ok");
        assert_eq!(fqdn.connection, None);
        assert_eq!(fqdn.rtp_addr(), None);
        let none = parse_answer(b"v=0\r\nm=audio 7000 RTP/AVP 0\r\n").expect("ok");
        assert_eq!(none.rtp_addr(), None);
        let mcast = parse_answer(b"v=0\r\nc=IN IP4 224.2.1.1/127\r\nm=audio 7000 RTP/AVP 0\r\n")
            .expect("ok");
        assert_eq!(mcast.connection, Some("224.2.1.1".parse().expect("ip")));
        assert_eq!(mcast.rtp_addr(), None);
    }

    #[test]
    fn dynamic_g711_and_odd_formatting() {
        let body = b"v=0\r\n  c = IN IP4 192.0.2.5 \r\nx-junk\r\n\xff\xfe=?\r\n\
            m=audio 8000/2 RTP/AVP 18 96 97\r\n\
            a=rtpmap:18 G729/8000\r\n\
            a=rtpmap:96 pcmu/8000\r\n\
            a=rtpmap: 97 Telephone-Event/8000\r\n";
        let a = parse_answer(body).expect("ok");
        assert_eq!(a.port, 8000);
        assert_eq!(a.formats, vec![18, 96, 97]);
        assert_eq!(a.codec, Some((96, Codec::Pcmu)));
        assert_eq!(a.telephone_event_pt, Some(97));
        assert_eq!(a.codec_of(96), Some(Codec::Pcmu));
        assert_eq!(a.codec_of(8), Some(Codec::Pcma));
        assert_eq!(a.codec_of(18), None);
        assert_eq!(a.rtp_addr(), Some("192.0.2.5:8000".parse().expect("addr")));
    }

    #[test]
    fn no_g711_is_not_an_error() {
        let a =
            parse_answer(b"v=0\r\nc=IN IP4 192.0.2.5\r\nm=audio 8000 RTP/AVP 18\r\n").expect("ok");
        assert_eq!(a.codec, None);
        // PCMU at 16 kHz is not G.711 as we decode it.
        let b = parse_answer(b"v=0\r\nm=audio 8000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n")
            .expect("ok");
        assert_eq!(b.codec, None);
    }

    #[test]
    fn rejected_and_missing_audio() {
        assert_eq!(parse_answer(b""), Err(SdpError::NotSdp));
        assert_eq!(parse_answer(b"hello"), Err(SdpError::NotSdp));
        assert_eq!(
            parse_answer(b"v=0\r\nm=video 5000 RTP/AVP 96\r\n"),
            Err(SdpError::NoAudio)
        );
        assert_eq!(
            parse_answer(b"v=0\r\nm=audio 0 RTP/AVP 0\r\n"),
            Err(SdpError::AudioRejected)
        );
        assert!(matches!(
            parse_answer(b"v=0\r\nm=audio x RTP/AVP 0\r\n"),
            Err(SdpError::BadMediaLine(_))
        ));
        // A second, usable audio line after a rejected one is taken.
        let a =
            parse_answer(b"v=0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 9000 RTP/AVP 8\r\n").expect("ok");
        assert_eq!(a.port, 9000);
        assert_eq!(a.codec, Some((8, Codec::Pcma)));
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..400 {
            let mut body = b"v=0\r\nm=audio 1 RTP/AVP 0\r\n".to_vec();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                body.push(b"=cam \r\n/:0123456789IPN.abf"[(seed % 26) as usize]);
            }
            let _ = parse_answer(&body);
            let _ = parse_answer(&body[5..]);
        }
    }
}
