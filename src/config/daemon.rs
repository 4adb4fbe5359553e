//! The daemon's tables: `[schedule]` (beyond `cps`/`max_concurrent`),
//! `[http]` and `[alerts]`. Stage 1 structs live in `raw.rs`; this file
//! validates them with line:column errors like the rest of the config.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveTime;
use toml::Spanned;

use super::error::{ConfigError, Source};
use super::raw::{RawAlerts, RawHttp, RawSchedule};
use super::validate::integer;

type Result<T> = std::result::Result<T, ConfigError>;

/// Parse a duration like `6h`, `30m`, `45s`, `1d`, `2w` (an integer and a unit).
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 6h, 30m, 45s, 1d"))?;
    let unit_secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use s, m, h, d or w)"
            ));
        }
    };
    match n.checked_mul(unit_secs) {
        Some(secs) if secs > 0 && secs <= 3650 * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(format!("`{text}`: out of range (1 s to 10 years)")),
    }
}

/// The daily calling window, in the schedule's timezone. `start > end`
/// wraps past midnight; `00:00-24:00` is the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallWindow {
    /// First minute calls may start.
    pub start: NaiveTime,
    /// Calls may start until (excluding) this time; `None` means midnight at the end of the day.
    pub end: Option<NaiveTime>,
}

impl CallWindow {
    /// The whole day.
    pub const ALL_DAY: CallWindow = CallWindow {
        start: NaiveTime::MIN,
        end: None,
    };

    /// `true` when a call may start at local time `t`.
    pub fn contains(&self, t: NaiveTime) -> bool {
        match self.end {
            None => t >= self.start,
            Some(end) if self.start <= end => t >= self.start && t < end,
            Some(end) => t >= self.start || t < end,
        }
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| format!("`{text}`: expected HH:MM-HH:MM, e.g. 09:00-20:00"))?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("`{}` is not a HH:MM time", s.trim()))
        };
        let start = time(a)?;
        let end = if b.trim() == "24:00" {
            None
        } else {
            Some(time(b)?)
        };
        if end == Some(start) {
            return Err(format!(
                "`{text}`: the window is empty (use 00:00-24:00 for the whole day)"
            ));
        }
        Ok(Self { start, end })
    }
}

/// `[schedule]`: when the daemon probes, and how gently.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSettings {
    /// New calls per second through the trunk (`cps`, > 0 and ≤ 100, default 1).
    pub cps: f64,
    /// Calls in progress at once (`max_concurrent`, 1 to 1000, default 10).
    pub max_concurrent: usize,
    /// Target interval per (number, destination) pair (`every`, default 6h).
    pub every: Duration,
    /// Interval for a pair whose last answer was 603+/608 (`blocked_every`, default 24h).
    pub blocked_every: Duration,
    /// Calling window in `timezone` (`window`, default 09:00-20:00).
    pub window: CallWindow,
    /// IANA timezone of the window and of the daily budget (`timezone`, default UTC).
    pub timezone: chrono_tz::Tz,
    /// Hard cap of calls from one number per local day (`max_calls_per_number_per_day`, default 8).
    pub max_calls_per_number_per_day: u32,
    /// Random spread of each due time, as a fraction of the interval (`jitter`, 0 to 0.5, default 0.1).
    pub jitter: f64,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            cps: super::defaults::CPS,
            max_concurrent: super::defaults::MAX_CONCURRENT,
            every: Duration::from_secs(6 * 3600),
            blocked_every: Duration::from_secs(24 * 3600),
            window: CallWindow {
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
                end: NaiveTime::from_hms_opt(20, 0, 0),
            },
            timezone: chrono_tz::UTC,
            max_calls_per_number_per_day: 8,
            jitter: 0.1,
        }
    }
}

/// `[http]`: the read-only status endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Listen address (`listen`, default 127.0.0.1:9464; loopback unless you say otherwise).
    pub listen: SocketAddr,
    /// Environment variable holding a bearer token required for everything but /healthz (`token_env`).
    pub token_env: Option<String>,
    /// Allow phone numbers as Prometheus label values (`number_labels`, default false).
    pub number_labels: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            token_env: None,
            number_labels: false,
        }
    }
}

/// One `[[alerts.webhook]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Where state changes are POSTed (http or https).
    pub url: String,
}

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Webhooks receiving every state change.
    pub webhooks: Vec<Webhook>,
    /// Undelivered alerts kept per webhook before the oldest is dropped (`queue`, default 1000).
    pub queue: usize,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            queue: 1000,
        }
    }
}

fn text_value<T>(
    src: &Source<'_>,
    v: &Spanned<String>,
    what: &str,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<T> {
    parse(v.get_ref()).map_err(|e| src.at(v.span(), format!("{what}: {e}")))
}

/// Validate the daemon keys of `[schedule]` on top of `base` (cps, max_concurrent).
pub(super) fn schedule_extras(
    src: &Source<'_>,
    raw: Option<&RawSchedule>,
    mut base: ScheduleSettings,
) -> Result<ScheduleSettings> {
    let Some(raw) = raw else { return Ok(base) };
    if let Some(v) = &raw.every {
        base.every = text_value(src, v, "[schedule] every", parse_duration)?;
        if base.every < Duration::from_secs(10) {
            return Err(src.at(v.span(), "[schedule] every must be at least 10s"));
        }
    }
    base.blocked_every = match &raw.blocked_every {
        Some(v) => text_value(src, v, "[schedule] blocked_every", parse_duration)?,
        None => base.blocked_every.max(base.every),
    };
    if let Some(v) = &raw.blocked_every
        && base.blocked_every < base.every
    {
        return Err(src.at(v.span(), "[schedule] blocked_every must not be shorter than every: back off from blocks, never probe them faster"));
    }
    if let Some(v) = &raw.window {
        base.window = text_value(src, v, "[schedule] window", CallWindow::parse)?;
    }
    if let Some(v) = &raw.timezone {
        base.timezone = text_value(src, v, "[schedule] timezone", |s| {
            s.parse::<chrono_tz::Tz>()
                .map_err(|_| format!("`{s}` is not an IANA timezone name (e.g. America/New_York)"))
        })?;
    }
    if let Some(v) = &raw.max_calls_per_number_per_day {
        let n = integer(
            src,
            v,
            "[schedule] max_calls_per_number_per_day",
            "calls",
            1,
            100_000,
        )?;
        base.max_calls_per_number_per_day = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(v) = &raw.jitter {
        let x = match v.get_ref() {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            _ => f64::NAN,
        };
        if !(0.0..=0.5).contains(&x) {
            return Err(src.at(
                v.span(),
                "[schedule] jitter must be a number from 0 to 0.5 (a fraction of the interval)",
            ));
        }
        base.jitter = x;
    }
    Ok(base)
}

/// Validate `[http]`.
pub(super) fn http_settings(src: &Source<'_>, raw: Option<RawHttp>) -> Result<HttpSettings> {
    let mut out = HttpSettings::default();
    let Some(raw) = raw else { return Ok(out) };
    if let Some(v) = &raw.listen {
        out.listen = text_value(src, v, "[http] listen", |s| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("`{s}` is not an IP:port address (e.g. 127.0.0.1:9464)"))
        })?;
    }
    if let Some(v) = raw.token_env {
        let name = v.get_ref();
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(src.at(v.span(), "[http] token_env must be the NAME of an environment variable holding the token, e.g. RINGWATCH_HTTP_TOKEN"));
        }
        out.token_env = Some(v.into_inner());
    }
    out.number_labels = raw.number_labels.unwrap_or(false);
    Ok(out)
}

/// Validate `[alerts]`.
pub(super) fn alert_settings(src: &Source<'_>, raw: Option<RawAlerts>) -> Result<AlertSettings> {
    let mut out = AlertSettings::default();
    let Some(raw) = raw else { return Ok(out) };
    for hook in raw.webhook.unwrap_or_default() {
        let Some(url) = hook.url else {
            return Err(src.whole("[[alerts.webhook]] entry has no `url`"));
        };
        let u = url.get_ref();
        if !(u.starts_with("http://") || u.starts_with("https://"))
            || u.contains(char::is_whitespace)
        {
            return Err(src.at(
                url.span(),
                format!("[[alerts.webhook]] url `{u}` must be an http:// or https:// URL"),
            ));
        }
        out.webhooks.push(Webhook {
            url: url.into_inner(),
        });
    }
    if let Some(v) = &raw.queue {
        let n = integer(src, v, "[alerts] queue", "alerts", 1, 1_000_000)?;
        out.queue = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("6").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("6y").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn windows() {
        let w = CallWindow::parse("09:00-20:00").expect("valid");
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("time");
        assert!(w.contains(t(9, 0)) && w.contains(t(19, 59)));
        assert!(!w.contains(t(20, 0)) && !w.contains(t(8, 59)));
        let night = CallWindow::parse("20:00-08:00").expect("wraps");
        assert!(night.contains(t(23, 0)) && night.contains(t(7, 0)) && !night.contains(t(12, 0)));
        let all = CallWindow::parse("00:00-24:00").expect("all day");
        assert_eq!(all, CallWindow::ALL_DAY);
        assert!(all.contains(t(0, 0)) && all.contains(t(23, 59)));
        assert!(CallWindow::parse("10:00-10:00").is_err());
        assert!(CallWindow::parse("9-5").is_err());
    }
}
