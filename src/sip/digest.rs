//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760).
//!
//! Parses `WWW-Authenticate` / `Proxy-Authenticate` challenges and computes
//! the matching `Authorization` / `Proxy-Authorization` value. MD5 and
//! SHA-256 (and their `-sess` variants); `qop=auth` when offered, RFC 2069
//! style otherwise. Pure: the cnonce comes from the caller.

use md5::Md5;
use sha2::{Digest as _, Sha256};

/// A digest hash algorithm we can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (RFC 2617), the default when a challenge names none.
    Md5,
    /// MD5-sess.
    Md5Sess,
    /// SHA-256 (RFC 7616, allowed for SIP by RFC 8760).
    Sha256,
    /// SHA-256-sess.
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Self::Md5),
            "MD5-SESS" => Some(Self::Md5Sess),
            "SHA-256" => Some(Self::Sha256),
            "SHA-256-SESS" => Some(Self::Sha256Sess),
            _ => None,
        }
    }

    /// The token as it appears in the `algorithm` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Self::Sha256 | Self::Sha256Sess => hex::encode(Sha256::digest(data.as_bytes())),
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }
}

/// One parsed `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `opaque`, echoed back verbatim.
    pub opaque: Option<String>,
    /// The algorithm, when we support it.
    pub algorithm: Algorithm,
    /// Whether the server offered `qop=auth`.
    pub qop_auth: bool,
    /// `stale=true`: the nonce expired, the credentials were fine.
    pub stale: bool,
}

/// Split `k=v, k="v, with comma", ...` into pairs (quote-aware, `\` escapes).
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.trim().is_empty() && chars.peek().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        _ => value.push(c),
                    }
                }
            }
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
        if chars.peek().is_none() {
            return out;
        }
    }
}

impl Challenge {
    /// Parse one challenge header value (`Digest realm="…", nonce="…", …`).
    /// `None` when it is not a Digest challenge, lacks realm/nonce, or names
    /// an algorithm we cannot answer.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim_start();
        let (scheme, rest) = value.split_once(|c: char| c.is_whitespace())?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let params = auth_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let algorithm = match get("algorithm") {
            Some(a) => Algorithm::parse(&a)?,
            None => Algorithm::Md5,
        };
        let qop_auth =
            get("qop").is_some_and(|q| q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")));
        Some(Self {
            realm: get("realm")?,
            nonce: get("nonce")?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The first challenge we can answer among several header values, in the
    /// server's order of preference (RFC 8760 §2.4).
    pub fn pick<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        values.into_iter().find_map(Self::parse)
    }
}

/// Compute the credentials header value answering `challenge`.
///
/// `nc` is the nonce count (1 for a fresh nonce), `cnonce` a random token.
pub fn authorization(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let alg = challenge.algorithm;
    let mut ha1 = alg.hash(&format!("{username}:{}:{password}", challenge.realm));
    if alg.is_sess() {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\"",
        quote(username),
        quote(&challenge.realm),
        quote(&challenge.nonce),
        quote(uri)
    );
    let response = if challenge.qop_auth {
        alg.hash(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };
    out.push_str(&format!(
        ", response=\"{response}\", algorithm={}",
        alg.as_str()
    ));
    if challenge.qop_auth {
        out.push_str(&format!(
            ", qop=auth, nc={nc}, cnonce=\"{}\"",
            quote(cnonce)
        ));
    }
    if let Some(opaque) = &challenge.opaque {
        out.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "sip:+13125550178@carrier.example;user=phone";

    fn challenge(alg: &str, qop: bool) -> Challenge {
        let qop = if qop { ", qop=\"auth\"" } else { "" };
        Challenge::parse(&format!(
            "Digest realm=\"carrier.example\", nonce=\"8a3f2c1d9e7b4a60\", algorithm={alg}{qop}"
        ))
        .expect("parses")
    }

    fn response_of(header: &str) -> &str {
        let start = header.find("response=\"").expect("has response") + 10;
        &header[start..start + header[start..].find('"').expect("closed")]
    }

    /// Test vectors from domain/sip-signals.md §4.6.
    #[test]
    fn md5_vectors() {
        let with_qop = authorization(
            &challenge("MD5", true),
            "INVITE",
            URI,
            "trunk123",
            "s3cret",
            "0a4f113b",
            1,
        );
        assert_eq!(response_of(&with_qop), "551931c6564b7cb5a7e4dda2cc5567e9");
        assert!(with_qop.contains("nc=00000001"));
        assert!(with_qop.contains("cnonce=\"0a4f113b\""));
        let without = authorization(
            &challenge("MD5", false),
            "INVITE",
            URI,
            "trunk123",
            "s3cret",
            "0a4f113b",
            1,
        );
        assert_eq!(response_of(&without), "fb22f379ece12c7c2463b278380ea643");
        assert!(!without.contains("qop"));
    }

    #[test]
    fn sha256_vectors() {
        let with_qop = authorization(
            &challenge("SHA-256", true),
            "INVITE",
            URI,
            "trunk123",
            "s3cret",
            "0a4f113b",
            1,
        );
        assert_eq!(
            response_of(&with_qop),
            "8c2edfaa67ca7c90605e6d245ff0ad76500e8d747c2668febddb160932f1d440"
        );
        assert!(with_qop.contains("algorithm=SHA-256"));
        let without = authorization(
            &challenge("SHA-256", false),
            "INVITE",
            URI,
            "trunk123",
            "s3cret",
            "0a4f113b",
            1,
        );
        assert_eq!(
            response_of(&without),
            "558b2792a59613e222ca343f7a26cbb37a8f7030ef67aff060c79cfd17a31ec6"
        );
    }

    #[test]
    fn picks_first_supported_challenge_in_order() {
        let values = [
            "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256, qop=\"auth\"",
            "Digest realm=\"carrier.example\", nonce=\"8a3f\", algorithm=SHA-256, qop=\"auth,auth-int\", opaque=\"o,1\", stale=TRUE",
            "Digest realm=\"carrier.example\", nonce=\"8a3f\", algorithm=MD5",
        ];
        let c = Challenge::pick(values).expect("one is supported");
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert!(c.qop_auth);
        assert!(c.stale);
        assert_eq!(c.opaque.as_deref(), Some("o,1"));
        let header = authorization(&c, "INVITE", URI, "u", "p", "c", 1);
        assert!(header.ends_with("opaque=\"o,1\""));
    }

    #[test]
    fn rejects_non_digest_and_incomplete() {
        assert_eq!(Challenge::parse("Basic realm=\"x\""), None);
        assert_eq!(Challenge::parse("Digest nonce=\"n\""), None);
        assert_eq!(Challenge::parse(""), None);
        assert_eq!(Challenge::parse("Digest realm=\"unterminated"), None);
        let c = Challenge::parse("Digest realm=\"r\",nonce=\"n\"").expect("no spaces");
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert!(!c.qop_auth);
    }
}
