//! The tolerant SIP message parser (RFC 3261 §7, RFC 4475 robustness).
//!
//! [`Message::parse`] takes one datagram (or one framed stream message) and
//! keeps the raw bytes, the start line with the **real** reason phrase as
//! sent, every header line (compact names expanded, folded lines joined),
//! and the body. Whatever is odd but survivable (a garbage CSeq, a wrong
//! Content-Length, a header line without a colon, trailing octets after the
//! message) is recorded as a [`Fault`] and parsing goes on. Only input that
//! is not a SIP message at all is a [`ParseError`].
//!
//! This module owns parsing of received bytes only. It does not build
//! requests (see `sip::request`), does not interpret Reason, Call-Info or
//! Retry-After (their own modules do), and never panics on any input.

use std::borrow::Cow;

use super::params::{self, trim_lws};

/// Largest message we accept, in bytes (the largest UDP payload).
pub const MAX_MESSAGE_LEN: usize = 65_535;

/// Longest excerpt of input quoted inside a [`ParseError`] or [`Fault`].
const EXCERPT: usize = 80;

/// Compact header forms (RFC 3261 §7.3.3 and the IANA SIP header registry)
/// and the canonical long names they stand for.
const COMPACT: &[(char, &str)] = &[
    ('a', "Accept-Contact"),
    ('b', "Referred-By"),
    ('c', "Content-Type"),
    ('d', "Request-Disposition"),
    ('e', "Content-Encoding"),
    ('f', "From"),
    ('i', "Call-ID"),
    ('j', "Reject-Contact"),
    ('k', "Supported"),
    ('l', "Content-Length"),
    ('m', "Contact"),
    ('n', "Identity-Info"),
    ('o', "Event"),
    ('r', "Refer-To"),
    ('s', "Subject"),
    ('t', "To"),
    ('u', "Allow-Events"),
    ('v', "Via"),
    ('x', "Session-Expires"),
    ('y', "Identity"),
];

/// Well-known long names, used to give every header its canonical spelling
/// whatever case it was sent in.
const CANONICAL: &[&str] = &[
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Max-Forwards",
    "Min-Expires",
    "MIME-Version",
    "Organization",
    "P-Asserted-Identity",
    "P-Charging-Vector",
    "P-Preferred-Identity",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "Server",
    "Session-Expires",
    "Subject",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
];

/// Headers that may appear only once; a second line is recorded as a Fault.
const SINGLE: &[&str] = &[
    "Call-ID",
    "CSeq",
    "From",
    "To",
    "Max-Forwards",
    "Content-Type",
];

/// Why some bytes are not a SIP message at all. Everything less severe is a
/// [`Fault`] on a parsed [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// Only line breaks, no start line.
    #[error("no start line")]
    NoStartLine,
    /// The start line is neither a `SIP/2.0` status line nor a request line
    /// ending in `SIP/2.0`.
    #[error("not a SIP/2.0 message: start line {line:?}")]
    NotSip {
        /// The start line (lossily decoded, cut to 80 characters).
        line: String,
    },
    /// A status line whose code is not exactly three digits in 100..=699
    /// (RFC 4475 §3.1.2.19 `bigcode`). Rejected rather than guessed.
    #[error("unparseable status code {code:?}")]
    BadStatusCode {
        /// The code as sent (cut to 80 characters).
        code: String,
    },
    /// More than [`MAX_MESSAGE_LEN`] bytes.
    #[error("message too large: {len} bytes (limit {MAX_MESSAGE_LEN})")]
    TooLarge {
        /// Length of the input.
        len: usize,
    },
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD Request-URI SIP/2.0`.
    Request {
        /// The method token as sent (`INVITE`, `BYE`, ...).
        method: String,
        /// The Request-URI as sent, trimmed.
        uri: String,
    },
    /// `SIP/2.0 code phrase`.
    Response {
        /// Status code, 100..=699.
        code: u16,
        /// The reason phrase exactly as sent (trimmed; may be empty or UTF-8).
        phrase: String,
    },
}

/// One header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Canonical long name (`v` becomes `Via`, `call-id` becomes `Call-ID`);
    /// unknown names are kept as sent.
    pub name: String,
    /// The value, folded continuation lines joined with one space, trimmed.
    pub value: String,
}

/// Something odd the parser kept going past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The header concerned (canonical name), if the fault is about one.
    pub header: Option<String>,
    /// What was odd, for logs and evidence.
    pub what: String,
}

/// A parsed `CSeq` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number (leading zeros accepted).
    pub num: u32,
    /// Method token as sent.
    pub method: String,
}

/// A received SIP message: raw bytes plus a tolerant view of them.
#[derive(Debug, Clone)]
pub struct Message {
    raw: Vec<u8>,
    start: StartLine,
    headers: Vec<Header>,
    body: Vec<u8>,
    cseq: Option<CSeq>,
    faults: Vec<Fault>,
}

impl Message {
    /// Parses one SIP message from `data`.
    ///
    /// `Err` only when the bytes are not a SIP message at all (see
    /// [`ParseError`]). Everything else parses, with oddities listed in
    /// [`Message::faults`]. With extra octets after the message (a second
    /// message in one datagram, RFC 4475 `dblreq`) only the first message is
    /// parsed; [`Message::raw`] still returns every byte received.
    pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
        if data.is_empty() {
            return Err(ParseError::Empty);
        }
        if data.len() > MAX_MESSAGE_LEN {
            return Err(ParseError::TooLarge { len: data.len() });
        }
        let mut faults = Vec::new();

        // RFC 3261 §7.5: ignore CRLFs before the start line.
        let mut pos = data
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or(ParseError::NoStartLine)?;
        let (line, next) = next_line(data, pos);
        pos = next;
        let start_text = decode(line);
        let start = parse_start_line(&start_text)?;
        if matches!(start_text, Cow::Owned(_)) {
            faults.push(Fault {
                header: None,
                what: "non-UTF-8 bytes in the start line decoded lossily".to_owned(),
            });
        }

        // Header lines up to the first empty line.
        let mut headers: Vec<Header> = Vec::new();
        let mut body_start = None;
        while pos < data.len() {
            let (line, next) = next_line(data, pos);
            pos = next;
            if line.is_empty() {
                body_start = Some(pos);
                break;
            }
            let text = decode(line);
            if matches!(text, Cow::Owned(_)) {
                faults.push(Fault {
                    header: None,
                    what: format!("non-UTF-8 bytes decoded lossily in {:?}", excerpt(&text)),
                });
            }
            if line[0] == b' ' || line[0] == b'\t' {
                // Folded continuation (RFC 3261 §7.3.1).
                let more = trim_lws(&text);
                match headers.last_mut() {
                    Some(h) => {
                        if !more.is_empty() {
                            if !h.value.is_empty() {
                                h.value.push(' ');
                            }
                            h.value.push_str(more);
                        }
                    }
                    None => faults.push(Fault {
                        header: None,
                        what: format!("continuation line before any header: {:?}", excerpt(&text)),
                    }),
                }
                continue;
            }
            match text.split_once(':') {
                Some((name, value)) => {
                    let name = trim_lws(name);
                    if name.is_empty() {
                        faults.push(Fault {
                            header: None,
                            what: format!("header line with empty name: {:?}", excerpt(&text)),
                        });
                        continue;
                    }
                    if !name.bytes().all(is_token_byte) {
                        faults.push(Fault {
                            header: Some(name.to_owned()),
                            what: "header name has non-token characters".to_owned(),
                        });
                    }
                    headers.push(Header {
                        name: canonical_name(name),
                        value: trim_lws(value).to_owned(),
                    });
                }
                None => faults.push(Fault {
                    header: None,
                    what: format!("header line without a colon: {:?}", excerpt(&text)),
                }),
            }
        }

        for single in SINGLE {
            let n = headers.iter().filter(|h| h.name == *single).count();
            if n > 1 {
                faults.push(Fault {
                    header: Some((*single).to_owned()),
                    what: format!("{n} lines for a single-valued header; the first is used"),
                });
            }
        }

        let body = match body_start {
            Some(b) => take_body(&headers, &data[b..], &mut faults),
            None => {
                faults.push(Fault {
                    header: None,
                    what: "no empty line after the headers".to_owned(),
                });
                Vec::new()
            }
        };

        let cseq = parse_cseq(&headers, &mut faults);

        Ok(Message {
            raw: data.to_vec(),
            start,
            headers,
            body,
            cseq,
            faults,
        })
    }

    /// Every byte received, unchanged (including any trailing octets that
    /// were not parsed).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The start line.
    pub fn start(&self) -> &StartLine {
        &self.start
    }

    /// True for a response (status line).
    pub fn is_response(&self) -> bool {
        matches!(self.start, StartLine::Response { .. })
    }

    /// Status code of a response; `None` for a request.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase exactly as sent (trimmed; may be empty or UTF-8);
    /// `None` for a request.
    pub fn reason_phrase(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { phrase, .. } => Some(phrase),
            StartLine::Request { .. } => None,
        }
    }

    /// Method of a request; `None` for a response.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// Request-URI of a request; `None` for a response.
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// Every header line, in order received.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Value of the first header line called `name` (case-insensitive; long
    /// or compact form).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = lookup_name(name);
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Value of every header line called `name`, in order (not comma-split).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = lookup_name(name);
        self.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
            .collect()
    }

    /// Every comma-separated value across all lines called `name`, split
    /// quote-aware and `<>`-aware, in order. For list headers: Via, Contact,
    /// Record-Route, Reason, Call-Info, Warning.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.header_all(name)
            .into_iter()
            .flat_map(params::split_values)
            .collect()
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID").filter(|v| !v.is_empty())
    }

    /// The CSeq, when it is a number that fits in `u32` followed by a method.
    /// `None` (and a [`Fault`]) when it is missing a method, too large or
    /// garbage (RFC 4475 `scalarlg`).
    pub fn cseq(&self) -> Option<CSeq> {
        self.cseq.clone()
    }

    /// The first Via value (first comma-separated value of the first line).
    pub fn top_via(&self) -> Option<&str> {
        params::split_values(self.header("Via")?).into_iter().next()
    }

    /// The `branch` parameter of the top Via.
    pub fn top_via_branch(&self) -> Option<&str> {
        params::param(self.top_via()?, "branch")
    }

    /// The `tag` parameter of From.
    pub fn from_tag(&self) -> Option<&str> {
        params::param(self.header("From")?, "tag")
    }

    /// The `tag` parameter of To.
    pub fn to_tag(&self) -> Option<&str> {
        params::param(self.header("To")?, "tag")
    }

    /// The URI of the first Contact (inside `<>` if present, else up to the
    /// first `;`).
    pub fn contact_uri(&self) -> Option<&str> {
        let first = params::split_values(self.header("Contact")?)
            .into_iter()
            .next()?;
        Some(params::uri_of(first)).filter(|u| !u.is_empty())
    }

    /// Record-Route values in order, each the full value
    /// (`<sip:p1.example;lr>`).
    pub fn record_route(&self) -> Vec<&str> {
        self.header_values("Record-Route")
    }

    /// The Content-Type value.
    pub fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }

    /// The body (bounded by Content-Length when it is usable).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Oddities the parser kept going past, in the order met.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }
}

/// The line starting at `pos` without its LF or CRLF, and the position after
/// the line break.
fn next_line(data: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = data.get(pos..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(lf) => {
            let line = &rest[..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line, pos + lf + 1)
        }
        None => {
            let line = rest.strip_suffix(b"\r").unwrap_or(rest);
            (line, data.len())
        }
    }
}

/// Decodes one line, replacing invalid UTF-8 sequences.
fn decode(line: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(line)
}

/// At most [`EXCERPT`] characters of `s`, for error and fault texts.
fn excerpt(s: &str) -> String {
    s.chars().take(EXCERPT).collect()
}

/// RFC 3261 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn is_version(s: &str) -> bool {
    s.eq_ignore_ascii_case("SIP/2.0")
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let line = trim_lws(line);
    let not_sip = || ParseError::NotSip {
        line: excerpt(line),
    };
    let is_ws = |c: char| c == ' ' || c == '\t';
    if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = line.split_once(is_ws).unwrap_or((line, ""));
        if !is_version(version) {
            return Err(not_sip());
        }
        let rest = rest.trim_start_matches(is_ws);
        let (code, phrase) = rest.split_once(is_ws).unwrap_or((rest, ""));
        let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        let code_num = code
            .parse::<u16>()
            .ok()
            .filter(|c| valid && (100..=699).contains(c));
        let Some(code_num) = code_num else {
            return Err(ParseError::BadStatusCode {
                code: excerpt(code),
            });
        };
        return Ok(StartLine::Response {
            code: code_num,
            phrase: trim_lws(phrase).to_owned(),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version (tolerating extra LWS).
    let (method, rest) = line.split_once(is_ws).ok_or_else(not_sip)?;
    let (uri, version) = rest.rsplit_once(is_ws).ok_or_else(not_sip)?;
    let uri = uri.trim_matches(is_ws);
    if !is_version(version) || uri.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(not_sip());
    }
    Ok(StartLine::Request {
        method: method.to_owned(),
        uri: uri.to_owned(),
    })
}

/// Canonical long name for a header as sent: compact forms expanded, known
/// names respelled, unknown names kept.
fn canonical_name(name: &str) -> String {
    lookup_name(name).to_owned()
}

/// Like [`canonical_name`] but borrowing: the canonical spelling when known,
/// else `name` itself.
fn lookup_name(name: &str) -> &str {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let c = c.to_ascii_lowercase();
        if let Some((_, long)) = COMPACT.iter().find(|(k, _)| *k == c) {
            return long;
        }
    }
    CANONICAL
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(name)
}

/// Bounds the body by Content-Length when usable, recording Faults.
fn take_body(headers: &[Header], rest: &[u8], faults: &mut Vec<Fault>) -> Vec<u8> {
    let cl_values: Vec<&str> = headers
        .iter()
        .filter(|h| h.name == "Content-Length")
        .map(|h| h.value.as_str())
        .collect();
    let Some(&first) = cl_values.first() else {
        return rest.to_vec();
    };
    let fault = |what: String| Fault {
        header: Some("Content-Length".to_owned()),
        what,
    };
    if cl_values.iter().any(|v| *v != first) {
        faults.push(fault(format!(
            "{} Content-Length lines disagree; the first is used",
            cl_values.len()
        )));
    }
    let digits = !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        faults.push(fault(format!(
            "unusable Content-Length {:?}; the body is the rest of the message",
            excerpt(first)
        )));
        return rest.to_vec();
    }
    // All digits: a value beyond usize is certainly beyond what we have.
    let claimed = first.parse::<usize>().unwrap_or(usize::MAX);
    if claimed > rest.len() {
        faults.push(fault(format!(
            "Content-Length {claimed} but only {} octets follow; body truncated",
            rest.len()
        )));
        return rest.to_vec();
    }
    let trailing = rest.len() - claimed;
    if trailing > 0 {
        faults.push(Fault {
            header: None,
            what: format!("{trailing} octets after the message ignored"),
        });
    }
    rest[..claimed].to_vec()
}

/// Parses the first CSeq line, recording a Fault when it is unusable.
fn parse_cseq(headers: &[Header], faults: &mut Vec<Fault>) -> Option<CSeq> {
    let value = headers.iter().find(|h| h.name == "CSeq")?.value.as_str();
    let mut parts = value.split([' ', '\t']).filter(|p| !p.is_empty());
    let num = parts.next().unwrap_or_default();
    let method = parts.next();
    let extra = parts.next();
    let parsed = if num.bytes().all(|b| b.is_ascii_digit()) {
        num.parse::<u32>().ok()
    } else {
        None
    };
    match (parsed, method, extra) {
        (Some(num), Some(method), None) if method.bytes().all(is_token_byte) => Some(CSeq {
            num,
            method: method.to_owned(),
        }),
        _ => {
            faults.push(Fault {
                header: Some("CSeq".to_owned()),
                what: format!("unusable CSeq {:?}", excerpt(value)),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses input that the test expects to be a SIP message.
    fn parse(data: &[u8]) -> Message {
        match Message::parse(data) {
            Ok(m) => m,
            Err(e) => panic!("expected a message, got {e}"),
        }
    }

    fn has_fault(m: &Message, header: Option<&str>, needle: &str) -> bool {
        m.faults()
            .iter()
            .any(|f| f.header.as_deref() == header && f.what.contains(needle))
    }

    const VIA: &str = "SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK7f3a1c9e;rport";

    #[test]
    fn network_blocked_phrase_kept() {
        let m = parse(
            b"SIP/2.0 603 Network Blocked\r\n\
              Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK7f3a1c9e;rport\r\n\
              From: \"Probe\" <sip:+12025550143@probe.example.net>;tag=pr0b3-41d2\r\n\
              To: <sip:+13125550178@carrier.example;user=phone>;tag=as8f7d6e\r\n\
              Call-ID: 6f1c2e0a@probe.example.net\r\n\
              CSeq: 1 INVITE\r\n\
              Content-Length: 0\r\n\r\n",
        );
        assert!(m.is_response());
        assert_eq!(m.status(), Some(603));
        assert_eq!(m.reason_phrase(), Some("Network Blocked"));
        assert_eq!(m.method(), None);
        assert_eq!(m.request_uri(), None);
        assert_eq!(m.top_via(), Some(VIA));
        assert_eq!(m.top_via_branch(), Some("z9hG4bK7f3a1c9e"));
        assert_eq!(m.from_tag(), Some("pr0b3-41d2"));
        assert_eq!(m.to_tag(), Some("as8f7d6e"));
        assert_eq!(m.call_id(), Some("6f1c2e0a@probe.example.net"));
        assert_eq!(
            m.cseq(),
            Some(CSeq {
                num: 1,
                method: "INVITE".into()
            })
        );
        assert!(m.body().is_empty());
        assert!(m.faults().is_empty(), "{:?}", m.faults());
    }

    #[test]
    fn compact_headers_expanded_and_looked_up_both_ways() {
        let m = parse(
            b"SIP/2.0 180 Ringing\r\n\
              v: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK7f3a1c9e;rport\r\n\
              f: <sip:a@x>;tag=ft\r\n\
              T: <sip:b@y>;tag=tt\r\n\
              i: cid-1\r\n\
              m: <sip:b@192.0.2.7:5070>;expires=60\r\n\
              c: application/sdp\r\n\
              k: 100rel\r\n\
              o: dialog\r\n\
              CSeq: 1 INVITE\r\n\
              l: 4\r\n\r\nv=0\r\n",
        );
        let names: Vec<&str> = m.headers().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Via",
                "From",
                "To",
                "Call-ID",
                "Contact",
                "Content-Type",
                "Supported",
                "Event",
                "CSeq",
                "Content-Length"
            ]
        );
        assert_eq!(m.header("via"), Some(VIA));
        assert_eq!(m.header("V"), Some(VIA));
        assert_eq!(m.header("i"), Some("cid-1"));
        assert_eq!(m.header("CALL-ID"), Some("cid-1"));
        assert_eq!(m.call_id(), Some("cid-1"));
        assert_eq!(m.from_tag(), Some("ft"));
        assert_eq!(m.to_tag(), Some("tt"));
        assert_eq!(m.contact_uri(), Some("sip:b@192.0.2.7:5070"));
        assert_eq!(m.content_type(), Some("application/sdp"));
        assert_eq!(m.header("l"), Some("4"));
        assert_eq!(m.body(), b"v=0\r");
        assert!(has_fault(&m, None, "octets after the message"));
    }

    #[test]
    fn hcolon_with_whitespace_before_colon() {
        let m = parse(b"SIP/2.0 486 Busy Here\r\nCSeq : 1 INVITE\r\nCall-ID\t:\tabc\r\n\r\n");
        assert_eq!(
            m.cseq(),
            Some(CSeq {
                num: 1,
                method: "INVITE".into()
            })
        );
        assert_eq!(m.call_id(), Some("abc"));
        assert!(m.faults().is_empty(), "{:?}", m.faults());
    }

    #[test]
    fn cseq_leading_zeros_overflow_and_garbage() {
        let m = parse(b"SIP/2.0 200 OK\r\nCSeq: 0009\r\n  INVITE\r\n\r\n");
        assert_eq!(m.cseq().map(|c| c.num), Some(9));
        for bad in [
            &b"SIP/2.0 200 OK\r\nCSeq: 4294967296 INVITE\r\n\r\n"[..],
            b"SIP/2.0 200 OK\r\nCSeq: -1 INVITE\r\n\r\n",
            b"SIP/2.0 200 OK\r\nCSeq: 1\r\n\r\n",
            b"SIP/2.0 200 OK\r\nCSeq: INVITE 1\r\n\r\n",
            b"SIP/2.0 200 OK\r\nCSeq:\r\n\r\n",
        ] {
            let m = parse(bad);
            assert_eq!(m.cseq(), None);
            assert!(has_fault(&m, Some("CSeq"), "unusable CSeq"));
        }
        let m = parse(b"SIP/2.0 200 OK\r\nCSeq: 4294967295 BYE\r\n\r\n");
        assert_eq!(m.cseq().map(|c| c.num), Some(u32::MAX));
    }

    #[test]
    fn folded_lines_joined_with_one_space() {
        let m = parse(
            b"SIP/2.0 603 Decline\r\n\
              Via: SIP/2.0/UDP 198.51.100.10:5060\r\n\
              \t;branch=z9hG4bK7f3a1c9e;rport\r\n\
              Subject:\r\n   lunch\r\n \r\n  today  \r\n\r\n",
        );
        assert_eq!(
            m.header("Via"),
            Some("SIP/2.0/UDP 198.51.100.10:5060 ;branch=z9hG4bK7f3a1c9e;rport")
        );
        assert_eq!(m.top_via_branch(), Some("z9hG4bK7f3a1c9e"));
        assert_eq!(m.header("s"), Some("lunch today"));
    }

    #[test]
    fn continuation_before_any_header_is_a_fault() {
        let m = parse(b"SIP/2.0 200 OK\r\n  stray\r\nCall-ID: x\r\n\r\n");
        assert_eq!(m.call_id(), Some("x"));
        assert!(has_fault(&m, None, "continuation line before any header"));
    }

    #[test]
    fn several_reason_lines_and_values() {
        let m = parse(
            b"SIP/2.0 603 Network Blocked\r\n\
              Reason: SIP;cause=603;text=\"Network Blocked, by analytics\", Q.850;cause=21\r\n\
              Reason: SIP;cause=603;text=\"v=analytics1\"\r\n\r\n",
        );
        assert_eq!(m.header_all("Reason").len(), 2);
        assert_eq!(
            m.header_values("reason"),
            [
                "SIP;cause=603;text=\"Network Blocked, by analytics\"",
                "Q.850;cause=21",
                "SIP;cause=603;text=\"v=analytics1\"",
            ]
        );
        assert_eq!(
            m.header("Reason"),
            Some("SIP;cause=603;text=\"Network Blocked, by analytics\", Q.850;cause=21")
        );
        assert!(m.header_values("Warning").is_empty());
    }

    #[test]
    fn lf_only_line_endings() {
        let m = parse(
            b"SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bKlf\nTo: <sip:b@y>;tag=t1\n\
              Call-ID: lf\nContent-Length: 3\n\nabc",
        );
        assert_eq!(m.status(), Some(180));
        assert_eq!(m.reason_phrase(), Some("Ringing"));
        assert_eq!(m.top_via_branch(), Some("z9hG4bKlf"));
        assert_eq!(m.to_tag(), Some("t1"));
        assert_eq!(m.body(), b"abc");
        assert!(m.faults().is_empty(), "{:?}", m.faults());
    }

    #[test]
    fn truncated_body_kept_with_fault() {
        let m = parse(b"SIP/2.0 183 Session Progress\r\nContent-Length: 500\r\n\r\nv=0\r\n");
        assert_eq!(m.body(), b"v=0\r\n");
        assert!(has_fault(
            &m,
            Some("Content-Length"),
            "only 5 octets follow"
        ));
    }

    #[test]
    fn unusable_content_length_takes_the_rest() {
        for cl in ["-3", "abc", "", "1 2", "99999999999999999999999999"] {
            let data = format!("SIP/2.0 200 OK\r\nContent-Length: {cl}\r\n\r\nbody");
            let m = parse(data.as_bytes());
            assert_eq!(m.body(), b"body", "Content-Length {cl:?}");
            assert!(
                m.faults()
                    .iter()
                    .any(|f| f.header.as_deref() == Some("Content-Length")),
                "Content-Length {cl:?}"
            );
        }
    }

    #[test]
    fn no_content_length_takes_the_rest_without_fault() {
        let m = parse(b"SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\nv=0\r\n");
        assert_eq!(m.body(), b"v=0\r\n");
        assert!(m.faults().is_empty());
    }

    #[test]
    fn trailing_second_message_ignored_with_fault() {
        let first = b"SIP/2.0 486 Busy Here\r\nCall-ID: one\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
        let second = b"SIP/2.0 200 OK\r\nCall-ID: two\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
        let data = [&first[..], &second[..]].concat();
        let m = parse(&data);
        assert_eq!(m.status(), Some(486));
        assert_eq!(m.call_id(), Some("one"));
        assert!(m.body().is_empty());
        assert_eq!(m.raw(), &data[..]);
        assert!(has_fault(
            &m,
            None,
            &format!("{} octets after the message", second.len())
        ));
    }

    #[test]
    fn non_utf8_bytes_decoded_per_line() {
        let m = parse(
            b"SIP/2.0 603 Gr\xfcn Blocked\r\nServer: Acme \xff\xfe SBC\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKok\r\n\
              Call-ID: still-here\r\n\r\n\xff\x00body",
        );
        assert_eq!(m.status(), Some(603));
        assert_eq!(m.reason_phrase(), Some("Gr\u{fffd}n Blocked"));
        assert_eq!(m.header("Server"), Some("Acme \u{fffd}\u{fffd} SBC"));
        assert_eq!(m.top_via_branch(), Some("z9hG4bKok"));
        assert_eq!(m.call_id(), Some("still-here"));
        assert_eq!(m.body(), b"\xff\x00body");
        assert!(has_fault(&m, None, "start line"));
        assert!(has_fault(&m, None, "non-UTF-8"));
    }

    #[test]
    fn to_tag_absent_and_contact_forms() {
        let m = parse(
            b"SIP/2.0 100 Trying\r\nTo: \"A;tag=no\" <sip:b@y;tag=no>\r\n\
              Contact: sip:c@192.0.2.9:5060;expires=30, <sip:d@e>\r\n\r\n",
        );
        assert_eq!(m.to_tag(), None);
        assert_eq!(m.contact_uri(), Some("sip:c@192.0.2.9:5060"));
        let m = parse(b"SIP/2.0 200 OK\r\nContact: \"Bob, Jr\" <sip:bob@10.0.0.1>;q=1\r\n\r\n");
        assert_eq!(m.contact_uri(), Some("sip:bob@10.0.0.1"));
        let m = parse(b"SIP/2.0 200 OK\r\nContact:\r\n\r\n");
        assert_eq!(m.contact_uri(), None);
    }

    #[test]
    fn record_route_order_across_lines_and_commas() {
        let m = parse(
            b"SIP/2.0 200 OK\r\n\
              Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr;x=\"a,b\">\r\n\
              Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
              Record-Route: <sip:p3.example;lr>\r\n\r\n",
        );
        assert_eq!(
            m.record_route(),
            [
                "<sip:p1.example;lr>",
                "<sip:p2.example;lr;x=\"a,b\">",
                "<sip:p3.example;lr>"
            ]
        );
        assert_eq!(m.top_via(), Some("SIP/2.0/UDP a;branch=z9hG4bK1"));
        assert_eq!(m.top_via_branch(), Some("z9hG4bK1"));
        assert_eq!(m.header_values("v").len(), 2);
    }

    #[test]
    fn requests_parse_too() {
        let m =
            parse(b"\r\n\r\nINVITE  sip:+13125550178@carrier.example;user=phone  SIP/2.0\r\n\r\n");
        assert!(!m.is_response());
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(
            m.request_uri(),
            Some("sip:+13125550178@carrier.example;user=phone")
        );
        assert_eq!(m.status(), None);
        assert_eq!(m.reason_phrase(), None);
    }

    #[test]
    fn odd_header_lines_are_faults_not_errors() {
        let m = parse(b"SIP/2.0 200 OK\r\nno colon here\r\n: empty name\r\nBad Name: v\r\nCall-ID: ok\r\n\r\n");
        assert_eq!(m.call_id(), Some("ok"));
        assert_eq!(m.header("Bad Name"), Some("v"));
        assert!(has_fault(&m, None, "without a colon"));
        assert!(has_fault(&m, None, "empty name"));
        assert!(has_fault(&m, Some("Bad Name"), "non-token"));
    }

    #[test]
    fn missing_blank_line_is_a_fault() {
        let m = parse(b"SIP/2.0 200 OK\r\nCall-ID: a");
        assert_eq!(m.call_id(), Some("a"));
        assert!(m.body().is_empty());
        assert!(has_fault(&m, None, "no empty line"));
    }

    #[test]
    fn status_line_variants() {
        let m = parse(b"SIP/2.0 100 \r\n\r\n");
        assert_eq!(m.reason_phrase(), Some(""));
        let m = parse(b"SIP/2.0 200\r\n\r\n");
        assert_eq!((m.status(), m.reason_phrase()), (Some(200), Some("")));
        let m = parse(b"sip/2.0\t699  Custom  phrase \r\n\r\n");
        assert_eq!(
            (m.status(), m.reason_phrase()),
            (Some(699), Some("Custom  phrase"))
        );
        for bad in [
            &b"SIP/2.0 4294967301 better not break the receiver\r\n\r\n"[..],
            b"SIP/2.0 99 Low\r\n\r\n",
            b"SIP/2.0 700 High\r\n\r\n",
            b"SIP/2.0 0200 OK\r\n\r\n",
            b"SIP/2.0 2x0 OK\r\n\r\n",
            b"SIP/2.0 +20 OK\r\n\r\n",
            b"SIP/2.0\r\n\r\n",
        ] {
            assert!(
                matches!(Message::parse(bad), Err(ParseError::BadStatusCode { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn not_sip_at_all() {
        assert_eq!(Message::parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(
            Message::parse(b"\r\n\r\n\n").unwrap_err(),
            ParseError::NoStartLine
        );
        for bad in [
            &b"SIP/7.0 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"OPTIONS sip:a@b SIP/7.0\r\n\r\n",
            b"INVITE SIP/2.0\r\n\r\n",
            b"\xff\xfe\xfd\r\n\r\n",
            b"   \r\n",
        ] {
            assert!(
                matches!(Message::parse(bad), Err(ParseError::NotSip { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let big = vec![b'a'; MAX_MESSAGE_LEN + 1];
        assert_eq!(
            Message::parse(&big).unwrap_err(),
            ParseError::TooLarge {
                len: MAX_MESSAGE_LEN + 1
            }
        );
    }

    #[test]
    fn duplicate_single_valued_headers_are_faults() {
        let m = parse(b"SIP/2.0 200 OK\r\nCall-ID: a\r\ni: b\r\n\r\n");
        assert_eq!(m.call_id(), Some("a"));
        assert_eq!(m.header_all("Call-ID"), ["a", "b"]);
        assert!(has_fault(&m, Some("Call-ID"), "2 lines"));
    }

    macro_rules! rfc4475 {
        ($name:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/rfc4475/",
                $name,
                ".dat"
            ))
        };
    }

    #[test]
    fn rfc4475_unreason_keeps_utf8_phrase() {
        let m = parse(rfc4475!("unreason"));
        assert_eq!(m.status(), Some(200));
        assert_eq!(
            m.reason_phrase(),
            Some("= 2**3 * 5**2 но сто девяносто девять - простое")
        );
        assert_eq!(m.call_id(), Some("unreason.1234ksdfak3j2erwedfsASdf"));
        assert_eq!(m.top_via_branch(), Some("z9hG4bK1324923"));
    }

    #[test]
    fn rfc4475_noreason_empty_phrase() {
        let m = parse(rfc4475!("noreason"));
        assert_eq!(m.status(), Some(100));
        assert_eq!(m.reason_phrase(), Some(""));
        assert_eq!(m.cseq().map(|c| c.num), Some(35));
        assert_eq!(m.contact_uri(), Some("sip:user@host105.example.com"));
    }

    #[test]
    fn rfc4475_scalarlg_cseq_none_with_fault() {
        let m = parse(rfc4475!("scalarlg"));
        assert_eq!(m.status(), Some(503));
        assert_eq!(m.reason_phrase(), Some("Service Unavailable"));
        assert_eq!(m.cseq(), None);
        assert!(has_fault(&m, Some("CSeq"), "9292394834772304023312"));
        assert_eq!(m.header("Retry-After"), Some("949302838503028349304023988"));
        assert_eq!(m.header("Warning"), Some("1812 overture \"In Progress\""));
        assert_eq!(m.top_via_branch(), Some("z9hG4bKzzxdiwo34sw"));
    }

    #[test]
    fn rfc4475_bigcode_rejected() {
        assert_eq!(
            Message::parse(rfc4475!("bigcode")).unwrap_err(),
            ParseError::BadStatusCode {
                code: "4294967301".into()
            }
        );
    }

    #[test]
    fn rfc4475_bcast_parsed() {
        let m = parse(rfc4475!("bcast"));
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.top_via_branch(), Some("z9hG4bK1324923"));
        assert!(m.header_values("Via").len() >= 2);
    }

    #[test]
    fn rfc4475_wsinv_whitespace_folding_compact() {
        let m = parse(rfc4475!("wsinv"));
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.to_tag(), Some("1918181833n"));
        assert_eq!(m.from_tag(), Some("98asjd8"));
        assert_eq!(
            m.cseq(),
            Some(CSeq {
                num: 9,
                method: "INVITE".into()
            })
        );
        assert_eq!(m.header("Max-Forwards"), Some("0068"));
        assert_eq!(m.top_via_branch(), Some("390skdjuw"));
        let vias = m.header_values("Via");
        assert_eq!(vias.len(), 3);
        assert_eq!(params::param(vias[2], "branch"), Some("z9hG4bK30239"));
        assert_eq!(m.contact_uri(), Some("sip:jdrosen@example.com"));
        assert_eq!(m.header("Subject"), Some(""));
        assert_eq!(
            m.header("newfangledheader"),
            Some("newfangled value continued newfangled value")
        );
        assert_eq!(m.body().len(), 150);
        assert!(m.faults().is_empty(), "{:?}", m.faults());
    }

    #[test]
    fn rfc4475_framing_and_multi_value_cases() {
        let m = parse(rfc4475!("mcl01"));
        assert!(has_fault(&m, Some("Content-Length"), "disagree"));
        let m = parse(rfc4475!("multi01"));
        for h in ["CSeq", "Call-ID", "To", "From", "Max-Forwards"] {
            assert!(has_fault(&m, Some(h), "2 lines"), "{h}");
        }
        let m = parse(rfc4475!("clerr"));
        assert!(has_fault(&m, Some("Content-Length"), "9999"));
        assert!(m.body().starts_with(b"v=0"));
        let m = parse(rfc4475!("ncl"));
        assert!(has_fault(&m, Some("Content-Length"), "-999"));
        assert!(m.body().starts_with(b"v=0"));
        let m = parse(rfc4475!("quotbal"));
        assert_eq!(m.to_tag(), None);
        assert_eq!(m.call_id(), Some("quotbal.aksdj"));
        let m = parse(rfc4475!("dblreq"));
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.call_id(), Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
        assert!(m.body().is_empty());
        assert!(has_fault(&m, None, "octets after the message"));
    }

    #[test]
    fn no_panic_on_prefixes_and_mutations_of_every_copied_file() {
        let files: [&[u8]; 12] = [
            rfc4475!("unreason"),
            rfc4475!("noreason"),
            rfc4475!("scalarlg"),
            rfc4475!("bigcode"),
            rfc4475!("bcast"),
            rfc4475!("wsinv"),
            rfc4475!("mcl01"),
            rfc4475!("multi01"),
            rfc4475!("clerr"),
            rfc4475!("ncl"),
            rfc4475!("quotbal"),
            rfc4475!("dblreq"),
        ];
        for data in files {
            for cut in 0..=data.len() {
                exercise(&data[..cut]);
            }
            let mut flipped = data.to_vec();
            for i in 0..flipped.len() {
                let keep = flipped[i];
                for b in [
                    b'\0', b'\r', b'\n', b' ', b':', b'"', b'<', b'>', b';', b',', 0xff,
                ] {
                    flipped[i] = b;
                    exercise(&flipped);
                }
                flipped[i] = keep;
            }
        }
    }

    /// Parses and, on success, calls every accessor (what the fuzz target does).
    fn exercise(data: &[u8]) {
        let Ok(m) = Message::parse(data) else { return };
        let _ = (
            m.raw(),
            m.start(),
            m.is_response(),
            m.status(),
            m.reason_phrase(),
        );
        let _ = (
            m.method(),
            m.request_uri(),
            m.headers(),
            m.call_id(),
            m.cseq(),
        );
        let _ = (m.top_via(), m.top_via_branch(), m.from_tag(), m.to_tag());
        let _ = (
            m.contact_uri(),
            m.record_route(),
            m.content_type(),
            m.body(),
        );
        let _ = (
            m.faults(),
            m.header("x"),
            m.header_all("v"),
            m.header_values("Reason"),
        );
    }
}
