//! The SIP `Call-Info` header with `purpose=jwscard` (RFC 8688, 608 Rejected):
//! the redress contacts of the intermediary that rejected the call.
//!
//! Owns `jwscard_contacts`: picks the jwscard entry, decodes an inline
//! `data:` URI (base64 or percent-encoded compact JWS, or bare JSON), takes
//! the JWS payload without verifying it, and extracts the jCard (RFC 7095)
//! contacts. It must never fetch anything: an `https:` URI is returned as-is
//! with empty contacts. Lenient, never panics.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde_json::Value;

use crate::sip::reason::{split_param, split_top_level, unquote};

/// Contacts found in a `purpose=jwscard` Call-Info entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct JCardContacts {
    /// The URI scheme, lowercased: `data`, `https`, or any other scheme.
    pub source: String,
    /// The URI as sent (without the angle brackets).
    pub uri: String,
    /// The jCard `fn` (formatted name).
    #[serde(rename = "fn")]
    pub fn_: Option<String>,
    /// The jCard `org` (structured values joined with `;`).
    pub org: Option<String>,
    /// Every jCard `tel`, `tel:` prefix stripped.
    pub tel: Vec<String>,
    /// Every jCard `email`, `mailto:` prefix stripped.
    pub email: Vec<String>,
    /// Every jCard `url`.
    pub url: Vec<String>,
    /// Always false: ringwatch never verifies the JWS signature.
    pub verified: bool,
}

impl JCardContacts {
    fn empty(source: String, uri: String) -> Self {
        Self {
            source,
            uri,
            fn_: None,
            org: None,
            tel: Vec::new(),
            email: Vec::new(),
            url: Vec::new(),
            verified: false,
        }
    }

    /// Whether any contact field was found.
    #[must_use]
    pub fn has_contacts(&self) -> bool {
        self.fn_.is_some()
            || self.org.is_some()
            || !self.tel.is_empty()
            || !self.email.is_empty()
            || !self.url.is_empty()
    }
}

/// Finds the `purpose=jwscard` entry among Call-Info values and extracts its
/// contacts.
///
/// Accepts whole header lines or already split values: each element is split
/// again at commas outside `<...>` and quotes. Among several jwscard entries
/// the first `data:` one that yields contacts wins, else the first entry.
/// `None` when there is no jwscard entry. A `data:` URI that cannot be decoded
/// gives `Some` with empty contacts.
#[must_use]
pub fn jwscard_contacts(call_info_values: &[&str]) -> Option<JCardContacts> {
    let mut first = None;
    for line in call_info_values {
        for piece in split_top_level(line, b',', true) {
            let Some(uri) = jwscard_uri(piece.text) else {
                continue;
            };
            let contacts = contacts_for(uri);
            if contacts.source == "data" && contacts.has_contacts() {
                return Some(contacts);
            }
            first.get_or_insert(contacts);
        }
    }
    first
}

/// The URI of one Call-Info value when it has `purpose=jwscard`.
fn jwscard_uri(value: &str) -> Option<&str> {
    let value = value.trim();
    let (uri, params) = if let Some(rest) = value.strip_prefix('<') {
        match rest.find('>') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        }
    } else {
        value.split_once(';').map_or((value, ""), |(u, p)| (u, p))
    };
    let is_jwscard = split_top_level(params, b';', false)
        .into_iter()
        .filter_map(|p| split_param(p.text))
        .any(|(name, val)| {
            name.eq_ignore_ascii_case("purpose")
                && val.is_some_and(|v| unquote(v).0.trim().eq_ignore_ascii_case("jwscard"))
        });
    is_jwscard.then_some(uri.trim())
}

fn contacts_for(uri: &str) -> JCardContacts {
    let scheme = uri
        .split_once(':')
        .map(|(s, _)| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut out = JCardContacts::empty(scheme, uri.to_owned());
    if out.source != "data" {
        // Never fetch: https (or anything else) is recorded as-is.
        return out;
    }
    if let Some(card) = decode_data_uri(uri).as_ref().and_then(|v| find_vcard(v, 0)) {
        fill_contacts(&mut out, card);
    }
    out
}

/// Decodes `data:[<mediatype>][;base64],<data>` into the JSON it carries
/// (a compact JWS payload, or bare JSON).
fn decode_data_uri(uri: &str) -> Option<Value> {
    let (_, rest) = uri.split_once(':')?;
    let (meta, data) = rest.split_once(',')?;
    let data = percent_decode(data);
    let is_base64 = meta
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("base64"));
    is_base64
        .then(|| b64_decode(&data))
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| decode_jws_or_json(&text))
        .or_else(|| decode_jws_or_json(&data))
}

/// JSON text as-is, or the payload of a compact JWS `header.payload.sig`.
fn decode_jws_or_json(text: &str) -> Option<Value> {
    let text = text.trim();
    if text.starts_with('[') || text.starts_with('{') {
        return serde_json::from_str(text).ok();
    }
    let mut parts = text.split('.');
    let first = parts.next()?;
    let payload = parts.next().unwrap_or(first);
    serde_json::from_slice(&b64_decode(payload)?).ok()
}

/// Decodes base64 or base64url, padded or not, ignoring whitespace.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let normalized: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    LENIENT.decode(normalized.trim_end_matches('=')).ok()
}

/// Percent-decodes `s`; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|&h| (h as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                // hi and lo are < 16, so the value fits in a byte.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The property list of a jCard: `["vcard", [props...]]`, possibly wrapped in
/// an object (`{"jcard": [...]}` or any member holding one).
fn find_vcard(v: &Value, depth: u8) -> Option<&Vec<Value>> {
    if depth > 3 {
        return None;
    }
    match v {
        Value::Array(items) => {
            let is_vcard = items
                .first()
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("vcard"));
            if is_vcard {
                items.get(1).and_then(Value::as_array)
            } else {
                None
            }
        }
        Value::Object(map) => {
            let preferred = map
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("jcard"))
                .map(|(_, v)| v);
            let others = map
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("jcard"))
                .map(|(_, v)| v);
            preferred
                .chain(others)
                .find_map(|v| find_vcard(v, depth + 1))
        }
        _ => None,
    }
}

fn fill_contacts(out: &mut JCardContacts, props: &[Value]) {
    for prop in props {
        let Some(prop) = prop.as_array() else {
            continue;
        };
        let Some(name) = prop.first().and_then(Value::as_str) else {
            continue;
        };
        let Some(value) = prop.get(3).and_then(text_of) else {
            continue;
        };
        match name.to_ascii_lowercase().as_str() {
            "fn" if out.fn_.is_none() => out.fn_ = Some(value),
            "org" if out.org.is_none() => out.org = Some(value),
            "tel" => out.tel.push(strip_prefix_ci(&value, "tel:").to_owned()),
            "email" => out
                .email
                .push(strip_prefix_ci(&value, "mailto:").to_owned()),
            "url" => out.url.push(value),
            _ => {}
        }
    }
}

/// A jCard value as text: a string, or a structured value joined with `;`.
fn text_of(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(";"),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> &'a str {
    match s.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &s[prefix.len()..],
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

    use super::*;

    /// The jCard of sip-signals.md §2.
    const JCARD: &str = r#"["vcard",[["version",{},"text","4.0"],["fn",{},"text","Example Analytics Redress Desk"],["tel",{"type":["work","voice"]},"uri","tel:+1-800-555-0199"],["email",{},"text","redress@blocker.example"],["url",{},"uri","https://blocker.example/redress"]]]"#;
    const JWS_HEADER: &str =
        r#"{"alg":"ES256","typ":"JWT","x5u":"https://certs.blocker.example/ca.pem"}"#;

    fn jws(payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(JWS_HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    fn expected(uri: &str) -> JCardContacts {
        JCardContacts {
            source: "data".to_owned(),
            uri: uri.to_owned(),
            fn_: Some("Example Analytics Redress Desk".to_owned()),
            org: None,
            tel: vec!["+1-800-555-0199".to_owned()],
            email: vec!["redress@blocker.example".to_owned()],
            url: vec!["https://blocker.example/redress".to_owned()],
            verified: false,
        }
    }

    #[test]
    fn data_uri_with_raw_compact_jws() {
        let uri = format!("data:application/jose,{}", jws(JCARD));
        let line = format!("<{uri}>;purpose=jwscard");
        assert_eq!(jwscard_contacts(&[&line]), Some(expected(&uri)));
    }

    #[test]
    fn data_uri_base64_of_compact_jws() {
        let uri = format!(
            "data:application/jose;base64,{}",
            STANDARD.encode(jws(JCARD))
        );
        let line = format!("<{uri}> ; Purpose = \"JWSCard\"");
        assert_eq!(jwscard_contacts(&[&line]), Some(expected(&uri)));
    }

    #[test]
    fn data_uri_base64_label_but_raw_jws_and_padded_payload() {
        let token = format!(
            "{}.{}.sig",
            URL_SAFE.encode(JWS_HEADER),
            URL_SAFE.encode(JCARD)
        );
        let uri = format!("data:application/jose;base64,{token}");
        let line = format!("<{uri}>;purpose=jwscard");
        assert_eq!(jwscard_contacts(&[&line]), Some(expected(&uri)));
    }

    #[test]
    fn data_uri_percent_encoded_and_wrapped_object() {
        let wrapped = format!(r#"{{"jcard":{JCARD}}}"#);
        let token = jws(&wrapped).replace('.', "%2E");
        let uri = format!("data:application/jose,{token}");
        let line = format!("<{uri}>;purpose=jwscard");
        assert_eq!(jwscard_contacts(&[&line]), Some(expected(&uri)));
    }

    #[test]
    fn org_structured_and_mailto() {
        let card = r#"["vcard",[["org",{},"text",["ABC, Inc.","Redress"]],["email",{},"uri","MAILTO:a@b.example"],["tel",{},"uri","TEL:+18005550100"],["tel",{},"uri","+18005550101"]]]"#;
        let uri = format!("data:application/jose,{}", jws(card));
        let line = format!("<http://info.example/x>;purpose=info, <{uri}>;purpose=jwscard");
        let got = jwscard_contacts(&[&line]).expect("contacts");
        assert_eq!(got.org.as_deref(), Some("ABC, Inc.;Redress"));
        assert_eq!(got.email, vec!["a@b.example"]);
        assert_eq!(got.tel, vec!["+18005550100", "+18005550101"]);
        assert_eq!(got.fn_, None);
    }

    #[test]
    fn https_is_never_fetched() {
        let got =
            jwscard_contacts(&["<https://blocker.example/redress/jws/9f2c1e>;purpose=jwscard"]);
        let mut want = JCardContacts::empty(
            "https".to_owned(),
            "https://blocker.example/redress/jws/9f2c1e".to_owned(),
        );
        assert_eq!(got, Some(want.clone()));
        want.verified = true;
        assert_ne!(got, Some(want));
    }

    #[test]
    fn data_preferred_over_earlier_https() {
        let uri = format!("data:application/jose,{}", jws(JCARD));
        let data_line = format!("<{uri}>;purpose=jwscard");
        let got = jwscard_contacts(&["<https://x.example/a>;purpose=jwscard", &data_line]);
        assert_eq!(got, Some(expected(&uri)));
    }

    #[test]
    fn no_jwscard_and_malformed() {
        assert_eq!(jwscard_contacts(&[]), None);
        assert_eq!(
            jwscard_contacts(&["<https://x.example>;purpose=info"]),
            None
        );
        assert_eq!(jwscard_contacts(&["<https://x.example>"]), None);
        let got =
            jwscard_contacts(&["<data:application/jose,%%%.@@@.x>;purpose=jwscard"]).expect("some");
        assert_eq!(got.source, "data");
        assert!(!got.has_contacts());
        let got = jwscard_contacts(&["<data:nocomma>;purpose=jwscard"]).expect("some");
        assert!(!got.has_contacts());
        for s in [
            "<",
            "<>;purpose",
            ";purpose=jwscard",
            "<data:,>;purpose=jwscard",
            "\"<x>\";purpose=jwscard",
            "<data:;base64,é>;purpose=jwscard",
        ] {
            let _ = jwscard_contacts(&[s]);
        }
        let deep = r#"{"a":{"b":{"c":{"d":{"e":["vcard",[["fn",{},"text","x"]]]}}}}}"#;
        let line = format!("<data:application/json,{deep}>;purpose=jwscard");
        assert!(!jwscard_contacts(&[&line]).expect("some").has_contacts());
    }

    #[test]
    fn bare_json_data_uri() {
        let line = format!("<data:application/json,{JCARD}>;purpose=jwscard");
        let got = jwscard_contacts(&[&line]).expect("some");
        assert_eq!(got.fn_.as_deref(), Some("Example Analytics Redress Desk"));
    }
}
