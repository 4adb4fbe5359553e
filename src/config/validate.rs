//! Stage 2: raw structs → validated [`Config`], every error located.
//!
//! Owns the rules: required keys, ranges, defaults, host and port syntax,
//! name syntax, uniqueness. Errors are reported one at a time, in the order
//! trunk, call, schedule, numbers, carriers, lab (`lab.rs`). No I/O; the
//! caller passes the text only to turn spans into line:column.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::{Spanned, Value};

use super::e164::E164;
use super::error::{ConfigError, Source};
use super::raw::{RawCall, RawCarrier, RawConfig, RawNumber, RawSchedule, RawStore, RawTrunk};
use super::{
    CallSettings, Carrier, Config, DEFAULT_STORE_FILE, OwnedNumber, ScheduleSettings,
    StoreSettings, Transport, Trunk, defaults,
};

type Result<T> = std::result::Result<T, ConfigError>;

/// Longest carrier name.
const MAX_CARRIER_NAME: usize = 32;
/// Longest label of an owned number.
const MAX_LABEL: usize = 64;

/// Validate `raw`, read from `text` at `path`.
pub(crate) fn validate(raw: RawConfig, text: &str, path: &Path) -> Result<Config> {
    let src = Source { text, path };
    let Some(trunk) = raw.trunk else {
        return Err(src.whole(
            "missing [trunk] table: say where calls go, e.g. [trunk] proxy = \"127.0.0.1:5060\"",
        ));
    };
    let trunk = trunk_settings(&src, trunk)?;
    let call = call_settings(&src, raw.call)?;
    let schedule = schedule_settings(&src, raw.schedule.as_ref())?;
    let http = super::daemon::http_settings(&src, raw.http)?;
    let alerts = super::daemon::alert_settings(&src, raw.alerts)?;
    let store = store_settings(&src, raw.store)?;
    let numbers = owned_numbers(&src, raw.numbers.unwrap_or_default())?;
    let carriers = carriers(&src, raw.carriers.unwrap_or_default())?;
    let lab = super::lab::lab_settings(&src, raw.lab, &carriers)?;
    Ok(Config {
        source: path.to_owned(),
        trunk,
        call,
        schedule,
        store,
        http,
        alerts,
        numbers,
        carriers,
        lab,
    })
}

/// `[store] path`: relative paths are relative to the config file's
/// directory, so the daemon and a one-off `probe` agree on one database.
fn store_settings(src: &Source<'_>, raw: Option<RawStore>) -> Result<StoreSettings> {
    let dir = src.path.parent().unwrap_or(Path::new(""));
    let path = match raw.and_then(|r| r.path) {
        Some(p) if p.get_ref().trim().is_empty() => {
            return Err(src.at(p.span(), "[store] path is empty"));
        }
        Some(p) => dir.join(p.into_inner()),
        None => dir.join(DEFAULT_STORE_FILE),
    };
    Ok(StoreSettings { path })
}

fn trunk_settings(src: &Source<'_>, raw: Spanned<RawTrunk>) -> Result<Trunk> {
    let table = raw.span();
    let raw = raw.into_inner();
    let Some(proxy) = raw.proxy else {
        return Err(src.at(
            table,
            "[trunk] has no `proxy`: the host:port of the SIP trunk, e.g. \"127.0.0.1:5060\"",
        ));
    };
    let (proxy_host, proxy_port, ipv6) =
        parse_proxy(proxy.get_ref()).map_err(|m| src.at(proxy.span(), format!("proxy {m}")))?;

    let transport = match &raw.transport {
        None => Transport::Udp,
        Some(t) => match t.get_ref().to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" | "tls" => {
                return Err(src.at(
                    t.span(),
                    format!(
                        "transport \"{}\" is not supported yet; only \"udp\" is",
                        t.get_ref().escape_debug()
                    ),
                ));
            }
            _ => {
                return Err(src.at(
                    t.span(),
                    format!(
                        "unknown transport \"{}\", expected \"udp\" (\"tcp\" and \"tls\" are not supported yet)",
                        t.get_ref().escape_debug()
                    ),
                ));
            }
        },
    };

    let domain = match &raw.domain {
        Some(d) => check_host(d.get_ref())
            .map(|()| d.get_ref().clone())
            .map_err(|m| src.at(d.span(), format!("domain {m}")))?,
        None if ipv6 => format!("[{proxy_host}]"),
        None => proxy_host.clone(),
    };
    let from_domain = match &raw.from_domain {
        Some(d) => Some(
            check_host(d.get_ref())
                .map(|()| d.get_ref().clone())
                .map_err(|m| src.at(d.span(), format!("from_domain {m}")))?,
        ),
        None => None,
    };

    if let Some(u) = &raw.username {
        let name = u.get_ref();
        if name.is_empty() {
            return Err(src.at(
                u.span(),
                "username is empty; remove it if the trunk needs no auth",
            ));
        }
        if name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '"' || c == '\\')
        {
            return Err(src.at(
                u.span(),
                "username must not contain whitespace, quotes, backslashes or control characters",
            ));
        }
    }
    if let Some(p) = &raw.password_env
        && !is_env_var_name(p.get_ref())
    {
        return Err(src.at(
            p.span(),
            format!(
                "password_env \"{}\" is not an environment variable name \
                 (letters, digits and '_', not starting with a digit), e.g. RINGWATCH_TRUNK_PASSWORD",
                p.get_ref().escape_debug()
            ),
        ));
    }
    match (&raw.username, &raw.password_env) {
        (Some(u), None) => {
            return Err(src.at(
                u.span(),
                "username is set but password_env is not: name the environment variable \
                 that holds the password, e.g. password_env = \"RINGWATCH_TRUNK_PASSWORD\"",
            ));
        }
        (None, Some(p)) => {
            return Err(src.at(
                p.span(),
                "password_env is set but username is not: digest auth needs both",
            ));
        }
        _ => {}
    }

    Ok(Trunk {
        proxy_host,
        proxy_port,
        transport,
        domain,
        from_domain,
        username: raw.username.map(Spanned::into_inner),
        password_env: raw.password_env.map(Spanned::into_inner),
        user_phone: raw.user_phone.unwrap_or(defaults::USER_PHONE),
    })
}

fn call_settings(src: &Source<'_>, raw: Option<RawCall>) -> Result<CallSettings> {
    let Some(raw) = raw else {
        return Ok(CallSettings::default());
    };
    let d = CallSettings::default();
    Ok(CallSettings {
        ring: match &raw.ring_seconds {
            Some(v) => seconds(src, v, "[call] ring_seconds", 1, 120)?,
            None => d.ring,
        },
        t1: match &raw.t1_ms {
            Some(v) => millis(src, v, "[call] t1_ms", 50, 5000)?,
            None => d.t1,
        },
        linger: match &raw.linger_ms {
            Some(v) => millis(src, v, "[call] linger_ms", 0, 32_000)?,
            None => d.linger,
        },
        alert_timeout: match &raw.alert_timeout_seconds {
            Some(v) => seconds(src, v, "[call] alert_timeout_seconds", 1, 300)?,
            None => d.alert_timeout,
        },
    })
}

fn schedule_settings(src: &Source<'_>, raw: Option<&RawSchedule>) -> Result<ScheduleSettings> {
    let Some(raw) = raw else {
        return Ok(ScheduleSettings::default());
    };
    let d = ScheduleSettings::default();
    let cps = match &raw.cps {
        None => d.cps,
        Some(v) => {
            let what = "[schedule] cps";
            let x = number(src, v, what, "calls per second")?;
            if !(x > 0.0 && x <= 100.0) {
                return Err(src.at(
                    v.span(),
                    format!(
                        "{what} must be more than 0 and at most 100, got {}",
                        shown(v.get_ref())
                    ),
                ));
            }
            x
        }
    };
    let max_concurrent = match &raw.max_concurrent {
        None => d.max_concurrent,
        Some(v) => {
            let n = integer(src, v, "[schedule] max_concurrent", "calls", 1, 1000)?;
            usize::try_from(n).map_err(|_| src.at(v.span(), "max_concurrent is out of range"))?
        }
    };
    super::daemon::schedule_extras(
        src,
        Some(raw),
        ScheduleSettings {
            cps,
            max_concurrent,
            ..ScheduleSettings::default()
        },
    )
}

fn owned_numbers(src: &Source<'_>, raw: Vec<Spanned<RawNumber>>) -> Result<Vec<OwnedNumber>> {
    if raw.is_empty() {
        return Err(src.whole(
            "no [[numbers]]: list at least one caller ID you own, \
             e.g. [[numbers]] number = \"+12025550143\"",
        ));
    }
    let mut seen: HashMap<E164, Range<usize>> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for entry in raw {
        let table = entry.span();
        let entry = entry.into_inner();
        let Some(value) = entry.number else {
            return Err(src.at(
                table,
                "[[numbers]] entry has no `number`, e.g. number = \"+12025550143\"",
            ));
        };
        let number = phone_number(src, &value)?;
        if let Some(first) = seen.get(&number) {
            return Err(src.at(
                value.span(),
                format!(
                    "duplicate number {number} (already listed at line {})",
                    src.line_of(first.clone())
                ),
            ));
        }
        seen.insert(number.clone(), value.span());
        let label = match entry.label {
            None => None,
            Some(l) => {
                let text = l.get_ref().trim();
                if text.is_empty() {
                    return Err(src.at(l.span(), "label is empty; remove it or name the number"));
                }
                if text.chars().any(char::is_control) || text.chars().count() > MAX_LABEL {
                    return Err(src.at(
                        l.span(),
                        format!("label must be at most {MAX_LABEL} characters without control characters"),
                    ));
                }
                Some(text.to_owned())
            }
        };
        out.push(OwnedNumber { number, label });
    }
    Ok(out)
}

fn carriers(src: &Source<'_>, raw: Vec<Spanned<RawCarrier>>) -> Result<Vec<Carrier>> {
    if raw.is_empty() {
        return Err(src.whole(
            "no [[carriers]]: list at least one carrier, \
             e.g. [[carriers]] name = \"att\" destinations = [\"+13125550178\"]",
        ));
    }
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for entry in raw {
        let table = entry.span();
        let entry = entry.into_inner();
        let Some(name) = entry.name else {
            return Err(src.at(
                table,
                "[[carriers]] entry has no `name`, e.g. name = \"att\"",
            ));
        };
        if !is_carrier_name(name.get_ref()) {
            return Err(src.at(
                name.span(),
                format!(
                    "carrier name \"{}\" must be 1-{MAX_CARRIER_NAME} characters of a-z, 0-9, '_' and '-', \
                     starting with a letter or digit",
                    name.get_ref().escape_debug()
                ),
            ));
        }
        if let Some(first) = seen.get(name.get_ref()) {
            return Err(src.at(
                name.span(),
                format!(
                    "duplicate carrier `{}` (already defined at line {})",
                    name.get_ref(),
                    src.line_of(first.clone())
                ),
            ));
        }
        seen.insert(name.get_ref().clone(), name.span());
        let no_destinations = || format!("carrier `{}` has no destinations", name.get_ref());
        let Some(list) = entry.destinations else {
            return Err(src.at(name.span(), no_destinations()));
        };
        if list.get_ref().is_empty() {
            return Err(src.at(list.span(), no_destinations()));
        }
        let mut destinations: Vec<E164> = Vec::with_capacity(list.get_ref().len());
        for value in list.get_ref() {
            let dest = phone_number(src, value)?;
            if destinations.contains(&dest) {
                return Err(src.at(
                    value.span(),
                    format!(
                        "destination {dest} is listed twice for carrier `{}`",
                        name.get_ref()
                    ),
                ));
            }
            destinations.push(dest);
        }
        out.push(Carrier {
            name: name.into_inner(),
            destinations,
        });
    }
    Ok(out)
}

/// A phone number value: a quoted E.164 string.
pub(super) fn phone_number(src: &Source<'_>, value: &Spanned<Value>) -> Result<E164> {
    match value.get_ref() {
        Value::String(s) => E164::parse(s).map_err(|e| src.at(value.span(), e.to_string())),
        Value::Integer(i) => Err(src.at(
            value.span(),
            format!("phone numbers must be quoted strings: write \"+{i}\""),
        )),
        other => Err(src.at(
            value.span(),
            format!(
                "phone numbers must be quoted strings like \"+12025550143\", got {}",
                other.type_str()
            ),
        )),
    }
}

/// An integer or float value as f64, finite.
fn number(src: &Source<'_>, v: &Spanned<Value>, what: &str, unit: &str) -> Result<f64> {
    match v.get_ref() {
        #[allow(clippy::cast_precision_loss)]
        // config values are small; exactness past 2^53 is moot
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Float(_) => Err(src.at(v.span(), format!("{what} must be a finite number"))),
        other => Err(src.at(
            v.span(),
            format!("{what} must be a number ({unit}), got {}", other.type_str()),
        )),
    }
}

/// An integer value within `min..=max`.
pub(super) fn integer(
    src: &Source<'_>,
    v: &Spanned<Value>,
    what: &str,
    unit: &str,
    min: i64,
    max: i64,
) -> Result<i64> {
    let range_err = || {
        src.at(
            v.span(),
            format!(
                "{what} must be between {min} and {max} ({unit}), got {}",
                shown(v.get_ref())
            ),
        )
    };
    match v.get_ref() {
        Value::Integer(i) if (min..=max).contains(i) => Ok(*i),
        Value::Integer(_) => Err(range_err()),
        Value::Float(_) => Err(src.at(
            v.span(),
            format!(
                "{what} must be a whole number of {unit}, got {}",
                shown(v.get_ref())
            ),
        )),
        other => Err(src.at(
            v.span(),
            format!(
                "{what} must be a whole number of {unit}, got {}",
                other.type_str()
            ),
        )),
    }
}

/// Whole milliseconds within `min..=max`.
pub(super) fn millis(
    src: &Source<'_>,
    v: &Spanned<Value>,
    what: &str,
    min: i64,
    max: i64,
) -> Result<Duration> {
    let n = integer(src, v, what, "milliseconds", min, max)?;
    Ok(Duration::from_millis(n.unsigned_abs()))
}

/// Seconds, integer or fractional, within `min..=max`.
pub(super) fn seconds(
    src: &Source<'_>,
    v: &Spanned<Value>,
    what: &str,
    min: u32,
    max: u32,
) -> Result<Duration> {
    let x = number(src, v, what, "seconds")?;
    if !(f64::from(min)..=f64::from(max)).contains(&x) {
        return Err(src.at(
            v.span(),
            format!(
                "{what} must be between {min} and {max} seconds, got {}",
                shown(v.get_ref())
            ),
        ));
    }
    Duration::try_from_secs_f64(x)
        .map_err(|_| src.at(v.span(), format!("{what} is not a valid duration")))
}

/// A numeric value as the user wrote it.
fn shown(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        other => other.type_str().to_owned(),
    }
}

/// Split `host[:port]` / `[v6][:port]`; the host comes back without
/// brackets. The third value says whether the host is an IPv6 literal.
fn parse_proxy(s: &str) -> std::result::Result<(String, u16, bool), String> {
    let lower = s.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("sip:") || lower.starts_with("sips:") {
        return Err(format!(
            "\"{}\" is a URI; write host:port, e.g. \"sip.example.net:5060\"",
            s.escape_debug()
        ));
    }
    let (host, port, ipv6) = if let Some(rest) = s.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return Err(format!("\"{}\" has '[' without ']'", s.escape_debug()));
        };
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "\"{}\": [{}] is not an IPv6 address",
                s.escape_debug(),
                inner.escape_debug()
            ));
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => {
                    return Err(format!(
                        "\"{}\": expected :port after ']'",
                        s.escape_debug()
                    ));
                }
            },
        };
        (inner, port, true)
    } else {
        match s.matches(':').count() {
            0 => (s, None, false),
            1 => {
                let (h, p) = s.split_once(':').unwrap_or((s, ""));
                (h, Some(p), false)
            }
            _ if s.parse::<Ipv6Addr>().is_ok() => {
                return Err(format!(
                    "\"{}\": put IPv6 addresses in brackets, e.g. \"[{}]:5060\"",
                    s.escape_debug(),
                    s
                ));
            }
            _ => {
                return Err(format!(
                    "\"{}\" is not host:port (IPv6 addresses go in brackets: \"[::1]:5060\")",
                    s.escape_debug()
                ));
            }
        }
    };
    if !ipv6 {
        check_host(host).map_err(|m| format!("host {m}"))?;
    }
    let port = match port {
        None => defaults::SIP_PORT,
        Some(p) => parse_port(p).map_err(|m| format!("\"{}\": {m}", s.escape_debug()))?,
    };
    Ok((host.to_owned(), port, ipv6))
}

fn parse_port(p: &str) -> std::result::Result<u16, String> {
    if p.is_empty() {
        return Err("port is empty".to_owned());
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port \"{}\" is not a number", p.escape_debug()));
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => u16::try_from(n).map_err(|_| "port out of range".to_owned()),
        _ => Err(format!("port must be between 1 and 65535, got {p}")),
    }
}

/// A host for SIP URIs and DNS: a DNS name, an IPv4 address or a bracketed
/// IPv6 address. The error completes a sentence starting with the key.
fn check_host(s: &str) -> std::result::Result<(), String> {
    if s.is_empty() {
        return Err("is empty".to_owned());
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("\"{}\" is not an IPv6 address", s.escape_debug())),
        };
    }
    if s.parse::<Ipv6Addr>().is_ok() {
        return Err(format!(
            "\"{s}\": put IPv6 addresses in brackets, e.g. \"[{s}]\""
        ));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match s.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("\"{}\" is not an IPv4 address", s.escape_debug())),
        };
    }
    let bad = || {
        format!(
            "\"{}\" is not a host name (letters, digits, '-' and dots; no port, no scheme)",
            s.escape_debug()
        )
    };
    if s.len() > 253 {
        return Err(bad());
    }
    for label in s.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

/// `[a-z0-9][a-z0-9_-]*`, at most 32 characters.
fn is_carrier_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_CARRIER_NAME
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_env_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_forms() {
        let ok = |s: &str| parse_proxy(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ok("127.0.0.1:5060"), ("127.0.0.1".into(), 5060, false));
        assert_eq!(ok("127.0.0.1"), ("127.0.0.1".into(), 5060, false));
        assert_eq!(
            ok("sip.example.net:5080"),
            ("sip.example.net".into(), 5080, false)
        );
        assert_eq!(ok("[::1]:5070"), ("::1".into(), 5070, true));
        assert_eq!(ok("[2001:db8::1]"), ("2001:db8::1".into(), 5060, true));
        assert_eq!(ok("localhost:1"), ("localhost".into(), 1, false));
        assert_eq!(ok("h:65535"), ("h".into(), 65535, false));
        for bad in [
            "",
            ":5060",
            "host:",
            "host:0",
            "host:65536",
            "host:99999999999999999999",
            "host:50x",
            "::1",
            "::1:5060",
            "[::1",
            "[::1]5060",
            "[nothost]:5060",
            "sip:trunk.example.net",
            "udp://1.2.3.4:5060",
            "300.1.1.1:5060",
            "bad host:5060",
            "a..b",
            "-a.example",
            "a:b:c",
        ] {
            assert!(parse_proxy(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn carrier_and_env_names() {
        for ok in ["att", "t-mobile", "carrier_2", "0x", &"a".repeat(32)] {
            assert!(is_carrier_name(ok), "{ok}");
        }
        for bad in [
            "",
            "ATT",
            "-att",
            "_att",
            "at&t",
            "a b",
            &"a".repeat(33),
            "é",
        ] {
            assert!(!is_carrier_name(bad), "{bad}");
        }
        for ok in ["RINGWATCH_TRUNK_PASSWORD", "_X", "a1"] {
            assert!(is_env_var_name(ok), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A B", "$A", "hunter2!"] {
            assert!(!is_env_var_name(bad), "{bad}");
        }
    }
}
