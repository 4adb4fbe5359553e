//! Fuzz target for classification: any bytes that parse as a SIP message,
//! under every combination of call facts, must classify without a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringwatch::classify::{CallFacts, classify};
use ringwatch::sip::message::Message;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(msg) = Message::parse(rest) else {
        return;
    };
    let _ = classify(&CallFacts {
        final_response: Some(&msg),
        rang: flags & 1 != 0,
        cancelled_by_us: flags & 2 != 0,
        auth_exhausted: flags & 4 != 0,
        intercepted: flags & 8 != 0,
    });
});
