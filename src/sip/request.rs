//! Building the requests a UAC sends (INVITE, ACK, CANCEL, BYE) and the few
//! responses it answers with (200 to a far-end BYE).
//!
//! rsip serves here: URIs are parsed into `rsip::Uri` (so a malformed
//! destination is caught before it reaches the wire) and messages are
//! assembled as `rsip::Request` / `rsip::Response` and serialised by rsip.
//! Parsing of what comes back lives in [`super::message`], not here.

use std::net::{IpAddr, SocketAddr};

use rsip::headers::UntypedHeader;

use super::ids::{Branch, CallId};
use super::message::Message;

/// `Max-Forwards` on every request we originate (RFC 3261 §8.1.1.6).
pub const MAX_FORWARDS: u32 = 70;

/// What the UAC advertises in `User-Agent`.
pub const USER_AGENT: &str = concat!("ringwatch/", env!("CARGO_PKG_VERSION"));

/// A URI we could not build from configuration or a response.
#[derive(Debug, thiserror::Error)]
#[error("invalid SIP URI `{uri}`: {reason}")]
pub struct UriError {
    /// The text that failed.
    pub uri: String,
    /// Why rsip rejected it.
    pub reason: String,
}

/// Format a host for a URI or Via: IPv6 literals get brackets.
pub fn host_for_uri(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    }
}

/// `sip:{user}@{host}` (+ `;user=phone` when the user part is a telephone
/// number and `user_phone` is set) as a typed `rsip::Uri`.
///
/// Built from parts rather than parsed: rsip 0.4 neither parses nor prints
/// bracketed IPv6 hosts, so an IPv6 literal is carried as a bracketed
/// domain token, which rsip prints verbatim.
pub fn sip_uri(user: &str, host: &str, user_phone: bool) -> Result<rsip::Uri, UriError> {
    let bad = |reason: &str| UriError {
        uri: format!("sip:{user}@{host}"),
        reason: reason.to_string(),
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '@' || c == ';') {
        return Err(bad("bad host"));
    }
    if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c == '@' || c == ':') {
        return Err(bad("bad user part"));
    }
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => rsip::Host::IpAddr(IpAddr::V4(v4)),
        _ => rsip::Host::Domain(host_for_uri(host).into()),
    };
    let params = if user_phone {
        vec![rsip::Param::User(rsip::param::User::new("phone"))]
    } else {
        Vec::new()
    };
    Ok(rsip::Uri {
        scheme: Some(rsip::Scheme::Sip),
        auth: Some(rsip::Auth {
            user: user.to_string(),
            password: None,
        }),
        host_with_port: rsip::HostWithPort { host, port: None },
        params,
        headers: Vec::new(),
    })
}

/// Parse a URI with rsip (used for Contact URIs taken from responses).
pub fn parse_uri(text: &str) -> Result<rsip::Uri, UriError> {
    rsip::Uri::try_from(text).map_err(|e| UriError {
        uri: text.to_string(),
        reason: e.to_string(),
    })
}

/// Everything needed to serialise one request.
#[derive(Debug, Clone)]
pub struct RequestSpec<'a> {
    /// The method.
    pub method: rsip::Method,
    /// The Request-URI.
    pub uri: &'a rsip::Uri,
    /// Our real local address (Via sent-by, Contact).
    pub local: SocketAddr,
    /// The top Via branch.
    pub branch: &'a Branch,
    /// Full From value, tag included.
    pub from: &'a str,
    /// Full To value (with the remote tag for in-dialog requests and ACKs).
    pub to: &'a str,
    /// The Call-ID.
    pub call_id: &'a CallId,
    /// CSeq number; the method is `method`.
    pub cseq: u32,
    /// Further headers, in order, after the mandatory ones.
    pub extra: &'a [(String, String)],
    /// Optional body with its content type.
    pub body: Option<(&'a str, &'a [u8])>,
}

/// Serialise a request (RFC 3261 §8.1.1): Via with `rport` (RFC 3581),
/// Max-Forwards, From, To, Call-ID, CSeq, the extras, Content-Length always.
pub fn build(spec: &RequestSpec<'_>) -> Vec<u8> {
    use rsip::headers as h;
    let mut headers = rsip::Headers::default();
    headers.push(
        h::Via::new(format!(
            "SIP/2.0/UDP {};branch={};rport",
            spec.local, spec.branch
        ))
        .into(),
    );
    headers.push(h::MaxForwards::new(MAX_FORWARDS.to_string()).into());
    headers.push(h::From::new(spec.from).into());
    headers.push(h::To::new(spec.to).into());
    headers.push(h::CallId::new(spec.call_id.as_str()).into());
    headers.push(h::CSeq::new(format!("{} {}", spec.cseq, spec.method)).into());
    for (name, value) in spec.extra {
        headers.push(rsip::Header::Other(name.clone(), value.clone()));
    }
    let body = match spec.body {
        Some((content_type, body)) => {
            headers.push(h::ContentType::new(content_type).into());
            body.to_vec()
        }
        None => Vec::new(),
    };
    headers.push(h::ContentLength::new(body.len().to_string()).into());
    let request = rsip::Request {
        method: spec.method,
        uri: spec.uri.clone(),
        version: rsip::Version::V2,
        headers,
        body,
    };
    request.to_string().into_bytes()
}

/// A response to a request we received (e.g. `200 OK` to a far-end BYE, or
/// a lab far end answering our INVITE): Via, From, To, Call-ID and CSeq
/// copied as RFC 3261 §8.2.6.2 requires, `to_tag` added to To when it has
/// none, then `extra` headers and `Content-Length: 0`.
pub fn build_response(
    request: &Message,
    code: u16,
    phrase: &str,
    to_tag: Option<&str>,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {phrase}\r\n");
    for value in request.header_all("Via") {
        out.push_str(&format!("Via: {value}\r\n"));
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let Some(value) = request.header(name) else {
            continue;
        };
        match to_tag {
            Some(tag) if name == "To" && request.to_tag().is_none() => {
                out.push_str(&format!("To: {value};tag={tag}\r\n"));
            }
            _ => out.push_str(&format!("{name}: {value}\r\n")),
        }
    }
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Server: {USER_AGENT}\r\nContent-Length: 0\r\n\r\n"
    ));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_round_trips_through_rsip() {
        let uri = sip_uri("+13125550178", "carrier.example", true).expect("valid");
        assert_eq!(
            uri.to_string(),
            "sip:+13125550178@carrier.example;user=phone"
        );
        let v6 = sip_uri("+13125550178", "::1", false).expect("valid");
        assert_eq!(v6.to_string(), "sip:+13125550178@[::1]");
    }

    #[test]
    fn builds_a_complete_request() {
        let uri = sip_uri("+13125550178", "carrier.example", true).expect("valid");
        let branch = Branch::generate(&mut rand::rngs::mock::StepRng::new(1, 1));
        let call_id = CallId::generate(&mut rand::rngs::mock::StepRng::new(2, 1), "h");
        let extra = vec![(
            "P-Asserted-Identity".to_string(),
            "<sip:+12025550143@h>".to_string(),
        )];
        let bytes = build(&RequestSpec {
            method: rsip::Method::Invite,
            uri: &uri,
            local: "192.0.2.1:5062".parse().expect("addr"),
            branch: &branch,
            from: "<sip:+12025550143@h>;tag=abc",
            to: "<sip:+13125550178@carrier.example;user=phone>",
            call_id: &call_id,
            cseq: 1,
            extra: &extra,
            body: Some(("application/sdp", b"v=0\r\n")),
        });
        let text = String::from_utf8(bytes).expect("utf8");
        assert!(text.starts_with("INVITE sip:+13125550178@carrier.example;user=phone SIP/2.0\r\n"));
        assert!(text.contains(&format!(
            "Via: SIP/2.0/UDP 192.0.2.1:5062;branch={branch};rport\r\n"
        )));
        assert!(text.contains("Max-Forwards: 70\r\n"));
        assert!(text.contains("CSeq: 1 INVITE\r\n"));
        assert!(text.contains("P-Asserted-Identity: <sip:+12025550143@h>\r\n"));
        assert!(text.contains("Content-Type: application/sdp\r\n"));
        assert!(text.ends_with("Content-Length: 5\r\n\r\nv=0\r\n"));
    }
}
