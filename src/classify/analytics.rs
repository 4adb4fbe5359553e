//! The `analytics` object of a probe record: the redress data of a network
//! block (ATIS-1000099 603+, phrase-only 603 Network Blocked, or RFC 8688 608
//! with a jwscard Call-Info).
//!
//! Owns `Analytics`, `Standard`, their construction from parsed headers and
//! the "validate, do not reject" checks of sip-signals §1.6 (they only add
//! anomaly strings). Never follows a URL it carries.

use serde::{Deserialize, Serialize};

use crate::sip::call_info::JCardContacts;
use crate::sip::reason::{AnalyticsText, ReasonValue};

/// Which standard the analytics data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Standard {
    /// 603 with a Reason whose text starts with `v=analytics`.
    #[serde(rename = "ATIS-1000099")]
    Atis1000099,
    /// `603 Network Blocked` with the Reason missing or mangled.
    #[serde(rename = "phrase-only")]
    PhraseOnly,
    /// 608 Rejected with a `purpose=jwscard` Call-Info.
    #[serde(rename = "RFC8688")]
    Rfc8688,
}

impl Standard {
    /// The stable name (the same string serde produces).
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Standard::Atis1000099 => "ATIS-1000099",
            Standard::PhraseOnly => "phrase-only",
            Standard::Rfc8688 => "RFC8688",
        }
    }
}

/// Redress data of a network block. Attacker-controllable text from an
/// untrusted network: store and show it, never fetch it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analytics {
    /// Where the data came from.
    pub standard: Standard,
    /// Redress URL (ATIS `url`, or the first jCard `url`).
    pub url: Option<String>,
    /// Redress telephone number (ATIS `tel`, or the first jCard `tel`).
    pub tel: Option<String>,
    /// Redress e-mail (ATIS `email`, or the first jCard `email`).
    pub email: Option<String>,
    /// The blocking provider's identifier for the call (ATIS `id`).
    pub id: Option<String>,
    /// RFC 8606 `location` of the ATIS Reason value (`RLN`, `TN`, `LN`, ...).
    pub location: Option<String>,
    /// The status-line reason phrase as sent (`Network Blocked`, `Decline`, ...).
    pub phrase: String,
    /// The ATIS `v` value, e.g. `analytics1`.
    pub version: Option<String>,
    /// ATIS pairs other than v/url/tel/email/id, as sent.
    pub extra: Vec<(String, String)>,
    /// The RFC 8688 jCard contacts (608 only).
    pub contacts: Option<JCardContacts>,
    /// The ATIS Reason was cut off (unterminated quote): values may be partial.
    pub truncated: bool,
}

impl Analytics {
    /// From an ATIS Reason value and its parsed text. Pushes validation
    /// anomalies (nothing is rejected).
    pub(crate) fn atis(
        reason: &ReasonValue,
        text: AnalyticsText,
        phrase: &str,
        anomalies: &mut Vec<String>,
    ) -> Self {
        validate_atis(reason, &text, anomalies);
        Analytics {
            standard: Standard::Atis1000099,
            url: text.url,
            tel: text.tel,
            email: text.email,
            id: text.id,
            location: reason.location.clone(),
            phrase: phrase.to_owned(),
            version: Some(text.version),
            extra: text.extra,
            contacts: None,
            truncated: reason.unterminated,
        }
    }

    /// `603 Network Blocked` without an ATIS Reason.
    pub(crate) fn phrase_only(phrase: &str) -> Self {
        Analytics {
            standard: Standard::PhraseOnly,
            url: None,
            tel: None,
            email: None,
            id: None,
            location: None,
            phrase: phrase.to_owned(),
            version: None,
            extra: Vec::new(),
            contacts: None,
            truncated: false,
        }
    }

    /// 608 with a jwscard Call-Info; url/tel/email are the first of each.
    pub(crate) fn rfc8688(contacts: JCardContacts, phrase: &str) -> Self {
        Analytics {
            standard: Standard::Rfc8688,
            url: contacts.url.first().cloned(),
            tel: contacts.tel.first().cloned(),
            email: contacts.email.first().cloned(),
            id: None,
            location: None,
            phrase: phrase.to_owned(),
            version: None,
            extra: Vec::new(),
            contacts: Some(contacts),
            truncated: false,
        }
    }
}

/// RFC 8606 location tokens we know; `LOC` and `LOC-n` are accepted too.
const KNOWN_LOCATIONS: [&str; 9] = ["U", "LPN", "LN", "TN", "RLN", "RPN", "LOC", "INTL", "BI"];

fn validate_atis(reason: &ReasonValue, text: &AnalyticsText, anomalies: &mut Vec<String>) {
    if !text.version.eq_ignore_ascii_case("analytics1") {
        anomalies.push(format!("atis_unknown_version: {}", text.version));
    }
    if text.url.is_none() && text.tel.is_none() && text.email.is_none() {
        anomalies.push("atis_no_contact: none of url, tel, email".to_owned());
    }
    if let Some(url) = &text.url {
        let https = url
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"));
        if !https {
            anomalies.push(format!("atis_url_not_https: {url}"));
        }
    }
    if let Some(tel) = text.tel.as_ref().filter(|t| !is_e164_ish(t)) {
        anomalies.push(format!("atis_tel_not_e164: {tel}"));
    }
    if let Some(email) = &text.email {
        let ok = email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
        if !ok {
            anomalies.push(format!("atis_email_invalid: {email}"));
        }
    }
    if let Some(id) = &text.id {
        let ok = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            anomalies.push(format!("atis_id_invalid: {id}"));
        }
    }
    if let Some(loc) = &reason.location {
        let known = KNOWN_LOCATIONS.iter().any(|k| k.eq_ignore_ascii_case(loc))
            || loc.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("LOC-"));
        if !known {
            anomalies.push(format!("atis_location_unknown: {loc}"));
        }
    }
}

/// `+` then 1 to 15 digits; visual separators (`-`, `.`, space, parentheses)
/// tolerated.
fn is_e164_ish(tel: &str) -> bool {
    let Some(rest) = tel.trim().strip_prefix('+') else {
        return false;
    };
    let digits = rest.bytes().filter(u8::is_ascii_digit).count();
    (1..=15).contains(&digits)
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b' ' | b'(' | b')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names() {
        for (s, name) in [
            (Standard::Atis1000099, "ATIS-1000099"),
            (Standard::PhraseOnly, "phrase-only"),
            (Standard::Rfc8688, "RFC8688"),
        ] {
            assert_eq!(s.as_str(), name);
            assert_eq!(
                serde_json::to_string(&s).expect("json"),
                format!("\"{name}\"")
            );
        }
    }

    #[test]
    fn e164_ish() {
        assert!(is_e164_ish("+18005550199"));
        assert!(is_e164_ish("+1-800-555-0199"));
        assert!(is_e164_ish("+1 (800) 555.0199"));
        assert!(!is_e164_ish("18005550199"));
        assert!(!is_e164_ish("+"));
        assert!(!is_e164_ish("+1234567890123456"));
        assert!(!is_e164_ish("+1800CALLNOW"));
    }
}
