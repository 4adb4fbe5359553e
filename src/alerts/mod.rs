//! Alerts: every state change of a (number, carrier) pair is POSTed as JSON
//! to each `[[alerts.webhook]]`, with retries, backoff and a bounded queue.
//!
//! - [`payload`] (pure) builds the body: a Slack-compatible `text` line plus
//!   structured fields.
//! - [`Backoff`] (pure) is the retry policy: what an attempt's result means
//!   and how long to wait; unit-tested on virtual time.
//! - [`Alerter`] (the shell) owns one bounded queue and one delivery thread
//!   per webhook. [`Alerter::send`] never blocks the daemon: when a queue is
//!   full its oldest change is dropped and counted.
//!
//! This module does not detect state changes (the daemon compares
//! consecutive reputation reports and calls [`Alerter::send`]), and it never
//! logs a webhook's full URL (its path or query may carry a token): only
//! the host. Response bodies are never read.

mod backoff;
mod deliver;
mod payload;
#[cfg(test)]
pub(crate) mod tests;

use serde::Serialize;

pub use backoff::{Attempt, Backoff, GiveUp, JITTER_MAX, Step, parse_retry_after};
pub use deliver::{AlertStats, Alerter, Policy, host_of};
pub use payload::{payload, text};

use crate::reputation::{CarrierReport, State};

/// One state change of a (number, carrier) pair: any transition, including
/// `unknown` → X on the first evidence for a pair (a number born blocked).
#[derive(Debug, Clone, Serialize)]
pub struct StateChange {
    /// The caller ID (E.164).
    pub number: String,
    /// The number's label from the configuration, if any.
    pub label: Option<String>,
    /// The carrier name.
    pub carrier: String,
    /// The state before.
    pub from: State,
    /// The state now.
    pub to: State,
    /// When the change was detected (RFC 3339 UTC).
    pub at: String,
    /// The pair's assessment after the change: the evidence summary.
    pub report: CarrierReport,
}
