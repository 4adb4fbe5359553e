//! G.711 µ-law / A-law, through the `audio-codec-algorithms` crate (ITU
//! G.191 reference tables for decoding; see docs/DECISIONS.md "G.711").
//! Pure and total: every byte decodes, every sample encodes.

use crate::sdp::Codec;

/// Decode one G.711 byte to linear 16-bit PCM.
#[inline]
pub fn decode(codec: Codec, byte: u8) -> i16 {
    match codec {
        Codec::Pcmu => audio_codec_algorithms::decode_ulaw(byte),
        Codec::Pcma => audio_codec_algorithms::decode_alaw(byte),
    }
}

/// Decode a whole payload, appending to `out`.
pub fn decode_into(codec: Codec, payload: &[u8], out: &mut Vec<i16>) {
    match codec {
        Codec::Pcmu => out.extend(
            payload
                .iter()
                .map(|&b| audio_codec_algorithms::decode_ulaw(b)),
        ),
        Codec::Pcma => out.extend(
            payload
                .iter()
                .map(|&b| audio_codec_algorithms::decode_alaw(b)),
        ),
    }
}

/// Encode one linear 16-bit sample.
#[inline]
pub fn encode(codec: Codec, sample: i16) -> u8 {
    match codec {
        Codec::Pcmu => audio_codec_algorithms::encode_ulaw(sample),
        Codec::Pcma => audio_codec_algorithms::encode_alaw(sample),
    }
}

/// The byte of digital silence: the encoding of linear 0 (0xFF in µ-law,
/// 0xD5 in A-law).
pub fn silence(codec: Codec) -> u8 {
    encode(codec, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_bytes_are_the_classic_ones() {
        assert_eq!(silence(Codec::Pcmu), 0xff);
        assert_eq!(silence(Codec::Pcma), 0xd5);
        assert_eq!(decode(Codec::Pcmu, 0xff), 0);
        assert!(decode(Codec::Pcma, 0xd5).abs() <= 8);
    }

    #[test]
    fn round_trip_is_close_and_total() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for b in 0..=255u8 {
                let x = decode(codec, b);
                assert_eq!(decode(codec, encode(codec, x)), x, "{codec} byte {b:#04x}");
            }
            for x in [-32768i16, -20000, -1000, -1, 0, 1, 999, 20000, 32767] {
                let y = decode(codec, encode(codec, x));
                let err = (i32::from(x) - i32::from(y)).abs();
                assert!(
                    err <= (i32::from(x).abs() / 16).max(16),
                    "{codec} {x} -> {y}"
                );
            }
        }
        let mut out = Vec::new();
        decode_into(Codec::Pcmu, &[0xff, 0x7f, 0x00], &mut out);
        assert_eq!(out.len(), 3);
    }
}
