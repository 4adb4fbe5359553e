//! The SIP `Reason` header (RFC 3326, RFC 6432, RFC 8606 `location`) and the
//! ATIS-1000099 "603+" analytics text carried inside it.
//!
//! Owns: the quote-aware tokenizer shared by the header parsers in `sip`
//! (`Reason`, `Warning`, `Call-Info`), `parse_reason` and
//! `parse_analytics_text`. Parsing is lenient and never panics: a truncated
//! header with an unterminated quoted string keeps what is there and says so.
//! It must not decide outcomes (that is `classify`) and never follows any URL
//! it finds.

use serde::Serialize;

/// One `reason-value` of a Reason header, e.g.
/// `SIP;cause=603;text="v=analytics1;url=https://x.example";location=RLN`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ReasonValue {
    /// The protocol token as sent (`SIP`, `Q.850`, `Preemption`, ...). Compare
    /// it case-insensitively, e.g. with [`ReasonValue::is_protocol`].
    pub protocol: String,
    /// The `cause` parameter. `None` when absent, not all digits, or beyond
    /// `u32` (the value as sent is then kept in `params` and in `raw`).
    pub cause: Option<u32>,
    /// The `text` parameter, unquoted with `\"` and `\\` escapes resolved.
    pub text: Option<String>,
    /// The RFC 8606 `location` parameter (`U`, `LN`, `TN`, `RLN`, ...), as sent.
    pub location: Option<String>,
    /// Every other parameter, name and value exactly as sent (values keep
    /// their quotes). Also holds a repeated or unparseable `cause`/`text`/
    /// `location`.
    pub params: Vec<(String, Option<String>)>,
    /// The whole reason-value as sent, trimmed.
    pub raw: String,
    /// A quoted string was still open at the end of the header line (the
    /// header was truncated in transit, e.g. by a 128-byte buffer).
    pub unterminated: bool,
}

impl ReasonValue {
    /// Whether the protocol token equals `name`, ignoring ASCII case.
    #[must_use]
    pub fn is_protocol(&self, name: &str) -> bool {
        self.protocol.eq_ignore_ascii_case(name)
    }

    /// The ATIS-1000099 analytics AVPs, when `text` starts with `v=analytics`.
    #[must_use]
    pub fn analytics(&self) -> Option<AnalyticsText> {
        self.text.as_deref().and_then(parse_analytics_text)
    }
}

/// The attribute-value pairs of an ATIS-1000099 Reason `text`
/// (`v=analytics1;url=...;tel=...;email=...;id=...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AnalyticsText {
    /// The `v` value as sent, e.g. `analytics1`. Other versions are returned
    /// too; the caller decides what to make of them.
    pub version: String,
    /// The redress `url` (should be https; not validated here, never fetched).
    pub url: Option<String>,
    /// The redress `tel` (should be E.164).
    pub tel: Option<String>,
    /// The redress `email`.
    pub email: Option<String>,
    /// The provider's `id` for the blocked call.
    pub id: Option<String>,
    /// Every other pair, and repeats of the known keys, as sent (key not
    /// lowercased; a piece without `=` has an empty value).
    pub extra: Vec<(String, String)>,
}

/// Parses one Reason header line (possibly several comma-separated values).
///
/// Callers loop over every Reason header line of a message. Quote-aware: `;`
/// and `,` inside `text` do not split; `\"` and `\\` are resolved; an
/// unterminated quoted string at the end of the line takes the rest of the
/// line and sets [`ReasonValue::unterminated`]. LWS around `;`, `=` and `,` is
/// ignored, parameter names are case-insensitive. Empty values are skipped.
#[must_use]
pub fn parse_reason(header_value: &str) -> Vec<ReasonValue> {
    split_top_level(header_value, b',', false)
        .into_iter()
        .filter(|piece| !piece.text.trim().is_empty())
        .map(|piece| parse_reason_value(piece.text, piece.unterminated))
        .collect()
}

fn parse_reason_value(value: &str, unterminated: bool) -> ReasonValue {
    let raw = value.trim();
    let mut pieces = split_top_level(raw, b';', false).into_iter();
    let protocol = pieces
        .next()
        .map(|p| p.text.trim().to_owned())
        .unwrap_or_default();
    let mut out = ReasonValue {
        protocol,
        cause: None,
        text: None,
        location: None,
        params: Vec::new(),
        raw: raw.to_owned(),
        unterminated,
    };
    let mut seen_cause = false;
    for piece in pieces {
        let Some((name, value)) = split_param(piece.text) else {
            continue;
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("cause", Some(v)) if !seen_cause => {
                seen_cause = true;
                let (unquoted, _) = unquote(v);
                out.cause = parse_digits_u32(&unquoted);
                if out.cause.is_none() {
                    out.params.push((name.to_owned(), Some(v.to_owned())));
                }
            }
            ("text", Some(v)) if out.text.is_none() => {
                out.text = Some(unquote(v).0);
            }
            ("location", Some(v)) if out.location.is_none() => {
                let loc = unquote(v).0.trim().to_owned();
                out.location = Some(loc);
            }
            _ => out.params.push((name.to_owned(), value.map(str::to_owned))),
        }
    }
    out
}

/// Parses an ATIS-1000099 Reason `text` such as
/// `v=analytics1;url=https://x.example;tel=+18005550199`.
///
/// Returns `Some` only when the text (after leading whitespace) starts with a
/// `v=analytics...` pair (key and value prefix case-insensitive). The rest is
/// split on `;`, each piece at its first `=`; keys are matched lowercased and
/// whitespace around keys and values is ignored.
#[must_use]
pub fn parse_analytics_text(text: &str) -> Option<AnalyticsText> {
    let mut pieces = text.split(';');
    let (key, version) = pieces.next()?.split_once('=')?;
    let version = version.trim();
    let is_analytics = version
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("analytics"));
    if !key.trim().eq_ignore_ascii_case("v") || !is_analytics {
        return None;
    }
    let mut out = AnalyticsText {
        version: version.to_owned(),
        url: None,
        tel: None,
        email: None,
        id: None,
        extra: Vec::new(),
    };
    for piece in pieces {
        if piece.trim().is_empty() {
            continue;
        }
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let (key, value) = (key.trim(), value.trim());
        let slot = match key.to_ascii_lowercase().as_str() {
            "url" => &mut out.url,
            "tel" => &mut out.tel,
            "email" => &mut out.email,
            "id" => &mut out.id,
            _ => {
                out.extra.push((key.to_owned(), value.to_owned()));
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(value.to_owned());
        } else {
            out.extra.push((key.to_owned(), value.to_owned()));
        }
    }
    Some(out)
}

/// A piece of a header value cut at a top-level separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    /// The piece, untrimmed.
    pub(crate) text: &'a str,
    /// A quoted string was still open when the input ended inside this piece.
    pub(crate) unterminated: bool,
}

/// Splits `s` at every `sep` that is outside a quoted string (and outside
/// `<...>` when `angle` is set). Quoted-pair escapes are honoured inside quotes.
/// Always returns at least one piece (possibly empty).
pub(crate) fn split_top_level(s: &str, sep: u8, angle: bool) -> Vec<Piece<'_>> {
    let bytes = s.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut in_quote, mut in_angle, mut escaped) = (0, false, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quote = false;
            }
        } else if in_angle {
            if b == b'>' {
                in_angle = false;
            }
        } else if b == b'"' {
            in_quote = true;
        } else if angle && b == b'<' {
            in_angle = true;
        } else if b == sep {
            // `sep` is ASCII, so `i` and `i + 1` are char boundaries.
            pieces.push(Piece {
                text: &s[start..i],
                unterminated: false,
            });
            start = i + 1;
        }
    }
    pieces.push(Piece {
        text: &s[start..],
        unterminated: in_quote,
    });
    pieces
}

/// Splits `name[=value]` at the first `=` that comes before any quote.
/// Returns `None` for an empty piece. Name and value are trimmed.
pub(crate) fn split_param(piece: &str) -> Option<(&str, Option<&str>)> {
    let piece = piece.trim();
    if piece.is_empty() {
        return None;
    }
    match piece.find(['=', '"']) {
        Some(i) if piece.as_bytes().get(i) == Some(&b'=') => {
            Some((piece[..i].trim(), Some(piece[i + 1..].trim())))
        }
        _ => Some((piece, None)),
    }
}

/// Removes the quotes of a (trimmed) quoted-string and resolves quoted-pairs.
/// An unquoted input is returned trimmed. Text after the closing quote is
/// dropped. The flag is true when the closing quote is missing.
pub(crate) fn unquote(v: &str) -> (String, bool) {
    let v = v.trim();
    let Some(inner) = v.strip_prefix('"') else {
        return (v.to_owned(), false);
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => return (out, true),
            },
            '"' => return (out, false),
            _ => out.push(c),
        }
    }
    (out, true)
}

/// Parses a non-empty all-ASCII-digit string (leading zeros allowed) as `u32`.
/// `None` on anything else or on overflow.
pub(crate) fn parse_digits_u32(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> ReasonValue {
        let mut v = parse_reason(line);
        assert_eq!(v.len(), 1, "{line}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn canonical_sip_form() {
        let line = r#"SIP;cause=603;text="v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031";location=RLN"#;
        let r = one(line);
        assert_eq!(r.protocol, "SIP");
        assert_eq!(r.cause, Some(603));
        assert_eq!(
            r.text.as_deref(),
            Some(
                "v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031"
            )
        );
        assert_eq!(r.location.as_deref(), Some("RLN"));
        assert!(r.params.is_empty());
        assert_eq!(r.raw, line);
        assert!(!r.unterminated);
        let a = r.analytics().expect("analytics");
        assert_eq!(a.version, "analytics1");
        assert_eq!(
            a.url.as_deref(),
            Some("https://redress.carrier.example/blocked")
        );
        assert_eq!(a.tel.as_deref(), Some("+18005550199"));
        assert_eq!(a.email.as_deref(), Some("redress@carrier.example"));
        assert_eq!(a.id.as_deref(), Some("blk-7Q2M-0031"));
        assert!(a.extra.is_empty());
    }

    #[test]
    fn whitespace_variant_and_case() {
        let r = one(
            r#"  sip ; CAUSE = 603 ;  Text = "v=analytics1;tel=+18005550199" ; Location = RPN  "#,
        );
        assert_eq!(r.protocol, "sip");
        assert!(r.is_protocol("SIP"));
        assert_eq!(r.cause, Some(603));
        assert_eq!(r.text.as_deref(), Some("v=analytics1;tel=+18005550199"));
        assert_eq!(r.location.as_deref(), Some("RPN"));
        assert!(r.params.is_empty());
    }

    #[test]
    fn two_protocols_in_one_header() {
        let v = parse_reason(
            r#"Q.850;cause=21;location=U, SIP;cause=603;text="v=analytics1;email=noc@blocker.example";location=RLN"#,
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].protocol, "Q.850");
        assert_eq!(v[0].cause, Some(21));
        assert_eq!(v[0].text, None);
        assert_eq!(v[0].location.as_deref(), Some("U"));
        assert_eq!(v[0].raw, "Q.850;cause=21;location=U");
        assert_eq!(v[1].protocol, "SIP");
        assert_eq!(v[1].cause, Some(603));
        assert_eq!(
            v[1].text.as_deref(),
            Some("v=analytics1;email=noc@blocker.example")
        );
        assert_eq!(v[1].location.as_deref(), Some("RLN"));
    }

    #[test]
    fn commas_semicolons_and_escapes_inside_text() {
        let r = one(r#"Q.850;cause=16;text="say \"hi\", then; \\ bye";location=LN"#);
        assert_eq!(r.text.as_deref(), Some(r#"say "hi", then; \ bye"#));
        assert_eq!(r.location.as_deref(), Some("LN"));
        assert_eq!(r.cause, Some(16));
    }

    #[test]
    fn truncated_unterminated_quote() {
        let line =
            r#"SIP;cause=603;text="v=analytics1;url=https://redress.carrier.example/blo, x;y"#;
        let r = one(line);
        assert!(r.unterminated);
        assert_eq!(
            r.text.as_deref(),
            Some("v=analytics1;url=https://redress.carrier.example/blo, x;y")
        );
        assert_eq!(r.location, None);
        let a = r.analytics().expect("analytics");
        assert_eq!(
            a.url.as_deref(),
            Some("https://redress.carrier.example/blo, x")
        );
        assert_eq!(a.extra, vec![("y".to_owned(), String::new())]);
    }

    #[test]
    fn trailing_backslash_in_unterminated_quote() {
        let r = one(r#"SIP;cause=603;text="abc\"#);
        assert!(r.unterminated);
        assert_eq!(r.text.as_deref(), Some("abc"));
    }

    #[test]
    fn leading_zeros_overflow_and_garbage_cause() {
        assert_eq!(one("Q.850;cause=0016").cause, Some(16));
        let big = one("Q.850;cause=99999999999999999999");
        assert_eq!(big.cause, None);
        assert_eq!(
            big.params,
            vec![("cause".to_owned(), Some("99999999999999999999".to_owned()))]
        );
        assert_eq!(big.raw, "Q.850;cause=99999999999999999999");
        assert_eq!(one("SIP;cause=+5").cause, None);
        assert_eq!(one("SIP;cause=").cause, None);
        assert_eq!(one("SIP;cause=\"21\"").cause, Some(21));
    }

    #[test]
    fn unknown_params_kept_raw() {
        let r = one(r#"Preemption;cause=1;text="x";foo;bar="b;c""#);
        assert_eq!(r.protocol, "Preemption");
        assert_eq!(
            r.params,
            vec![
                ("foo".to_owned(), None),
                ("bar".to_owned(), Some("\"b;c\"".to_owned()))
            ]
        );
    }

    #[test]
    fn empty_and_odd_inputs_do_not_panic() {
        assert!(parse_reason("").is_empty());
        assert!(parse_reason(" , ,").is_empty());
        let r = one(";cause=1");
        assert_eq!(r.protocol, "");
        assert_eq!(r.cause, Some(1));
        for s in [
            "\"",
            "\\",
            "SIP;=",
            "SIP;\"=\"",
            "é;cause=é",
            "SIP;text=\"\\é",
        ] {
            let _ = parse_reason(s);
        }
    }

    #[test]
    fn analytics_text_rules() {
        assert_eq!(parse_analytics_text("url=https://x"), None);
        assert_eq!(parse_analytics_text("v=1"), None);
        assert_eq!(parse_analytics_text(""), None);
        let a = parse_analytics_text(
            " V = Analytics2 ; URL = https://x.example/a?b=c ; Foo=Bar;tel=+1;tel=+2",
        )
        .expect("some");
        assert_eq!(a.version, "Analytics2");
        assert_eq!(a.url.as_deref(), Some("https://x.example/a?b=c"));
        assert_eq!(a.tel.as_deref(), Some("+1"));
        assert_eq!(
            a.extra,
            vec![
                ("Foo".to_owned(), "Bar".to_owned()),
                ("tel".to_owned(), "+2".to_owned())
            ]
        );
        let bare = parse_analytics_text("v=analytics1").expect("some");
        assert_eq!(bare.version, "analytics1");
        assert_eq!(bare.url, None);
    }

    #[test]
    fn splitter_respects_angles_when_asked() {
        let p = split_top_level("<data:a,b>;purpose=jwscard, <https://x>", b',', true);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "<data:a,b>;purpose=jwscard");
        let p = split_top_level("<data:a,b>", b',', false);
        assert_eq!(p.len(), 2);
    }
}
