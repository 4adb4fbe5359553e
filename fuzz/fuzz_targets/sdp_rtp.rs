//! Fuzz target for the media path: SDP answers and RTP datagrams from a
//! hostile far end. `parse_answer` and `MediaSession::handle_packet` must
//! never panic, whatever the bytes.

#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use ringwatch::clock;
use ringwatch::media::MediaSession;
use ringwatch::sdp::parse_answer;

fuzz_target!(|data: &[u8]| {
    let _ = parse_answer(data);
    let local: SocketAddr = ([127, 0, 0, 1], 40000).into();
    let far: SocketAddr = ([127, 0, 0, 1], 40002).into();
    let now = clock::now();
    let mut session = MediaSession::new(now, local, 7);
    let answer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0 8 101\r\n";
    if let Ok(a) = parse_answer(answer) {
        session.handle_answer(now, &a);
    }
    for (i, chunk) in data.chunks(172).enumerate() {
        session.handle_packet(now + std::time::Duration::from_millis(20 * i as u64), far, chunk);
    }
    let _ = session.report();
});
