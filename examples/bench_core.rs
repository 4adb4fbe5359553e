//! Benchmark of the pure cores: how much CPU one probe costs ringwatch,
//! without sockets or the far end. Drives complete call flows through the
//! sans-IO UAC on virtual time, parsing every response and classifying the
//! result, and times the parser alone on a 603+ response.
//!
//! Run: `cargo run --release --example bench_core [CALLS]`

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use ringwatch::classify::{CallFacts, classify};
use ringwatch::clock;
use ringwatch::sip::message::Message;
use ringwatch::sip::request::{build_response, sip_uri};
use ringwatch::uac::{CallSpec, Input, Output, TxKind, Uac, UacConfig};

const NB_REASON: &str = "SIP;cause=603;text=\"v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031\";location=RLN";

/// Drain the UAC; returns sent datagrams and the next deadline.
fn drain(uac: &mut Uac, sent: &mut Vec<(TxKind, Vec<u8>)>) -> Option<std::time::Instant> {
    loop {
        match uac.poll_output() {
            Output::Transmit(t) => sent.push((t.kind, t.data)),
            Output::Event(_) => {}
            Output::Timeout(at) => return Some(at),
            Output::Done => return None,
        }
    }
}

/// One call: `blocked` answers 603+ at once; otherwise 100, 180, our CANCEL, 487.
fn one_call(seed: u64, blocked: bool) -> bool {
    let spec = CallSpec {
        local: "127.0.0.1:40000".parse().expect("addr"),
        request_uri: sip_uri("+13125550178", "carrier.example", true).expect("uri"),
        from_uri: sip_uri("+12025550143", "127.0.0.1", true).expect("uri"),
        sdp: ringwatch::sdp::offer("127.0.0.1".parse().expect("ip"), 40002, seed),
        credentials: None,
    };
    let mut now = clock::now();
    let mut uac = Uac::new(now, UacConfig::default(), spec, StdRng::seed_from_u64(seed));
    let mut sent = Vec::new();
    let mut deadline = drain(&mut uac, &mut sent);
    let invite = Message::parse(&sent[0].1).expect("invite");
    let replies: Vec<Vec<u8>> = if blocked {
        vec![build_response(
            &invite,
            603,
            "Network Blocked",
            Some("t"),
            &[("Reason", NB_REASON)],
        )]
    } else {
        vec![
            build_response(&invite, 100, "Trying", None, &[]),
            build_response(&invite, 180, "Ringing", Some("t"), &[]),
        ]
    };
    for reply in &replies {
        uac.handle_input(Input::Datagram(now, reply));
        deadline = drain(&mut uac, &mut sent);
    }
    while let Some(at) = deadline {
        now = at;
        uac.handle_input(Input::Timeout(now));
        deadline = drain(&mut uac, &mut sent);
        if let Some((TxKind::Cancel, bytes)) = sent.last().cloned() {
            let cancel = Message::parse(&bytes).expect("cancel");
            let ok = build_response(&cancel, 200, "OK", Some("t"), &[]);
            uac.handle_input(Input::Datagram(now, &ok));
            let terminated = build_response(&invite, 487, "Request Terminated", Some("t"), &[]);
            uac.handle_input(Input::Datagram(now, &terminated));
            deadline = drain(&mut uac, &mut sent);
        }
    }
    let summary = uac.into_summary();
    let c = classify(&CallFacts {
        final_response: summary.final_response.as_ref(),
        rang: summary.rang(),
        cancelled_by_us: summary.cancelled_by_us,
        auth_exhausted: summary.auth_exhausted,
        intercepted: false,
    });
    c.outcome.is_ok()
}

fn per_sec(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);

    let start = clock::now();
    let mut ok = 0u64;
    for i in 0..calls {
        ok += u64::from(one_call(i, i % 2 == 0));
    }
    let elapsed = start.elapsed();
    assert_eq!(ok, calls / 2, "half ring, half are 603+");
    println!(
        "call flows (INVITE..final, half ring+CANCEL+487, half 603+): {calls} in {:.3} s = {:.1} us CPU/probe, {:.0} probes/s on one core",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / calls as f64,
        per_sec(calls, elapsed)
    );

    let invite_bytes = {
        let mut sent = Vec::new();
        let spec = CallSpec {
            local: "127.0.0.1:40000".parse().expect("addr"),
            request_uri: sip_uri("+13125550178", "carrier.example", true).expect("uri"),
            from_uri: sip_uri("+12025550143", "127.0.0.1", true).expect("uri"),
            sdp: Vec::new(),
            credentials: None,
        };
        let mut uac = Uac::new(
            clock::now(),
            UacConfig::default(),
            spec,
            StdRng::seed_from_u64(1),
        );
        drain(&mut uac, &mut sent);
        sent.remove(0).1
    };
    let invite = Message::parse(&invite_bytes).expect("invite");
    let response = build_response(
        &invite,
        603,
        "Network Blocked",
        Some("t"),
        &[("Reason", NB_REASON)],
    );
    let n = 200_000u64;
    let start = clock::now();
    let mut blocked = 0u64;
    for _ in 0..n {
        let msg = Message::parse(std::hint::black_box(&response)).expect("parses");
        let c = classify(&CallFacts {
            final_response: Some(&msg),
            rang: false,
            cancelled_by_us: false,
            auth_exhausted: false,
            intercepted: false,
        });
        blocked += u64::from(c.analytics.is_some());
    }
    let elapsed = start.elapsed();
    assert_eq!(blocked, n);
    println!(
        "parse + classify a 603+ response ({} bytes): {:.2} us each, {:.0}/s",
        response.len(),
        elapsed.as_secs_f64() * 1e6 / n as f64,
        per_sec(n, elapsed)
    );
}
