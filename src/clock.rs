//! The only place that reads the real clock or seeds randomness.
//!
//! Protocol cores take `now: Instant` and an injected RNG; the shells get
//! both from here, and tests pass fixed instants and seeded RNGs instead.
#![allow(clippy::disallowed_methods)] // this module is the sanctioned reader of clocks and entropy

use std::time::Instant;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Monotonic now, for protocol timers.
pub fn now() -> Instant {
    Instant::now()
}

/// Wall-clock now in UTC, for records and evidence.
pub fn wall() -> DateTime<Utc> {
    Utc::now()
}

/// A freshly seeded RNG for identifiers (Call-ID, branch, tags, cnonce).
pub fn rng() -> StdRng {
    StdRng::from_entropy()
}

/// A time-ordered unique probe id (UUID v7) for the given wall-clock time.
pub fn probe_id(at: DateTime<Utc>, rng: &mut impl rand::RngCore) -> String {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut rand_bytes = [0u8; 10];
    rng.fill_bytes(&mut rand_bytes);
    uuid::Builder::from_unix_timestamp_millis(ms, &rand_bytes)
        .into_uuid()
        .to_string()
}
