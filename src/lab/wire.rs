//! The bytes a lab far end puts on the wire: responses to received requests
//! (with an optional body), the ATIS-1000099 Reason value of a 603+, the
//! RFC 8688 jwscard Call-Info of a 608, and the caller / destination numbers
//! read from a request.
//!
//! Pure functions; no state, no clock, no RNG. Every value copied from a
//! received request is cleaned of CR, LF and NUL first, so a hostile
//! request cannot inject header lines into our responses.

use std::fmt::Write as _;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::config::{E164, Redress};
use crate::sip::message::Message;
use crate::sip::params;
use crate::sip::request::USER_AGENT;

/// Methods a lab far end answers (`Allow`).
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO";

/// Which Reason protocol carries the 603+ text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtisForm {
    /// `SIP;cause=603`.
    Sip,
    /// `Q.850;cause=21`.
    Q850,
}

/// `value` with CR, LF and NUL replaced by spaces.
fn clean(value: &str) -> String {
    value.replace(['\r', '\n', '\0'], " ")
}

/// The top Via value with `received` and `rport` filled in (RFC 3261
/// §18.2.1, RFC 3581 §4): responses then say where the request came from.
fn stamp_via(via: &str, peer: SocketAddr) -> String {
    let mut out = String::with_capacity(via.len() + 40);
    let mut has_received = false;
    for (i, piece) in via.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        let name = piece.split('=').next().unwrap_or_default().trim();
        if i > 0 && name.eq_ignore_ascii_case("rport") && !piece.contains('=') {
            let _ = write!(out, "rport={}", peer.port());
            continue;
        }
        has_received |= i > 0 && name.eq_ignore_ascii_case("received");
        out.push_str(piece);
    }
    if !has_received {
        let _ = write!(out, ";received={}", peer.ip());
    }
    out
}

/// A response to `request`: every Via (the top one stamped with
/// `received`/`rport` from `peer`), From, To (plus `;tag=to_tag` when the
/// request's To has none), Call-ID and CSeq copied (RFC 3261 §8.2.6.2), then
/// `extra`, `Server`, and the body with its Content-Type, Content-Length
/// always.
pub(crate) fn response(
    request: &Message,
    peer: SocketAddr,
    code: u16,
    phrase: &str,
    to_tag: Option<&str>,
    extra: &[(&str, String)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {phrase}\r\n");
    for (i, line) in request.header_all("Via").into_iter().enumerate() {
        let line = clean(line);
        if i == 0 {
            let values = params::split_values(&line);
            let mut stamped: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
            if let Some(top) = stamped.first_mut() {
                *top = stamp_via(top, peer);
            }
            let _ = write!(out, "Via: {}\r\n", stamped.join(", "));
        } else {
            let _ = write!(out, "Via: {line}\r\n");
        }
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let Some(value) = request.header(name) else {
            continue;
        };
        let value = clean(value);
        match to_tag {
            Some(tag) if name == "To" && request.to_tag().is_none() => {
                let _ = write!(out, "To: {value};tag={tag}\r\n");
            }
            _ => {
                let _ = write!(out, "{name}: {value}\r\n");
            }
        }
    }
    for (name, value) in extra {
        let _ = write!(out, "{name}: {}\r\n", clean(value));
    }
    let _ = write!(out, "Server: {USER_AGENT} (lab)\r\n");
    let body = match body {
        Some((content_type, bytes)) => {
            let _ = write!(out, "Content-Type: {content_type}\r\n");
            bytes
        }
        None => &[][..],
    };
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The per-call ATIS `id`: `{prefix}-{first 12 hex digits of
/// SHA-256(Call-ID)}`, within `[A-Za-z0-9_-]{1,64}` for any valid prefix.
pub(crate) fn redress_id(prefix: &str, call_id: &str) -> String {
    let digest = Sha256::digest(call_id.as_bytes());
    let hex = hex::encode(&digest[..6]);
    format!("{prefix}-{hex}")
}

/// The ATIS-1000099 Reason value: `SIP;cause=603;text="v=analytics1;
/// url=...;tel=...;email=...;id=..."` (or `Q.850;cause=21;...`) then
/// `;location=...` outside the quotes.
pub(crate) fn atis_reason(form: AtisForm, redress: &Redress, id: &str) -> String {
    let protocol = match form {
        AtisForm::Sip => "SIP;cause=603",
        AtisForm::Q850 => "Q.850;cause=21",
    };
    let mut text = String::from("v=analytics1");
    if let Some(url) = &redress.url {
        let _ = write!(text, ";url={url}");
    }
    if let Some(tel) = &redress.tel {
        let _ = write!(text, ";tel={tel}");
    }
    if let Some(email) = &redress.email {
        let _ = write!(text, ";email={email}");
    }
    let _ = write!(text, ";id={id}");
    format!("{protocol};text=\"{text}\";location={}", redress.location)
}

/// The RFC 8688 `Call-Info` value of a 608: an inline `data:` URI carrying
/// a compact JWS whose payload is a jCard (RFC 7095) with the redress
/// contacts. The signature is a fixed placeholder: nobody verifies it.
pub(crate) fn jwscard(carrier: &str, redress: &Redress) -> String {
    use serde_json::{Value, json};
    let header = json!({
        "alg": "ES256",
        "typ": "JWT",
        "x5u": "https://certs.ringwatch-lab.invalid/lab.pem",
    });
    let mut props: Vec<Value> = vec![
        json!(["version", {}, "text", "4.0"]),
        json!([
            "fn",
            {},
            "text",
            format!("{carrier} analytics redress (ringwatch lab)")
        ]),
        json!(["org", {}, "text", "ringwatch lab"]),
    ];
    if let Some(tel) = &redress.tel {
        props.push(json!(["tel", {"type": ["work", "voice"]}, "uri", format!("tel:{tel}")]));
    }
    if let Some(email) = &redress.email {
        props.push(json!(["email", {}, "text", email]));
    }
    if let Some(url) = &redress.url {
        props.push(json!(["url", {}, "uri", url]));
    }
    let card = json!(["vcard", props]);
    let jws = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(card.to_string()),
        URL_SAFE_NO_PAD.encode("ringwatch-lab-placeholder-signature"),
    );
    format!(
        "<data:application/jose;base64,{}>;purpose=jwscard",
        STANDARD.encode(jws)
    )
}

/// The user part of a SIP/SIPS/tel URI (`sip:+13125550178;npdi@host` →
/// `+13125550178`), URI parameters and `%2B` escapes handled.
fn user_part(uri: &str) -> Option<String> {
    let uri = uri.trim();
    let lower = uri.get(..5).unwrap_or(uri).to_ascii_lowercase();
    let rest = if lower.starts_with("sips:") {
        &uri[5..]
    } else if lower.starts_with("sip:") || lower.starts_with("tel:") {
        &uri[4..]
    } else {
        return None;
    };
    let user = match rest.find('@') {
        Some(at) => &rest[..at],
        None if lower.starts_with("tel:") => rest,
        None => return None,
    };
    let user = user.split(';').next().unwrap_or_default();
    let user = user.split(':').next().unwrap_or_default(); // user:password
    let user = match (user.get(..3), user.get(3..)) {
        (Some(escape), Some(rest)) if escape.eq_ignore_ascii_case("%2b") => format!("+{rest}"),
        _ => user.to_owned(),
    };
    (!user.is_empty()).then_some(user)
}

/// A telephone number from a user part: E.164 as written, or `+` added to
/// bare digits (`13125550178`).
fn number_of(user: &str) -> Option<E164> {
    E164::parse(user).ok().or_else(|| {
        (user.bytes().all(|b| b.is_ascii_digit()) && !user.is_empty())
            .then(|| E164::parse(&format!("+{user}")).ok())
            .flatten()
    })
}

/// The destination of an INVITE: the Request-URI user part.
pub(crate) fn destination(request: &Message) -> Option<E164> {
    number_of(&user_part(request.request_uri()?)?)
}

/// The caller ID of an INVITE: the P-Asserted-Identity user part when
/// present (the first value that is a number), else the From user part.
pub(crate) fn caller(request: &Message) -> Option<E164> {
    let pai = request
        .header_values("P-Asserted-Identity")
        .into_iter()
        .find_map(|v| user_part(params::uri_of(v)).and_then(|u| number_of(&u)));
    pai.or_else(|| {
        let from = request.header("From")?;
        number_of(&user_part(params::uri_of(from))?)
    })
}

/// The host of a Request-URI, when it is an IP literal (used as Contact host
/// when the lab listens on an unspecified address).
pub(crate) fn uri_ip(request: &Message) -> Option<std::net::IpAddr> {
    let uri = request.request_uri()?;
    let after = uri.split_once('@').map_or(uri, |(_, h)| h);
    let host = after.split([';', '?']).next().unwrap_or_default();
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    host.split(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::call_info::jwscard_contacts;
    use crate::sip::reason::parse_reason;

    const INVITE: &str = "INVITE sip:+13125550178@127.0.0.1:5070;user=phone SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp\r\n\
        From: \"Probe\" <sip:+12025550143@probe.example;user=phone>;tag=f1\r\n\
        To: <sip:+13125550178@127.0.0.1;user=phone>\r\n\
        Call-ID: abc@127.0.0.1\r\n\
        CSeq: 7 INVITE\r\n\
        Content-Length: 0\r\n\r\n";

    fn invite() -> Message {
        Message::parse(INVITE.as_bytes()).expect("parse")
    }

    #[test]
    fn response_echoes_and_stamps() {
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let bytes = response(
            &invite(),
            peer,
            183,
            "Session Progress",
            Some("lt1"),
            &[("X-Evil", "a\r\nInjected: 1".to_owned())],
            Some(("application/sdp", b"v=0\r\n")),
        );
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(text.starts_with("SIP/2.0 183 Session Progress\r\n"));
        assert!(text.contains(
            "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc;rport=40000;received=127.0.0.1, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKp\r\n"
        ));
        assert!(text.contains("To: <sip:+13125550178@127.0.0.1;user=phone>;tag=lt1\r\n"));
        assert!(text.contains("X-Evil: a  Injected: 1\r\n"));
        assert!(
            text.ends_with("Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n")
        );
        let m = Message::parse(&bytes).expect("parse");
        assert_eq!(m.status(), Some(183));
        assert_eq!(m.to_tag(), Some("lt1"));
        assert_eq!(m.top_via_branch(), Some("z9hG4bKabc"));
        assert_eq!(m.body(), b"v=0\r\n");
        assert!(m.faults().is_empty(), "{:?}", m.faults());
    }

    #[test]
    fn atis_reason_parses_back() {
        let r = Redress::default();
        let id = redress_id("lab-att", "abc@127.0.0.1");
        assert_eq!(id.len(), "lab-att-".len() + 12);
        let v = atis_reason(AtisForm::Sip, &r, &id);
        assert_eq!(
            v,
            format!(
                "SIP;cause=603;text=\"v=analytics1;url=https://redress.example.com/ringwatch-lab;\
                 tel=+18005550199;email=redress@example.com;id={id}\";location=RLN"
            )
        );
        let parsed = parse_reason(&v);
        assert_eq!(parsed.len(), 1);
        let text = parsed[0].analytics().expect("analytics");
        assert_eq!(
            text.url.as_deref(),
            Some("https://redress.example.com/ringwatch-lab")
        );
        assert_eq!(text.id.as_deref(), Some(id.as_str()));
        let q = atis_reason(AtisForm::Q850, &r, &id);
        assert!(q.starts_with("Q.850;cause=21;text=\"v=analytics1;"));
    }

    #[test]
    fn jwscard_decodes_with_the_prober_parser() {
        let value = jwscard("att", &Redress::default());
        let contacts = jwscard_contacts(&[&value]).expect("jwscard");
        assert_eq!(contacts.source, "data");
        assert_eq!(contacts.url, ["https://redress.example.com/ringwatch-lab"]);
        assert_eq!(contacts.tel, ["+18005550199"]);
        assert_eq!(contacts.email, ["redress@example.com"]);
        assert!(!contacts.verified);
    }

    #[test]
    fn numbers_from_uris() {
        let m = invite();
        assert_eq!(
            destination(&m).map(|e| e.to_string()).as_deref(),
            Some("+13125550178")
        );
        assert_eq!(
            caller(&m).map(|e| e.to_string()).as_deref(),
            Some("+12025550143")
        );
        assert_eq!(uri_ip(&m), Some("127.0.0.1".parse().expect("ip")));
        for (uri, want) in [
            ("sip:13125550178@h", Some("+13125550178")),
            (
                "sips:+13125550178;npdi;rn=+1@h;user=phone",
                Some("+13125550178"),
            ),
            ("tel:+1-312-555-0178", Some("+13125550178")),
            ("sip:%2B13125550178@h", Some("+13125550178")),
            ("SIP:+13125550178:pw@h", Some("+13125550178")),
            ("sip:alice@h", None),
            ("sip:h", None),
            ("mailto:x@y", None),
            ("", None),
            ("sip:", None),
            ("sip:%2", None),
            ("sip:é@h", None),
        ] {
            let got = user_part(uri).and_then(|u| number_of(&u));
            assert_eq!(got.map(|e| e.to_string()).as_deref(), want, "{uri}");
        }
    }

    #[test]
    fn pai_wins_over_from() {
        let text = INVITE.replace(
            "CSeq: 7 INVITE\r\n",
            "CSeq: 7 INVITE\r\nP-Asserted-Identity: \"X\" <sip:+13125550101@h;user=phone>, <tel:+13125550102>\r\n",
        );
        let m = Message::parse(text.as_bytes()).expect("parse");
        assert_eq!(
            caller(&m).map(|e| e.to_string()).as_deref(),
            Some("+13125550101")
        );
    }
}
