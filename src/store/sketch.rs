//! A tiny HyperLogLog sketch: the approximate number of distinct caller IDs
//! that probed one carrier on one UTC day (`carrier_day_callers.sketch`).
//!
//! Owns the register layout and the stable hash. Both are part of the
//! on-disk format: changing either needs a migration that rebuilds every
//! stored sketch. No SQL, no clock, no panics.

/// Register index bits: 2^10 = 1024 one-byte registers per sketch (1 KiB),
/// standard error 1.04 / sqrt(1024) ≈ 3.3 %, near exact below a few hundred.
const P: u32 = 10;
/// Number of registers.
pub(crate) const REGISTERS: usize = 1 << P;

/// A HyperLogLog sketch with [`REGISTERS`] one-byte registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sketch {
    registers: Vec<u8>,
}

impl Sketch {
    /// An empty sketch.
    pub(crate) fn new() -> Self {
        Self {
            registers: vec![0; REGISTERS],
        }
    }

    /// A sketch from its stored bytes; a blob of the wrong length (a damaged
    /// row) reads as empty rather than failing the whole baseline.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.len() == REGISTERS {
            Self {
                registers: bytes.to_vec(),
            }
        } else {
            Self::new()
        }
    }

    /// The stored form.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.registers
    }

    /// Adds one item (a caller ID).
    pub(crate) fn insert(&mut self, item: &str) {
        let h = stable_hash(item.as_bytes());
        let index = usize::try_from(h >> (64 - P)).unwrap_or(0) % REGISTERS;
        // Rank of the first set bit in the remaining 64 - P bits, 1-based;
        // a guard bit caps it at 64 - P + 1 when they are all zero.
        let rest = (h << P) | (1 << (P - 1));
        let rank = u8::try_from(rest.leading_zeros() + 1).unwrap_or(u8::MAX);
        if let Some(r) = self.registers.get_mut(index) {
            *r = (*r).max(rank);
        }
    }

    /// Folds `other` into `self` (the sketch of the union).
    pub(crate) fn merge(&mut self, other: &Sketch) {
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
    }

    /// Estimated number of distinct items (linear counting for small sets,
    /// the HyperLogLog estimate above 2.5 × registers).
    pub(crate) fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        if zeros == REGISTERS {
            return 0;
        }
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        // Saturating float-to-int conversion: never panics, NaN becomes 0.
        est.round() as u64
    }
}

/// FNV-1a followed by the MurmurHash3 finalizer: stable across Rust
/// versions and platforms (unlike `DefaultHasher`), well mixed in every bit.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_small_sets_are_exact_enough() {
        let mut s = Sketch::new();
        assert_eq!(s.estimate(), 0);
        s.insert("+12025550143");
        s.insert("+12025550143");
        assert_eq!(s.estimate(), 1);
        for i in 0..20 {
            s.insert(&format!("+1202555{i:04}"));
        }
        assert!((20..=22).contains(&s.estimate()), "{}", s.estimate());
    }

    #[test]
    fn large_sets_within_ten_percent_and_merge_is_union() {
        let mut a = Sketch::new();
        let mut b = Sketch::new();
        for i in 0..10_000 {
            a.insert(&format!("+1555{i:07}"));
        }
        for i in 5_000..15_000 {
            b.insert(&format!("+1555{i:07}"));
        }
        let ea = a.estimate();
        assert!((9_000..=11_000).contains(&ea), "{ea}");
        a.merge(&b);
        let eu = a.estimate();
        assert!((13_500..=16_500).contains(&eu), "{eu}");
    }

    #[test]
    fn bytes_round_trip_and_bad_blobs_read_as_empty() {
        let mut s = Sketch::new();
        s.insert("x");
        assert_eq!(Sketch::from_bytes(s.as_bytes()), s);
        assert_eq!(Sketch::from_bytes(&[1, 2, 3]).estimate(), 0);
    }

    #[test]
    fn hash_is_stable() {
        // Part of the on-disk format: these values must never change.
        assert_eq!(stable_hash(b""), 0xefd0_1f60_ba99_2926);
        assert_eq!(stable_hash(b"+12025550143"), 0x6523_feb1_9a5a_3e7d);
    }
}
