//! Call-progress tones as data (ringback by region, busy, reorder) and the
//! cadence state machine that turns per-tick "tone present" decisions into
//! a declaration. A single frame never declares anything.
//!
//! The machine debounces presence (a run ends only after 30 ms of the
//! opposite state), measures each completed on/off run, and aligns runs
//! against the profile's cadence with a tolerance of ±20 % (at least
//! ±50 ms). The run in progress when the stream started is never counted
//! (it is truncated). A profile is declared after `min_runs` consecutive
//! matching runs; for ringback that is one whole cycle whose last gap was
//! closed by the tone coming back, i.e. the on segment plus the full off
//! gap (US: 2 s + 4 s), or 1.5 cycles when the stream started mid-ring.

use serde::{Deserialize, Serialize};

/// A ringback tone of one region: its frequencies and cadence. Regions are
/// data: pass your own list to [`crate::media::MediaConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RingbackProfile {
    /// Region name reported as `ringback_region`, e.g. `"us"`.
    pub name: String,
    /// One or two frequencies in Hz, played together.
    pub freqs: Vec<f32>,
    /// On/off durations in ms, starting with on (even length), repeated.
    pub cadence: Vec<u32>,
}

impl RingbackProfile {
    /// A profile from literals.
    pub fn new(name: &str, freqs: &[f32], cadence: &[u32]) -> RingbackProfile {
        RingbackProfile {
            name: name.to_owned(),
            freqs: freqs.to_vec(),
            cadence: cadence.to_vec(),
        }
    }

    /// The default regions (sip-signals §5.3): `us` (NANP precise tone plan,
    /// 440+480 Hz 2 s on / 4 s off), `uk` (UK and Ireland, 400+450 Hz double
    /// ring 0.4/0.2/0.4/2.0) and `cept` (most of continental Europe, 425 Hz
    /// 1 s on / 4 s off).
    pub fn defaults() -> Vec<RingbackProfile> {
        vec![
            RingbackProfile::new("us", &[440.0, 480.0], &[2000, 4000]),
            RingbackProfile::new("uk", &[400.0, 450.0], &[400, 200, 400, 2000]),
            RingbackProfile::new("cept", &[425.0], &[1000, 4000]),
        ]
    }

    /// Usable: 1–4 frequencies in 100–3900 Hz, an even, non-empty cadence
    /// of non-zero durations.
    pub(crate) fn is_valid(&self) -> bool {
        valid(&self.freqs, &self.cadence)
    }
}

fn valid(freqs: &[f32], cadence: &[u32]) -> bool {
    (1..=4).contains(&freqs.len())
        && freqs.iter().all(|f| (100.0..=3900.0).contains(f))
        && !cadence.is_empty()
        && cadence.len().is_multiple_of(2)
        && cadence.iter().all(|&d| (20..=60_000).contains(&d))
}

/// Busy or reorder (congestion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    Busy,
    Reorder,
}

/// A busy or reorder tone of one region.
#[derive(Debug, Clone)]
pub(crate) struct ProgressProfile {
    pub kind: Progress,
    pub freqs: Vec<f32>,
    pub cadence: Vec<u32>,
}

impl ProgressProfile {
    fn new(kind: Progress, freqs: &[f32], cadence: &[u32]) -> ProgressProfile {
        ProgressProfile {
            kind,
            freqs: freqs.to_vec(),
            cadence: cadence.to_vec(),
        }
    }

    /// NANP 480+620 busy 0.5/0.5 and reorder 0.25/0.25; CEPT 425 busy
    /// 0.5/0.5 and congestion 0.25/0.25; UK busy 400 0.375/0.375.
    pub(crate) fn defaults() -> Vec<ProgressProfile> {
        vec![
            ProgressProfile::new(Progress::Busy, &[480.0, 620.0], &[500, 500]),
            ProgressProfile::new(Progress::Reorder, &[480.0, 620.0], &[250, 250]),
            ProgressProfile::new(Progress::Busy, &[425.0], &[500, 500]),
            ProgressProfile::new(Progress::Reorder, &[425.0], &[250, 250]),
            ProgressProfile::new(Progress::Busy, &[400.0], &[375, 375]),
        ]
    }
}

/// Ticks of the opposite state that end a run (30 ms).
const DEBOUNCE_TICKS: u32 = 3;

/// Whether a measured run of `got` ms fits a nominal `want` ms.
pub(crate) fn fits(want: u32, got: u64) -> bool {
    let want = u64::from(want);
    let tol = (want / 5).max(50);
    got.abs_diff(want) <= tol
}

/// Debounced on/off runs matched against a cadence.
#[derive(Debug, Clone)]
pub(crate) struct CadenceMatcher {
    cadence: Vec<u32>,
    min_runs: usize,
    on: bool,
    run_start: u64,
    /// The current run began with the stream (or after a reset): truncated.
    truncated: bool,
    pending: Option<(u64, u32)>,
    next: Option<usize>,
    matched: usize,
    declared: bool,
}

impl CadenceMatcher {
    pub(crate) fn new(cadence: &[u32], min_runs: usize) -> CadenceMatcher {
        CadenceMatcher {
            cadence: cadence.to_vec(),
            min_runs: min_runs.max(1),
            on: false,
            run_start: 0,
            truncated: true,
            pending: None,
            next: None,
            matched: 0,
            declared: false,
        }
    }

    /// A discontinuity: the current run can no longer be measured.
    pub(crate) fn reset(&mut self, t_ms: u64) {
        self.on = false;
        self.run_start = t_ms;
        self.truncated = true;
        self.pending = None;
        self.next = None;
        self.matched = 0;
    }

    /// One tick: is the tone present at `t_ms`? Returns true when this tick
    /// completes the declaration.
    pub(crate) fn tick(&mut self, t_ms: u64, present: bool) -> bool {
        if present == self.on {
            self.pending = None;
            return false;
        }
        let (since, count) = match self.pending {
            Some((since, count)) => (since, count + 1),
            None => (t_ms, 1),
        };
        if count < DEBOUNCE_TICKS {
            self.pending = Some((since, count));
            return false;
        }
        self.pending = None;
        let was_on = self.on;
        let duration = since.saturating_sub(self.run_start);
        let truncated = self.truncated;
        self.on = present;
        self.run_start = since;
        self.truncated = false;
        if truncated {
            return false;
        }
        self.complete_run(was_on, duration)
    }

    fn complete_run(&mut self, on: bool, duration: u64) -> bool {
        let len = self.cadence.len();
        if len == 0 {
            return false;
        }
        let is_on = |j: usize| j.is_multiple_of(2);
        let continues = self
            .next
            .is_some_and(|j| is_on(j) == on && fits(self.cadence[j], duration));
        if continues {
            let j = self.next.unwrap_or(0);
            self.matched += 1;
            self.next = Some((j + 1) % len);
        } else if let Some(j) =
            (0..len).find(|&j| is_on(j) == on && fits(self.cadence[j], duration))
        {
            self.matched = 1;
            self.next = Some((j + 1) % len);
        } else {
            self.matched = 0;
            self.next = None;
        }
        if !self.declared && self.matched >= self.min_runs {
            self.declared = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive a matcher with a cadence in 10 ms ticks; return the time of
    /// declaration.
    fn run(matcher: &mut CadenceMatcher, pattern: &[(bool, u64)]) -> Option<u64> {
        let mut t = 0;
        let mut when = None;
        for &(on, ms) in pattern {
            for _ in 0..ms / 10 {
                if matcher.tick(t, on) && when.is_none() {
                    when = Some(t);
                }
                t += 10;
            }
        }
        when
    }

    #[test]
    fn us_ringback_declares_after_on_plus_full_gap() {
        let mut m = CadenceMatcher::new(&[2000, 4000], 2);
        let when = run(
            &mut m,
            &[(false, 500), (true, 2000), (false, 4000), (true, 500)],
        );
        assert_eq!(
            when,
            Some(6520),
            "at the restart after the gap, plus debounce"
        );
    }

    #[test]
    fn stream_starting_mid_ring_needs_one_and_a_half_cycles() {
        let mut m = CadenceMatcher::new(&[2000, 4000], 2);
        let when = run(
            &mut m,
            &[(true, 1200), (false, 4000), (true, 2000), (false, 500)],
        );
        assert_eq!(when, Some(7220));
    }

    #[test]
    fn uk_double_ring_aligns_even_when_started_on_the_second_ring() {
        let mut m = CadenceMatcher::new(&[400, 200, 400, 2000], 4);
        let pattern = [
            (false, 300),
            (true, 400),
            (false, 2000),
            (true, 400),
            (false, 200),
            (true, 400),
            (false, 2000),
            (true, 400),
        ];
        assert!(run(&mut m, &pattern).is_some());
    }

    #[test]
    fn wrong_cadence_never_declares_and_glitches_are_absorbed() {
        let mut m = CadenceMatcher::new(&[2000, 4000], 2);
        assert_eq!(
            run(
                &mut m,
                &[
                    (false, 100),
                    (true, 1000),
                    (false, 4000),
                    (true, 1000),
                    (false, 4000)
                ]
            ),
            None
        );
        let mut busy = CadenceMatcher::new(&[500, 500], 4);
        assert_eq!(
            run(
                &mut busy,
                &[
                    (false, 100),
                    (true, 250),
                    (false, 250),
                    (true, 250),
                    (false, 250),
                    (true, 250)
                ]
            ),
            None
        );
        // 20 ms dropouts inside a 2 s ring do not split it.
        let mut m = CadenceMatcher::new(&[2000, 4000], 2);
        let glitchy = [
            (false, 100),
            (true, 900),
            (false, 20),
            (true, 1080),
            (false, 4000),
            (true, 300),
        ];
        assert!(run(&mut m, &glitchy).is_some());
    }

    #[test]
    fn tolerance_is_twenty_percent_or_fifty_ms() {
        assert!(fits(2000, 2390) && !fits(2000, 2410));
        assert!(fits(200, 250) && !fits(200, 260));
        assert!(fits(250, 200) && !fits(250, 500));
    }

    #[test]
    fn defaults_are_valid() {
        assert!(
            RingbackProfile::defaults()
                .iter()
                .all(RingbackProfile::is_valid)
        );
        assert!(
            ProgressProfile::defaults()
                .iter()
                .all(|p| valid(&p.freqs, &p.cadence))
        );
        assert!(!RingbackProfile::new("x", &[], &[1000, 1000]).is_valid());
        assert!(!RingbackProfile::new("x", &[440.0], &[1000]).is_valid());
        assert!(!RingbackProfile::new("x", &[f32::NAN], &[1000, 1000]).is_valid());
    }
}
