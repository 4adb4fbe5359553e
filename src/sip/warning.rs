//! The SIP `Warning` header (RFC 3261 §20.43):
//! `warn-code SP warn-agent SP warn-text`.
//!
//! Owns `parse_warning` (one value) and `parse_warnings` (one header line,
//! quote-aware comma split). Lenient: an out-of-range code (RFC 4475
//! `scalarlg` sends `1812`) keeps the raw value with `code: None`. Never panics.

use serde::Serialize;

use crate::sip::reason::{split_top_level, unquote};

/// One warning-value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Warning {
    /// The three-digit warn-code; `None` when it is not exactly three digits.
    pub code: Option<u16>,
    /// The warn-agent (`host[:port]` or a pseudonym), as sent.
    pub agent: String,
    /// The warn-text, unquoted with escapes resolved.
    pub text: String,
    /// The whole value as sent, trimmed.
    pub raw: String,
}

/// Parses one warning-value, e.g. `399 carrier.example "Number blocked"`.
/// `None` only for an empty value.
#[must_use]
pub fn parse_warning(value: &str) -> Option<Warning> {
    let raw = value.trim();
    if raw.is_empty() {
        return None;
    }
    let (code_tok, rest) = split_token(raw);
    let (agent, rest) = split_token(rest);
    let code = (code_tok.len() == 3 && code_tok.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code_tok.parse().ok())
        .flatten();
    Some(Warning {
        code,
        agent: agent.to_owned(),
        text: unquote(rest).0,
        raw: raw.to_owned(),
    })
}

/// Parses one Warning header line, which may hold several comma-separated
/// values (commas inside the quoted warn-text do not split).
#[must_use]
pub fn parse_warnings(header_value: &str) -> Vec<Warning> {
    split_top_level(header_value, b',', false)
        .into_iter()
        .filter_map(|piece| parse_warning(piece.text))
        .collect()
}

/// Splits off the first whitespace-delimited token; the rest is trimmed.
fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(code: Option<u16>, agent: &str, text: &str, raw: &str) -> Warning {
        Warning {
            code,
            agent: agent.to_owned(),
            text: text.to_owned(),
            raw: raw.to_owned(),
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<Warning>)] = &[
            (
                "1812 overture \"In Progress\"",
                Some(w(
                    None,
                    "overture",
                    "In Progress",
                    "1812 overture \"In Progress\"",
                )),
            ),
            (
                " 399  carrier.example:5060   \"Blocked, see \\\"url\\\"\" ",
                Some(w(
                    Some(399),
                    "carrier.example:5060",
                    "Blocked, see \"url\"",
                    "399  carrier.example:5060   \"Blocked, see \\\"url\\\"\"",
                )),
            ),
            (
                "307 isi.edu",
                Some(w(Some(307), "isi.edu", "", "307 isi.edu")),
            ),
            ("307", Some(w(Some(307), "", "", "307"))),
            ("abc host \"t", Some(w(None, "host", "t", "abc host \"t"))),
            ("", None),
            ("   ", None),
        ];
        for (input, want) in cases {
            assert_eq!(&parse_warning(input), want, "input {input:?}");
        }
    }

    #[test]
    fn several_values_in_one_line() {
        let v = parse_warnings(
            "307 isi.edu \"Session parameter 'foo' not understood\", 301 isi.edu \"Incompatible, network\"",
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].code, Some(307));
        assert_eq!(v[0].text, "Session parameter 'foo' not understood");
        assert_eq!(v[1].code, Some(301));
        assert_eq!(v[1].text, "Incompatible, network");
    }
}
