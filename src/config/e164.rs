//! E.164 telephone numbers in canonical form (`+` and 1 to 15 digits).
//!
//! Owns parsing and validation of phone numbers typed by people (config
//! file, `--from`/`--to` flags). Visual separators are tolerated on input
//! and dropped; the stored form is always `+` followed by digits, which is
//! what goes into SIP URIs and the history store. See
//! `domain/sip-signals.md` section 8. This module knows nothing about SIP.

use std::fmt;
use std::str::FromStr;

/// Most digits an E.164 number may have (ITU-T E.164), country code included.
pub const MAX_DIGITS: usize = 15;

/// A validated international telephone number in canonical E.164 form,
/// e.g. `+12025550143`.
///
/// Invariant: `+` followed by 1 to 15 ASCII digits, the first not `0`; when
/// the country code is 1 (NANP), exactly 10 digits follow and the area code
/// (NPA) and exchange (NXX) each start with 2-9.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// Parse and canonicalise a number such as `+1 (202) 555-0143`.
    ///
    /// The separators `-`, `.`, space, `(` and `)` are ignored; anything
    /// else that is not a digit or the leading `+` is an error.
    pub fn parse(s: &str) -> Result<E164, E164Error> {
        let fail = |kind| Err(E164Error::new(s, kind));
        let lower = s.trim_start().to_ascii_lowercase();
        if ["tel:", "sip:", "sips:"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            return fail(E164ErrorKind::Uri);
        }
        let mut seen_plus = false;
        let mut digits = String::with_capacity(MAX_DIGITS);
        for c in s.chars() {
            match c {
                '-' | '.' | ' ' | '(' | ')' => {}
                '+' if !seen_plus && digits.is_empty() => seen_plus = true,
                '+' => return fail(E164ErrorKind::MisplacedPlus),
                '0'..='9' if seen_plus => digits.push(c),
                '0'..='9' => return fail(E164ErrorKind::MissingPlus(missing_plus_hint(s))),
                other => return fail(E164ErrorKind::UnexpectedChar(other)),
            }
        }
        if !seen_plus {
            return fail(E164ErrorKind::Empty);
        }
        let n = digits.len();
        if n == 0 {
            return fail(E164ErrorKind::NoDigits);
        }
        if n > MAX_DIGITS {
            return fail(E164ErrorKind::TooLong(n));
        }
        let b = digits.as_bytes();
        if b[0] == b'0' {
            return fail(E164ErrorKind::CountryCodeZero);
        }
        if b[0] == b'1' {
            if n != 11 {
                return fail(E164ErrorKind::NanpLength(n - 1));
            }
            if matches!(b[1], b'0' | b'1') {
                return fail(E164ErrorKind::NanpAreaCode(digits[1..4].to_owned()));
            }
            if matches!(b[4], b'0' | b'1') {
                return fail(E164ErrorKind::NanpExchange(digits[4..7].to_owned()));
            }
        }
        Ok(E164(format!("+{digits}")))
    }

    /// The canonical form, `+` and digits: `+12025550143`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the leading `+`: `12025550143`.
    pub fn digits(&self) -> &str {
        // The invariant guarantees a leading ASCII '+'.
        self.0.get(1..).unwrap_or_default()
    }
}

/// For input made only of digits and separators, the E.164 form the user
/// most likely meant (NANP only: `12025550143` or `2025550143`).
fn missing_plus_hint(s: &str) -> Option<String> {
    let mut digits = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '-' | '.' | ' ' | '(' | ')' => {}
            _ => return None,
        }
    }
    let candidate = match digits.len() {
        11 if digits.starts_with('1') => format!("+{digits}"),
        10 => format!("+1{digits}"),
        _ => return None,
    };
    E164::parse(&candidate).ok().map(|e| e.0)
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for E164 {
    type Err = E164Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::parse(s)
    }
}

impl AsRef<str> for E164 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for E164 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for E164 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        E164::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a string is not an E.164 number. `Display` is one line:
/// `+1202555014: NANP numbers have 10 digits after +1, got 9`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct E164Error {
    input: String,
    kind: E164ErrorKind,
}

impl E164Error {
    fn new(input: &str, kind: E164ErrorKind) -> Self {
        E164Error {
            input: input.to_owned(),
            kind,
        }
    }

    /// What exactly is wrong.
    pub fn kind(&self) -> &E164ErrorKind {
        &self.kind
    }

    /// The text that failed to parse, as given.
    pub fn input(&self) -> &str {
        &self.input
    }

    fn render(&self) -> String {
        if self.kind == E164ErrorKind::Empty && self.input.trim().is_empty() {
            return "empty phone number".to_owned();
        }
        format!("{}: {}", shown(&self.input), self.kind)
    }
}

/// The input as it may appear in a one-line message: control characters
/// escaped, long input shortened.
fn shown(input: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::new();
    for (i, c) in input.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The kinds of [`E164Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum E164ErrorKind {
    /// Nothing but whitespace or separators.
    #[error("empty phone number")]
    Empty,
    /// A `tel:` or `sip:` URI instead of a bare number.
    #[error("write the bare number (e.g. +12025550143), not a tel: or sip: URI")]
    Uri,
    /// Digits without the leading `+`; carries the likely intended number.
    #[error("E.164 numbers start with '+' and the country code{}", match .0 {
        Some(s) => format!(" (did you mean {s}?)"),
        None => " (e.g. +12025550143)".to_owned(),
    })]
    MissingPlus(Option<String>),
    /// A second `+`, or a `+` after digits.
    #[error("'+' may appear only once, at the start")]
    MisplacedPlus,
    /// A character that is neither a digit, the `+` nor a separator.
    #[error(
        "unexpected character {0:?}; only digits, a leading '+' and the separators - . ( ) and space are allowed"
    )]
    UnexpectedChar(char),
    /// A `+` with no digits after it.
    #[error("no digits after '+'")]
    NoDigits,
    /// More than 15 digits.
    #[error("E.164 numbers have at most 15 digits, got {0}")]
    TooLong(usize),
    /// Country codes never start with 0.
    #[error("country codes never start with 0")]
    CountryCodeZero,
    /// Country code 1 (NANP) with other than 10 digits after it.
    #[error("NANP numbers have 10 digits after +1, got {0}")]
    NanpLength(usize),
    /// NANP area code (NPA) starting with 0 or 1.
    #[error("NANP area code {0} must start with 2-9")]
    NanpAreaCode(String),
    /// NANP exchange code (NXX) starting with 0 or 1.
    #[error("NANP exchange code {0} must start with 2-9")]
    NanpExchange(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_are_canonicalised() {
        let cases = [
            ("+12025550143", "+12025550143"),
            ("+1 202 555 0143", "+12025550143"),
            ("+1-202-555-0143", "+12025550143"),
            ("+1 (202) 555-0143", "+12025550143"),
            ("+1.202.555.0143", "+12025550143"),
            ("  +12025550143  ", "+12025550143"),
            ("+442079460018", "+442079460018"),
            ("+49 30 901820", "+4930901820"),
            ("+353 1 234 5678", "+35312345678"),
            ("+4", "+4"),
            ("+723456789012345", "+723456789012345"),
            ("+999999999999999", "+999999999999999"),
            ("+19995550100", "+19995550100"),
        ];
        for (input, want) in cases {
            let n = E164::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(n.as_str(), want, "{input}");
            assert_eq!(n.digits(), &want[1..], "{input}");
            assert_eq!(n.to_string(), want);
            assert_eq!(input.parse::<E164>().as_ref(), Ok(&n));
        }
    }

    #[test]
    fn invalid_numbers_say_what_is_wrong() {
        use E164ErrorKind as K;
        let cases: &[(&str, E164ErrorKind, &str)] = &[
            ("", K::Empty, "empty phone number"),
            ("  ", K::Empty, "empty phone number"),
            ("-()", K::Empty, "-(): empty phone number"),
            ("+", K::NoDigits, "+: no digits after '+'"),
            (
                "12025550143",
                K::MissingPlus(Some("+12025550143".into())),
                "12025550143: E.164 numbers start with '+' and the country code (did you mean +12025550143?)",
            ),
            (
                "(202) 555-0143",
                K::MissingPlus(Some("+12025550143".into())),
                "(202) 555-0143: E.164 numbers start with '+' and the country code (did you mean +12025550143?)",
            ),
            (
                "442079460018",
                K::MissingPlus(None),
                "442079460018: E.164 numbers start with '+' and the country code (e.g. +12025550143)",
            ),
            (
                "+1202555014",
                K::NanpLength(9),
                "+1202555014: NANP numbers have 10 digits after +1, got 9",
            ),
            (
                "+120255501433",
                K::NanpLength(11),
                "+120255501433: NANP numbers have 10 digits after +1, got 11",
            ),
            (
                "+11025550143",
                K::NanpAreaCode("102".into()),
                "+11025550143: NANP area code 102 must start with 2-9",
            ),
            (
                "+12021550143",
                K::NanpExchange("155".into()),
                "+12021550143: NANP exchange code 155 must start with 2-9",
            ),
            (
                "+12020550143",
                K::NanpExchange("055".into()),
                "+12020550143: NANP exchange code 055 must start with 2-9",
            ),
            (
                "+0441234567",
                K::CountryCodeZero,
                "+0441234567: country codes never start with 0",
            ),
            (
                "+1234567890123456",
                K::TooLong(16),
                "+1234567890123456: E.164 numbers have at most 15 digits, got 16",
            ),
            (
                "+1202+5550143",
                K::MisplacedPlus,
                "+1202+5550143: '+' may appear only once, at the start",
            ),
            (
                "++12025550143",
                K::MisplacedPlus,
                "++12025550143: '+' may appear only once, at the start",
            ),
            ("+1202555014x", K::UnexpectedChar('x'), ""),
            ("+1202\t5550143", K::UnexpectedChar('\t'), ""),
            ("+1/202/5550143", K::UnexpectedChar('/'), ""),
            ("tel:+12025550143", K::Uri, ""),
            ("SIP:+12025550143@x", K::Uri, ""),
            ("+١٢٣", K::UnexpectedChar('١'), ""),
        ];
        for (input, kind, msg) in cases {
            let err = E164::parse(input).expect_err(input);
            assert_eq!(err.kind(), kind, "{input}");
            if !msg.is_empty() {
                assert_eq!(err.to_string(), *msg, "{input}");
            }
            assert!(!err.to_string().contains('\n'), "{input}");
        }
    }

    #[test]
    fn error_display_is_one_line_and_bounded() {
        let long = format!("+1\n{}", "9".repeat(10_000));
        let msg = E164::parse(&long).expect_err("bad").to_string();
        assert!(!msg.contains('\n'));
        assert!(msg.len() < 200, "{msg}");
        let many = "1".repeat(100_000);
        assert!(E164::parse(&format!("+{many}")).is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct W {
            n: E164,
        }
        let w: W = toml::from_str("n = \"+1 202 555 0143\"").expect("valid");
        assert_eq!(w.n.as_str(), "+12025550143");
        assert_eq!(
            toml::to_string(&w).expect("serialize"),
            "n = \"+12025550143\"\n"
        );
        assert!(toml::from_str::<W>("n = \"+1202555014\"").is_err());
    }

    #[test]
    fn ordering_and_hash_follow_the_canonical_string() {
        let a = E164::parse("+1 202 555 0143").expect("valid");
        let b = E164::parse("+12025550143").expect("valid");
        assert_eq!(a, b);
        let c = E164::parse("+12025550144").expect("valid");
        assert!(a < c);
    }
}
