//! Small quote-aware helpers for SIP header values: splitting a value list on
//! top-level commas, reading one header parameter, and taking the URI out of a
//! name-addr or addr-spec.
//!
//! These work on `&str` slices and never allocate a new string: a quoted
//! parameter value comes back without its surrounding quotes but with any
//! `\"` escapes left as sent. They never panic. Every delimiter they look for
//! is ASCII, so slicing at its byte index is always on a char boundary.

/// Byte-level scanner that knows whether it is inside a quoted string
/// (`"..."` with `\`-escapes) or inside `<...>`.
struct Scan {
    in_quotes: bool,
    escaped: bool,
    angle: usize,
}

impl Scan {
    fn new() -> Self {
        Scan {
            in_quotes: false,
            escaped: false,
            angle: 0,
        }
    }

    /// Feeds one byte; returns true when the byte is at top level (outside
    /// quotes and outside `<...>`), *before* the byte changes the state.
    fn top_level(&mut self, b: u8) -> bool {
        if self.in_quotes {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_quotes = false;
            }
            return false;
        }
        let top = self.angle == 0;
        match b {
            b'"' => self.in_quotes = true,
            b'<' => self.angle += 1,
            b'>' => self.angle = self.angle.saturating_sub(1),
            _ => {}
        }
        top
    }
}

/// Splits `s` on the top-level occurrences of `sep` (not inside `"..."`,
/// not inside `<...>`). Pieces are returned untrimmed.
fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let mut scan = Scan::new();
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if scan.top_level(b) && b == sep {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// Byte index of the first `<` outside a quoted string, if any.
fn open_angle(s: &str) -> Option<usize> {
    let mut scan = Scan::new();
    s.as_bytes()
        .iter()
        .enumerate()
        .find(|&(_, &b)| scan.top_level(b) && b == b'<')
        .map(|(i, _)| i)
}

/// Trims SIP linear whitespace (SP, HT, CR, LF) from both ends.
pub(crate) fn trim_lws(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// Splits a header value on top-level commas (not inside `"..."` with
/// `\`-escapes, not inside `<...>`) and trims each piece. Empty pieces (for
/// example from a trailing comma) are dropped.
///
/// Use it for list headers (Via, Contact, Record-Route, Reason, Call-Info,
/// Warning), not for headers whose grammar contains bare commas (Date,
/// WWW-Authenticate).
///
/// ```
/// use ringwatch::sip::params::split_values;
/// assert_eq!(
///     split_values(r#"SIP ;cause=200 ;text="a, b", Q.850 ;cause=16"#),
///     vec![r#"SIP ;cause=200 ;text="a, b""#, "Q.850 ;cause=16"],
/// );
/// ```
pub fn split_values(value: &str) -> Vec<&str> {
    split_top(value, b',')
        .into_iter()
        .map(trim_lws)
        .filter(|v| !v.is_empty())
        .collect()
}

/// The parameter section of one header value: the text after the `>` that
/// closes the URI when there is one, else the text after the first
/// top-level `;`. `None` when there is no parameter section.
fn param_section(value: &str) -> Option<&str> {
    match open_angle(value) {
        Some(open) => {
            let rest = &value[open..];
            let close = rest.find('>')?;
            Some(&rest[close + 1..])
        }
        None => {
            let semi = split_top(value, b';');
            let first = semi.first()?;
            // `first` is a prefix of `value`; the section starts after its `;`.
            value.get(first.len() + 1..)
        }
    }
}

/// Header parameter `name` (case-insensitive) of one header value.
///
/// Parameters are read after the `>` if the value has a `<...>` URI, else
/// after the first top-level `;`. The returned value is trimmed and loses
/// its surrounding double quotes (escapes inside stay as sent). A flag
/// parameter (`;lr`, `;rport`) gives `Some("")`.
///
/// ```
/// use ringwatch::sip::params::param;
/// let to = r#""Bob" <sip:bob@b.example;user=phone>;tag=as8f"#;
/// assert_eq!(param(to, "TAG"), Some("as8f"));
/// assert_eq!(param(to, "user"), None); // a URI parameter, not a header parameter
/// assert_eq!(param("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "rport"), Some(""));
/// ```
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let section = param_section(value)?;
    let want = trim_lws(name);
    for piece in split_top(section, b';') {
        let piece = trim_lws(piece);
        if piece.is_empty() {
            continue;
        }
        let (key, val) = match piece.find('=') {
            Some(eq) => (trim_lws(&piece[..eq]), trim_lws(&piece[eq + 1..])),
            None => (piece, ""),
        };
        if key.eq_ignore_ascii_case(want) {
            return Some(unquote(val));
        }
    }
    None
}

/// Strips one pair of surrounding double quotes, if present.
fn unquote(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// The URI of a name-addr or addr-spec: the text inside `<...>` when present
/// (to the end if the `>` is missing), else the text up to the first `;`.
/// Trimmed.
///
/// ```
/// use ringwatch::sip::params::uri_of;
/// assert_eq!(uri_of(r#""A;b" <sip:a@x;lr>;tag=1"#), "sip:a@x;lr");
/// assert_eq!(uri_of("sip:a@x;tag=1"), "sip:a@x");
/// ```
pub fn uri_of(value: &str) -> &str {
    match open_angle(value) {
        Some(open) => {
            let rest = &value[open + 1..];
            let end = rest.find('>').unwrap_or(rest.len());
            trim_lws(&rest[..end])
        }
        None => {
            let end = value.find(';').unwrap_or(value.len());
            trim_lws(&value[..end])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_values_quote_and_angle_aware() {
        let v = r#""Doe, John" <sip:j@x;a=1,2>;tag=1 , <sip:p2;lr>,,"#;
        assert_eq!(
            split_values(v),
            vec![r#""Doe, John" <sip:j@x;a=1,2>;tag=1"#, "<sip:p2;lr>"]
        );
    }

    #[test]
    fn split_values_escaped_quote_inside_quotes() {
        let v = r#"SIP;text="say \"hi, there\"", Q.850;cause=21"#;
        assert_eq!(
            split_values(v),
            vec![r#"SIP;text="say \"hi, there\"""#, "Q.850;cause=21"]
        );
    }

    #[test]
    fn split_values_unterminated_quote_keeps_rest() {
        assert_eq!(split_values(r#""abc, def"#), vec![r#""abc, def"#]);
        assert!(split_values("").is_empty());
        assert!(split_values(" , ,").is_empty());
    }

    #[test]
    fn param_after_angle_and_semicolon() {
        let v = r#""x;tag=no" <sip:a@b;tag=no>;TAG = yes ;lr"#;
        assert_eq!(param(v, "tag"), Some("yes"));
        assert_eq!(param(v, "lr"), Some(""));
        assert_eq!(param(v, "nope"), None);
        assert_eq!(param("sip:a@b;tag=9", "tag"), Some("9"));
        assert_eq!(param("sip:a@b", "tag"), None);
    }

    #[test]
    fn param_quoted_value_unquoted() {
        let v = r#"Q.850;cause=21;text="Call; Rejected""#;
        assert_eq!(param(v, "text"), Some("Call; Rejected"));
        assert_eq!(param(v, "cause"), Some("21"));
    }

    #[test]
    fn param_unterminated_angle_is_none() {
        assert_eq!(param("<sip:a@b;tag=1", "tag"), None);
        assert_eq!(uri_of("<sip:a@b;tag=1"), "sip:a@b;tag=1");
    }

    #[test]
    fn uri_of_forms() {
        assert_eq!(uri_of(" <sip:p1.example;lr> "), "sip:p1.example;lr");
        assert_eq!(uri_of("sip:x@y:5060;transport=udp"), "sip:x@y:5060");
        assert_eq!(uri_of("*"), "*");
        assert_eq!(uri_of(""), "");
    }

    #[test]
    fn helpers_survive_odd_utf8() {
        let v = "\"но, сто\" <sip:ж@x>;tag=ё;q=\"\\";
        assert_eq!(split_values(v).len(), 1);
        assert_eq!(param(v, "tag"), Some("ё"));
        assert_eq!(uri_of(v), "sip:ж@x");
        let _ = param("\"", "x");
        let _ = param(";", "");
        let _ = param("<>", "");
    }
}
