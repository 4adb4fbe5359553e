//! The SIP `Retry-After` header (RFC 3261 §20.33):
//! `delta-seconds [ comment ] *( SEMI retry-param )`.
//!
//! Owns `parse_retry_after`. Values are clamped to [`MAX_RETRY_AFTER_S`] so an
//! overlarge scalar (RFC 4475 `scalarlg`) can neither overflow nor park a
//! route for years. Lenient, never panics; it does not decide back-off policy.

use serde::Serialize;

/// The largest Retry-After we honour, in seconds (one day).
pub const MAX_RETRY_AFTER_S: u64 = 86_400;

/// A parsed Retry-After value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryAfter {
    /// Seconds to wait, clamped to [`MAX_RETRY_AFTER_S`].
    pub seconds: u64,
    /// The value as sent was larger than [`MAX_RETRY_AFTER_S`].
    pub clamped: bool,
    /// The `duration` parameter, in seconds (saturating at `u64::MAX`).
    pub duration: Option<u64>,
    /// The comment, without its parentheses, e.g. `maintenance`.
    pub comment: Option<String>,
}

/// Parses a Retry-After value such as `120`, `18000;duration=3600` or
/// `300 (maintenance)`. `None` when the value does not start with digits.
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<RetryAfter> {
    let value = value.trim();
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    if digits_end == 0 {
        return None;
    }
    let raw_seconds = saturating_digits(&value[..digits_end]);
    let mut rest = value[digits_end..].trim_start();

    let mut comment = None;
    if let Some(after_paren) = rest.strip_prefix('(') {
        let (text, consumed) = read_comment(after_paren);
        comment = Some(text.trim().to_owned());
        rest = after_paren.get(consumed..).unwrap_or("");
    }

    let mut duration = None;
    for param in rest.split(';').skip(1) {
        let (name, val) = param.split_once('=').unwrap_or((param, ""));
        if duration.is_none() && name.trim().eq_ignore_ascii_case("duration") {
            let val = val.trim();
            let end = val.find(|c: char| !c.is_ascii_digit()).unwrap_or(val.len());
            if end > 0 {
                duration = Some(saturating_digits(&val[..end]));
            }
        }
    }

    Some(RetryAfter {
        seconds: raw_seconds.min(MAX_RETRY_AFTER_S),
        clamped: raw_seconds > MAX_RETRY_AFTER_S,
        duration,
        comment,
    })
}

/// Parses ASCII digits, saturating at `u64::MAX`.
fn saturating_digits(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// Reads a comment body after its opening `(`: nested parentheses and
/// quoted-pairs are honoured. Returns the text and the number of bytes
/// consumed including the closing `)` (the whole input when unterminated).
fn read_comment(s: &str) -> (String, usize) {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            '(' => {
                depth += 1;
                out.push(c);
            }
            ')' if depth == 0 => return (out, i + 1),
            ')' => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    (out, s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ra(seconds: u64, clamped: bool, duration: Option<u64>, comment: Option<&str>) -> RetryAfter {
        RetryAfter {
            seconds,
            clamped,
            duration,
            comment: comment.map(str::to_owned),
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<RetryAfter>)] = &[
            ("120", Some(ra(120, false, None, None))),
            (" 120 ", Some(ra(120, false, None, None))),
            ("0120", Some(ra(120, false, None, None))),
            (
                "18000;duration=3600",
                Some(ra(18000, false, Some(3600), None)),
            ),
            (
                "18000 ; DURATION = 3600 ",
                Some(ra(18000, false, Some(3600), None)),
            ),
            (
                "300 (maintenance)",
                Some(ra(300, false, None, Some("maintenance"))),
            ),
            (
                "300 (back (soon) \\) ok);duration=60;foo=bar",
                Some(ra(300, false, Some(60), Some("back (soon) ) ok"))),
            ),
            (
                "300 (unterminated",
                Some(ra(300, false, None, Some("unterminated"))),
            ),
            ("86400", Some(ra(86_400, false, None, None))),
            ("86401", Some(ra(86_400, true, None, None))),
            (
                "949302838503028349304023988",
                Some(ra(86_400, true, None, None)),
            ),
            (
                "5;duration=99999999999999999999999",
                Some(ra(5, false, Some(u64::MAX), None)),
            ),
            ("5;duration=abc", Some(ra(5, false, None, None))),
            ("", None),
            ("abc", None),
            ("-5", None),
            ("(x) 5", None),
        ];
        for (input, want) in cases {
            assert_eq!(&parse_retry_after(input), want, "input {input:?}");
        }
    }
}
