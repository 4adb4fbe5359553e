//! Stage 1: the TOML file as written, with byte spans, before validation.
//!
//! Every struct denies unknown fields. Every field is optional here, so
//! that "missing" and "out of range" are reported by stage 2
//! (`validate.rs`) with our own words and a line:column. Values that stage 2
//! checks keep their [`Spanned`] position. Nothing here interprets values.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::{Spanned, Value};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) trunk: Option<Spanned<RawTrunk>>,
    pub(crate) call: Option<RawCall>,
    pub(crate) schedule: Option<RawSchedule>,
    pub(crate) store: Option<RawStore>,
    pub(crate) http: Option<RawHttp>,
    pub(crate) alerts: Option<RawAlerts>,
    pub(crate) numbers: Option<Vec<Spanned<RawNumber>>>,
    pub(crate) carriers: Option<Vec<Spanned<RawCarrier>>>,
    pub(crate) lab: Option<RawLab>,
}

/// `[trunk]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrunk {
    pub(crate) proxy: Option<Spanned<String>>,
    pub(crate) transport: Option<Spanned<String>>,
    pub(crate) domain: Option<Spanned<String>>,
    pub(crate) from_domain: Option<Spanned<String>>,
    pub(crate) username: Option<Spanned<String>>,
    pub(crate) password_env: Option<Spanned<String>>,
    pub(crate) user_phone: Option<bool>,
}

/// `[call]`. Numbers stay [`Value`]s: integer or float is decided in stage 2.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCall {
    pub(crate) ring_seconds: Option<Spanned<Value>>,
    pub(crate) t1_ms: Option<Spanned<Value>>,
    pub(crate) linger_ms: Option<Spanned<Value>>,
    pub(crate) alert_timeout_seconds: Option<Spanned<Value>>,
}

/// `[schedule]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    pub(crate) cps: Option<Spanned<Value>>,
    pub(crate) max_concurrent: Option<Spanned<Value>>,
    pub(crate) every: Option<Spanned<String>>,
    pub(crate) blocked_every: Option<Spanned<String>>,
    pub(crate) window: Option<Spanned<String>>,
    pub(crate) timezone: Option<Spanned<String>>,
    pub(crate) max_calls_per_number_per_day: Option<Spanned<Value>>,
    pub(crate) jitter: Option<Spanned<Value>>,
}

/// `[http]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    pub(crate) listen: Option<Spanned<String>>,
    pub(crate) token_env: Option<Spanned<String>>,
    pub(crate) number_labels: Option<bool>,
}

/// `[alerts]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    pub(crate) webhook: Option<Vec<RawWebhook>>,
    pub(crate) queue: Option<Spanned<Value>>,
}

/// One `[[alerts.webhook]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub(crate) url: Option<Spanned<String>>,
}

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub(crate) path: Option<Spanned<String>>,
}

/// One `[[numbers]]` entry. `number` is a [`Value`] so that an unquoted
/// `number = +12025550143` (a TOML integer) gets a helpful message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNumber {
    pub(crate) number: Option<Spanned<Value>>,
    pub(crate) label: Option<Spanned<String>>,
}

/// One `[[carriers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCarrier {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) destinations: Option<Spanned<Vec<Spanned<Value>>>>,
}

/// `random = { behaviour = probability, ... }` of `[lab]` and
/// `[[lab.carriers]]`: names and values checked in stage 2.
pub(crate) type RawRandom = Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>;

/// `[lab]`: the built-in carrier lab (see `config/lab.rs`). Not
/// [`Spanned`]: toml cannot span a table created implicitly by a
/// `[[lab.carriers]]` header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLab {
    pub(crate) listen: Option<Spanned<String>>,
    pub(crate) default: Option<Spanned<String>>,
    pub(crate) unknown: Option<Spanned<String>>,
    pub(crate) blocked_behaviour: Option<Spanned<String>>,
    pub(crate) alert_first: Option<bool>,
    pub(crate) pdd_ms: Option<Spanned<Value>>,
    pub(crate) alert_ms: Option<Spanned<Value>>,
    pub(crate) ring_timeout_seconds: Option<Spanned<Value>>,
    pub(crate) retry_after_seconds: Option<Spanned<Value>>,
    pub(crate) seed: Option<Spanned<Value>>,
    pub(crate) redress_url: Option<Spanned<String>>,
    pub(crate) redress_tel: Option<Spanned<String>>,
    pub(crate) redress_email: Option<Spanned<String>>,
    pub(crate) redress_id: Option<Spanned<String>>,
    pub(crate) location: Option<Spanned<String>>,
    pub(crate) random: Option<RawRandom>,
    pub(crate) carriers: Option<Vec<Spanned<RawLabCarrier>>>,
}

/// One `[[lab.carriers]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLabCarrier {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) behaviour: Option<Spanned<String>>,
    pub(crate) block: Option<Spanned<Vec<Spanned<Value>>>>,
    pub(crate) blocked_behaviour: Option<Spanned<String>>,
    pub(crate) alert_first: Option<bool>,
    pub(crate) pdd_ms: Option<Spanned<Value>>,
    pub(crate) redress_url: Option<Spanned<String>>,
    pub(crate) redress_tel: Option<Spanned<String>>,
    pub(crate) redress_email: Option<Spanned<String>>,
    pub(crate) redress_id: Option<Spanned<String>>,
    pub(crate) location: Option<Spanned<String>>,
    pub(crate) random: Option<RawRandom>,
}

/// A table of the file and the keys it accepts, in declaration order. Used
/// to name the table in "unknown field" messages; a unit test keeps these
/// lists equal to the structs above.
pub(crate) const SECTIONS: &[(&str, &[&str])] = &[
    (
        "the top level",
        &[
            "trunk", "call", "schedule", "store", "http", "alerts", "numbers", "carriers", "lab",
        ],
    ),
    (
        "[trunk]",
        &[
            "proxy",
            "transport",
            "domain",
            "from_domain",
            "username",
            "password_env",
            "user_phone",
        ],
    ),
    (
        "[call]",
        &[
            "ring_seconds",
            "t1_ms",
            "linger_ms",
            "alert_timeout_seconds",
        ],
    ),
    (
        "[schedule]",
        &[
            "cps",
            "max_concurrent",
            "every",
            "blocked_every",
            "window",
            "timezone",
            "max_calls_per_number_per_day",
            "jitter",
        ],
    ),
    ("[http]", &["listen", "token_env", "number_labels"]),
    ("[alerts]", &["webhook", "queue"]),
    ("[[alerts.webhook]]", &["url"]),
    ("[store]", &["path"]),
    ("[[numbers]]", &["number", "label"]),
    ("[[carriers]]", &["name", "destinations"]),
    (
        "[lab]",
        &[
            "listen",
            "default",
            "unknown",
            "blocked_behaviour",
            "alert_first",
            "pdd_ms",
            "alert_ms",
            "ring_timeout_seconds",
            "retry_after_seconds",
            "seed",
            "redress_url",
            "redress_tel",
            "redress_email",
            "redress_id",
            "location",
            "random",
            "carriers",
        ],
    ),
    (
        "[[lab.carriers]]",
        &[
            "name",
            "behaviour",
            "block",
            "blocked_behaviour",
            "alert_first",
            "pdd_ms",
            "redress_url",
            "redress_tel",
            "redress_email",
            "redress_id",
            "location",
            "random",
        ],
    ),
];

/// Internal struct names as serde spells them in "expected struct X", and
/// what the user should read instead.
pub(crate) const STRUCT_NAMES: &[(&str, &str)] = &[
    ("struct RawConfig", "a table"),
    ("struct RawTrunk", "a table"),
    ("struct RawCall", "a table"),
    ("struct RawSchedule", "a table"),
    ("struct RawStore", "a table"),
    ("struct RawHttp", "a table"),
    ("struct RawAlerts", "a table"),
    ("struct RawWebhook", "a table"),
    ("struct RawNumber", "a table"),
    ("struct RawCarrier", "a table"),
    ("struct RawLab", "a table"),
    ("struct RawLabCarrier", "a table"),
];

/// Parse the text into raw structs (syntax, types, unknown keys).
pub(crate) fn parse(text: &str) -> Result<RawConfig, toml::de::Error> {
    toml::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with every key of every table set, so that adding a
    /// field to a struct without adding it to `SECTIONS` (or the reverse)
    /// fails here.
    #[test]
    fn sections_list_every_field() {
        let mut doc = String::new();
        for (name, fields) in SECTIONS {
            let header = match *name {
                "the top level" => continue,
                h => h,
            };
            doc.push_str(header);
            doc.push('\n');
            for f in *fields {
                if (*name == "[lab]" && *f == "carriers")
                    || (*name == "[alerts]" && *f == "webhook")
                {
                    continue; // written as the [[lab.carriers]] / [[alerts.webhook]] tables
                }
                let v = match *f {
                    "user_phone" | "alert_first" | "number_labels" => "true",
                    "destinations" | "block" => "[\"+12025550178\"]",
                    "random" => "{ busy = 0.5 }",
                    "ring_seconds"
                    | "t1_ms"
                    | "linger_ms"
                    | "alert_timeout_seconds"
                    | "cps"
                    | "max_concurrent"
                    | "pdd_ms"
                    | "alert_ms"
                    | "ring_timeout_seconds"
                    | "retry_after_seconds"
                    | "seed"
                    | "max_calls_per_number_per_day"
                    | "jitter"
                    | "queue" => "1",
                    _ => "\"x\"",
                };
                doc.push_str(&format!("{f} = {v}\n"));
            }
        }
        let raw = parse(&doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
        assert!(raw.trunk.is_some() && raw.call.is_some() && raw.schedule.is_some());
        let lab = raw.lab.expect("[lab]");
        assert!(lab.random.is_some() && lab.carriers.is_some_and(|c| c.len() == 1));
        // And every struct rejects a key that is not listed.
        for (name, fields) in SECTIONS {
            let bad = match *name {
                "the top level" => "bogus = 1\n".to_owned(),
                h => format!("{h}\nbogus = 1\n"),
            };
            let err = parse(&bad).expect_err(name);
            let msg = err.message();
            let (_, expected) = msg.split_once(", ").unwrap_or_default();
            let mut listed = crate::config::error::backticked(expected);
            let mut want = fields.to_vec();
            listed.sort_unstable();
            want.sort_unstable();
            assert_eq!(listed, want, "{name}: {msg}");
        }
    }
}
