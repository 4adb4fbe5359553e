//! The validated configuration (`probes.toml`) and how to load it.
//!
//! Two stages (STYLE.md 7.1 rule 10): `raw.rs` deserializes the TOML as
//! written (unknown keys are errors, positions kept), `validate.rs` turns it
//! into the typed [`Config`] below, applying defaults and checking ranges.
//! Every error is one line, `FILE:LINE:COL: message` when a position is
//! known ([`ConfigError`]). This module reads the file and nothing else: it
//! does not read environment variables (a password is only *named* here,
//! by [`Trunk::password_env`]), resolve DNS or open sockets.

mod daemon;
mod e164;
mod error;
mod lab;
mod raw;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use daemon::{
    AlertSettings, CallWindow, HttpSettings, ScheduleSettings, Webhook, parse_duration,
};
pub use e164::{E164, E164Error, E164ErrorKind, MAX_DIGITS};
pub use error::{ConfigError, Location, Position};
pub use lab::{LabBehaviour, LabRule, LabSettings, Redress, lab_defaults};

/// The annotated template shipped as `probes.toml`; it is valid.
pub const EXAMPLE: &str = include_str!("../../probes.toml");

/// Default values of optional keys.
pub mod defaults {
    use std::time::Duration;

    /// SIP port used when `[trunk] proxy` has none.
    pub const SIP_PORT: u16 = 5060;
    /// `[trunk] user_phone`.
    pub const USER_PHONE: bool = true;
    /// `[call] ring_seconds`.
    pub const RING: Duration = Duration::from_secs(6);
    /// `[call] t1_ms` (RFC 3261 T1).
    pub const T1: Duration = Duration::from_millis(500);
    /// `[call] linger_ms`.
    pub const LINGER: Duration = Duration::from_millis(2000);
    /// `[call] alert_timeout_seconds`.
    pub const ALERT_TIMEOUT: Duration = Duration::from_secs(30);
    /// `[schedule] cps`.
    pub const CPS: f64 = 1.0;
    /// `[schedule] max_concurrent`.
    pub const MAX_CONCURRENT: usize = 10;
}

/// A validated `probes.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from, as the user named it.
    pub source: PathBuf,
    /// Where calls go and how they are addressed (`[trunk]`).
    pub trunk: Trunk,
    /// Per-call timing (`[call]`).
    pub call: CallSettings,
    /// Pacing of many calls (`[schedule]`).
    pub schedule: ScheduleSettings,
    /// The history database (`[store]`).
    pub store: StoreSettings,
    /// The daemon's status endpoint (`[http]`).
    pub http: HttpSettings,
    /// Where state changes are sent (`[alerts]`).
    pub alerts: AlertSettings,
    /// The caller IDs we own, in file order; never empty, no duplicates.
    pub numbers: Vec<OwnedNumber>,
    /// The destination matrix, in file order; never empty, names unique.
    pub carriers: Vec<Carrier>,
    /// The built-in carrier lab (`[lab]`; defaults when absent).
    pub lab: LabSettings,
}

/// The SIP trunk every INVITE goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    /// Host to send to: a DNS name or IP literal, IPv6 *without* brackets
    /// (ready for `(host, port)` resolution).
    pub proxy_host: String,
    /// UDP port to send to (default 5060).
    pub proxy_port: u16,
    /// Transport protocol.
    pub transport: Transport,
    /// Host part of the Request-URI and To (`[trunk] domain`, default the
    /// proxy host). In URI form: an IPv6 literal keeps its brackets.
    pub domain: String,
    /// Host part of From and P-Asserted-Identity; `None` means the UAC's
    /// local IP. In URI form like `domain`.
    pub from_domain: Option<String>,
    /// Digest auth user, when the trunk challenges.
    pub username: Option<String>,
    /// Name of the environment variable holding the digest password. Set
    /// exactly when `username` is.
    pub password_env: Option<String>,
    /// Add `;user=phone` to SIP URIs carrying numbers (default true).
    pub user_phone: bool,
}

impl Trunk {
    /// The proxy as `host:port`, IPv6 in brackets: `[::1]:5060`.
    pub fn proxy(&self) -> String {
        if self.proxy_host.contains(':') {
            format!("[{}]:{}", self.proxy_host, self.proxy_port)
        } else {
            format!("{}:{}", self.proxy_host, self.proxy_port)
        }
    }
}

/// SIP transport to the trunk. Only UDP for now; `tcp` and `tls` in the
/// file are rejected as not supported yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP.
    Udp,
}

impl Transport {
    /// Lower-case name as written in the config file: `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-call timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSettings {
    /// After the far end alerts, hang up (CANCEL) this long later
    /// (`ring_seconds`, 1 to 120 s, fractions allowed, default 6 s).
    pub ring: Duration,
    /// RFC 3261 T1 (`t1_ms`, 50 to 5000 ms, default 500 ms).
    pub t1: Duration,
    /// Keep absorbing retransmitted final responses this long after the
    /// outcome is known (`linger_ms`, 0 to 32000 ms, default 2000 ms).
    pub linger: Duration,
    /// CANCEL when neither a 180 nor a final response arrived this long
    /// after the INVITE (`alert_timeout_seconds`, 1 to 300 s, default 30 s).
    pub alert_timeout: Duration,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            ring: defaults::RING,
            t1: defaults::T1,
            linger: defaults::LINGER,
            alert_timeout: defaults::ALERT_TIMEOUT,
        }
    }
}

/// A caller ID we own and probe from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedNumber {
    /// The number, canonical E.164.
    pub number: E164,
    /// A human name for reports (trimmed, non-empty when present).
    pub label: Option<String>,
}

/// A terminating carrier and the destinations on it we call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carrier {
    /// Short name: `[a-z0-9][a-z0-9_-]*`, at most 32 characters, unique.
    pub name: String,
    /// Numbers on this carrier; never empty, no duplicates.
    pub destinations: Vec<E164>,
}

/// Default database file name, beside the config file.
pub const DEFAULT_STORE_FILE: &str = "ringwatch.db";

/// Where the history lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// Database path (`[store] path`, relative to the config file's
    /// directory; default `ringwatch.db` beside it). `--db` overrides it.
    pub path: PathBuf,
}

impl Config {
    /// Read and validate the file at `path`. A missing file is
    /// [`ConfigError::NotFound`], naming the path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::NotFound {
                    path: path.to_owned(),
                }
            } else {
                ConfigError::Read {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        Config::parse_str(&text, path)
    }

    /// Validate `text` as if read from `source` (used in messages only).
    pub fn parse_str(text: &str, source: &Path) -> Result<Config, ConfigError> {
        let raw =
            raw::parse(text).map_err(|e| error::Source { text, path: source }.toml_error(&e))?;
        validate::validate(raw, text, source)
    }

    /// The carrier called `name`.
    pub fn carrier(&self, name: &str) -> Option<&Carrier> {
        self.carriers.iter().find(|c| c.name == name)
    }

    /// The owned number `n`, with its label.
    pub fn number(&self, n: &E164) -> Option<&OwnedNumber> {
        self.numbers.iter().find(|o| &o.number == n)
    }

    /// The first carrier that lists `destination`.
    pub fn carrier_of(&self, destination: &E164) -> Option<&Carrier> {
        self.carriers
            .iter()
            .find(|c| c.destinations.contains(destination))
    }

    /// Calls one full run places: every owned number calls every
    /// destination of every carrier once.
    pub fn calls_per_run(&self) -> usize {
        let destinations: usize = self.carriers.iter().map(|c| c.destinations.len()).sum();
        self.numbers.len().saturating_mul(destinations)
    }
}

#[cfg(test)]
mod tests;
