//! SDP (RFC 4566 / RFC 3264) for the audio offer our INVITE carries. The
//! early-media issue adds answer parsing here.

use std::net::IpAddr;

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
}
