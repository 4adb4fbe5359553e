//! RTP receive bookkeeping (RFC 3550): protocol-id newtypes, sequence number
//! extension, loss (appendix A.1, A.3) and interarrival jitter (A.8).
//!
//! Pure arithmetic over header fields; the packet bytes are read with
//! `rtp-rs` in the session, never here. No clock: arrival times come in as
//! RTP timestamp units computed by the caller from its `now`.

use std::fmt;

/// An RTP synchronisation source identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// An *extended* RTP sequence number: the 16-bit wire value plus the count
/// of wraparounds, so code never compares raw wrapping `u16`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SeqNo(pub u64);

impl SeqNo {
    /// The 16-bit value on the wire.
    pub fn wire(self) -> u16 {
        (self.0 & 0xffff) as u16
    }
}

impl fmt::Display for SeqNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Extend a 16-bit sequence number relative to the previous extended one:
/// pick the candidate (same, next or previous wrap cycle) closest to
/// `prev`. Without a previous value the wire value is taken as is.
/// Never panics: a step back before cycle 0 stays in cycle 0.
pub fn extend_u16(prev: Option<SeqNo>, wire: u16) -> SeqNo {
    let Some(SeqNo(prev)) = prev else {
        return SeqNo(u64::from(wire));
    };
    let cycle = prev & !0xffff;
    let base = cycle | u64::from(wire);
    let candidates = [
        base.checked_sub(0x1_0000),
        Some(base),
        base.checked_add(0x1_0000),
    ];
    let best = candidates
        .into_iter()
        .flatten()
        .min_by_key(|&c| c.abs_diff(prev))
        .unwrap_or(base);
    SeqNo(best)
}

/// RFC 3550 A.1: a jump this far ahead is taken as a restart, not loss.
const MAX_DROPOUT: u64 = 3000;
/// RFC 3550 A.1: a packet this far behind the highest is a late one.
const MAX_MISORDER: u64 = 100;
/// Extended numbers start one cycle up, so a packet from just before the
/// first one (reordered across a wrap) still extends backwards.
const SEQ_ORIGIN: u64 = 1 << 16;

/// How a packet's sequence number relates to the stream so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqVerdict {
    /// The first packet of a source (or of a restarted source).
    First,
    /// Newer than any so far; `gap` packets were skipped (0 = in order).
    InOrder {
        /// Packets missing between the previous highest and this one.
        gap: u64,
    },
    /// Older than the highest seen: late, reordered or duplicated.
    Late,
    /// A jump too large to be loss; held as probation until the next packet
    /// confirms it (then the source restarts). Not counted.
    Probation,
}

/// Per-source receive statistics: counts, loss and jitter. A change of SSRC
/// starts a new segment; totals add up across segments.
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    ssrc: Option<Ssrc>,
    base: SeqNo,
    max: SeqNo,
    received: u64,
    /// Expected and received of finished segments (SSRC changes, restarts).
    prior_expected: u64,
    prior_received: u64,
    bad_seq: Option<u16>,
    last_transit: Option<u32>,
    /// RFC 3550 jitter estimate in timestamp units (A.8), as f64.
    jitter: f64,
    sources: u32,
}

impl ReceiveStats {
    /// Account one packet: its SSRC, wire sequence number, RTP timestamp,
    /// and arrival time in the same clock units (8000 Hz for G.711),
    /// wrapping. `jitter` is false for packets that must not feed the
    /// jitter estimate (RFC 4733 events repeat one timestamp).
    pub fn update(
        &mut self,
        ssrc: Ssrc,
        seq: u16,
        rtp_ts: u32,
        arrival: u32,
        jitter: bool,
    ) -> SeqVerdict {
        if self.ssrc != Some(ssrc) {
            self.close_segment();
            self.ssrc = Some(ssrc);
            self.sources = self.sources.saturating_add(1);
            self.start_segment(seq);
            self.feed_jitter(rtp_ts, arrival, jitter);
            return SeqVerdict::First;
        }
        let ext = extend_u16(Some(self.max), seq);
        let verdict = if ext > self.max {
            let ahead = ext.0 - self.max.0;
            if ahead < MAX_DROPOUT {
                self.max = ext;
                self.received += 1;
                self.bad_seq = None;
                SeqVerdict::InOrder { gap: ahead - 1 }
            } else {
                self.jump(seq)
            }
        } else if self.max.0 - ext.0 <= MAX_MISORDER {
            self.received += 1;
            SeqVerdict::Late
        } else {
            self.jump(seq)
        };
        if !matches!(verdict, SeqVerdict::Probation) {
            self.feed_jitter(rtp_ts, arrival, jitter);
        }
        verdict
    }

    fn jump(&mut self, seq: u16) -> SeqVerdict {
        if self.bad_seq == Some(seq) {
            // Two packets in a row after the jump: the sender restarted.
            self.close_segment();
            self.start_segment(seq);
            self.last_transit = None;
            SeqVerdict::First
        } else {
            self.bad_seq = Some(seq.wrapping_add(1));
            SeqVerdict::Probation
        }
    }

    fn start_segment(&mut self, seq: u16) {
        let ext = SeqNo(SEQ_ORIGIN + u64::from(seq));
        self.base = ext;
        self.max = ext;
        self.received = 1;
        self.bad_seq = None;
        self.last_transit = None;
    }

    fn close_segment(&mut self) {
        if self.ssrc.is_some() {
            self.prior_expected += self.expected_in_segment();
            self.prior_received += self.received;
        }
        self.received = 0;
    }

    fn expected_in_segment(&self) -> u64 {
        if self.received == 0 {
            0
        } else {
            self.max.0 - self.base.0 + 1
        }
    }

    fn feed_jitter(&mut self, rtp_ts: u32, arrival: u32, eligible: bool) {
        if !eligible {
            return;
        }
        let transit = arrival.wrapping_sub(rtp_ts);
        if let Some(last) = self.last_transit {
            let d = f64::from(transit.wrapping_sub(last) as i32).abs();
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// Packets counted (in order, late or duplicated), all segments.
    pub fn received(&self) -> u64 {
        self.prior_received + self.received
    }

    /// Packets expected from the sequence numbers, all segments.
    pub fn expected(&self) -> u64 {
        self.prior_expected + self.expected_in_segment()
    }

    /// Cumulative loss, expected − received, floored at 0 (duplicates can
    /// make the difference negative; RFC 3550 A.3).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received())
    }

    /// Interarrival jitter in timestamp units (RFC 3550 A.8).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The current source, if any packet was accounted.
    pub fn ssrc(&self) -> Option<Ssrc> {
        self.ssrc
    }

    /// How many distinct SSRC segments were seen.
    pub fn sources(&self) -> u32 {
        self.sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_u16_wraparound() {
        assert_eq!(extend_u16(None, 7), SeqNo(7));
        assert_eq!(extend_u16(Some(SeqNo(65_535)), 0), SeqNo(65_536));
        assert_eq!(extend_u16(Some(SeqNo(65_536)), 65_535), SeqNo(65_535));
        assert_eq!(extend_u16(Some(SeqNo(131_071)), 2), SeqNo(131_074));
        assert_eq!(
            extend_u16(Some(SeqNo(10)), 65_530),
            SeqNo(65_530),
            "no cycle below 0"
        );
        assert_eq!(extend_u16(Some(SeqNo(70_000)), 4_464), SeqNo(70_000));
        assert_eq!(SeqNo(65_536 + 9).wire(), 9);
    }

    fn feed(stats: &mut ReceiveStats, seqs: &[u16]) -> Vec<SeqVerdict> {
        seqs.iter()
            .map(|&s| {
                let ts = u32::from(s).wrapping_mul(160);
                stats.update(Ssrc(1), s, ts, ts.wrapping_add(1000), true)
            })
            .collect()
    }

    #[test]
    fn sequence_across_the_wrap_counts_no_loss() {
        let mut stats = ReceiveStats::default();
        let seqs: Vec<u16> = (0..200u16).map(|i| 65_500u16.wrapping_add(i)).collect();
        let verdicts = feed(&mut stats, &seqs);
        assert_eq!(verdicts[0], SeqVerdict::First);
        assert!(
            verdicts[1..]
                .iter()
                .all(|v| *v == SeqVerdict::InOrder { gap: 0 })
        );
        assert_eq!(stats.received(), 200);
        assert_eq!(stats.expected(), 200);
        assert_eq!(stats.lost(), 0);
        assert!(stats.jitter().abs() < 1e-9, "constant transit, no jitter");
    }

    #[test]
    fn loss_reorder_and_duplicates() {
        let mut stats = ReceiveStats::default();
        // 10..=29 with 13, 14 and 20 missing, 16/17 swapped, 22 duplicated.
        let seqs = [
            10, 11, 12, 15, 17, 16, 18, 19, 21, 22, 22, 23, 24, 25, 26, 27, 28, 29,
        ];
        let verdicts = feed(&mut stats, &seqs);
        assert_eq!(verdicts[3], SeqVerdict::InOrder { gap: 2 });
        assert_eq!(verdicts[5], SeqVerdict::Late);
        assert_eq!(verdicts[10], SeqVerdict::Late);
        assert_eq!(stats.expected(), 20);
        assert_eq!(stats.received(), 18);
        assert_eq!(
            stats.lost(),
            2,
            "3 missing, one duplicate masks one (RFC 3550 A.3)"
        );
    }

    #[test]
    fn packet_reordered_before_the_first_extends_backwards() {
        let mut stats = ReceiveStats::default();
        feed(&mut stats, &[0, 65_535, 1, 2]);
        assert_eq!(
            stats.expected(),
            3,
            "max − base + 1 counts from the first packet"
        );
        assert_eq!(stats.received(), 4);
        assert_eq!(stats.lost(), 0);
    }

    #[test]
    fn jitter_matches_rfc3550_a8() {
        let mut stats = ReceiveStats::default();
        // 20 ms packets (160 units); arrivals alternate +0 / +80 units late.
        let mut expect = 0.0f64;
        for i in 0..50u32 {
            let ts = i * 160;
            let late = if i % 2 == 1 { 80 } else { 0 };
            stats.update(Ssrc(9), i as u16, ts, 5_000 + ts + late, true);
            if i > 0 {
                expect += (80.0 - expect) / 16.0;
            }
        }
        assert!(
            (stats.jitter() - expect).abs() < 1e-9,
            "{} vs {expect}",
            stats.jitter()
        );
        assert!(stats.jitter() > 70.0 && stats.jitter() < 80.0);
    }

    #[test]
    fn jitter_survives_timestamp_wrap_and_skips_ineligible() {
        let mut stats = ReceiveStats::default();
        let start = u32::MAX - 800;
        for i in 0..20u32 {
            let ts = start.wrapping_add(i * 160);
            stats.update(Ssrc(3), i as u16, ts, ts.wrapping_add(77), true);
        }
        // An RFC 4733 event repeating a timestamp does not count.
        stats.update(Ssrc(3), 20, 12_345, 99_999, false);
        assert!(stats.jitter() < 1e-9);
        assert_eq!(stats.received(), 21);
    }

    #[test]
    fn ssrc_change_and_restart_keep_totals() {
        let mut stats = ReceiveStats::default();
        feed(&mut stats, &[100, 101, 103]); // one lost
        let v = stats.update(Ssrc(2), 5000, 0, 0, true);
        assert_eq!(v, SeqVerdict::First);
        stats.update(Ssrc(2), 5001, 160, 160, true);
        assert_eq!(stats.expected(), 4 + 2);
        assert_eq!(stats.received(), 5);
        assert_eq!(stats.lost(), 1);
        assert_eq!(stats.sources(), 2);
        // A big jump is probation; a second packet confirms a restart.
        assert_eq!(
            stats.update(Ssrc(2), 40_000, 0, 0, true),
            SeqVerdict::Probation
        );
        assert_eq!(
            stats.update(Ssrc(2), 40_001, 160, 160, true),
            SeqVerdict::First
        );
        stats.update(Ssrc(2), 40_002, 320, 320, true);
        assert_eq!(stats.lost(), 1);
        assert_eq!(stats.received(), 7);
    }
}
