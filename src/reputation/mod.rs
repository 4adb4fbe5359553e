//! Reputation: a number's probe history in, per (number, carrier) state,
//! attribution and the `check` verdict out ([`assess`]), plus the terminal
//! renderings of `history` and `check` ([`render`]).
//!
//! PURE: no I/O, no clock (`now` is a parameter), no SQL, no panics. The
//! store supplies the number's records in the window and, per carrier, the
//! other caller IDs' outcome counts ([`Baseline`]).
//!
//! # Signals (one per probe; domain/sip-signals.md §0)
//!
//! | probe | signal |
//! |---|---|
//! | `network_blocked` (603+), `rejected` (608) | block |
//! | `unwanted` (607), `forbidden` (403), `declined` (603) without ringing | suspect |
//! | rang, or `ringing`/`answered` (incl. a 603 after ringing: a user decline) | alerting |
//! | `busy`, `no_answer` that did not ring | neutral, or *drift* (below) |
//! | `auth_failed`, `unavailable` (5xx), `timeout`, `failed` (488, 3xx, …), `not_found`, `intercepted` | route: says nothing about the number |
//!
//! **Answer-mix drift** (blocks hide behind ordinary codes): a neutral
//! `busy` (or `no_answer`) probe is a drift when, among the newest
//! [`DRIFT_SAMPLE`] (5) delivered probes up to it (at least
//! [`DRIFT_MIN_PROBES`], 3), at least 80 % had that outcome, while the other
//! caller IDs at that carrier had at least [`DRIFT_MIN_BASELINE`] (3)
//! delivered probes of which at most 30 % had it. Delivered = the E.425
//! effective set ([`DELIVERED`], or rang). Without a baseline there is no drift.
//!
//! # State (hysteresis; probes oldest first)
//!
//! Start `unknown`. A block → `blocked` at once. A suspect or drift →
//! `suspect` from `clean`/`unknown` (`blocked` stays `blocked`). Alerting →
//! `clean` from `unknown` at once; from `blocked`/`suspect` only after
//! [`Params::clean_after`] (default 2) consecutive alerting probes, where a
//! block, suspect or drift resets the count and neutral/route probes neither
//! count nor reset. Neutral and route probes never change the state, so a
//! pair with only those stays `unknown`. `since` is the time of the probe
//! that made the current state (for a recovery: the probe that completed it).
//!
//! Incidents open when the state leaves `clean` or the first evidence is
//! non-clean, record the worst state, and close at the recovering probe.
//!
//! # Attribution
//!
//! `null` for `clean`. For `blocked`/`suspect`:
//! 1. `trunk` (not for `blocked`: a 603+/608 is a decision about the number)
//!    when the number was probed at two or more carriers and at every one of
//!    them never alerted and got at least 80 % trunk-class failures
//!    ([`TRUNK_CLASS`]: the route class plus 403).
//! 2. `inconclusive` when no other caller ID was probed at the carrier.
//! 3. `carrier` when other caller IDs got failures of the same class there
//!    and alerted on fewer than 20 % of their probes.
//! 4. `number` when other caller IDs alerted there.
//! 5. `inconclusive` otherwise (they neither ring nor fail the same way).
//!
//! For an `unknown` pair with route failures (state stays `unknown`): `trunk`
//! under rule 1, else `carrier` (the route to that carrier). `unknown`
//! without route failures: `null`. The counts behind every attribution are in
//! [`AttributionEvidence`].
//!
//! # Rates (over every probe of the number at the carrier in the window)
//!
//! ASR = `answered` / attempts; NER (ITU-T E.425 network effectiveness: the
//! network delivered the call, whatever the user did) = probes that rang or
//! ended `answered`, `ringing`, `busy`, `no_answer`, `declined` or `unwanted`
//! / attempts; alert rate = probes that rang or ended `ringing`/`answered` /
//! attempts. `null` without attempts.
//!
//! # Verdict (`check`)
//!
//! `not_ready` when any carrier is `blocked` or `suspect`; `ready` when every
//! configured carrier (every carrier, if none is configured; at least one) is
//! `clean` with fresh evidence (its newest alerting/block/suspect probe is
//! within [`Params::fresh`] of `now`); `unknown` otherwise.

mod assess;
mod counts;
mod model;
pub mod render;

#[cfg(test)]
mod tests;

pub use assess::{
    BLOCK_CLASS, DELIVERED, DRIFT_BASELINE_SHARE, DRIFT_MIN_BASELINE, DRIFT_MIN_PROBES,
    DRIFT_OWN_SHARE, DRIFT_SAMPLE, LOW_ALERT_SHARE, ROUTE_CLASS, TIMELINE_LEN, TRUNK_CLASS,
    TRUNK_SHARE, assess, timeline_char,
};
pub use counts::OutcomeCounts;
pub use model::{
    Attribution, AttributionEvidence, Baseline, CarrierReport, Incident, NumberReport, Params,
    Rates, Redress, State, Verdict,
};
pub use render::{DEFAULT_PROBE_HINT, check_text, history_text};
