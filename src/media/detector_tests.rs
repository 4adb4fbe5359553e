//! Detector tests on synthetic PCM: every tone the issue names, under white
//! noise at 20 dB SNR, ±6 dB twist and ±1.5 % frequency error; and the
//! absence of false positives on speech-like, music-like and noise signals.

use super::sit::{SIT_F3, SIT_LONG_MS};
use super::synth::{Component, Synth, comp};
use super::*;

/// Ringback level per tone (dBm0), typical of the US precise tone plan.
const RB: f64 = -19.0;
/// SIT level (dBm0), E.180 nominal.
const SIT: f64 = -24.0;

fn detect(s: &Synth) -> Detector {
    detect_pcm(&s.pcm(), 160)
}

fn detect_pcm(pcm: &[i16], chunk: usize) -> Detector {
    let mut d = Detector::default();
    for c in pcm.chunks(chunk.max(1)) {
        d.push(c);
    }
    d
}

/// A pair with frequency error `err` (factor) and `twist` dB on the first.
fn pair(f1: f64, f2: f64, err: f64, twist: f64) -> [Component; 2] {
    [
        comp(f1 * err, RB + twist / 2.0),
        comp(f2 * err, RB - twist / 2.0),
    ]
}

const VARIANTS: [(f64, f64); 5] = [
    (1.0, 0.0),
    (1.015, 6.0),
    (0.985, -6.0),
    (1.015, -6.0),
    (0.985, 6.0),
];

fn assert_no_tone_claims(d: &Detector, what: &str) {
    assert!(
        !d.heard_ringback(),
        "{what}: ringback {:?}",
        d.ringback_region()
    );
    assert_eq!(d.sit_code(), None, "{what}: SIT");
    assert!(
        !d.timeline()
            .iter()
            .any(|(_, t)| matches!(t, Tone::Busy | Tone::Reorder)),
        "{what}: {:?}",
        d.timeline()
    );
}

#[test]
fn us_ringback_with_noise_twist_and_frequency_error() {
    for (i, &(err, twist)) in VARIANTS.iter().enumerate() {
        let mut s = Synth::new(10 + i as u64);
        s.silence(300)
            .cadence(&pair(440.0, 480.0, err, twist), &[2000, 4000], 8000)
            .add_noise(RB, 20.0);
        let d = detect(&s);
        assert_eq!(d.ringback_region(), Some("us"), "{err} {twist}: {d:?}");
        assert_eq!(d.tone(), Some(Tone::Ringback));
        assert_eq!(d.intercept(), None);
        // Declared when the second ring starts: 0.3 + 2 + 4 s, + 60 ms of
        // window centre lag and debounce.
        let (at, _) = d.timeline()[0];
        assert!((6300..6450).contains(&at), "declared at {at}");
        assert_eq!(d.sit_code(), None);
    }
}

#[test]
fn us_ringback_joined_mid_ring_needs_one_and_a_half_cycles() {
    let mut s = Synth::new(3);
    let tones = pair(440.0, 480.0, 1.0, 0.0);
    s.tones(&tones, 1100)
        .silence(4000)
        .cadence(&tones, &[2000, 4000], 3000)
        .add_noise(RB, 20.0);
    let d = detect(&s);
    assert_eq!(d.ringback_region(), Some("us"));
    let (at, _) = d.timeline()[0];
    assert!(at > 7100, "not before the second full ring ended: {at}");
}

#[test]
fn uk_double_ring() {
    for (i, &(err, twist)) in VARIANTS.iter().enumerate() {
        let mut s = Synth::new(20 + i as u64);
        s.silence(250)
            .cadence(
                &pair(400.0, 450.0, err, twist),
                &[400, 200, 400, 2000],
                6000,
            )
            .add_noise(RB, 20.0);
        let d = detect(&s);
        assert_eq!(d.ringback_region(), Some("uk"), "{err} {twist}: {d:?}");
        assert_eq!(d.tone(), Some(Tone::Ringback));
    }
}

#[test]
fn cept_ringback() {
    for (i, err) in [1.0, 1.015, 0.985].into_iter().enumerate() {
        let mut s = Synth::new(30 + i as u64);
        s.silence(400)
            .cadence(&[comp(425.0 * err, RB)], &[1000, 4000], 11_000)
            .add_noise(RB, 20.0);
        let d = detect(&s);
        assert_eq!(d.ringback_region(), Some("cept"), "{err}: {d:?}");
        assert_eq!(d.tone(), Some(Tone::Ringback));
    }
}

#[test]
fn regions_are_not_confused() {
    // Each region's tone with another region's cadence is not ringback.
    let mut s = Synth::new(4);
    s.silence(200)
        .cadence(&pair(440.0, 480.0, 1.0, 0.0), &[400, 200, 400, 2000], 7000);
    assert!(!detect(&s).heard_ringback(), "US tone, UK cadence");
    let mut s = Synth::new(5);
    s.silence(200)
        .cadence(&pair(400.0, 450.0, 1.0, 0.0), &[2000, 4000], 9000);
    assert!(!detect(&s).heard_ringback(), "UK tone, US cadence");
    let mut s = Synth::new(6);
    s.silence(200)
        .cadence(&[comp(425.0, RB)], &[2000, 4000], 9000);
    assert!(!detect(&s).heard_ringback(), "425 Hz, US cadence");
    // A continuous tone is never ringback.
    let mut s = Synth::new(7);
    s.silence(200).tones(&pair(440.0, 480.0, 1.0, 0.0), 10_000);
    assert!(!detect(&s).heard_ringback(), "continuous 440+480");
}

#[test]
fn custom_profiles_replace_the_defaults() {
    // France: 440 Hz, 1.5 s on / 3.5 s off.
    let fr = RingbackProfile::new("fr", &[440.0], &[1500, 3500]);
    let mut s = Synth::new(8);
    s.silence(300)
        .cadence(&[comp(440.0, RB)], &[1500, 3500], 7000)
        .add_noise(RB, 20.0);
    let mut d = Detector::new(&[fr]);
    d.push(&s.pcm());
    assert_eq!(d.ringback_region(), Some("fr"));
    let mut d = Detector::new(&[]);
    d.push(&s.pcm());
    assert!(!d.heard_ringback());
}

#[test]
fn busy_and_reorder() {
    for (i, &(err, twist)) in VARIANTS.iter().enumerate() {
        let tones = [
            comp(480.0 * err, -24.0 + twist / 2.0),
            comp(620.0 * err, -24.0 - twist / 2.0),
        ];
        let mut s = Synth::new(40 + i as u64);
        s.silence(200)
            .cadence(&tones, &[500, 500], 4000)
            .add_noise(-24.0, 20.0);
        let d = detect(&s);
        assert_eq!(d.tone(), Some(Tone::Busy), "busy {err} {twist}: {d:?}");
        assert!(!d.heard_ringback());
        let mut s = Synth::new(50 + i as u64);
        s.silence(200)
            .cadence(&tones, &[250, 250], 3000)
            .add_noise(-24.0, 20.0);
        let d = detect(&s);
        assert_eq!(
            d.tone(),
            Some(Tone::Reorder),
            "reorder {err} {twist}: {d:?}"
        );
        assert!(!d.heard_ringback());
    }
}

const CODED: [SitCode; 6] = [
    SitCode::Ic,
    SitCode::Vc,
    SitCode::Nc,
    SitCode::NcPrime,
    SitCode::Ro,
    SitCode::RoPrime,
];

/// A coded SIT at frequency error `err`, with `lead` ms of silence before
/// and an announcement after (`gap` ms of silence between).
fn coded_sit(code: SitCode, err: f64, lead: u32, gap: u32, seed: u64) -> Synth {
    let [(f1, d1), (f2, d2)] = code.segments().expect("coded");
    let mut s = Synth::new(seed);
    s.silence(lead)
        .tones(&[comp(f1 * err, SIT)], d1)
        .tones(&[comp(f2 * err, SIT)], d2)
        .tones(&[comp(SIT_F3 * err, SIT)], SIT_LONG_MS)
        .silence(gap)
        .speech_like(-20.0, 2500)
        .add_noise(SIT, 20.0);
    s
}

#[test]
fn every_coded_sit_with_noise_and_frequency_error() {
    for (c, code) in CODED.into_iter().enumerate() {
        for (i, err) in [1.0, 1.015, 0.985].into_iter().enumerate() {
            for (j, (lead, gap)) in [(200, 100), (203, 0), (207, 30)].into_iter().enumerate() {
                let seed = 100 + (c * 9 + i * 3 + j) as u64;
                let d = detect(&coded_sit(code, err, lead, gap, seed));
                assert_eq!(
                    d.sit_code(),
                    Some(code),
                    "{code:?} err {err} lead {lead} gap {gap}: {d:?}"
                );
                assert_eq!(d.intercept(), Some(Intercept::Sit(code)));
                assert_eq!(d.tone(), Some(Tone::Sit));
                assert!(!d.heard_ringback());
            }
        }
    }
}

#[test]
fn sit_measured_durations_stay_within_fifteen_ms() {
    for (c, code) in CODED.into_iter().enumerate() {
        let [(_, d1), (_, d2)] = code.segments().expect("coded");
        for off in [0, 2, 5, 8] {
            let d = detect(&coded_sit(
                code,
                1.0,
                200 + off,
                100,
                300 + c as u64 * 10 + u64::from(off),
            ));
            let (dur, _) = d.sit_debug().expect("measured");
            for (got, want) in dur.iter().zip([d1, d2, SIT_LONG_MS]) {
                assert!(
                    (got - f64::from(want)).abs() <= 15.0,
                    "{code:?} {off}: {dur:?}"
                );
            }
        }
    }
}

#[test]
fn sit_known_as_soon_as_the_third_tone_ends() {
    let d = detect(&coded_sit(SitCode::Nc, 1.0, 200, 100, 7));
    let (at, tone) = d.timeline()[0];
    assert_eq!(tone, Tone::Sit);
    // 200 + 380 + 380 + 380 = 1340 ms, + window lag.
    assert!((1340..1420).contains(&at), "{at}");
    // Stream ending right after the third segment: report still has it,
    // the conservative intercept does not.
    let [(f1, d1), (f2, d2)] = SitCode::Ic.segments().expect("coded");
    let mut s = Synth::new(8);
    s.silence(200)
        .tones(&[comp(f1, SIT)], d1)
        .tones(&[comp(f2, SIT)], d2)
        .tones(&[comp(SIT_F3, SIT)], 380);
    let d = detect(&s);
    assert_eq!(d.sit_code(), Some(SitCode::Ic));
    assert_eq!(d.intercept(), None);
}

#[test]
fn generic_itu_sit() {
    for (i, (err, gap)) in [(1.0, 0), (1.015, 30), (0.985, 10)].into_iter().enumerate() {
        let mut s = Synth::new(60 + i as u64);
        s.silence(200)
            .tones(&[comp(950.0 * err, SIT)], 330)
            .silence(gap)
            .tones(&[comp(1400.0 * err, SIT)], 330)
            .silence(gap)
            .tones(&[comp(1800.0 * err, SIT)], 330)
            .silence(1000)
            .add_noise(SIT, 20.0);
        let d = detect(&s);
        assert_eq!(d.sit_code(), Some(SitCode::Generic), "{err} {gap}: {d:?}");
        assert_eq!(d.intercept(), Some(Intercept::Sit(SitCode::Generic)));
    }
}

#[test]
fn sit_frequencies_with_wrong_timing_are_not_sit() {
    for ms in [150u32, 600] {
        let mut s = Synth::new(70);
        s.silence(200)
            .tones(&[comp(913.8, SIT)], ms)
            .tones(&[comp(1370.6, SIT)], ms)
            .tones(&[comp(SIT_F3, SIT)], ms)
            .silence(500);
        assert_eq!(detect(&s).sit_code(), None, "{ms} ms segments");
    }
}

#[test]
fn silence_is_silence() {
    let mut s = Synth::new(9);
    s.silence(5000);
    let d = detect(&s);
    assert_eq!(d.tone(), Some(Tone::Silence));
    assert_eq!(d.intercept(), None);
    // A-law idle pattern and comfort-noise-level hiss are silence too.
    let mut s = Synth::new(10);
    s.noise(-65.0, 5000);
    assert_eq!(detect(&s).tone(), Some(Tone::Silence));
    assert_eq!(
        detect_pcm(&vec![8i16; 40_000], 160).tone(),
        Some(Tone::Silence)
    );
    assert_eq!(Detector::default().tone(), None, "nothing analysed yet");
}

#[test]
fn speech_like_audio_is_an_announcement_and_nothing_else() {
    for seed in 0..8u64 {
        let mut s = Synth::new(1000 + seed);
        s.silence(100)
            .speech_like(-18.0 - seed as f64, 12_000)
            .add_noise(-20.0, 30.0);
        let d = detect(&s);
        assert_no_tone_claims(&d, &format!("speech seed {seed}"));
        assert_eq!(
            d.tone(),
            Some(Tone::Speech),
            "seed {seed}: {d:?} speech {} music {}",
            d.speech_ms(),
            d.music_ms()
        );
        assert_eq!(d.intercept(), Some(Intercept::Announcement), "seed {seed}");
        assert!(d.speech_ms() >= 6000, "seed {seed}: {}", d.speech_ms());
    }
}

#[test]
fn music_and_noise_bursts_are_not_tones() {
    for seed in 0..6u64 {
        let mut s = Synth::new(2000 + seed);
        s.music_like(-18.0, 15_000);
        let d = detect(&s);
        assert_no_tone_claims(&d, &format!("music seed {seed}"));
        assert_ne!(
            d.intercept(),
            Some(Intercept::Announcement),
            "music {seed}: {d:?}"
        );
        assert_eq!(d.tone(), Some(Tone::Music), "music {seed}: {d:?}");
    }
    for (seed, (lo, hi)) in [
        (300.0, 3400.0),
        (350.0, 700.0),
        (400.0, 500.0),
        (850.0, 1900.0),
        (1300.0, 1900.0),
    ]
    .into_iter()
    .enumerate()
    {
        let mut s = Synth::new(3000 + seed as u64);
        s.noise_bursts(-18.0, lo, hi, 15_000);
        assert_no_tone_claims(&detect(&s), &format!("noise bursts {lo}-{hi}"));
    }
    let mut s = Synth::new(11);
    s.noise(-30.0, 8000);
    let d = detect(&s);
    assert_no_tone_claims(&d, "white noise");
    assert_eq!(d.tone(), Some(Tone::Other));
}

#[test]
fn ringback_then_speech_is_ringback_not_an_announcement() {
    let mut s = Synth::new(12);
    s.silence(200)
        .cadence(&pair(440.0, 480.0, 1.0, 0.0), &[2000, 4000], 8000)
        .speech_like(-20.0, 5000);
    let d = detect(&s);
    assert!(d.heard_ringback());
    assert_eq!(d.intercept(), None);
    assert_eq!(d.tone(), Some(Tone::Ringback));
    assert!(d.speech_ms() > 0);
}

#[test]
fn chunking_does_not_matter() {
    let s = coded_sit(SitCode::Ro, 1.0, 150, 50, 13);
    let pcm = s.pcm();
    for chunk in [1, 7, 80, 160, 240, 1000] {
        let d = detect_pcm(&pcm, chunk);
        assert_eq!(d.sit_code(), Some(SitCode::Ro), "chunk {chunk}");
    }
}

#[test]
fn discontinuity_restarts_cadences_but_keeps_declarations() {
    let mut s = Synth::new(14);
    s.silence(200)
        .cadence(&pair(440.0, 480.0, 1.0, 0.0), &[2000, 4000], 7000);
    let pcm = s.pcm();
    let mut d = Detector::default();
    d.push(&pcm[..8000 * 5]);
    d.discontinuity();
    d.push(&pcm[8000 * 5..]);
    assert!(!d.heard_ringback(), "the cycle was cut");
    let mut d = detect_pcm(&pcm, 160);
    assert!(d.heard_ringback());
    d.discontinuity();
    assert!(d.heard_ringback());
}

#[test]
fn hostile_pcm_never_panics() {
    let mut rng = super::synth::Rng::new(99);
    let mut d = Detector::default();
    let extremes = [i16::MIN, i16::MAX, 0, -1];
    let pcm: Vec<i16> = (0..80_000)
        .map(|i| {
            if i % 1000 < 500 {
                extremes[i % 4]
            } else {
                rng.next_u64() as i16
            }
        })
        .collect();
    d.push(&pcm);
    let _ = (d.tone(), d.sit_code(), d.intercept());
}
