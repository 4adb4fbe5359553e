//! Fuzz target for the tolerant SIP message parser: `Message::parse` must
//! never panic on any bytes, and neither may any accessor of what it returns.
//!
//! Seed: `mkdir -p fuzz/corpus/parse_message && cp tests/data/rfc4475/*.dat fuzz/corpus/parse_message/`

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringwatch::sip::message::Message;
use ringwatch::sip::params;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let _ = (m.raw(), m.start(), m.is_response(), m.status());
    let _ = (m.reason_phrase(), m.method(), m.request_uri());
    let _ = (
        m.call_id(),
        m.cseq(),
        m.content_type(),
        m.body(),
        m.faults(),
    );
    let _ = (m.top_via(), m.top_via_branch(), m.from_tag(), m.to_tag());
    let _ = (m.contact_uri(), m.record_route());
    for h in m.headers() {
        let _ = (m.header(&h.name), m.header_all(&h.name));
        for v in m.header_values(&h.name) {
            let _ = (
                params::uri_of(v),
                params::param(v, "tag"),
                params::param(v, "branch"),
            );
        }
    }
    let _ = (m.header("i"), m.header("v"), m.header_values("Reason"));
});
