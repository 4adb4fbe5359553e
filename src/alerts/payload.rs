//! The JSON body of a state-change webhook: a Slack-compatible `text` line
//! plus the structured fields. Pure: no I/O, no clock.
//!
//! Everything interpolated into `text` is untrusted (a redress URL comes from
//! a carrier's 603+, a label from the config): control characters become
//! spaces, Slack's control characters `&`, `<`, `>` are escaped (so no
//! `<!channel>` or disguised link can be injected), and every piece is
//! length-bounded. The structured fields carry the values unchanged (JSON
//! escaping is serde's job).

use serde_json::{Value, json};

use super::StateChange;
use crate::classify::Outcome;
use crate::reputation::{Redress, State};

/// Longest piece (number, label, carrier, one redress contact, probe id) in `text`, in characters.
const PIECE_MAX: usize = 120;
/// Contacts of each kind (url, tel, email) shown in `text`.
const CONTACTS_MAX: usize = 2;

/// The JSON POST body for one state change.
///
/// `text` is one readable line for chat webhooks (Slack, Mattermost, …); the
/// other keys are for machines: `event` (`"state_change"`), `number`,
/// `label`, `carrier`, `from`, `to`, `at`, `since`, `attribution`,
/// `last_outcome`, `last_status`, `last_at`, `last_probe_id`, `redress`
/// (`{url, tel, email}` lists), `locations`, `reason`, `probes`, `counts`
/// and `evidence` (the attribution counts).
#[must_use]
pub fn payload(change: &StateChange) -> Value {
    let r = &change.report;
    json!({
        "text": text(change),
        "event": "state_change",
        "number": change.number,
        "label": change.label,
        "carrier": change.carrier,
        "from": change.from,
        "to": change.to,
        "at": change.at,
        "since": r.since,
        "attribution": r.attribution,
        "last_outcome": r.last_outcome,
        "last_status": r.last_status,
        "last_at": r.last_at,
        "last_probe_id": r.last_probe_id,
        "redress": r.redress,
        "locations": r.locations,
        "reason": r.reason,
        "probes": r.probes,
        "counts": r.counts,
        "evidence": r.evidence,
    })
}

/// The one-line `text`, e.g. `:red_circle: +12025550143 (sales-east) is now
/// BLOCKED at verizon (was unknown): 603+ network block, attribution number;
/// redress https://… tel +1… — probe 01a…`.
#[must_use]
pub fn text(change: &StateChange) -> String {
    let r = &change.report;
    let mut line = format!(
        "{} {}{} is now {} at {} (was {})",
        emoji(change.to),
        clean(&change.number),
        change
            .label
            .as_deref()
            .map(|l| format!(" ({})", clean(l)))
            .unwrap_or_default(),
        change.to.as_str().to_ascii_uppercase(),
        clean(&change.carrier),
        change.from.as_str(),
    );
    let what = match (r.last_outcome, change.to) {
        (_, State::Unknown) => Some("no recent evidence".to_string()),
        (Some(o), _) => Some(describe(o, r.last_status)),
        (None, _) => None,
    };
    if let Some(what) = what {
        line.push_str(": ");
        line.push_str(&what);
        if let Some(a) = r.attribution {
            line.push_str(", attribution ");
            line.push_str(a.as_str());
        }
    }
    let contacts = contacts(&r.redress);
    if !contacts.is_empty() {
        line.push_str("; redress ");
        line.push_str(&contacts);
    }
    if let Some(id) = &r.last_probe_id {
        line.push_str(" — probe ");
        line.push_str(&clean(id));
    }
    line
}

fn emoji(state: State) -> &'static str {
    match state {
        State::Blocked => ":red_circle:",
        State::Suspect => ":large_orange_circle:",
        State::Clean => ":large_green_circle:",
        State::Unknown => ":white_circle:",
    }
}

/// A few words for the newest probe's outcome.
fn describe(outcome: Outcome, status: Option<u16>) -> String {
    let fixed = match outcome {
        Outcome::NetworkBlocked => "603+ network block",
        Outcome::Rejected => "608 rejected",
        Outcome::Unwanted => "607 unwanted",
        Outcome::Forbidden => "403 forbidden",
        Outcome::Declined => "603 declined",
        Outcome::Ringing => "rang",
        Outcome::Answered => "answered",
        other => {
            return match status {
                Some(code) => format!("{} ({code})", other.as_str()),
                None => other.as_str().to_string(),
            };
        }
    };
    fixed.to_string()
}

fn contacts(redress: &Redress) -> String {
    let mut parts = Vec::new();
    for (kind, list) in [
        ("", &redress.url),
        ("tel ", &redress.tel),
        ("email ", &redress.email),
    ] {
        for item in list.iter().take(CONTACTS_MAX) {
            parts.push(format!("{kind}{}", clean(item)));
        }
        if list.len() > CONTACTS_MAX {
            parts.push(format!("(+{} more)", list.len() - CONTACTS_MAX));
        }
    }
    parts.join(" ")
}

/// Make an untrusted string safe for one Slack `text` line: control
/// characters become spaces, `&<>` are escaped, at most [`PIECE_MAX`]
/// characters are kept (an ellipsis marks a cut).
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(PIECE_MAX + 8));
    for (i, c) in s.chars().enumerate() {
        if i == PIECE_MAX {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::tests::change;
    use crate::reputation::Attribution;

    #[test]
    fn blocked_line_reads_like_the_example() {
        let c = change("+12025550143", State::Unknown, State::Blocked);
        assert_eq!(
            text(&c),
            ":red_circle: +12025550143 (sales-east) is now BLOCKED at verizon (was unknown): \
             603+ network block, attribution number; redress https://redress.example/v?id=7 \
             tel +18005550100 email fix@example.net — probe 01a2b3c4"
        );
    }

    #[test]
    fn structured_fields() {
        let c = change("+12025550143", State::Unknown, State::Blocked);
        let v = payload(&c);
        assert_eq!(v["event"], "state_change");
        assert_eq!(v["number"], "+12025550143");
        assert_eq!(v["label"], "sales-east");
        assert_eq!(v["carrier"], "verizon");
        assert_eq!(v["from"], "unknown");
        assert_eq!(v["to"], "blocked");
        assert_eq!(v["at"], "2025-06-01T14:00:00.000Z");
        assert_eq!(v["attribution"], "number");
        assert_eq!(v["last_outcome"], "network_blocked");
        assert_eq!(v["last_status"], 603);
        assert_eq!(v["last_probe_id"], "01a2b3c4");
        assert_eq!(v["redress"]["url"][0], "https://redress.example/v?id=7");
        assert_eq!(v["redress"]["tel"][0], "+18005550100");
        assert_eq!(v["locations"][0], "ntwk");
        assert_eq!(
            v["reason"],
            "603+ from verizon while other caller IDs ring there"
        );
        assert_eq!(v["evidence"]["own_failures"], 1);
        assert_eq!(v["counts"]["network_blocked"], 1);
        assert!(v["text"].as_str().is_some_and(|t| t.contains("BLOCKED")));
    }

    #[test]
    fn recovery_and_expiry_lines() {
        let mut c = change("+12025550143", State::Blocked, State::Clean);
        c.label = None;
        c.report.last_outcome = Some(Outcome::Ringing);
        c.report.last_status = Some(487);
        c.report.attribution = None;
        c.report.redress = Redress::default();
        assert_eq!(
            text(&c),
            ":large_green_circle: +12025550143 is now CLEAN at verizon (was blocked): rang — probe 01a2b3c4"
        );
        c.from = State::Clean;
        c.to = State::Unknown;
        c.report.last_probe_id = None;
        assert_eq!(
            text(&c),
            ":white_circle: +12025550143 is now UNKNOWN at verizon (was clean): no recent evidence"
        );
        c.to = State::Suspect;
        c.report.last_outcome = Some(Outcome::Busy);
        c.report.last_status = Some(486);
        c.report.attribution = Some(Attribution::Inconclusive);
        assert!(text(&c).ends_with(
            "is now SUSPECT at verizon (was clean): busy (486), attribution inconclusive"
        ));
    }

    #[test]
    fn hostile_values_cannot_break_the_line_or_ping_the_channel() {
        let mut c = change("+12025550143", State::Clean, State::Blocked);
        c.label = Some("x\n<!channel> & <https://evil.example|click>".into());
        c.report.redress.url = vec![
            "https://a.example/\r\n<!here>".into(),
            "u2".into(),
            "u3".into(),
            "u4".into(),
        ];
        c.report.redress.tel = vec!["9".repeat(10_000)];
        let t = text(&c);
        assert!(!t.contains('\n') && !t.contains('\r'));
        assert!(!t.contains('<') && !t.contains('>'));
        assert!(t.contains("&lt;!channel&gt; &amp;"));
        assert!(t.contains("(+2 more)"));
        assert!(t.chars().count() < 1000, "{}", t.len());
        // The structured fields keep the values as they were.
        let v = payload(&c);
        assert_eq!(v["redress"]["url"][0], "https://a.example/\r\n<!here>");
        assert_eq!(v["redress"]["tel"][0].as_str().map(str::len), Some(10_000));
    }
}
