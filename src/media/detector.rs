//! The tone and audio classifier over decoded 8 kHz PCM: ringback by
//! region, busy, reorder, SIT (coded and generic), speech, music, silence.
//!
//! Pure and incremental: push PCM in any chunk sizes, ask at any time. Per
//! 10 ms tick (see `analysis`), each call-progress pattern is judged
//! present or absent, and cadence state machines turn those into
//! declarations; the SIT tracker segments single pure tones; the speech
//! meter classifies the rest. Thresholds, all in dBm0 (0 dBm0 = a sine of
//! peak 22 400 in 16-bit PCM):
//!
//! | decision | rule |
//! |---|---|
//! | silence tick | central 10 ms below −50 dBm0 |
//! | tone candidate | central 10 ms at or above −45 dBm0 |
//! | pattern present (ringback/busy/reorder) | pattern bins hold ≥ 55 % (one tone: ≥ 60 %) of the window power; each tone of a pair ≥ 8 % and twist ≤ 10 dB; every bank bin > 20 Hz from the pattern ≤ 20 %; central power ≥ 25 % of the pattern power |
//! | SIT segment tick | single-sinusoid fit in 850–1950 Hz explains ≥ 85 %; segments need ≥ 50 ms, each tick within 1 % of the segment mean, spread (std/mean) ≤ 0.6 % |
//! | voiced broadband (speech meter) | loud, no pattern, not inside a steady tone segment, lag-1 correlation ≥ 0.3 |
//! | cadence | runs within ±20 % (≥ ±50 ms), 30 ms debounce, see `cadence` |

use serde::{Deserialize, Serialize};

use super::analysis::{Analyzer, Tick};
use super::cadence::{CadenceMatcher, Progress, ProgressProfile, RingbackProfile};
use super::sit::{SIT_BAND, SitCode, SitTracker};
use super::speech::{Block, SpeechMeter};
use super::synth::DBM0_PEAK;

/// What the early media sounded like, most significant first when several
/// were heard (`sit` > `reorder` > `busy` > `ringback` > `speech` > `music`
/// > `silence` > `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// A ringback cadence of a configured region.
    Ringback,
    /// Busy tone.
    Busy,
    /// Reorder / congestion (fast busy).
    Reorder,
    /// A Special Information Tone (see `sit_code`).
    Sit,
    /// Digital silence or near it.
    Silence,
    /// Speech-like audio: an announcement (or a voice ringback).
    Speech,
    /// Music-like audio: typically a custom ringback tone.
    Music,
    /// Audio that is none of the above (an unknown tone, steady noise).
    Other,
}

impl Tone {
    fn rank(self) -> u8 {
        match self {
            Tone::Sit => 7,
            Tone::Reorder => 6,
            Tone::Busy => 5,
            Tone::Ringback => 4,
            Tone::Speech => 3,
            Tone::Music => 2,
            Tone::Silence => 1,
            Tone::Other => 0,
        }
    }
}

/// Why early media means the call was intercepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intercept {
    /// A Special Information Tone, with its code.
    Sit(SitCode),
    /// At least 2 s of speech-like audio before any ringback: a recorded
    /// announcement without a leading SIT.
    Announcement,
}

/// 0 dBm0 as mean power of 16-bit samples.
const DBM0_POW: f32 = (DBM0_PEAK * DBM0_PEAK / 2.0) as f32;

fn dbm0_pow(level: f32) -> f32 {
    DBM0_POW * 10f32.powf(level / 10.0)
}

/// Speech before ringback that makes an announcement (ms).
const ANNOUNCEMENT_MS: u64 = 2000;

/// A call-progress pattern: bank bins that must hold the energy, and bins
/// that must not.
#[derive(Debug, Clone)]
struct Pattern {
    bins: Vec<usize>,
    others: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Thresholds {
    silence: f32,
    loud: f32,
}

/// Classifier state fed by ticks (separate from the analyzer so both can be
/// borrowed at once).
#[derive(Debug, Clone)]
struct State {
    th: Thresholds,
    patterns: Vec<Pattern>,
    ringback: Vec<(String, usize, CadenceMatcher)>,
    progress: Vec<(Progress, usize, CadenceMatcher)>,
    present: Vec<bool>,
    sit: SitTracker,
    speech: SpeechMeter,
    ticks: u64,
    silent: u64,
    region: Option<String>,
    busy: bool,
    reorder: bool,
    announcement: bool,
    timeline: Vec<(u64, Tone)>,
}

/// The early-media classifier. See the module docs for the rules.
pub struct Detector {
    an: Analyzer,
    st: State,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new(&RingbackProfile::defaults())
    }
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("analyzed_ms", &self.analyzed_ms())
            .field("tone", &self.tone())
            .field("timeline", &self.st.timeline)
            .finish()
    }
}

impl Detector {
    /// A detector for the given ringback regions (invalid profiles are
    /// skipped) plus the built-in busy and reorder tones.
    pub fn new(ringback: &[RingbackProfile]) -> Detector {
        let ringback: Vec<&RingbackProfile> = ringback.iter().filter(|p| p.is_valid()).collect();
        let progress = ProgressProfile::defaults();
        // The bank: every frequency of every pattern, deduplicated.
        let mut freqs: Vec<f32> = Vec::new();
        for f in ringback
            .iter()
            .flat_map(|p| p.freqs.iter())
            .chain(progress.iter().flat_map(|p| p.freqs.iter()))
        {
            if !freqs.iter().any(|g| (g - f).abs() < 1.0) && freqs.len() < super::analysis::MAX_BINS
            {
                freqs.push(*f);
            }
        }
        let an = Analyzer::new(&freqs);
        let mut patterns: Vec<(Vec<f32>, Pattern)> = Vec::new();
        let mut pattern_of = |fs: &[f32]| -> Option<usize> {
            if let Some(i) = patterns.iter().position(|(p, _)| p.as_slice() == fs) {
                return Some(i);
            }
            let bins: Vec<usize> = fs
                .iter()
                .map(|f| freqs.iter().position(|g| (g - f).abs() < 1.0))
                .collect::<Option<Vec<_>>>()?;
            let others = (0..freqs.len())
                .filter(|&k| fs.iter().all(|f| (freqs[k] - f).abs() > 20.0))
                .collect();
            patterns.push((fs.to_vec(), Pattern { bins, others }));
            Some(patterns.len() - 1)
        };
        let ringback: Vec<(String, usize, CadenceMatcher)> = ringback
            .iter()
            .filter_map(|p| {
                Some((
                    p.name.clone(),
                    pattern_of(&p.freqs)?,
                    CadenceMatcher::new(&p.cadence, p.cadence.len()),
                ))
            })
            .collect();
        let progress: Vec<(Progress, usize, CadenceMatcher)> = progress
            .iter()
            .filter_map(|p| {
                Some((
                    p.kind,
                    pattern_of(&p.freqs)?,
                    CadenceMatcher::new(&p.cadence, 4),
                ))
            })
            .collect();
        let patterns: Vec<Pattern> = patterns.into_iter().map(|(_, p)| p).collect();
        Detector {
            an,
            st: State {
                th: Thresholds {
                    silence: dbm0_pow(-50.0),
                    loud: dbm0_pow(-45.0),
                },
                present: vec![false; patterns.len()],
                patterns,
                ringback,
                progress,
                sit: SitTracker::default(),
                speech: SpeechMeter::default(),
                ticks: 0,
                silent: 0,
                region: None,
                busy: false,
                reorder: false,
                announcement: false,
                timeline: Vec::new(),
            },
        }
    }

    /// Feed decoded 8 kHz PCM, any chunk size.
    pub fn push(&mut self, pcm: &[i16]) {
        let Detector { an, st } = self;
        an.push(pcm, |t| st.on_tick(t));
    }

    /// A discontinuity (a long gap or a new stream): windows are cleared
    /// and cadences restart; what was already declared stays.
    pub fn discontinuity(&mut self) {
        self.an.reset();
        let t = self.an.elapsed_ms();
        for (_, _, m) in &mut self.st.ringback {
            m.reset(t);
        }
        for (_, _, m) in &mut self.st.progress {
            m.reset(t);
        }
        self.st.sit.reset();
    }

    /// SIT segment measurements (calibration tests).
    #[cfg(test)]
    pub(crate) fn sit_debug(&self) -> Option<([f64; 3], [f64; 3])> {
        self.st.sit.last_durations()
    }

    /// Milliseconds of audio pushed so far.
    pub fn analyzed_ms(&self) -> u64 {
        self.an.elapsed_ms()
    }

    /// Whether a ringback cadence was recognised.
    pub fn heard_ringback(&self) -> bool {
        self.st.region.is_some()
    }

    /// The region of the first ringback recognised (profile name).
    pub fn ringback_region(&self) -> Option<&str> {
        self.st.region.as_deref()
    }

    /// The SIT code, counting a last segment still in progress as ended
    /// (for the final report).
    pub fn sit_code(&self) -> Option<SitCode> {
        self.st.sit.found_or_pending(self.an.elapsed_ms())
    }

    /// An intercept, as soon as it is certain: a SIT whose three segments
    /// have ended, or an announcement (≥ 2 s of speech before any
    /// ringback). A SIT that ends exactly when the stream stops shows up
    /// only in [`Detector::sit_code`].
    pub fn intercept(&self) -> Option<Intercept> {
        match self.st.sit.found() {
            Some(code) => Some(Intercept::Sit(code)),
            None => self.st.announcement.then_some(Intercept::Announcement),
        }
    }

    /// Milliseconds of speech-like audio.
    pub fn speech_ms(&self) -> u64 {
        self.st.speech.speech_ms()
    }

    /// Milliseconds of music-like audio.
    pub fn music_ms(&self) -> u64 {
        self.st.speech.music_ms()
    }

    /// When each kind of audio was first recognised (ms of stream time).
    pub fn timeline(&self) -> &[(u64, Tone)] {
        &self.st.timeline
    }

    /// The overall classification; `None` before the first 60 ms of audio.
    pub fn tone(&self) -> Option<Tone> {
        let st = &self.st;
        if st.ticks == 0 {
            return None;
        }
        let mut heard: Vec<Tone> = st.timeline.iter().map(|&(_, t)| t).collect();
        if self.sit_code().is_some() {
            heard.push(Tone::Sit);
        }
        if st.speech.speech_ms() >= 1000 {
            heard.push(Tone::Speech);
        }
        if st.speech.music_ms() >= 1000 {
            heard.push(Tone::Music);
        }
        if let Some(best) = heard.into_iter().max_by_key(|t| t.rank()) {
            return Some(best);
        }
        Some(if st.silent * 10 >= st.ticks * 9 {
            Tone::Silence
        } else {
            Tone::Other
        })
    }
}

impl State {
    fn note(&mut self, t_ms: u64, tone: Tone) {
        if !self.timeline.iter().any(|&(_, t)| t == tone) {
            self.timeline.push((t_ms, tone));
        }
    }

    fn pattern_present(&self, t: &Tick, p: &Pattern) -> bool {
        let wp = t.window_pow;
        if wp.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return false;
        }
        let (mut sum, mut lo, mut hi) = (0f32, f32::MAX, 0f32);
        for &k in &p.bins {
            let share = t.bins[k] / wp;
            sum += share;
            lo = lo.min(share);
            hi = hi.max(share);
        }
        if t.center_pow < 0.25 * sum * wp {
            return false;
        }
        let shape_ok = if p.bins.len() == 1 {
            sum >= 0.6
        } else {
            sum >= 0.55 && lo >= 0.08 && hi <= 10.0 * lo
        };
        shape_ok && p.others.iter().all(|&k| t.bins[k] / wp <= 0.2)
    }

    fn on_tick(&mut self, t: &Tick) {
        self.ticks += 1;
        let silent = t.center_pow < self.th.silence;
        if silent {
            self.silent += 1;
        }
        let loud = t.center_pow >= self.th.loud;
        let mut any_pattern = false;
        for i in 0..self.patterns.len() {
            let on = loud && self.pattern_present(t, &self.patterns[i]);
            self.present[i] = on;
            any_pattern |= on;
        }
        let sit_tone = t
            .single
            .filter(|&(f, rho)| loud && rho >= 0.85 && (SIT_BAND.0..=SIT_BAND.1).contains(&f))
            .map(|(f, _)| f);

        let mut declared_ringback = None;
        for (name, p, m) in &mut self.ringback {
            if m.tick(t.t_ms, self.present[*p]) && declared_ringback.is_none() {
                declared_ringback = Some(name.clone());
            }
        }
        if let Some(name) = declared_ringback {
            if self.region.is_none() {
                self.region = Some(name);
            }
            self.note(t.t_ms, Tone::Ringback);
        }
        let mut declared = Vec::new();
        for (kind, p, m) in &mut self.progress {
            if m.tick(t.t_ms, self.present[*p]) {
                declared.push(*kind);
            }
        }
        for kind in declared {
            match kind {
                Progress::Busy => {
                    self.busy = true;
                    self.note(t.t_ms, Tone::Busy);
                }
                Progress::Reorder => {
                    self.reorder = true;
                    self.note(t.t_ms, Tone::Reorder);
                }
            }
        }
        if self.sit.tick(t.t_ms, sit_tone).is_some() {
            self.note(t.t_ms, Tone::Sit);
        }
        let db = 10.0 * (t.center_pow.max(1.0) / DBM0_POW).log10();
        // The single-tone fit is narrow-band, not strictly one sinusoid
        // (beats and formants fit it too), so only a steady tone segment
        // or a call-progress pattern makes a tick tonal here.
        let voiced = loud && !any_pattern && !self.sit.in_steady_tone() && t.r1n >= 0.3;
        match self.speech.tick(db, voiced) {
            Some(Block::Speech) if self.speech.speech_ms() >= 1000 => {
                self.note(t.t_ms, Tone::Speech);
                if self.speech.speech_ms() >= ANNOUNCEMENT_MS && self.region.is_none() {
                    self.announcement = true;
                }
            }
            Some(Block::Music) if self.speech.music_ms() >= 1000 => self.note(t.t_ms, Tone::Music),
            _ => {}
        }
    }
}
