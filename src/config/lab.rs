//! `[lab]`: the built-in carrier lab's scripted far ends, validated.
//!
//! Owns the lab's configuration types ([`LabSettings`], [`LabRule`],
//! [`LabBehaviour`], [`Redress`]), their defaults and the stage-2 checks of
//! the `[lab]` table (behaviour names, rules naming configured carriers,
//! block lists of E.164 numbers, probabilities, redress values that fit the
//! ATIS-1000099 Reason text). It does not run the lab (`crate::lab` does),
//! opens nothing and reads no clock. The keys are documented on
//! [`LabSettings`] and in the `crate::lab` module docs.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use toml::{Spanned, Value};

use super::error::{ConfigError, Source};
use super::raw::{RawLab, RawLabCarrier, RawRandom};
use super::validate::{integer, millis, phone_number, seconds};
use super::{Carrier, Config, E164};

type Result<T> = std::result::Result<T, ConfigError>;

/// Default values of the `[lab]` keys.
pub mod lab_defaults {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::time::Duration;

    use super::LabBehaviour;

    /// `listen`: where `ringwatch lab` binds.
    pub const LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5070);
    /// `default`: behaviour of carriers without a rule.
    pub const BEHAVIOUR: LabBehaviour = LabBehaviour::Ring;
    /// `blocked_behaviour`: what a carrier does to a caller ID it blocks.
    pub const BLOCKED_BEHAVIOUR: LabBehaviour = LabBehaviour::NetworkBlocked;
    /// `pdd_ms`: INVITE to the first 180 (or to the final when not alerting).
    pub const PDD: Duration = Duration::from_millis(200);
    /// `alert_ms`: 180 to the 200 OK (`answer`) or to the final (`alert_first`).
    pub const ALERT: Duration = Duration::from_millis(1000);
    /// `ring_timeout_seconds`: `ring` answers 480 when no CANCEL came by then.
    pub const RING_TIMEOUT: Duration = Duration::from_secs(60);
    /// `retry_after_seconds`: the `Retry-After` of `unavailable` (503).
    pub const RETRY_AFTER_SECONDS: u32 = 120;
    /// `redress_url`.
    pub const REDRESS_URL: &str = "https://redress.example.com/ringwatch-lab";
    /// `redress_tel`.
    pub const REDRESS_TEL: &str = "+18005550199";
    /// `redress_email`.
    pub const REDRESS_EMAIL: &str = "redress@example.com";
    /// `location` (RFC 8606): `RLN`, the network serving the called party.
    pub const LOCATION: &str = "RLN";
}

/// Longest `redress_id` prefix (the per-call suffix adds 13 characters; the
/// ATIS `id` may have at most 64).
pub const MAX_REDRESS_ID_PREFIX: usize = 40;

/// How a lab far end answers an INVITE. The names are the config values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabBehaviour {
    /// `ring`: 100, 180 Ringing, then wait for CANCEL (200 + 487); 480
    /// Temporarily Unavailable after `ring_timeout_seconds`.
    Ring,
    /// `answer`: 100, 180, then 200 OK with SDP and Contact after `alert_ms`;
    /// BYE is answered 200.
    Answer,
    /// `decline`: 603 Decline.
    Decline,
    /// `decline_q850`: 603 Decline with `Reason: Q.850;cause=21` (a 603+
    /// flattened across TDM).
    DeclineQ850,
    /// `network_blocked`: ATIS-1000099 603+, SIP form: `603 Network Blocked`
    /// with `Reason: SIP;cause=603;text="v=analytics1;..."`.
    NetworkBlocked,
    /// `network_blocked_q850`: 603+ in the `Q.850;cause=21` form.
    NetworkBlockedQ850,
    /// `network_blocked_phrase_only`: `603 Network Blocked` with the Reason
    /// stripped (a normalising B2BUA in the path).
    NetworkBlockedPhraseOnly,
    /// `network_blocked_as_decline`: `603 Decline` with the ATIS Reason (the
    /// phrase rewritten by an intermediary, FreeSWITCH's default).
    NetworkBlockedAsDecline,
    /// `rejected`: RFC 8688 608 Rejected with a jwscard Call-Info.
    Rejected,
    /// `unwanted`: RFC 8197 607 Unwanted.
    Unwanted,
    /// `forbidden`: 403 Forbidden.
    Forbidden,
    /// `busy`: 486 Busy Here.
    Busy,
    /// `unavailable`: 503 Service Unavailable with `Retry-After`.
    Unavailable,
    /// `not_found`: 404 Not Found.
    NotFound,
    /// `silence`: never answers anything about the call.
    Silence,
}

impl LabBehaviour {
    /// Every behaviour, in documentation order.
    pub const ALL: [LabBehaviour; 15] = [
        LabBehaviour::Ring,
        LabBehaviour::Answer,
        LabBehaviour::Decline,
        LabBehaviour::DeclineQ850,
        LabBehaviour::NetworkBlocked,
        LabBehaviour::NetworkBlockedQ850,
        LabBehaviour::NetworkBlockedPhraseOnly,
        LabBehaviour::NetworkBlockedAsDecline,
        LabBehaviour::Rejected,
        LabBehaviour::Unwanted,
        LabBehaviour::Forbidden,
        LabBehaviour::Busy,
        LabBehaviour::Unavailable,
        LabBehaviour::NotFound,
        LabBehaviour::Silence,
    ];

    /// The config name: `network_blocked`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LabBehaviour::Ring => "ring",
            LabBehaviour::Answer => "answer",
            LabBehaviour::Decline => "decline",
            LabBehaviour::DeclineQ850 => "decline_q850",
            LabBehaviour::NetworkBlocked => "network_blocked",
            LabBehaviour::NetworkBlockedQ850 => "network_blocked_q850",
            LabBehaviour::NetworkBlockedPhraseOnly => "network_blocked_phrase_only",
            LabBehaviour::NetworkBlockedAsDecline => "network_blocked_as_decline",
            LabBehaviour::Rejected => "rejected",
            LabBehaviour::Unwanted => "unwanted",
            LabBehaviour::Forbidden => "forbidden",
            LabBehaviour::Busy => "busy",
            LabBehaviour::Unavailable => "unavailable",
            LabBehaviour::NotFound => "not_found",
            LabBehaviour::Silence => "silence",
        }
    }

    /// The behaviour called `name` (exact, lower case).
    #[must_use]
    pub fn from_name(name: &str) -> Option<LabBehaviour> {
        LabBehaviour::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// `true` when the call first rings (180) whatever `alert_first` says.
    #[must_use]
    pub fn always_alerts(self) -> bool {
        matches!(self, LabBehaviour::Ring | LabBehaviour::Answer)
    }
}

impl fmt::Display for LabBehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Redress contacts a blocking lab carrier puts in its 603+ Reason text
/// and its 608 jCard. At least one of `url`, `tel` and `email` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redress {
    /// `redress_url`: an `https://` URL (`""` in the file omits it).
    pub url: Option<String>,
    /// `redress_tel`: an E.164 number (`""` omits it).
    pub tel: Option<E164>,
    /// `redress_email`: an address with one `@` (`""` omits it).
    pub email: Option<String>,
    /// `redress_id`: prefix of the per-call ATIS `id`
    /// (`{prefix}-{12 hex digits of the Call-ID hash}`); `None` means
    /// `lab-{carrier}`. `[A-Za-z0-9_-]`, at most 40 characters.
    pub id_prefix: Option<String>,
    /// `location`: the RFC 8606 token after the quoted text (`RLN`, `TN`, ...).
    pub location: String,
}

impl Default for Redress {
    fn default() -> Self {
        Redress {
            url: Some(lab_defaults::REDRESS_URL.to_owned()),
            tel: E164::parse(lab_defaults::REDRESS_TEL).ok(),
            email: Some(lab_defaults::REDRESS_EMAIL.to_owned()),
            id_prefix: None,
            location: lab_defaults::LOCATION.to_owned(),
        }
    }
}

/// What one lab carrier does, every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LabRule {
    /// The `[[carriers]]` name; `None` for the rule of carriers without one
    /// (and of destinations no carrier lists).
    pub carrier: Option<String>,
    /// `behaviour` (default: `[lab] default`).
    pub behaviour: LabBehaviour,
    /// `block`: caller IDs this carrier blocks (From user part, or
    /// P-Asserted-Identity when present).
    pub block: Vec<E164>,
    /// `blocked_behaviour`: what blocked callers get (default `[lab]
    /// blocked_behaviour`, itself `network_blocked`).
    pub blocked_behaviour: LabBehaviour,
    /// `random`: with these probabilities a non-blocked call gets another
    /// behaviour (sum at most 1), in [`LabBehaviour`] order.
    pub random: Vec<(LabBehaviour, f64)>,
    /// `alert_first`: send 180 Ringing and wait `alert_ms` before a final
    /// response (behaviours other than `ring`/`answer`/`silence`).
    pub alert_first: bool,
    /// `pdd_ms`: INVITE to the first 180, or to the final when not alerting.
    pub pdd: Duration,
    /// Redress contacts for 603+ and 608.
    pub redress: Redress,
}

impl LabRule {
    /// The behaviour for `caller` before randomness: `blocked_behaviour` for
    /// a listed caller ID, `behaviour` otherwise. The flag says "blocked".
    #[must_use]
    pub fn behaviour_for(&self, caller: Option<&E164>) -> (LabBehaviour, bool) {
        match caller {
            Some(c) if self.block.contains(c) => (self.blocked_behaviour, true),
            _ => (self.behaviour, false),
        }
    }

    /// Apply `random` to `base` with a uniform draw `u` in `[0, 1)`.
    #[must_use]
    pub fn randomise(&self, base: LabBehaviour, u: f64) -> LabBehaviour {
        let mut cumulative = 0.0;
        for (behaviour, p) in &self.random {
            cumulative += p;
            if u < cumulative {
                return *behaviour;
            }
        }
        base
    }
}

/// A validated `[lab]` table (defaults when absent).
///
/// Keys: `listen`, `default`, `unknown`, `blocked_behaviour`,
/// `alert_first`, `pdd_ms`, `alert_ms`, `ring_timeout_seconds`,
/// `retry_after_seconds`, `seed`, `redress_url`, `redress_tel`,
/// `redress_email`, `redress_id`, `location`, `random`, and one
/// `[[lab.carriers]]` block per carrier rule with `name`, `behaviour`,
/// `block`, `blocked_behaviour`, `alert_first`, `pdd_ms`, `redress_*`,
/// `location`, `random` (each falling back to the `[lab]` value).
#[derive(Debug, Clone, PartialEq)]
pub struct LabSettings {
    /// `listen`: address `ringwatch lab` binds (an IP literal and port,
    /// default `127.0.0.1:5070`).
    pub listen: SocketAddr,
    /// The rule of carriers without a `[[lab.carriers]]` block.
    pub default: LabRule,
    /// `unknown`: behaviour for destinations no carrier lists (default: the
    /// `default` behaviour).
    pub unknown: LabBehaviour,
    /// The `[[lab.carriers]]` rules, in file order, names unique.
    pub carriers: Vec<LabRule>,
    /// `alert_ms`: 180 to 200 OK (`answer`) or to the final (`alert_first`),
    /// 0 to 120000 ms, default 1000.
    pub alert: Duration,
    /// `ring_timeout_seconds`: `ring` gives up with 480 after this, 1 to 3600,
    /// default 60. Also the longest an answered call is kept without BYE.
    pub ring_timeout: Duration,
    /// `retry_after_seconds`: `Retry-After` of `unavailable`, 0 to 86400,
    /// default 120.
    pub retry_after_seconds: u32,
    /// `seed`: seeds the lab's RNG (random behaviours, To tags) for
    /// reproducible runs; `None` seeds from the clock.
    pub seed: Option<u64>,
}

impl Default for LabSettings {
    fn default() -> Self {
        LabSettings {
            listen: lab_defaults::LISTEN,
            default: LabRule {
                carrier: None,
                behaviour: lab_defaults::BEHAVIOUR,
                block: Vec::new(),
                blocked_behaviour: lab_defaults::BLOCKED_BEHAVIOUR,
                random: Vec::new(),
                alert_first: false,
                pdd: lab_defaults::PDD,
                redress: Redress::default(),
            },
            unknown: lab_defaults::BEHAVIOUR,
            carriers: Vec::new(),
            alert: lab_defaults::ALERT,
            ring_timeout: lab_defaults::RING_TIMEOUT,
            retry_after_seconds: lab_defaults::RETRY_AFTER_SECONDS,
            seed: None,
        }
    }
}

impl LabSettings {
    /// The rule of carrier `name`: its own block, or the default rule.
    #[must_use]
    pub fn rule(&self, name: &str) -> &LabRule {
        self.carriers
            .iter()
            .find(|r| r.carrier.as_deref() == Some(name))
            .unwrap_or(&self.default)
    }
}

impl Config {
    /// `[trunk] proxy = "lab"`: calls go to the built-in lab, started
    /// inside the process on an ephemeral loopback port.
    #[must_use]
    pub fn trunk_is_lab(&self) -> bool {
        self.trunk.proxy_host.eq_ignore_ascii_case("lab")
    }
}

/// Validate `[lab]` against the already validated `carriers`.
pub(crate) fn lab_settings(
    src: &Source<'_>,
    raw: Option<RawLab>,
    carriers: &[Carrier],
) -> Result<LabSettings> {
    let Some(raw) = raw else {
        return Ok(LabSettings::default());
    };
    let d = LabSettings::default();

    let listen = match &raw.listen {
        None => d.listen,
        Some(l) => parse_listen(l.get_ref()).map_err(|m| src.at(l.span(), m))?,
    };
    let default_behaviour = opt_behaviour(src, raw.default.as_ref(), "default")?;
    let default_behaviour = default_behaviour.unwrap_or(d.default.behaviour);
    let unknown = opt_behaviour(src, raw.unknown.as_ref(), "unknown")?.unwrap_or(default_behaviour);
    let blocked_behaviour =
        opt_behaviour(src, raw.blocked_behaviour.as_ref(), "blocked_behaviour")?
            .unwrap_or(d.default.blocked_behaviour);
    let pdd = match &raw.pdd_ms {
        Some(v) => millis(src, v, "[lab] pdd_ms", 0, 60_000)?,
        None => d.default.pdd,
    };
    let alert = match &raw.alert_ms {
        Some(v) => millis(src, v, "[lab] alert_ms", 0, 120_000)?,
        None => d.alert,
    };
    let ring_timeout = match &raw.ring_timeout_seconds {
        Some(v) => seconds(src, v, "[lab] ring_timeout_seconds", 1, 3600)?,
        None => d.ring_timeout,
    };
    let retry_after_seconds = match &raw.retry_after_seconds {
        Some(v) => {
            let n = integer(src, v, "[lab] retry_after_seconds", "seconds", 0, 86_400)?;
            u32::try_from(n).map_err(|_| src.at(v.span(), "retry_after_seconds is out of range"))?
        }
        None => d.retry_after_seconds,
    };
    let seed = match &raw.seed {
        Some(v) => match v.get_ref() {
            Value::Integer(i) if *i >= 0 => Some(i.unsigned_abs()),
            other => {
                return Err(src.at(
                    v.span(),
                    format!(
                        "[lab] seed must be a non-negative whole number, got {}",
                        match other {
                            Value::Integer(i) => i.to_string(),
                            Value::Float(f) => format!("{f:?}"),
                            other => other.type_str().to_owned(),
                        }
                    ),
                ));
            }
        },
        None => None,
    };
    let base = Redress::default();
    let redress = redress(
        src,
        &base,
        RawRedress {
            url: raw.redress_url.as_ref(),
            tel: raw.redress_tel.as_ref(),
            email: raw.redress_email.as_ref(),
            id: raw.redress_id.as_ref(),
            location: raw.location.as_ref(),
        },
        "[lab]",
    )?;
    let random = match &raw.random {
        Some(r) => random(src, r)?,
        None => Vec::new(),
    };
    let default = LabRule {
        carrier: None,
        behaviour: default_behaviour,
        block: Vec::new(),
        blocked_behaviour,
        random,
        alert_first: raw.alert_first.unwrap_or(false),
        pdd,
        redress,
    };

    let mut rules: Vec<LabRule> = Vec::new();
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    for entry in raw.carriers.unwrap_or_default() {
        let table = entry.span();
        let rule = carrier_rule(
            src,
            entry.into_inner(),
            table,
            &default,
            carriers,
            &mut seen,
        )?;
        rules.push(rule);
    }
    Ok(LabSettings {
        listen,
        default,
        unknown,
        carriers: rules,
        alert,
        ring_timeout,
        retry_after_seconds,
        seed,
    })
}

fn carrier_rule(
    src: &Source<'_>,
    raw: RawLabCarrier,
    table: Range<usize>,
    default: &LabRule,
    carriers: &[Carrier],
    seen: &mut HashMap<String, Range<usize>>,
) -> Result<LabRule> {
    let Some(name) = raw.name else {
        return Err(src.at(
            table,
            "[[lab.carriers]] entry has no `name`: the [[carriers]] name it scripts, e.g. name = \"att\"",
        ));
    };
    if !carriers.iter().any(|c| &c.name == name.get_ref()) {
        let known: Vec<&str> = carriers.iter().map(|c| c.name.as_str()).collect();
        return Err(src.at(
            name.span(),
            format!(
                "[[lab.carriers]] names carrier \"{}\", which is not a [[carriers]] name (configured: {})",
                name.get_ref().escape_debug(),
                known.join(", ")
            ),
        ));
    }
    if let Some(first) = seen.get(name.get_ref()) {
        return Err(src.at(
            name.span(),
            format!(
                "duplicate lab rule for carrier `{}` (already defined at line {})",
                name.get_ref(),
                src.line_of(first.clone())
            ),
        ));
    }
    seen.insert(name.get_ref().clone(), name.span());

    let behaviour =
        opt_behaviour(src, raw.behaviour.as_ref(), "behaviour")?.unwrap_or(default.behaviour);
    let blocked_behaviour =
        opt_behaviour(src, raw.blocked_behaviour.as_ref(), "blocked_behaviour")?
            .unwrap_or(default.blocked_behaviour);
    let mut block: Vec<E164> = Vec::new();
    if let Some(list) = &raw.block {
        for value in list.get_ref() {
            let number = phone_number(src, value)?;
            if block.contains(&number) {
                return Err(src.at(
                    value.span(),
                    format!(
                        "{number} is listed twice in `block` of lab carrier `{}`",
                        name.get_ref()
                    ),
                ));
            }
            block.push(number);
        }
    }
    let pdd = match &raw.pdd_ms {
        Some(v) => millis(src, v, "[[lab.carriers]] pdd_ms", 0, 60_000)?,
        None => default.pdd,
    };
    let redress = redress(
        src,
        &default.redress,
        RawRedress {
            url: raw.redress_url.as_ref(),
            tel: raw.redress_tel.as_ref(),
            email: raw.redress_email.as_ref(),
            id: raw.redress_id.as_ref(),
            location: raw.location.as_ref(),
        },
        "[[lab.carriers]]",
    )?;
    let random = match &raw.random {
        Some(r) => random(src, r)?,
        None => default.random.clone(),
    };
    Ok(LabRule {
        carrier: Some(name.into_inner()),
        behaviour,
        block,
        blocked_behaviour,
        random,
        alert_first: raw.alert_first.unwrap_or(default.alert_first),
        pdd,
        redress,
    })
}

/// A behaviour name, if the key is present.
fn opt_behaviour(
    src: &Source<'_>,
    value: Option<&Spanned<String>>,
    key: &str,
) -> Result<Option<LabBehaviour>> {
    value
        .map(|v| behaviour_name(v.get_ref()).map_err(|m| src.at(v.span(), format!("{key}: {m}"))))
        .transpose()
}

fn behaviour_name(name: &str) -> std::result::Result<LabBehaviour, String> {
    LabBehaviour::from_name(name).ok_or_else(|| {
        let all: Vec<&str> = LabBehaviour::ALL.iter().map(|b| b.as_str()).collect();
        format!(
            "unknown lab behaviour \"{}\", expected one of {}",
            name.escape_debug(),
            all.join(", ")
        )
    })
}

/// `random = { behaviour = probability }`: known names, each probability in
/// 0..=1, their sum at most 1.
fn random(src: &Source<'_>, raw: &RawRandom) -> Result<Vec<(LabBehaviour, f64)>> {
    let mut out = Vec::new();
    let mut sum = 0.0;
    for (name, value) in raw.get_ref() {
        let behaviour = behaviour_name(name.get_ref())
            .map_err(|m| src.at(name.span(), format!("random: {m}")))?;
        #[allow(clippy::cast_precision_loss)] // 0 and 1 are the only integers accepted
        let p = match value.get_ref() {
            Value::Float(f) => *f,
            Value::Integer(i) => *i as f64,
            other => {
                return Err(src.at(
                    value.span(),
                    format!(
                        "random `{}` must be a probability between 0 and 1, got {}",
                        behaviour,
                        other.type_str()
                    ),
                ));
            }
        };
        if !(0.0..=1.0).contains(&p) {
            return Err(src.at(
                value.span(),
                format!("random `{behaviour}` must be a probability between 0 and 1, got {p}"),
            ));
        }
        sum += p;
        if sum > 1.0 + 1e-9 {
            return Err(src.at(
                value.span(),
                format!("random probabilities add up to more than 1 ({sum})"),
            ));
        }
        out.push((behaviour, p));
    }
    out.sort_by_key(|(b, _)| *b);
    Ok(out)
}

/// The redress keys of one table, as written.
struct RawRedress<'a> {
    url: Option<&'a Spanned<String>>,
    tel: Option<&'a Spanned<String>>,
    email: Option<&'a Spanned<String>>,
    id: Option<&'a Spanned<String>>,
    location: Option<&'a Spanned<String>>,
}

/// Characters that would break the quoted ATIS text or the header line.
fn breaks_reason_text(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | ';' | '\\' | ','))
}

/// Overlay `raw` on `base`; `""` removes url, tel or email.
fn redress(src: &Source<'_>, base: &Redress, raw: RawRedress<'_>, table: &str) -> Result<Redress> {
    let mut out = base.clone();
    if let Some(u) = raw.url {
        let url = u.get_ref();
        out.url = if url.is_empty() {
            None
        } else {
            let rest = url.strip_prefix("https://").unwrap_or_default();
            if rest.is_empty() || breaks_reason_text(url) || url.len() > 200 {
                return Err(src.at(
                    u.span(),
                    format!(
                        "redress_url \"{}\" must be an https:// URL of at most 200 characters \
                         without spaces, quotes, ';' or ',' (or \"\" to omit it)",
                        url.escape_debug()
                    ),
                ));
            }
            Some(url.clone())
        };
    }
    if let Some(t) = raw.tel {
        out.tel = if t.get_ref().is_empty() {
            None
        } else {
            Some(
                E164::parse(t.get_ref())
                    .map_err(|e| src.at(t.span(), format!("redress_tel {e}")))?,
            )
        };
    }
    if let Some(e) = raw.email {
        let email = e.get_ref();
        out.email = if email.is_empty() {
            None
        } else {
            let ok = email.matches('@').count() == 1
                && !email.starts_with('@')
                && !email.ends_with('@')
                && !breaks_reason_text(email)
                && email.len() <= 200;
            if !ok {
                return Err(src.at(
                    e.span(),
                    format!(
                        "redress_email \"{}\" must be one address like redress@example.com (or \"\" to omit it)",
                        email.escape_debug()
                    ),
                ));
            }
            Some(email.clone())
        };
    }
    if let Some(i) = raw.id {
        let id = i.get_ref();
        let ok = !id.is_empty()
            && id.len() <= MAX_REDRESS_ID_PREFIX
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(src.at(
                i.span(),
                format!(
                    "redress_id \"{}\" must be 1-{MAX_REDRESS_ID_PREFIX} characters of A-Z, a-z, 0-9, '_' and '-' \
                     (a per-call suffix is added; ATIS ids are at most 64 characters)",
                    id.escape_debug()
                ),
            ));
        }
        out.id_prefix = Some(id.clone());
    }
    if let Some(l) = raw.location {
        let loc = l.get_ref();
        let ok = !loc.is_empty()
            && loc.len() <= 16
            && loc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(src.at(
                l.span(),
                format!(
                    "location \"{}\" must be an RFC 8606 token such as RLN, TN, LN, RPN, LPN or U",
                    loc.escape_debug()
                ),
            ));
        }
        out.location = loc.clone();
    }
    if out.url.is_none() && out.tel.is_none() && out.email.is_none() {
        let span = [raw.url, raw.tel, raw.email]
            .into_iter()
            .flatten()
            .map(Spanned::span)
            .next()
            .unwrap_or(0..0);
        return Err(src.at(
            span,
            format!(
                "{table}: ATIS-1000099 needs at least one of redress_url, redress_tel and redress_email"
            ),
        ));
    }
    Ok(out)
}

/// `listen`: an IP literal and a port (`127.0.0.1:5070`, `[::1]:5070`);
/// port 0 picks a free port.
fn parse_listen(s: &str) -> std::result::Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Err(format!(
            "listen \"{s}\" has no port, e.g. \"{}\"",
            SocketAddr::new(ip, lab_defaults::LISTEN.port())
        ));
    }
    Err(format!(
        "listen \"{}\" must be an IP address and port, e.g. \"{}\" or \"[::1]:5070\"",
        s.escape_debug(),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), lab_defaults::LISTEN.port())
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const BASE: &str = r#"
[trunk]
proxy = "lab"

[[numbers]]
number = "+12025550143"

[[numbers]]
number = "+13125550101"

[[carriers]]
name = "att"
destinations = ["+13125550178"]

[[carriers]]
name = "verizon"
destinations = ["+12125550162"]
"#;

    fn parse(lab: &str) -> std::result::Result<Config, ConfigError> {
        Config::parse_str(&format!("{BASE}{lab}"), Path::new("probes.toml"))
    }

    fn ok(lab: &str) -> LabSettings {
        parse(lab).unwrap_or_else(|e| panic!("{e}\n{lab}")).lab
    }

    /// (line within `lab` counting from 1, column, message)
    fn err(lab: &str) -> (usize, usize, String) {
        let e = parse(lab).expect_err("expected an error");
        let p = e.position().unwrap_or_else(|| panic!("no position: {e}"));
        let base_lines = BASE.lines().count();
        (
            p.line - base_lines,
            p.column,
            e.message().unwrap_or_default().to_owned(),
        )
    }

    #[test]
    fn absent_table_means_defaults() {
        let cfg = parse("").expect("valid");
        assert_eq!(cfg.lab, LabSettings::default());
        assert!(cfg.trunk_is_lab());
        let lab = &cfg.lab;
        assert_eq!(lab.listen, "127.0.0.1:5070".parse().expect("addr"));
        assert_eq!(lab.default.behaviour, LabBehaviour::Ring);
        assert_eq!(lab.unknown, LabBehaviour::Ring);
        assert_eq!(lab.default.blocked_behaviour, LabBehaviour::NetworkBlocked);
        assert_eq!(lab.rule("att"), &lab.default);
        assert_eq!(
            lab.default.redress.url.as_deref(),
            Some(lab_defaults::REDRESS_URL)
        );
        assert_eq!(lab.default.redress.location, "RLN");
        // An empty table is the same.
        assert_eq!(ok("[lab]\n"), LabSettings::default());
    }

    #[test]
    fn every_key_is_read_and_inherited() {
        let lab = ok(r#"
[lab]
listen = "[::1]:0"
default = "answer"
unknown = "not_found"
blocked_behaviour = "rejected"
alert_first = true
pdd_ms = 0
alert_ms = 250
ring_timeout_seconds = 2.5
retry_after_seconds = 30
seed = 7
redress_url = "https://blocked.example/r"
redress_tel = "+1 800 555 0100"
redress_email = ""
redress_id = "blk_7"
location = "TN"
random = { busy = 0.25, decline = 0.5 }

[[lab.carriers]]
name = "att"
behaviour = "ring"
block = ["+13125550101"]
pdd_ms = 10
alert_first = false
redress_url = ""
redress_email = "noc@att.example"
location = "RLN"
random = {}
"#);
        assert_eq!(lab.listen, "[::1]:0".parse().expect("addr"));
        assert_eq!(lab.default.behaviour, LabBehaviour::Answer);
        assert_eq!(lab.unknown, LabBehaviour::NotFound);
        assert_eq!(lab.alert, Duration::from_millis(250));
        assert_eq!(lab.ring_timeout, Duration::from_millis(2500));
        assert_eq!(lab.retry_after_seconds, 30);
        assert_eq!(lab.seed, Some(7));
        let d = &lab.default;
        assert!(d.alert_first);
        assert_eq!(d.pdd, Duration::ZERO);
        assert_eq!(d.blocked_behaviour, LabBehaviour::Rejected);
        assert_eq!(
            d.random,
            vec![(LabBehaviour::Decline, 0.5), (LabBehaviour::Busy, 0.25)]
        );
        assert_eq!(d.redress.url.as_deref(), Some("https://blocked.example/r"));
        assert_eq!(
            d.redress.tel.as_ref().map(E164::as_str),
            Some("+18005550100")
        );
        assert_eq!(d.redress.email, None);
        assert_eq!(d.redress.id_prefix.as_deref(), Some("blk_7"));
        assert_eq!(d.redress.location, "TN");

        let att = lab.rule("att");
        assert_eq!(att.carrier.as_deref(), Some("att"));
        assert_eq!(att.behaviour, LabBehaviour::Ring);
        assert_eq!(att.blocked_behaviour, LabBehaviour::Rejected);
        assert_eq!(att.block[0].as_str(), "+13125550101");
        assert_eq!(att.pdd, Duration::from_millis(10));
        assert!(!att.alert_first);
        assert!(att.random.is_empty());
        assert_eq!(att.redress.url, None);
        assert_eq!(att.redress.tel, d.redress.tel);
        assert_eq!(att.redress.email.as_deref(), Some("noc@att.example"));
        assert_eq!(att.redress.id_prefix.as_deref(), Some("blk_7"));
        assert_eq!(att.redress.location, "RLN");
        // A carrier without a rule takes the default rule.
        assert_eq!(lab.rule("verizon"), &lab.default);
    }

    #[test]
    fn block_list_and_randomness_pick_behaviours() {
        let lab = ok(r#"
[[lab.carriers]]
name = "att"
behaviour = "ring"
block = ["+13125550101"]
random = { busy = 0.1, network_blocked = 0.2 }
"#);
        let att = lab.rule("att");
        let blocked = E164::parse("+13125550101").expect("e164");
        let clean = E164::parse("+12025550143").expect("e164");
        assert_eq!(
            att.behaviour_for(Some(&blocked)),
            (LabBehaviour::NetworkBlocked, true)
        );
        assert_eq!(att.behaviour_for(Some(&clean)), (LabBehaviour::Ring, false));
        assert_eq!(att.behaviour_for(None), (LabBehaviour::Ring, false));
        // network_blocked sorts before busy: [0, 0.2) then [0.2, 0.3).
        assert_eq!(
            att.randomise(LabBehaviour::Ring, 0.0),
            LabBehaviour::NetworkBlocked
        );
        assert_eq!(att.randomise(LabBehaviour::Ring, 0.25), LabBehaviour::Busy);
        assert_eq!(att.randomise(LabBehaviour::Ring, 0.31), LabBehaviour::Ring);
        assert_eq!(att.randomise(LabBehaviour::Ring, 0.99), LabBehaviour::Ring);
    }

    #[test]
    fn errors_are_located() {
        let cases: &[(&str, (usize, usize), &str)] = &[
            (
                "[lab]\ndefault = \"ringing\"\n",
                (2, 11),
                "unknown lab behaviour \"ringing\"",
            ),
            (
                "[[lab.carriers]]\nname = \"sprint\"\n",
                (2, 8),
                "not a [[carriers]] name (configured: att, verizon)",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\n[[lab.carriers]]\nname = \"att\"\n",
                (4, 8),
                "duplicate lab rule for carrier `att`",
            ),
            (
                "[[lab.carriers]]\nbehaviour = \"busy\"\n",
                (1, 1),
                "has no `name`",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\nblock = [\"+1312555010\"]\n",
                (3, 10),
                "NANP numbers have 10 digits",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\nblock = [13125550101]\n",
                (3, 10),
                "must be quoted strings",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\nblock = [\"+13125550101\", \"+13125550101\"]\n",
                (3, 26),
                "listed twice",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\nblocked_behaviour = \"blocked\"\n",
                (3, 21),
                "blocked_behaviour: unknown lab behaviour",
            ),
            (
                "[lab]\nrandom = { bogus = 0.1 }\n",
                (2, 12),
                "random: unknown lab behaviour",
            ),
            (
                "[lab]\nrandom = { busy = 1.5 }\n",
                (2, 19),
                "between 0 and 1",
            ),
            ("[lab]\nrandom = { busy = \"x\" }\n", (2, 19), "got string"),
            (
                "[lab]\nrandom = { busy = 0.6, decline = 0.6 }\n",
                (2, 34),
                "add up to more than 1",
            ),
            (
                "[lab]\nlisten = \"localhost:5070\"\n",
                (2, 10),
                "IP address and port",
            ),
            ("[lab]\nlisten = \"127.0.0.1\"\n", (2, 10), "has no port"),
            ("[lab]\npdd_ms = -1\n", (2, 10), "between 0 and 60000"),
            (
                "[lab]\nring_timeout_seconds = 0\n",
                (2, 24),
                "between 1 and 3600",
            ),
            (
                "[lab]\nseed = 1.5\n",
                (2, 8),
                "non-negative whole number, got 1.5",
            ),
            (
                "[lab]\nseed = -1\n",
                (2, 8),
                "non-negative whole number, got -1",
            ),
            (
                "[lab]\nredress_url = \"http://x.example\"\n",
                (2, 15),
                "https:// URL",
            ),
            (
                "[lab]\nredress_url = \"https://x;y\"\n",
                (2, 15),
                "https:// URL",
            ),
            ("[lab]\nredress_tel = \"911\"\n", (2, 15), "redress_tel"),
            (
                "[lab]\nredress_email = \"a@b@c\"\n",
                (2, 17),
                "redress_email",
            ),
            ("[lab]\nredress_id = \"has space\"\n", (2, 14), "redress_id"),
            ("[lab]\nlocation = \"R LN\"\n", (2, 12), "RFC 8606 token"),
            (
                "[lab]\nredress_url = \"\"\nredress_tel = \"\"\nredress_email = \"\"\n",
                (2, 15),
                "at least one of",
            ),
            (
                "[lab]\nbehavior = \"ring\"\n",
                (2, 1),
                "unknown field `behavior` in [lab]",
            ),
            (
                "[[lab.carriers]]\nname = \"att\"\nbehavior = \"ring\"\n",
                (3, 1),
                "unknown field `behavior` in [[lab.carriers]]",
            ),
        ];
        for (lab, (line, col), want) in cases {
            let (l, c, msg) = err(lab);
            assert!(msg.contains(want), "{lab:?}: {msg}");
            assert_eq!((l, c), (*line, *col), "{lab:?}: {msg}");
        }
    }

    #[test]
    fn behaviour_names_round_trip() {
        for b in LabBehaviour::ALL {
            assert_eq!(LabBehaviour::from_name(b.as_str()), Some(b));
            assert_eq!(b.to_string(), b.as_str());
        }
        assert_eq!(LabBehaviour::from_name("Ring"), None);
    }
}
