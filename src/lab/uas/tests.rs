//! The lab UAS on virtual time: every behaviour's wire messages, the server
//! transaction (retransmissions, CANCEL, ACK, BYE), garbage, the block
//! list, seeded randomness, and full calls against ringwatch's own UAC.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::classify::{self, CallFacts, Outcome, Standard};
use crate::sip::request;
use crate::uac::{self, CallSpec, Input, Output, Uac, UacConfig};

const LAB: &str = "127.0.0.1:5070";
const PEER: &str = "127.0.0.1:40000";
const CALLER: &str = "+12025550143";
const BLOCKED: &str = "+13125550101";
const ATT: &str = "+13125550178";
const VERIZON: &str = "+12125550162";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(lab: &str) -> Config {
    let text = format!(
        r#"
[trunk]
proxy = "lab"

[[numbers]]
number = "{CALLER}"

[[numbers]]
number = "{BLOCKED}"

[[carriers]]
name = "att"
destinations = ["{ATT}"]

[[carriers]]
name = "verizon"
destinations = ["{VERIZON}"]

{lab}
"#
    );
    Config::parse_str(&text, Path::new("probes.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `att` scripted with `behaviour`, everything else default.
fn att(behaviour: &str) -> Config {
    config(&format!(
        "[[lab.carriers]]\nname = \"att\"\nbehaviour = \"{behaviour}\"\nblock = [\"{BLOCKED}\"]\n"
    ))
}

fn peer() -> SocketAddr {
    PEER.parse().expect("addr")
}

/// An INVITE as a dialer would send it.
fn invite(call_id: &str, branch: &str, from: &str, to: &str, pai: Option<&str>) -> Vec<u8> {
    let pai = pai.map_or(String::new(), |p| {
        format!("P-Asserted-Identity: <sip:{p}@probe.example;user=phone>\r\n")
    });
    format!(
        "INVITE sip:{to}@{LAB};user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{from}@probe.example;user=phone>;tag=ft-{call_id}\r\n\
         To: <sip:{to}@{LAB};user=phone>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 10 INVITE\r\n\
         Contact: <sip:probe@{PEER}>\r\n\
         {pai}\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A request in the same call: `method` with CSeq `cseq`, To `to_tag`.
fn in_call(method: &str, call_id: &str, branch: &str, to_tag: Option<&str>, cseq: u32) -> Vec<u8> {
    let tag = to_tag.map_or(String::new(), |t| format!(";tag={t}"));
    format!(
        "{method} sip:{ATT}@{LAB};user=phone SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PEER};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{CALLER}@probe.example;user=phone>;tag=ft-{call_id}\r\n\
         To: <sip:{ATT}@{LAB};user=phone>{tag}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

struct Lab {
    uas: Uas,
    base: Instant,
    now: Instant,
}

impl Lab {
    fn new(cfg: &Config) -> Self {
        let base = crate::clock::now();
        Lab {
            uas: Uas::new(cfg, LAB.parse().expect("addr"), StdRng::seed_from_u64(7)),
            base,
            now: base,
        }
    }

    fn at(&self) -> Duration {
        self.now - self.base
    }

    fn recv(&mut self, data: &[u8]) -> Vec<Message> {
        self.uas.handle_datagram(self.now, peer(), data);
        self.sent()
    }

    /// Everything transmitted so far, parsed (all to the peer).
    fn sent(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(t) = self.uas.poll_transmit() {
            assert_eq!(t.to, peer());
            out.push(Message::parse(&t.data).expect("the lab sends valid SIP"));
        }
        out
    }

    /// Jump to the next deadline (if it is before `limit` from the start)
    /// and fire it; what was sent then.
    fn step(&mut self, limit: Duration) -> Option<(Duration, Vec<Message>)> {
        let at = self.uas.poll_timeout()?;
        if at - self.base > limit {
            return None;
        }
        assert!(at >= self.now);
        self.now = at;
        self.uas.handle_timeout(at);
        Some((self.at(), self.sent()))
    }

    fn events(&mut self) -> Vec<LabEvent> {
        std::iter::from_fn(|| self.uas.poll_event()).collect()
    }
}

fn codes(msgs: &[Message]) -> Vec<u16> {
    msgs.iter().filter_map(Message::status).collect()
}

fn status_line(m: &Message) -> (u16, &str) {
    (m.status().unwrap_or(0), m.reason_phrase().unwrap_or(""))
}

#[test]
fn ring_then_cancel_gives_200_and_487_then_ack_is_absorbed() {
    let mut lab = Lab::new(&att("ring"));
    let inv = invite("c1", "z9hG4bKinv1", CALLER, ATT, None);
    let first = lab.recv(&inv);
    assert_eq!(codes(&first), [100]);
    assert_eq!(first[0].to_tag(), None, "100 Trying carries no tag");
    assert_eq!(
        first[0].top_via(),
        Some("SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKinv1;rport=40000;received=127.0.0.1")
    );

    let (at, ringing) = lab.step(Duration::MAX).expect("180");
    assert_eq!(at, ms(200), "pdd_ms default");
    assert_eq!(status_line(&ringing[0]), (180, "Ringing"));
    let tag = ringing[0].to_tag().expect("180 has a To tag").to_owned();

    lab.now += ms(1000);
    let cancel = in_call("CANCEL", "c1", "z9hG4bKinv1", None, 10);
    let out = lab.recv(&cancel);
    assert_eq!(codes(&out), [200, 487]);
    assert_eq!(out[0].cseq().expect("cseq").method, "CANCEL");
    assert_eq!(out[0].to_tag(), Some(tag.as_str()));
    assert_eq!(status_line(&out[1]), (487, "Request Terminated"));
    assert_eq!(out[1].cseq().expect("cseq").method, "INVITE");
    assert_eq!(
        out[1].to_tag(),
        Some(tag.as_str()),
        "same tag on every response"
    );
    assert!(lab.events().contains(&LabEvent::Cancelled {
        call_id: "c1".into()
    }));

    // No ACK yet: the 487 is retransmitted after T1.
    let (at, again) = lab.step(Duration::MAX).expect("Timer G");
    assert_eq!(at, ms(1200 + 500));
    assert_eq!(codes(&again), [487]);
    // ACK (same branch, §17.1.1.3) stops it; the call is forgotten after T4.
    lab.now += ms(10);
    let ack = in_call("ACK", "c1", "z9hG4bKinv1", Some(&tag), 10);
    assert!(lab.recv(&ack).is_empty());
    assert!(lab.recv(&ack).is_empty(), "ACK retransmission absorbed");
    assert_eq!(lab.uas.calls(), 1);
    let (at, nothing) = lab.step(Duration::MAX).expect("Timer I");
    assert_eq!(at, ms(1710) + T4);
    assert!(nothing.is_empty());
    assert_eq!(lab.uas.calls(), 0);
    assert_eq!(lab.uas.poll_timeout(), None);
}

#[test]
fn ring_without_cancel_times_out_with_480() {
    let mut lab = Lab::new(&config("[lab]\nring_timeout_seconds = 5\n"));
    lab.recv(&invite("c2", "z9hG4bK2", CALLER, ATT, None));
    let (_, r) = lab.step(Duration::MAX).expect("180");
    assert_eq!(codes(&r), [180]);
    let (at, f) = lab.step(Duration::MAX).expect("480");
    assert_eq!(at, ms(5200));
    assert_eq!(status_line(&f[0]), (480, "Temporarily Unavailable"));
}

#[test]
fn answer_sends_sdp_and_contact_retransmits_until_ack_and_answers_bye() {
    let mut lab = Lab::new(&att("answer"));
    lab.recv(&invite("c3", "z9hG4bK3", CALLER, ATT, None));
    let (_, r) = lab.step(Duration::MAX).expect("180");
    let tag = r[0].to_tag().expect("tag").to_owned();
    let (at, ok) = lab.step(Duration::MAX).expect("200");
    assert_eq!(at, ms(200 + 1000), "pdd + alert_ms");
    let ok = &ok[0];
    assert_eq!(status_line(ok), (200, "OK"));
    assert_eq!(ok.to_tag(), Some(tag.as_str()));
    assert_eq!(ok.contact_uri(), Some("sip:lab@127.0.0.1:5070"));
    assert_eq!(ok.content_type(), Some("application/sdp"));
    let sdp = String::from_utf8_lossy(ok.body()).into_owned();
    assert!(
        sdp.starts_with("v=0\r\n") && sdp.contains("c=IN IP4 127.0.0.1\r\n"),
        "{sdp}"
    );

    // 2xx retransmitted at T1, 2·T1 ... until the ACK (new branch).
    let (at, again) = lab.step(Duration::MAX).expect("retransmission");
    assert_eq!((at, codes(&again)), (ms(1700), vec![200]));
    lab.now += ms(100);
    assert!(
        lab.recv(&in_call("ACK", "c3", "z9hG4bKack", Some(&tag), 10))
            .is_empty()
    );
    // Retransmitted INVITE after the ACK: absorbed silently.
    assert!(
        lab.recv(&invite("c3", "z9hG4bK3", CALLER, ATT, None))
            .is_empty()
    );

    let bye = in_call("BYE", "c3", "z9hG4bKbye", Some(&tag), 11);
    let r = lab.recv(&bye);
    assert_eq!(codes(&r), [200]);
    assert_eq!(r[0].cseq().expect("cseq").method, "BYE");
    let again = lab.recv(&bye);
    assert_eq!(codes(&again), [200], "retransmitted BYE answered again");
    assert!(lab.events().contains(&LabEvent::Bye {
        call_id: "c3".into()
    }));
    // Timer J, then forgotten; a late BYE is 481.
    while lab.step(Duration::MAX).is_some() {}
    assert_eq!(lab.uas.calls(), 0);
    assert_eq!(codes(&lab.recv(&bye)), [481]);
}

#[test]
fn final_is_retransmitted_on_timer_g_until_timer_h() {
    let mut lab = Lab::new(&att("busy"));
    lab.recv(&invite("c4", "z9hG4bK4", CALLER, ATT, None));
    let mut times = Vec::new();
    while let Some((at, sent)) = lab.step(Duration::MAX) {
        if !sent.is_empty() {
            assert_eq!(codes(&sent), [486]);
            times.push(at.as_millis());
        }
    }
    // 200 ms pdd, then T1 = 500 ms doubling, capped at T2 = 4 s, up to 64·T1.
    assert_eq!(
        times,
        [
            200, 700, 1700, 3700, 7700, 11700, 15700, 19700, 23700, 27700, 31700
        ]
    );
    assert_eq!(lab.uas.calls(), 0, "forgotten at Timer H");
}

#[test]
fn retransmitted_invite_gets_the_last_response_again() {
    let mut lab = Lab::new(&att("decline"));
    let inv = invite("c5", "z9hG4bK5", CALLER, ATT, None);
    assert_eq!(codes(&lab.recv(&inv)), [100]);
    lab.now += ms(100);
    assert_eq!(codes(&lab.recv(&inv)), [100]);
    let (_, f) = lab.step(Duration::MAX).expect("603");
    assert_eq!(status_line(&f[0]), (603, "Decline"));
    assert_eq!(codes(&lab.recv(&inv)), [603]);
    assert_eq!(lab.uas.stats().retransmissions, 2);
    assert_eq!(lab.uas.stats().calls, 1);
    let calls = lab
        .events()
        .into_iter()
        .filter(|e| matches!(e, LabEvent::Call { .. }))
        .count();
    assert_eq!(calls, 1);
}

#[test]
fn network_blocked_is_atis_1000099_603_plus() {
    let mut lab = Lab::new(&config(
        "[lab]\nredress_id = \"blk\"\n[[lab.carriers]]\nname = \"att\"\nbehaviour = \"network_blocked\"\nlocation = \"TN\"\n",
    ));
    lab.recv(&invite("c6@probe", "z9hG4bK6", CALLER, ATT, None));
    let (_, f) = lab.step(Duration::MAX).expect("603+");
    let m = &f[0];
    assert_eq!(status_line(m), (603, "Network Blocked"));
    let id = wire::redress_id("blk", "c6@probe");
    assert_eq!(
        m.header("Reason"),
        Some(
            format!(
                "SIP;cause=603;text=\"v=analytics1;url=https://redress.example.com/ringwatch-lab;\
                 tel=+18005550199;email=redress@example.com;id={id}\";location=TN"
            )
            .as_str()
        )
    );
    assert!(id.len() <= 64);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );
}

#[test]
fn q850_form_and_default_id() {
    let mut lab = Lab::new(&att("network_blocked_q850"));
    lab.recv(&invite("c7", "z9hG4bK7", CALLER, ATT, None));
    let (_, f) = lab.step(Duration::MAX).expect("603+");
    let reason = f[0].header("Reason").expect("Reason");
    let id = wire::redress_id("lab-att", "c7");
    assert!(
        reason.starts_with("Q.850;cause=21;text=\"v=analytics1;url="),
        "{reason}"
    );
    assert!(
        reason.ends_with(&format!(";id={id}\";location=RLN")),
        "{reason}"
    );
}

#[test]
fn alert_first_declines_after_a_180() {
    let mut lab = Lab::new(&config(
        "[[lab.carriers]]\nname = \"att\"\nbehaviour = \"decline\"\nalert_first = true\n",
    ));
    lab.recv(&invite("c8", "z9hG4bK8", CALLER, ATT, None));
    let (a, r) = lab.step(Duration::MAX).expect("180");
    let (b, f) = lab.step(Duration::MAX).expect("603");
    assert_eq!((a, codes(&r)), (ms(200), vec![180]));
    assert_eq!((b, codes(&f)), (ms(1200), vec![603]));
    assert_eq!(r[0].to_tag(), f[0].to_tag());
}

#[test]
fn every_rejecting_behaviour_on_the_wire() {
    /// (behaviour, code, phrase, a header and the prefix of its value)
    type Case<'a> = (&'a str, u16, &'a str, Option<(&'a str, &'a str)>);
    let cases: &[Case<'_>] = &[
        ("decline", 603, "Decline", None),
        (
            "decline_q850",
            603,
            "Decline",
            Some(("Reason", "Q.850;cause=21")),
        ),
        ("network_blocked_phrase_only", 603, "Network Blocked", None),
        (
            "network_blocked_as_decline",
            603,
            "Decline",
            Some(("Reason", "SIP;cause=603;text=\"v=analytics1;")),
        ),
        (
            "rejected",
            608,
            "Rejected",
            Some(("Call-Info", "<data:application/jose;base64,")),
        ),
        ("unwanted", 607, "Unwanted", None),
        ("forbidden", 403, "Forbidden", None),
        ("busy", 486, "Busy Here", None),
        (
            "unavailable",
            503,
            "Service Unavailable",
            Some(("Retry-After", "120")),
        ),
        ("not_found", 404, "Not Found", None),
    ];
    for (behaviour, code, phrase, header) in cases {
        let mut lab = Lab::new(&att(behaviour));
        lab.recv(&invite("cx", "z9hG4bKx", CALLER, ATT, None));
        let (_, f) = lab.step(Duration::MAX).expect(behaviour);
        assert_eq!(status_line(&f[0]), (*code, *phrase), "{behaviour}");
        assert!(f[0].to_tag().is_some(), "{behaviour}");
        match header {
            Some((name, prefix)) => {
                let v = f[0]
                    .header(name)
                    .unwrap_or_else(|| panic!("{behaviour}: no {name}"));
                assert!(v.starts_with(prefix), "{behaviour}: {v}");
            }
            None => assert_eq!(f[0].header("Reason"), None, "{behaviour}"),
        }
    }
}

#[test]
fn silence_never_answers_anything() {
    let mut lab = Lab::new(&att("silence"));
    let inv = invite("c9", "z9hG4bK9", CALLER, ATT, None);
    assert!(lab.recv(&inv).is_empty());
    lab.now += ms(500);
    assert!(lab.recv(&inv).is_empty());
    assert!(
        lab.recv(&in_call("CANCEL", "c9", "z9hG4bK9", None, 10))
            .is_empty()
    );
    while let Some((_, sent)) = lab.step(Duration::MAX) {
        assert!(sent.is_empty());
    }
    assert_eq!(lab.uas.calls(), 0, "forgotten 64·T1 after the last INVITE");
}

#[test]
fn block_list_picks_the_blocked_behaviour_for_that_caller_only() {
    let mut lab = Lab::new(&att("ring"));
    lab.recv(&invite("b1", "z9hG4bKb1", BLOCKED, ATT, None));
    lab.recv(&invite("b2", "z9hG4bKb2", CALLER, ATT, None));
    // P-Asserted-Identity wins over From.
    lab.recv(&invite("b3", "z9hG4bKb3", CALLER, ATT, Some(BLOCKED)));
    lab.recv(&invite("b4", "z9hG4bKb4", BLOCKED, ATT, Some(CALLER)));
    // Another carrier does not block that caller.
    lab.recv(&invite("b5", "z9hG4bKb5", BLOCKED, VERIZON, None));
    // A destination no carrier lists.
    lab.recv(&invite("b6", "z9hG4bKb6", BLOCKED, "+14155550100", None));
    let picked: Vec<(String, Option<String>, LabBehaviour, Why)> = lab
        .events()
        .into_iter()
        .filter_map(|e| match e {
            LabEvent::Call {
                call_id,
                carrier,
                behaviour,
                why,
                ..
            } => Some((call_id, carrier, behaviour, why)),
            _ => None,
        })
        .collect();
    let att = Some("att".to_owned());
    assert_eq!(
        picked,
        [
            (
                "b1".into(),
                att.clone(),
                LabBehaviour::NetworkBlocked,
                Why::Blocked
            ),
            ("b2".into(), att.clone(), LabBehaviour::Ring, Why::Rule),
            (
                "b3".into(),
                att.clone(),
                LabBehaviour::NetworkBlocked,
                Why::Blocked
            ),
            ("b4".into(), att, LabBehaviour::Ring, Why::Rule),
            (
                "b5".into(),
                Some("verizon".to_owned()),
                LabBehaviour::Ring,
                Why::Rule
            ),
            ("b6".into(), None, LabBehaviour::Ring, Why::Unknown),
        ]
    );
}

#[test]
fn randomness_is_reproducible_with_a_seed() {
    let cfg = config(
        "[[lab.carriers]]\nname = \"att\"\nbehaviour = \"ring\"\nrandom = { network_blocked = 0.3, busy = 0.2 }\n",
    );
    let run = |seed: u64| {
        let mut uas = Uas::new(
            &cfg,
            LAB.parse().expect("addr"),
            StdRng::seed_from_u64(seed),
        );
        let now = crate::clock::now();
        for i in 0..400 {
            let data = invite(&format!("r{i}"), &format!("z9hG4bKr{i}"), CALLER, ATT, None);
            uas.handle_datagram(now, peer(), &data);
        }
        std::iter::from_fn(|| uas.poll_event())
            .filter_map(|e| match e {
                LabEvent::Call { behaviour, .. } => Some(behaviour),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    let share = |b| a.iter().filter(|x| **x == b).count();
    let (blocked, busy, ring) = (
        share(LabBehaviour::NetworkBlocked),
        share(LabBehaviour::Busy),
        share(LabBehaviour::Ring),
    );
    assert_eq!(blocked + busy + ring, 400);
    assert!((80..160).contains(&blocked), "{blocked}");
    assert!((40..120).contains(&busy), "{busy}");
    assert!((150..250).contains(&ring), "{ring}");
}

#[test]
fn garbage_is_ignored_and_counted() {
    let mut lab = Lab::new(&att("ring"));
    for junk in [
        &b"hello"[..],
        b"\x00\xff\xfe",
        b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n",
        b"INVITE sip:x@y SIP/2.0\r\n\r\n",
        b"INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: x\r\nCSeq: 99999999999 INVITE\r\nFrom: a\r\nTo: b\r\n\r\n",
        b"ACK sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: nope\r\nCSeq: 1 ACK\r\nFrom: a\r\nTo: b\r\n\r\n",
    ] {
        assert!(lab.recv(junk).is_empty(), "{:?}", String::from_utf8_lossy(junk));
    }
    assert_eq!(lab.uas.stats().ignored, 6);
    assert_eq!(lab.uas.calls(), 0);
    // Keep-alive ping gets a pong and is not counted.
    lab.uas.handle_datagram(lab.now, peer(), b"\r\n\r\n");
    assert_eq!(
        lab.uas.poll_transmit().map(|t| t.data),
        Some(b"\r\n".to_vec())
    );
    assert_eq!(lab.uas.stats().ignored, 6);
    // A CSeq whose method differs from the request's: 400.
    let bad = String::from_utf8(invite("m1", "z9hG4bKm", CALLER, ATT, None))
        .expect("utf8")
        .replace("CSeq: 10 INVITE", "CSeq: 10 BYE");
    assert_eq!(codes(&lab.recv(bad.as_bytes())), [400]);
}

#[test]
fn other_requests_get_sensible_answers() {
    let mut lab = Lab::new(&att("ring"));
    let opt = in_call("OPTIONS", "o1", "z9hG4bKo", None, 1);
    let r = lab.recv(&opt);
    assert_eq!(codes(&r), [200]);
    assert!(r[0].header("Allow").is_some_and(|a| a.contains("INVITE")));
    assert_eq!(
        codes(&lab.recv(&in_call("BYE", "nope", "z9hG4bKn", Some("x"), 2))),
        [481]
    );
    assert_eq!(
        codes(&lab.recv(&in_call("CANCEL", "nope", "z9hG4bKn", None, 2))),
        [481]
    );
    assert_eq!(
        codes(&lab.recv(&in_call("REGISTER", "r1", "z9hG4bKr", None, 1))),
        [405]
    );
    // A re-INVITE for a dialog the lab does not know: 481.
    let reinvite = String::from_utf8(invite("x1", "z9hG4bKx1", CALLER, ATT, None))
        .expect("utf8")
        .replace(
            &format!("To: <sip:{ATT}@{LAB};user=phone>"),
            &format!("To: <sip:{ATT}@{LAB};user=phone>;tag=zz"),
        );
    assert_eq!(codes(&lab.recv(reinvite.as_bytes())), [481]);
    // A second INVITE (new branch) while the first is ringing: 482.
    lab.recv(&invite("l1", "z9hG4bKl1", CALLER, ATT, None));
    assert_eq!(
        codes(&lab.recv(&invite("l1", "z9hG4bKl2", CALLER, ATT, None))),
        [482]
    );
}

#[test]
fn mutated_datagrams_never_panic() {
    let cfg = att("answer");
    let mut lab = Lab::new(&cfg);
    let mut rng = StdRng::seed_from_u64(99);
    let seeds = [
        invite("f1", "z9hG4bKf1", CALLER, ATT, Some(BLOCKED)),
        in_call("CANCEL", "f1", "z9hG4bKf1", None, 10),
        in_call("ACK", "f1", "z9hG4bKf1", Some("t"), 10),
        in_call("BYE", "f1", "z9hG4bKb", Some("t"), 11),
    ];
    for i in 0..5_000 {
        let mut data = seeds[i % seeds.len()].clone();
        for _ in 0..rng.gen_range(1..8) {
            let pos = rng.gen_range(0..data.len());
            match rng.gen_range(0..3) {
                0 => data[pos] = rng.r#gen(),
                1 => {
                    data.remove(pos);
                }
                _ => data.insert(
                    pos,
                    *b":;<>\"@\r\n %,="
                        .get(rng.gen_range(0..13))
                        .unwrap_or(&b'x'),
                ),
            }
        }
        lab.uas.handle_datagram(lab.now, peer(), &data);
        while lab.uas.poll_transmit().is_some() {}
        if i % 100 == 0 {
            lab.now += ms(700);
            lab.uas.handle_timeout(lab.now);
        }
    }
    assert!(lab.uas.calls() <= MAX_CALLS);
}

#[test]
fn overload_is_refused_with_503() {
    let mut lab = Lab::new(&att("ring"));
    for i in 0..MAX_CALLS {
        let data = invite(&format!("o{i}"), "z9hG4bKo", CALLER, ATT, None);
        lab.uas.handle_datagram(lab.now, peer(), &data);
    }
    let _ = lab.sent();
    let r = lab.recv(&invite("one-more", "z9hG4bKo", CALLER, ATT, None));
    assert_eq!(codes(&r), [503]);
    assert_eq!(lab.uas.stats().overloaded, 1);
}

#[test]
fn oversized_invite_is_refused_with_513() {
    let mut lab = Lab::new(&att("ring"));
    let big = String::from_utf8(invite("big", "z9hG4bKbig", CALLER, ATT, None))
        .expect("utf8")
        .replace(
            "Max-Forwards: 70\r\n",
            &format!(
                "Max-Forwards: 70\r\nX-Pad: {}\r\n",
                "a".repeat(MAX_INVITE_BYTES)
            ),
        );
    assert_eq!(codes(&lab.recv(big.as_bytes())), [513]);
    assert_eq!(lab.uas.calls(), 0);
}

// ---------------------------------------------------------------------------
// Full calls: ringwatch's own UAC against the lab, both on virtual time.

/// Place one call from `caller` to `to` and classify it.
fn call(cfg: &Config, caller: &str, to: &str) -> (classify::Classification, uac::Summary) {
    let base = crate::clock::now();
    let mut uas = Uas::new(cfg, LAB.parse().expect("addr"), StdRng::seed_from_u64(1));
    let spec = CallSpec {
        local: peer(),
        request_uri: request::sip_uri(to, "127.0.0.1", true).expect("uri"),
        from_uri: request::sip_uri(caller, "127.0.0.1", true).expect("uri"),
        sdp: b"v=0\r\n".to_vec(),
        credentials: None,
    };
    let ucfg = UacConfig {
        ring: Duration::from_secs(1),
        linger: ms(100),
        ..UacConfig::default()
    };
    let mut uac = Uac::new(base, ucfg, spec, StdRng::seed_from_u64(2));
    let mut now = base;
    for _ in 0..10_000 {
        let uac_deadline = loop {
            match uac.poll_output() {
                Output::Transmit(t) => uas.handle_datagram(now, peer(), &t.data),
                Output::Event(_) => {}
                Output::Timeout(at) => break Some(at),
                Output::Done => break None,
            }
        };
        let mut delivered = false;
        while let Some(t) = uas.poll_transmit() {
            uac.handle_input(Input::Datagram(now, &t.data));
            delivered = true;
        }
        if delivered {
            continue;
        }
        let Some(uac_deadline) = uac_deadline else {
            break;
        };
        let next = uas
            .poll_timeout()
            .map_or(uac_deadline, |d| d.min(uac_deadline));
        now = now.max(next);
        uas.handle_timeout(now);
        uac.handle_input(Input::Timeout(now));
    }
    let summary = uac.into_summary();
    let c = classify::classify(&CallFacts {
        final_response: summary.final_response.as_ref(),
        rang: summary.rang(),
        cancelled_by_us: summary.cancelled_by_us,
        auth_exhausted: summary.auth_exhausted,
        intercepted: false,
    });
    (c, summary)
}

#[test]
fn the_prober_classifies_every_behaviour_as_intended() {
    let cases = [
        ("ring", Outcome::Ringing),
        ("answer", Outcome::Answered),
        ("decline", Outcome::Declined),
        ("decline_q850", Outcome::Declined),
        ("network_blocked", Outcome::NetworkBlocked),
        ("network_blocked_q850", Outcome::NetworkBlocked),
        ("network_blocked_phrase_only", Outcome::NetworkBlocked),
        ("network_blocked_as_decline", Outcome::NetworkBlocked),
        ("rejected", Outcome::Rejected),
        ("unwanted", Outcome::Unwanted),
        ("forbidden", Outcome::Forbidden),
        ("busy", Outcome::Busy),
        ("unavailable", Outcome::Unavailable),
        ("not_found", Outcome::NotFound),
        ("silence", Outcome::Timeout),
    ];
    assert_eq!(cases.len(), LabBehaviour::ALL.len());
    for (behaviour, want) in cases {
        let (c, summary) = call(&att(behaviour), CALLER, ATT);
        assert_eq!(c.outcome, want, "{behaviour}: {c:?}");
        assert_eq!(summary.strays, 0, "{behaviour}");
        let anomalies: &[&str] = if behaviour == "network_blocked_as_decline" {
            &["atis_phrase_rewritten: Decline"]
        } else {
            &[]
        };
        assert_eq!(c.anomalies, anomalies, "{behaviour}");
    }
}

#[test]
fn the_prober_reads_the_redress_data() {
    let (c, _) = call(&att("ring"), BLOCKED, ATT);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    let a = c.analytics.expect("analytics");
    assert_eq!(a.standard, Standard::Atis1000099);
    assert_eq!(
        a.url.as_deref(),
        Some("https://redress.example.com/ringwatch-lab")
    );
    assert_eq!(a.tel.as_deref(), Some("+18005550199"));
    assert_eq!(a.email.as_deref(), Some("redress@example.com"));
    assert_eq!(a.location.as_deref(), Some("RLN"));
    assert!(a.id.is_some_and(|id| id.starts_with("lab-att-")));

    let (c, _) = call(&att("rejected"), CALLER, ATT);
    let a = c.analytics.expect("analytics");
    assert_eq!(a.standard, Standard::Rfc8688);
    assert_eq!(
        a.url.as_deref(),
        Some("https://redress.example.com/ringwatch-lab")
    );

    let (c, _) = call(&att("unavailable"), CALLER, ATT);
    assert_eq!(c.retry_after_s, Some(120));
}

#[test]
fn the_prober_hangs_up_an_answered_call() {
    let (c, summary) = call(&att("answer"), CALLER, ATT);
    assert_eq!(c.outcome, Outcome::Answered);
    assert_eq!(summary.answered_dialogs, 1);
    let (c, summary) = call(&att("ring"), CALLER, ATT);
    assert_eq!(c.outcome, Outcome::Ringing);
    assert!(summary.cancelled_by_us);
    assert_eq!(c.status, Some(487));
}
