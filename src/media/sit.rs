//! Special Information Tones (sip-signals §5.2): the North American coded
//! SITs (IC, VC, NC, NC', RO, RO') and the ITU-T generic SIT.
//!
//! Input: per tick, the single-tone estimate (frequency) when one pure tone
//! in 850–1950 Hz dominates, else nothing. Consecutive ticks with a steady
//! frequency form a segment; a segment boundary between two contiguous
//! tones is placed halfway across the impure ticks between them. Three
//! segments in a row (gaps ≤ 90 ms) are then matched:
//!
//! - **coded**: segment 1 ≈ 913.8 (L) or 985.2 (H) Hz, segment 2 ≈ 1370.6 (L)
//!   or 1428.5 (H) Hz, segment 3 ≈ 1776.7 Hz, each within ±2.5 % (±1.5 %
//!   transmission error plus margin); durations Short 274 ± 30 ms or Long
//!   380 ± 30 ms. The frequency/duration pattern of segments 1–2 names the
//!   code; the two reserved patterns report as `generic`.
//! - **generic** (ITU E.180/Q.35): 950/1400/1800 Hz ± 50 Hz (± 1.5 %), each
//!   330 ± 70 ms (± 15 ms of measurement).

use serde::{Deserialize, Serialize};

/// A decoded Special Information Tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SitCode {
    /// Intercept: vacant number, changed or disconnected (L-S, L-S).
    #[serde(rename = "IC")]
    Ic,
    /// Vacant code: unassigned area or office code (H-L, L-S).
    #[serde(rename = "VC")]
    Vc,
    /// No circuit, interLATA carrier (H-L, H-L).
    #[serde(rename = "NC")]
    Nc,
    /// No circuit, intraLATA; emergency or trunk blockage (L-L, L-L).
    #[serde(rename = "NC'")]
    NcPrime,
    /// Reorder, interLATA carrier (H-S, L-L).
    #[serde(rename = "RO")]
    Ro,
    /// Reorder, intraLATA (L-S, H-L).
    #[serde(rename = "RO'")]
    RoPrime,
    /// A SIT without a North American code: the ITU generic sequence or a
    /// reserved coded pattern.
    #[serde(rename = "generic")]
    Generic,
}

impl SitCode {
    /// The code as reported: `"IC"`, `"NC'"`, `"generic"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            SitCode::Ic => "IC",
            SitCode::Vc => "VC",
            SitCode::Nc => "NC",
            SitCode::NcPrime => "NC'",
            SitCode::Ro => "RO",
            SitCode::RoPrime => "RO'",
            SitCode::Generic => "generic",
        }
    }

    /// Segments 1 and 2 of a coded SIT: ((f1, ms1), (f2, ms2)); segment 3
    /// is always 1776.7 Hz, long. `None` for `Generic`. Used by the test
    /// audio generator and the tests.
    pub fn segments(self) -> Option<[(f64, u32); 2]> {
        let (l1, h1, l2, h2) = (SIT_F1_LOW, SIT_F1_HIGH, SIT_F2_LOW, SIT_F2_HIGH);
        let (s, l) = (SIT_SHORT_MS, SIT_LONG_MS);
        match self {
            SitCode::Ic => Some([(l1, s), (l2, s)]),
            SitCode::Vc => Some([(h1, l), (l2, s)]),
            SitCode::Nc => Some([(h1, l), (h2, l)]),
            SitCode::NcPrime => Some([(l1, l), (l2, l)]),
            SitCode::Ro => Some([(h1, s), (l2, l)]),
            SitCode::RoPrime => Some([(l1, s), (h2, l)]),
            SitCode::Generic => None,
        }
    }
}

/// Segment 1, low (Hz).
pub const SIT_F1_LOW: f64 = 913.8;
/// Segment 1, high (Hz).
pub const SIT_F1_HIGH: f64 = 985.2;
/// Segment 2, low (Hz).
pub const SIT_F2_LOW: f64 = 1370.6;
/// Segment 2, high (Hz).
pub const SIT_F2_HIGH: f64 = 1428.5;
/// Segment 3 (Hz).
pub const SIT_F3: f64 = 1776.7;
/// Short segment (ms).
pub const SIT_SHORT_MS: u32 = 274;
/// Long segment (ms).
pub const SIT_LONG_MS: u32 = 380;

/// Coded duration tolerance (ms).
const DUR_TOL: f64 = 30.0;
/// Coded frequency tolerance (fraction).
const FREQ_TOL: f64 = 0.025;
/// Largest gap between segments (tick centres, ms).
const MAX_GAP_MS: u64 = 90;
/// Tick spacing (ms).
const TICK_MS: u64 = 10;
/// A tick continues a segment within this fraction of its mean frequency.
const STEADY: f32 = 0.01;
/// A SIT segment's frequency wobbles (std/mean) less than this.
const MAX_WOBBLE: f64 = 0.006;
/// Ticks before a segment counts (50 ms).
const MIN_TICKS: u32 = 5;

/// Frequencies a SIT segment can have.
pub(crate) const SIT_BAND: (f32, f32) = (850.0, 1950.0);

#[derive(Debug, Clone, Copy)]
struct Seg {
    start: u64,
    end: u64,
    sum: f64,
    sum2: f64,
    n: u32,
}

impl Seg {
    fn new(t_ms: u64, f: f32) -> Seg {
        let f = f64::from(f);
        Seg {
            start: t_ms,
            end: t_ms,
            sum: f,
            sum2: f * f,
            n: 1,
        }
    }

    fn mean(&self) -> f64 {
        self.sum / f64::from(self.n.max(1))
    }

    /// Standard deviation of the tick frequencies over the mean: a pure
    /// tone at 20 dB SNR stays below 0.3 %, formants of speech wander.
    fn wobble(&self) -> f64 {
        let n = f64::from(self.n.max(1));
        let mean = self.sum / n;
        let var = (self.sum2 / n - mean * mean).max(0.0);
        if mean > 0.0 { var.sqrt() / mean } else { 1.0 }
    }
}

/// Segments the single-tone ticks and matches SIT sequences.
#[derive(Debug, Clone, Default)]
pub(crate) struct SitTracker {
    cur: Option<Seg>,
    closed: Vec<Seg>,
    found: Option<SitCode>,
    #[cfg(test)]
    found_detail: Option<([f64; 3], [f64; 3])>,
}

impl SitTracker {
    /// The SIT decoded so far (segments closed by later ticks).
    pub(crate) fn found(&self) -> Option<SitCode> {
        self.found
    }

    /// Like [`SitTracker::found`], but also treat the segment in progress
    /// as ended now (the stream stopped right after the third segment).
    /// `audio_end_ms` is where the audio stopped: the segment still open
    /// lasted until then (ticks lag the audio by half a window).
    pub(crate) fn found_or_pending(&self, audio_end_ms: u64) -> Option<SitCode> {
        self.found.or_else(|| {
            let mut cur = self.cur?;
            let n = self.closed.len();
            if n < 2 || cur.n < MIN_TICKS {
                return None;
            }
            cur.end = cur.end.max(audio_end_ms.saturating_sub(TICK_MS / 2));
            classify(&self.closed[n - 2], &self.closed[n - 1], &cur)
        })
    }

    /// Whether a steady pure tone has lasted at least 50 ms up to now.
    pub(crate) fn in_steady_tone(&self) -> bool {
        self.cur
            .is_some_and(|c| c.n >= MIN_TICKS && c.wobble() <= MAX_WOBBLE)
    }

    /// Durations of the last three closed segments (calibration tests).
    #[cfg(test)]
    pub(crate) fn last_durations(&self) -> Option<([f64; 3], [f64; 3])> {
        if self.found_detail.is_some() {
            return self.found_detail;
        }
        let n = self.closed.len();
        if n < 3 {
            return None;
        }
        let (a, b, c) = (
            &self.closed[n - 3],
            &self.closed[n - 2],
            &self.closed[n - 1],
        );
        Some((durations(a, b, c)?, [a.mean(), b.mean(), c.mean()]))
    }

    /// A discontinuity in the stream.
    pub(crate) fn reset(&mut self) {
        self.cur = None;
        self.closed.clear();
    }

    /// One tick: `tone` is the frequency of a dominant pure tone in the SIT
    /// band, if any. Returns a code when this tick completes one.
    pub(crate) fn tick(&mut self, t_ms: u64, tone: Option<f32>) -> Option<SitCode> {
        if let (Some(seg), Some(f)) = (self.cur.as_mut(), tone)
            && (f64::from(f) - seg.mean()).abs() <= seg.mean() * f64::from(STEADY)
            && t_ms.saturating_sub(seg.end) <= TICK_MS
        {
            seg.end = t_ms;
            seg.sum += f64::from(f);
            seg.sum2 += f64::from(f) * f64::from(f);
            seg.n += 1;
            return None;
        }
        let mut newly = None;
        if let Some(seg) = self.cur.take()
            && seg.n >= MIN_TICKS
        {
            self.closed.push(seg);
            if self.closed.len() > 3 {
                self.closed.remove(0);
            }
            let n = self.closed.len();
            if n >= 3
                && self.found.is_none()
                && let Some(code) = classify(
                    &self.closed[n - 3],
                    &self.closed[n - 2],
                    &self.closed[n - 1],
                )
            {
                self.found = Some(code);
                newly = Some(code);
                #[cfg(test)]
                {
                    self.found_detail = self.last_durations();
                }
            }
        }
        self.cur = tone.map(|f| Seg::new(t_ms, f));
        newly
    }
}

/// Durations of three segments: contiguous boundaries split the impure
/// ticks between them; outer edges end at the outermost tick centre (the
/// central-power test already reaches ±5 ms past a tone edge).
fn durations(a: &Seg, b: &Seg, c: &Seg) -> Option<[f64; 3]> {
    let gap_ab = b.start.checked_sub(a.end)?;
    let gap_bc = c.start.checked_sub(b.end)?;
    if gap_ab > MAX_GAP_MS || gap_bc > MAX_GAP_MS {
        return None;
    }
    let mid_ab = (a.end + b.start) as f64 / 2.0;
    let mid_bc = (b.end + c.start) as f64 / 2.0;
    Some([
        mid_ab - a.start as f64,
        mid_bc - mid_ab,
        c.end as f64 - mid_bc,
    ])
}

fn near(f: f64, nominal: f64) -> bool {
    (f - nominal).abs() <= nominal * FREQ_TOL
}

/// Short or long (true = long), within ±30 ms.
fn length(ms: f64) -> Option<bool> {
    if (ms - f64::from(SIT_SHORT_MS)).abs() <= DUR_TOL {
        Some(false)
    } else if (ms - f64::from(SIT_LONG_MS)).abs() <= DUR_TOL {
        Some(true)
    } else {
        None
    }
}

fn classify(a: &Seg, b: &Seg, c: &Seg) -> Option<SitCode> {
    if [a, b, c].iter().any(|s| s.wobble() > MAX_WOBBLE) {
        return None;
    }
    let d = durations(a, b, c)?;
    let (f1, f2, f3) = (a.mean(), b.mean(), c.mean());
    coded(f1, f2, f3, d).or_else(|| generic(f1, f2, f3, d))
}

fn coded(f1: f64, f2: f64, f3: f64, d: [f64; 3]) -> Option<SitCode> {
    if !near(f3, SIT_F3) {
        return None;
    }
    length(d[2])?;
    let high1 = if near(f1, SIT_F1_LOW) && (f1 - SIT_F1_LOW).abs() < (f1 - SIT_F1_HIGH).abs() {
        false
    } else if near(f1, SIT_F1_HIGH) {
        true
    } else {
        return None;
    };
    let high2 = if near(f2, SIT_F2_LOW) && (f2 - SIT_F2_LOW).abs() < (f2 - SIT_F2_HIGH).abs() {
        false
    } else if near(f2, SIT_F2_HIGH) {
        true
    } else {
        return None;
    };
    let (long1, long2) = (length(d[0])?, length(d[1])?);
    Some(match (high1, long1, high2, long2) {
        (false, false, false, false) => SitCode::Ic,
        (true, true, false, false) => SitCode::Vc,
        (true, true, true, true) => SitCode::Nc,
        (false, true, false, true) => SitCode::NcPrime,
        (true, false, false, true) => SitCode::Ro,
        (false, false, true, true) => SitCode::RoPrime,
        _ => SitCode::Generic,
    })
}

fn generic(f1: f64, f2: f64, f3: f64, d: [f64; 3]) -> Option<SitCode> {
    let band =
        |f: f64, nominal: f64| f >= (nominal - 50.0) * 0.985 && f <= (nominal + 50.0) * 1.015;
    let dur_ok = d.iter().all(|&ms| (245.0..=415.0).contains(&ms));
    (band(f1, 950.0) && band(f2, 1400.0) && band(f3, 1800.0) && dur_ok).then_some(SitCode::Generic)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed ideal ticks: each (freq or 0 for none, ms).
    fn feed(parts: &[(f32, u64)]) -> Option<SitCode> {
        let mut s = SitTracker::default();
        let mut t = 0;
        let mut out = None;
        for &(f, ms) in parts {
            for _ in 0..ms / TICK_MS {
                if let Some(code) = s.tick(t, (f > 0.0).then_some(f)) {
                    out = Some(code);
                }
                t += TICK_MS;
            }
        }
        out.or(s.found_or_pending(t))
    }

    #[test]
    fn every_coded_sit_from_ideal_ticks() {
        for code in [
            SitCode::Ic,
            SitCode::Vc,
            SitCode::Nc,
            SitCode::NcPrime,
            SitCode::Ro,
            SitCode::RoPrime,
        ] {
            let [(f1, d1), (f2, d2)] = code.segments().expect("coded");
            // Contiguous tones: two impure ticks at each boundary.
            let got = feed(&[
                (0.0, 200),
                (f1 as f32, u64::from(d1) - 10),
                (0.0, 20),
                (f2 as f32, u64::from(d2) - 20),
                (0.0, 20),
                (SIT_F3 as f32, u64::from(SIT_LONG_MS) - 10),
                (0.0, 300),
            ]);
            assert_eq!(got, Some(code), "{code:?}");
        }
    }

    #[test]
    fn generic_sit_and_near_misses() {
        let got = feed(&[
            (0.0, 100),
            (950.0, 320),
            (0.0, 20),
            (1400.0, 310),
            (0.0, 20),
            (1800.0, 320),
            (0.0, 100),
        ]);
        assert_eq!(got, Some(SitCode::Generic));
        // Two segments only.
        assert_eq!(
            feed(&[
                (0.0, 100),
                (913.8, 270),
                (0.0, 20),
                (1370.6, 260),
                (0.0, 400)
            ]),
            None
        );
        // Wrong order.
        assert_eq!(
            feed(&[
                (1776.7, 380),
                (0.0, 20),
                (1370.6, 260),
                (0.0, 20),
                (913.8, 270),
                (0.0, 100)
            ]),
            None
        );
        // Far too long segments.
        assert_eq!(
            feed(&[
                (913.8, 800),
                (0.0, 20),
                (1370.6, 800),
                (0.0, 20),
                (1776.7, 800),
                (0.0, 100)
            ]),
            None
        );
        // A big gap in the middle.
        assert_eq!(
            feed(&[
                (913.8, 270),
                (0.0, 300),
                (1370.6, 260),
                (0.0, 20),
                (1776.7, 370),
                (0.0, 100)
            ]),
            None
        );
    }

    #[test]
    fn codes_serialize_as_reported() {
        let all = [
            SitCode::Ic,
            SitCode::Vc,
            SitCode::Nc,
            SitCode::NcPrime,
            SitCode::Ro,
            SitCode::RoPrime,
            SitCode::Generic,
        ];
        for code in all {
            let json = serde_json::to_string(&code).expect("json");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<SitCode>(&json).expect("back"), code);
        }
    }
}
