//! Deterministic test-signal synthesis at 8 kHz: tones and tone pairs with
//! twist and frequency error, cadences, white and band-limited noise,
//! speech-like and music-like audio. Used by the detector unit tests, by
//! `examples/gen_media.rs` (the SIPp test audio) and by
//! `examples/bench_media.rs`. Nothing here is downloaded or recorded: every
//! sample comes from a seeded generator, so files and tests are
//! reproducible.

use std::f64::consts::PI;

use super::g711;
use crate::sdp::Codec;

/// Sample rate of everything in this module (G.711 narrowband).
pub const SAMPLE_RATE: f64 = 8000.0;

/// Peak amplitude, in linear 16-bit units, of a sine at 0 dBm0 (G.711:
/// the largest code, about 32 124, is +3.17 dBm0).
pub const DBM0_PEAK: f64 = 22_400.0;

/// Peak amplitude of a sine at `level` dBm0.
pub fn amplitude(level_dbm0: f64) -> f64 {
    DBM0_PEAK * 10f64.powf(level_dbm0 / 20.0)
}

/// A small xorshift64* generator: deterministic, dependency-free.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Approximately standard normal (sum of 4 uniforms, rescaled).
    pub fn gauss(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * (3.0f64).sqrt()
    }
}

/// One sinusoidal component: frequency in Hz and level in dBm0.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// Frequency in Hz.
    pub freq: f64,
    /// Level in dBm0.
    pub level: f64,
}

/// Shorthand for a [`Component`].
pub fn comp(freq: f64, level: f64) -> Component {
    Component { freq, level }
}

/// A signal under construction, in floating point, appended piece by piece.
#[derive(Debug, Clone)]
pub struct Synth {
    buf: Vec<f64>,
    rng: Rng,
}

fn samples_for(ms: u32) -> usize {
    (u64::from(ms) * 8) as usize
}

impl Synth {
    /// An empty signal with a seeded generator (noise, phases, speech).
    pub fn new(seed: u64) -> Synth {
        Synth {
            buf: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    /// Length so far, in ms.
    pub fn len_ms(&self) -> u32 {
        (self.buf.len() / 8) as u32
    }

    /// Append `ms` of the sum of `components` (random start phases).
    pub fn tones(&mut self, components: &[Component], ms: u32) -> &mut Synth {
        let n = samples_for(ms);
        let parts: Vec<(f64, f64, f64)> = components
            .iter()
            .map(|c| {
                (
                    2.0 * PI * c.freq / SAMPLE_RATE,
                    amplitude(c.level),
                    self.rng.range(0.0, 2.0 * PI),
                )
            })
            .collect();
        for i in 0..n {
            let t = i as f64;
            self.buf
                .push(parts.iter().map(|(w, a, p)| a * (w * t + p).sin()).sum());
        }
        self
    }

    /// Append `ms` of digital silence.
    pub fn silence(&mut self, ms: u32) -> &mut Synth {
        self.buf.resize(self.buf.len() + samples_for(ms), 0.0);
        self
    }

    /// Append `total_ms` of a cadenced tone: `cadence` is on/off durations
    /// in ms, starting with on, repeated (and cut at `total_ms`).
    pub fn cadence(
        &mut self,
        components: &[Component],
        cadence: &[u32],
        total_ms: u32,
    ) -> &mut Synth {
        let mut left = total_ms;
        let mut i = 0usize;
        while left > 0 && !cadence.is_empty() {
            let d = cadence[i % cadence.len()].min(left).max(1);
            if i.is_multiple_of(2) {
                self.tones(components, d);
            } else {
                self.silence(d);
            }
            left = left.saturating_sub(d);
            i += 1;
        }
        self
    }

    /// Append `ms` of white Gaussian-ish noise at `level` dBm0 (RMS level
    /// equal to that of a sine at `level`).
    pub fn noise(&mut self, level: f64, ms: u32) -> &mut Synth {
        let rms = amplitude(level) / 2f64.sqrt();
        for _ in 0..samples_for(ms) {
            let v = rms * self.rng.gauss();
            self.buf.push(v);
        }
        self
    }

    /// Add white noise over the whole signal so far, `snr_db` below a sine
    /// at `reference` dBm0.
    pub fn add_noise(&mut self, reference: f64, snr_db: f64) -> &mut Synth {
        let rms = amplitude(reference - snr_db) / 2f64.sqrt();
        for i in 0..self.buf.len() {
            let v = rms * self.rng.gauss();
            self.buf[i] += v;
        }
        self
    }

    /// Append `ms` of band-limited noise bursts (a band-pass between `lo`
    /// and `hi` Hz), bursts of 60–400 ms separated by 40–300 ms of quiet.
    pub fn noise_bursts(&mut self, level: f64, lo: f64, hi: f64, ms: u32) -> &mut Synth {
        let end = self.buf.len() + samples_for(ms);
        let mut bp = Biquad::bandpass((lo * hi).sqrt(), (lo * hi).sqrt() / (hi - lo).max(1.0));
        let rms = amplitude(level) / 2f64.sqrt();
        // The band-pass loses power; compensate roughly by the bandwidth.
        let gain = (4000.0 / (hi - lo).max(50.0)).sqrt();
        while self.buf.len() < end {
            let on = samples_for(self.rng.range(60.0, 400.0) as u32);
            let env_level = self.rng.range(0.3, 1.0);
            for k in 0..on {
                if self.buf.len() >= end {
                    break;
                }
                let env = (PI * k as f64 / on as f64).sin();
                let v = bp.run(rms * gain * self.rng.gauss());
                self.buf.push(v * env * env_level);
            }
            let off = samples_for(self.rng.range(40.0, 300.0) as u32);
            for _ in 0..off {
                if self.buf.len() >= end {
                    break;
                }
                self.buf.push(0.0);
            }
        }
        self
    }

    /// Append `ms` of a speech-like signal at about `level` dBm0: syllables
    /// of 100–320 ms with a gliding pitch (85–230 Hz), harmonics shaped by
    /// three moving formants, a raised-cosine envelope, some unvoiced
    /// (fricative-like) bursts, and pauses of 30–350 ms.
    pub fn speech_like(&mut self, level: f64, ms: u32) -> &mut Synth {
        let end = self.buf.len() + samples_for(ms);
        let target = amplitude(level) / 2f64.sqrt();
        let mut fric = Biquad::bandpass(3000.0, 2.0);
        let mut syllable = Vec::new();
        while self.buf.len() < end {
            syllable.clear();
            let syl = samples_for(self.rng.range(100.0, 320.0) as u32);
            let gain_db;
            if self.rng.unit() < 0.2 {
                // Unvoiced: band-passed noise, quieter.
                gain_db = self.rng.range(-12.0, -6.0);
                for k in 0..syl / 2 {
                    let env = (PI * k as f64 / (syl / 2) as f64).sin();
                    syllable.push(fric.run(self.rng.gauss()) * env);
                }
            } else {
                gain_db = self.rng.range(-4.0, 4.0);
                let f0a = self.rng.range(85.0, 230.0);
                let f0b = f0a * self.rng.range(0.7, 1.35);
                let f1 = (self.rng.range(300.0, 850.0), self.rng.range(300.0, 850.0));
                let f2 = (self.rng.range(850.0, 2300.0), self.rng.range(850.0, 2300.0));
                let f3 = self.rng.range(2300.0, 3100.0);
                let mut phases = [0.0f64; 48];
                for k in 0..syl {
                    let x = k as f64 / syl as f64;
                    let f0 = f0a
                        + (f0b - f0a) * x
                        + 4.0 * (2.0 * PI * 5.0 * k as f64 / SAMPLE_RATE).sin();
                    let ff1 = f1.0 + (f1.1 - f1.0) * x;
                    let ff2 = f2.0 + (f2.1 - f2.0) * x;
                    let env = (PI * x).sin().powf(0.7);
                    let mut v = 0.0;
                    for (h, phase) in phases.iter_mut().enumerate() {
                        let hf = f0 * (h + 1) as f64;
                        if hf > 3600.0 {
                            break;
                        }
                        *phase += 2.0 * PI * hf / SAMPLE_RATE;
                        let g = formant(hf, ff1, 90.0)
                            + 0.6 * formant(hf, ff2, 120.0)
                            + 0.25 * formant(hf, f3, 160.0)
                            + 0.02;
                        v += g * phase.sin();
                    }
                    syllable.push(v * env);
                }
            }
            let rms =
                (syllable.iter().map(|v| v * v).sum::<f64>() / syllable.len().max(1) as f64).sqrt();
            let scale = if rms > 0.0 {
                target * 10f64.powf(gain_db / 20.0) / rms
            } else {
                0.0
            };
            self.buf.extend(syllable.iter().map(|v| v * scale));
            let pause = if self.rng.unit() < 0.15 {
                self.rng.range(200.0, 350.0)
            } else {
                self.rng.range(30.0, 120.0)
            };
            self.silence(pause as u32);
        }
        self.buf.truncate(end);
        self
    }

    /// Append `ms` of a music-like signal at about `level` dBm0: legato
    /// notes of 300–700 ms, each a two- or three-note chord from a
    /// pentatonic scale with harmonics and a slow vibrato, no pauses.
    pub fn music_like(&mut self, level: f64, ms: u32) -> &mut Synth {
        const SCALE: [f64; 10] = [
            261.6, 293.7, 329.6, 392.0, 440.0, 523.3, 587.3, 659.3, 784.0, 880.0,
        ];
        let end = self.buf.len() + samples_for(ms);
        let a = amplitude(level) * 0.5;
        let mut phases = [[0.0f64; 3]; 3];
        while self.buf.len() < end {
            let len = samples_for(self.rng.range(300.0, 700.0) as u32);
            let voices = if self.rng.unit() < 0.5 { 2 } else { 3 };
            let mut notes = [0.0f64; 3];
            for n in notes.iter_mut().take(voices) {
                *n = SCALE[(self.rng.next_u64() % SCALE.len() as u64) as usize];
            }
            for k in 0..len {
                if self.buf.len() >= end {
                    break;
                }
                let vib =
                    1.0 + 0.004 * (2.0 * PI * 5.5 * (self.buf.len() as f64) / SAMPLE_RATE).sin();
                let env = 0.75 + 0.25 * (PI * k as f64 / len as f64).sin();
                let mut v = 0.0;
                for (voice, note) in notes.iter().take(voices).enumerate() {
                    for (h, gain) in [1.0, 0.5, 0.3].iter().enumerate() {
                        let p = &mut phases[voice][h];
                        *p += 2.0 * PI * note * vib * (h + 1) as f64 / SAMPLE_RATE;
                        v += gain * p.sin();
                    }
                }
                self.buf.push(v * a * env);
            }
        }
        self.buf.truncate(end);
        self
    }

    /// The signal as 16-bit PCM (saturating).
    pub fn pcm(&self) -> Vec<i16> {
        self.buf
            .iter()
            .map(|&v| v.round().clamp(-32768.0, 32767.0) as i16)
            .collect()
    }
}

/// Cut 8 kHz PCM into 20 ms RTP packets (V=2, marker on the first) of
/// `codec` with payload type `pt`: sequence numbers from `seq0`,
/// timestamps from `ts0` in steps of 160. The test audio generator, the
/// benchmark and the session tests use it.
pub fn packetize(
    pcm: &[i16],
    codec: Codec,
    pt: u8,
    ssrc: u32,
    seq0: u16,
    ts0: u32,
) -> Vec<Vec<u8>> {
    pcm.chunks(160)
        .enumerate()
        .map(|(i, frame)| {
            let mut p = Vec::with_capacity(12 + frame.len());
            p.push(0x80);
            p.push((pt & 0x7f) | if i == 0 { 0x80 } else { 0 });
            p.extend_from_slice(&seq0.wrapping_add(i as u16).to_be_bytes());
            p.extend_from_slice(&ts0.wrapping_add(160 * i as u32).to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend(frame.iter().map(|&x| g711::encode(codec, x)));
            p
        })
        .collect()
}

/// Resonance gain of a formant at `center` with bandwidth `bw`.
fn formant(f: f64, center: f64, bw: f64) -> f64 {
    let x = (f - center) / bw;
    1.0 / (1.0 + x * x)
}

/// An RBJ band-pass biquad (constant 0 dB peak gain).
#[derive(Debug, Clone)]
struct Biquad {
    b0: f64,
    b2: f64,
    a1: f64,
    a2: f64,
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
}

impl Biquad {
    fn bandpass(center: f64, q: f64) -> Biquad {
        let w = 2.0 * PI * center.clamp(10.0, 3990.0) / SAMPLE_RATE;
        let alpha = w.sin() / (2.0 * q.max(0.1));
        let a0 = 1.0 + alpha;
        Biquad {
            b0: alpha / a0,
            b2: -alpha / a0,
            a1: -2.0 * w.cos() / a0,
            a2: (1.0 - alpha) / a0,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
        }
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.b0 * x + self.b2 * self.x2 - self.a1 * self.y1 - self.a2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn levels_and_lengths() {
        let mut s = Synth::new(1);
        s.tones(&[comp(1000.0, -10.0)], 1000);
        let pcm = s.pcm();
        assert_eq!(pcm.len(), 8000);
        let expect = amplitude(-10.0) / 2f64.sqrt();
        assert!((rms(&pcm) / expect - 1.0).abs() < 0.01);
        let mut n = Synth::new(2);
        n.noise(-10.0, 1000);
        assert!((rms(&n.pcm()) / expect - 1.0).abs() < 0.05);
        let mut c = Synth::new(3);
        c.cadence(&[comp(440.0, -19.0)], &[2000, 4000], 7000);
        assert_eq!(c.len_ms(), 7000);
        let pcm = c.pcm();
        assert!(rms(&pcm[16_000..48_000]) < 1.0, "off period is silent");
        assert!(rms(&pcm[48_000..]) > 100.0, "second ring starts at 6 s");
    }

    #[test]
    fn speech_and_music_have_the_asked_length_and_energy() {
        let mut s = Synth::new(4);
        s.speech_like(-20.0, 3000)
            .music_like(-20.0, 2000)
            .noise_bursts(-20.0, 300.0, 3000.0, 1000);
        let pcm = s.pcm();
        assert_eq!(pcm.len(), 48_000);
        assert!(rms(&pcm[..24_000]) > 300.0);
        assert!(rms(&pcm[24_000..40_000]) > 300.0);
        assert!(rms(&pcm[40_000..]) > 100.0);
    }
}
