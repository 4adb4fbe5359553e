//! `OutcomeCounts`: how many probes ended with each [`Outcome`], in the
//! stable declaration order of the taxonomy.
//!
//! It stands in for a `BTreeMap<Outcome, u64>` (which `Outcome` cannot key:
//! it derives `Hash` but not `Ord`) and serializes the same way: a JSON object
//! keyed by the outcome names, zero entries left out, e.g.
//! `{"ringing":3,"network_blocked":1}`. Pure data; no I/O.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::classify::Outcome;

const N: usize = Outcome::ALL.len();

/// The position of `o` in [`Outcome::ALL`] (exhaustive: a new variant fails to compile here).
const fn index(o: Outcome) -> usize {
    match o {
        Outcome::Ringing => 0,
        Outcome::Answered => 1,
        Outcome::Declined => 2,
        Outcome::NetworkBlocked => 3,
        Outcome::Rejected => 4,
        Outcome::Unwanted => 5,
        Outcome::Forbidden => 6,
        Outcome::Busy => 7,
        Outcome::NotFound => 8,
        Outcome::NoAnswer => 9,
        Outcome::Unavailable => 10,
        Outcome::Intercepted => 11,
        Outcome::AuthFailed => 12,
        Outcome::Timeout => 13,
        Outcome::Failed => 14,
    }
}

/// A count per outcome. Build it with [`OutcomeCounts::add`], `collect()` from
/// `(Outcome, u64)` pairs, or deserialize it from `{"busy": 3, ...}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts([u64; N]);

impl OutcomeCounts {
    /// All zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `n` probes with outcome `o` (saturating).
    pub fn add(&mut self, o: Outcome, n: u64) {
        if let Some(slot) = self.0.get_mut(index(o)) {
            *slot = slot.saturating_add(n);
        }
    }

    /// The count for `o`.
    #[must_use]
    pub fn get(&self, o: Outcome) -> u64 {
        self.0.get(index(o)).copied().unwrap_or(0)
    }

    /// The sum over `outcomes` (each outcome counted once per mention).
    #[must_use]
    pub fn sum_of(&self, outcomes: &[Outcome]) -> u64 {
        outcomes
            .iter()
            .fold(0u64, |acc, o| acc.saturating_add(self.get(*o)))
    }

    /// The sum of all counts.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, n| acc.saturating_add(*n))
    }

    /// True when every count is zero.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }

    /// The non-zero counts in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (Outcome, u64)> + '_ {
        Outcome::ALL
            .into_iter()
            .zip(self.0.iter().copied())
            .filter(|(_, n)| *n > 0)
    }
}

impl FromIterator<(Outcome, u64)> for OutcomeCounts {
    fn from_iter<I: IntoIterator<Item = (Outcome, u64)>>(iter: I) -> Self {
        let mut c = Self::new();
        c.extend(iter);
        c
    }
}

impl Extend<(Outcome, u64)> for OutcomeCounts {
    fn extend<I: IntoIterator<Item = (Outcome, u64)>>(&mut self, iter: I) {
        for (o, n) in iter {
            self.add(o, n);
        }
    }
}

impl Serialize for OutcomeCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (o, n) in self.iter() {
            map.serialize_entry(o.as_str(), &n)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OutcomeCounts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CountsVisitor;
        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = OutcomeCounts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from outcome names to counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut c = OutcomeCounts::new();
                while let Some((o, n)) = map.next_entry::<Outcome, u64>()? {
                    c.add(o, n);
                }
                Ok(c)
            }
        }
        d.deserialize_map(CountsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_declaration_order() {
        for (i, o) in Outcome::ALL.into_iter().enumerate() {
            assert_eq!(index(o), i, "{o}");
        }
    }

    #[test]
    fn json_is_a_map_of_nonzero_counts_in_declaration_order_and_round_trips() {
        let c: OutcomeCounts = [
            (Outcome::NetworkBlocked, 1),
            (Outcome::Ringing, 2),
            (Outcome::Ringing, 1),
            (Outcome::Busy, 0),
        ]
        .into_iter()
        .collect();
        let json = serde_json::to_string(&c).expect("serialize");
        assert_eq!(json, r#"{"ringing":3,"network_blocked":1}"#);
        let back: OutcomeCounts = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, c);
        assert_eq!(c.total(), 4);
        assert_eq!(c.sum_of(&[Outcome::Ringing, Outcome::Busy]), 3);
        assert!(serde_json::from_str::<OutcomeCounts>(r#"{"Busy":1}"#).is_err());
    }
}
