//! A classic libpcap writer for a probe's recorded exchange: each datagram
//! becomes an Ethernet / IPv4-or-IPv6 / UDP frame with the recorded
//! addresses and times, so Wireshark and `tshark -r FILE -Y sip` decode it
//! like a capture taken on the wire.
//!
//! Pure: frames go to any `io::Write`.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};

/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;
/// Largest UDP payload a frame can carry (IPv4 total length is 16 bits).
const MAX_PAYLOAD: usize = 65_535 - 8 - 40;

/// One datagram to write.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// When it was sent or received.
    pub at: DateTime<Utc>,
    /// UDP source.
    pub src: SocketAddr,
    /// UDP destination.
    pub dst: SocketAddr,
    /// UDP payload.
    pub payload: &'a [u8],
}

/// Writes the pcap global header, then frames.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    ip_id: u16,
}

impl<W: Write> PcapWriter<W> {
    /// Start a capture file (microsecond timestamps, Ethernet link type).
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?; // magic, µs resolution
        out.write_all(&2u16.to_le_bytes())?; // version 2.4
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?; // thiszone: UTC
        out.write_all(&0u32.to_le_bytes())?; // sigfigs
        out.write_all(&65_535u32.to_le_bytes())?; // snaplen
        out.write_all(&LINKTYPE_ETHERNET.to_le_bytes())?;
        Ok(Self { out, ip_id: 1 })
    }

    /// Append one UDP datagram. Mixed address families or an oversized
    /// payload are an `InvalidInput` error (never a panic).
    pub fn write(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        if frame.payload.len() > MAX_PAYLOAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "datagram too large for one frame",
            ));
        }
        let udp = udp_segment(frame);
        let (ethertype, ip) = match (frame.src.ip(), frame.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (
                0x0800u16,
                ipv4_packet(s.octets(), d.octets(), self.ip_id, &udp),
            ),
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                (0x86ddu16, ipv6_packet(s.octets(), d.octets(), &udp))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "source and destination address families differ",
                ));
            }
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let mut eth = Vec::with_capacity(14 + ip.len());
        eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02]); // dst MAC (locally administered)
        eth.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x01]); // src MAC
        eth.extend_from_slice(&ethertype.to_be_bytes());
        eth.extend_from_slice(&ip);
        let secs = u32::try_from(frame.at.timestamp()).unwrap_or(0);
        let micros = frame.at.timestamp_subsec_micros();
        let len = u32::try_from(eth.len()).unwrap_or(u32::MAX);
        self.out.write_all(&secs.to_le_bytes())?;
        self.out.write_all(&micros.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&eth)
    }

    /// Flush and return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One's-complement sum of 16-bit words (RFC 1071).
fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in chunks {
        let mut words = chunk.chunks_exact(2);
        for w in &mut words {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// UDP header + payload, checksum filled in by the IP layer function.
fn udp_segment(frame: &Frame<'_>) -> Vec<u8> {
    let len = (8 + frame.payload.len()) as u16;
    let mut udp = Vec::with_capacity(usize::from(len));
    udp.extend_from_slice(&frame.src.port().to_be_bytes());
    udp.extend_from_slice(&frame.dst.port().to_be_bytes());
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(frame.payload);
    udp
}

fn set_udp_checksum(udp: &mut [u8], pseudo: &[u8]) {
    let sum = match checksum(&[pseudo, udp]) {
        0 => 0xffff, // RFC 768: zero means "no checksum"
        s => s,
    };
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
}

fn ipv4_packet(src: [u8; 4], dst: [u8; 4], id: u16, udp: &[u8]) -> Vec<u8> {
    let mut udp = udp.to_vec();
    let udp_len = udp.len() as u16;
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    set_udp_checksum(&mut udp, &pseudo);
    let total = 20 + udp_len;
    let mut ip = Vec::with_capacity(usize::from(total));
    ip.extend_from_slice(&[0x45, 0]);
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]); // DF, TTL 64, UDP, checksum 0 for now
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&udp);
    ip
}

fn ipv6_packet(src: [u8; 16], dst: [u8; 16], udp: &[u8]) -> Vec<u8> {
    let mut udp = udp.to_vec();
    let udp_len = udp.len() as u32;
    let mut pseudo = Vec::with_capacity(40);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    set_udp_checksum(&mut udp, &pseudo);
    let mut ip = Vec::with_capacity(40 + udp.len());
    ip.extend_from_slice(&[0x60, 0, 0, 0]);
    ip.extend_from_slice(&(udp_len as u16).to_be_bytes());
    ip.extend_from_slice(&[17, 64]); // next header UDP, hop limit
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    ip.extend_from_slice(&udp);
    ip
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(src: &str, dst: &str, payload: &[u8]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new()).expect("header");
        let at = DateTime::from_timestamp(1_767_225_600, 123_456_000).expect("time");
        w.write(&Frame {
            at,
            src: src.parse().expect("src"),
            dst: dst.parse().expect("dst"),
            payload,
        })
        .expect("frame");
        w.finish().expect("finish")
    }

    #[test]
    fn ipv4_frame_layout_and_checksums() {
        let out = frame("192.0.2.1:5062", "198.51.100.7:5060", b"OPTIONS");
        assert_eq!(&out[..4], &0xa1b2_c3d4u32.to_le_bytes());
        assert_eq!(out.len(), 24 + 16 + 14 + 20 + 8 + 7);
        let rec = &out[24..];
        assert_eq!(
            u32::from_le_bytes(rec[0..4].try_into().expect("4")),
            1_767_225_600
        );
        assert_eq!(
            u32::from_le_bytes(rec[4..8].try_into().expect("4")),
            123_456
        );
        let ip = &rec[16 + 14..];
        assert_eq!(checksum(&[&ip[..20]]), 0, "IPv4 header checksum verifies");
        assert_eq!(&ip[12..16], &[192, 0, 2, 1]);
        let udp = &ip[20..];
        assert_eq!(u16::from_be_bytes([udp[0], udp[1]]), 5062);
        assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), 5060);
        let mut pseudo = vec![192, 0, 2, 1, 198, 51, 100, 7, 0, 17];
        pseudo.extend_from_slice(&15u16.to_be_bytes());
        assert_eq!(checksum(&[&pseudo, udp]), 0, "UDP checksum verifies");
    }

    #[test]
    fn ipv6_frame_and_family_mismatch() {
        let out = frame("[2001:db8::1]:5062", "[2001:db8::2]:5060", b"x");
        assert_eq!(&out[24 + 16 + 12..24 + 16 + 14], &[0x86, 0xdd]);
        let mut w = PcapWriter::new(Vec::new()).expect("header");
        let err = w
            .write(&Frame {
                at: DateTime::from_timestamp(0, 0).expect("t"),
                src: "192.0.2.1:1".parse().expect("a"),
                dst: "[::1]:2".parse().expect("b"),
                payload: b"",
            })
            .expect_err("mixed families");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
