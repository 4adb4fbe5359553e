//! Fuzz target for the header-value parsers a prober lives on: Reason (and
//! the ATIS `v=analytics1` text), Call-Info jwscard (base64/JWS/jCard),
//! Retry-After, Warning and digest challenges. None may panic on any text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringwatch::sip::{call_info, digest, reason, retry_after, warning};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for r in reason::parse_reason(&text) {
        if let Some(t) = &r.text {
            let _ = reason::parse_analytics_text(t);
        }
    }
    let _ = reason::parse_analytics_text(&text);
    let _ = call_info::jwscard_contacts(&[&text]);
    let _ = retry_after::parse_retry_after(&text);
    let _ = warning::parse_warnings(&text);
    if let Some(c) = digest::Challenge::parse(&text) {
        let _ = digest::authorization(&c, "INVITE", "sip:x@y", "u", "p", "c", 1);
    }
});
