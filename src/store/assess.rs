//! The one path from stored probes to the pure reputation core: read a
//! number's probes and the other caller IDs' carrier baselines for the
//! window, then hand them to [`crate::reputation::assess`]. Used by
//! `history`, `check` and the daemon alike. No SQL here beyond the two reads.

use chrono::{DateTime, Utc};

use super::{CarrierBaseline, Store, StoreError};
use crate::reputation::{self, Baseline, NumberReport, Params};

impl From<CarrierBaseline> for Baseline {
    fn from(b: CarrierBaseline) -> Self {
        Baseline {
            carrier: b.carrier,
            probes: b.probes,
            by_outcome: b.by_outcome.into_iter().collect(),
            callers: b.callers,
        }
    }
}

impl Store {
    /// Assess `number` at `now` over `params.window`, optionally at one
    /// carrier only. `carriers` are the configured carriers, in order.
    pub fn assess_number(
        &self,
        number: &str,
        carriers: &[String],
        carrier: Option<&str>,
        params: &Params,
        now: DateTime<Utc>,
    ) -> Result<NumberReport, StoreError> {
        let start = now - params.window;
        let own = self.probes_for_number(number, start, carrier)?;
        let baselines: Vec<Baseline> = self
            .carrier_baselines(start, number)?
            .into_iter()
            .filter(|b| carrier.is_none_or(|c| c == b.carrier))
            .map(Baseline::from)
            .collect();
        Ok(reputation::assess(
            number, carriers, &own, &baselines, now, params,
        ))
    }
}
