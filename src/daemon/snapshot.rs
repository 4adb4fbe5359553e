//! What the daemon publishes for readers (HTTP, tests): an immutable
//! snapshot, replaced whole after every probe through a
//! `tokio::sync::watch` channel, so `http/` never touches the store or the
//! probes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::reputation::NumberReport;

/// Upper bounds (seconds) of the post-dial-delay histogram buckets.
pub const PDD_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0];

/// One owned number with its assessment.
#[derive(Debug, Clone, Serialize)]
pub struct NumberView {
    /// E.164.
    pub number: String,
    /// Label from the config.
    pub label: Option<String>,
    /// The same object `ringwatch history --json` prints.
    pub report: NumberReport,
}

/// A post-dial-delay histogram for one carrier (Prometheus semantics:
/// cumulative bucket counts).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PddHistogram {
    /// Cumulative counts, one per [`PDD_BUCKETS`] bound.
    pub buckets: Vec<u64>,
    /// Sum of observed PDDs in seconds.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl PddHistogram {
    /// Record one PDD in seconds.
    pub fn observe(&mut self, seconds: f64) {
        if self.buckets.len() != PDD_BUCKETS.len() {
            self.buckets = vec![0; PDD_BUCKETS.len()];
        }
        for (b, le) in self.buckets.iter_mut().zip(PDD_BUCKETS) {
            if seconds <= *le {
                *b += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Counters and gauges for `/metrics`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    /// Probes finished by this daemon since it started, by carrier then outcome name.
    pub probes_total: BTreeMap<String, BTreeMap<String, u64>>,
    /// Post-dial delay per carrier (probes that saw a 180/183).
    pub pdd_seconds: BTreeMap<String, PddHistogram>,
    /// (number, carrier) pairs per reputation state (`clean`, `suspect`, `blocked`, `unknown`).
    pub number_state: BTreeMap<String, u64>,
    /// How late the last call started against its planned time, in seconds.
    pub scheduler_lag_seconds: f64,
    /// The trunk is paused (503 Retry-After or backoff).
    pub trunk_paused: bool,
    /// Calls in progress.
    pub calls_in_flight: u64,
    /// Alerts waiting for delivery.
    pub alerts_queued: u64,
    /// Alerts dropped because a queue was full.
    pub alerts_dropped: u64,
}

/// Everything readers see.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// When this snapshot was made (RFC 3339 UTC).
    pub generated_at: String,
    /// When the daemon started.
    pub started_at: String,
    /// Carrier names in config order.
    pub carriers: Vec<String>,
    /// Every owned number, config order.
    pub numbers: Vec<NumberView>,
    /// Metrics.
    pub metrics: Metrics,
}

impl Snapshot {
    /// The view of one number.
    pub fn number(&self, e164: &str) -> Option<&NumberView> {
        self.numbers.iter().find(|n| n.number == e164)
    }
}
