//! Speech, music or neither: a coarse classifier of the non-tonal audio in
//! 500 ms blocks (50 ticks), for announcements and custom ringback.
//!
//! A tick is *voiced broadband* when it is loud enough (≥ −45 dBm0), holds
//! no call-progress tone and no pure single tone, and has a low-pass
//! spectrum (normalised lag-1 autocorrelation ≥ 0.3; white noise sits near
//! 0). A block is:
//! - **speech** when ≥ 30 % of its ticks are voiced broadband and its level
//!   swings (90th minus 10th percentile of tick power) by ≥ 12 dB:
//!   syllables and pauses;
//! - **music** when ≥ 80 % are voiced broadband and the swing is smaller:
//!   sustained, continuous sound;
//! - neither otherwise (silence, tones, steady noise).

/// Ticks per block (500 ms).
const BLOCK: usize = 50;
/// Block length in ms.
const BLOCK_MS: u64 = 500;

/// What a block was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    Speech,
    Music,
    Other,
}

/// Accumulates ticks into blocks and totals speech and music time.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpeechMeter {
    db: Vec<f32>,
    broadband: usize,
    speech_ms: u64,
    music_ms: u64,
}

impl SpeechMeter {
    /// Milliseconds of speech-like audio so far.
    pub(crate) fn speech_ms(&self) -> u64 {
        self.speech_ms
    }

    /// Milliseconds of music-like audio so far.
    pub(crate) fn music_ms(&self) -> u64 {
        self.music_ms
    }

    /// One tick: its power in dB (any reference) and whether it is voiced
    /// broadband. Returns the class of a block this tick completed.
    pub(crate) fn tick(&mut self, db: f32, voiced_broadband: bool) -> Option<Block> {
        self.db.push(if db.is_finite() { db } else { -200.0 });
        if voiced_broadband {
            self.broadband += 1;
        }
        if self.db.len() < BLOCK {
            return None;
        }
        self.db.sort_by(f32::total_cmp);
        let swing = self.db[BLOCK * 9 / 10] - self.db[BLOCK / 10];
        let share = self.broadband as f32 / BLOCK as f32;

        let block = if share >= 0.3 && swing >= 12.0 {
            self.speech_ms += BLOCK_MS;
            Block::Speech
        } else if share >= 0.8 {
            self.music_ms += BLOCK_MS;
            Block::Music
        } else {
            Block::Other
        };
        self.db.clear();
        self.broadband = 0;
        Some(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_by_share_and_swing() {
        let mut m = SpeechMeter::default();
        let mut last = None;
        for i in 0..50 {
            let loud = i % 3 != 0;
            last = m.tick(if loud { -20.0 } else { -60.0 }, loud);
        }
        assert_eq!(last, Some(Block::Speech));
        for _ in 0..50 {
            last = m.tick(-20.0, true);
        }
        assert_eq!(last, Some(Block::Music));
        for _ in 0..50 {
            last = m.tick(-40.0, false);
        }
        assert_eq!(last, Some(Block::Other));
        assert_eq!((m.speech_ms(), m.music_ms()), (500, 500));
        assert_eq!(m.tick(f32::NAN, false), None);
    }
}
